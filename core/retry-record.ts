/**
 * Retry records: the format of the work the guard could not do, and its backoff. The
 * function sends them to SQS (lambda/queue-send.ts).
 */
import type { ApiError, Failure } from './reconcile';
import { isEndpointId, isServiceId } from './ids';

export const RETRY_RECORD_TYPE = 'vpce-guard/retry';

export interface RetryRecord {
  readonly type: typeof RETRY_RECORD_TYPE;
  readonly serviceId: string;
  /** The endpoints to re-read and act on; empty: reconcile the whole service. */
  readonly endpointIds: readonly string[];
  /** What failed: `reject`, `accept`, or `describe` (the service could not be read). */
  readonly action: Failure['action'];
  /** Attempts made so far, the first one included; work deferred for lack of time is no attempt. */
  readonly attempt: number;
  readonly lastError: ApiError;
  /** When the first attempt failed (ISO 8601): how long this work has been waiting. */
  readonly firstFailedAt: string;
}

export function retryRecordFor(failure: Failure, now: Date): RetryRecord {
  return {
    type: RETRY_RECORD_TYPE,
    serviceId: failure.serviceId,
    endpointIds: failure.endpointIds,
    action: failure.action,
    attempt: failure.deferred ? 0 : 1,
    lastError: failure.error,
    firstFailedAt: now.toISOString(),
  };
}

/** The record for the next attempt after `record` failed again. */
export function nextAttempt(record: RetryRecord, failure: Failure): RetryRecord {
  return {
    ...record,
    endpointIds: failure.endpointIds,
    action: failure.action,
    attempt: record.attempt + (failure.deferred ? 0 : 1),
    // A deferral says nothing about EC2: the last error EC2 gave still stands.
    lastError: failure.deferred ? record.lastError : failure.error,
  };
}

export type RetryRecordRead = { ok: true; record: RetryRecord } | { ok: false; error: string };

/** Each field's test, and what is wrong when it fails: the first failure is reported. */
const FIELD_CHECKS: readonly [
  test: (r: Record<string, unknown>) => boolean,
  problem: (r: Record<string, unknown>) => string,
][] = [
  [
    (r) => r.type === RETRY_RECORD_TYPE,
    (r) => `type is ${JSON.stringify(r.type)}, expected "${RETRY_RECORD_TYPE}"`,
  ],
  [
    (r) => isServiceId(r.serviceId),
    (r) => `serviceId ${JSON.stringify(r.serviceId)} is not an endpoint service ID`,
  ],
  [
    (r) => Array.isArray(r.endpointIds) && r.endpointIds.every(isEndpointId),
    () => 'endpointIds is not an array of endpoint IDs',
  ],
  [
    (r) => RETRY_ACTIONS.includes(r.action as Failure['action']),
    (r) => `action ${JSON.stringify(r.action)} is not reject, accept or describe`,
  ],
  [
    (r) => Number.isInteger(r.attempt) && (r.attempt as number) >= 0,
    (r) => `attempt ${JSON.stringify(r.attempt)} is not a whole number`,
  ],
  [(r) => isApiError(r.lastError), () => 'lastError is not {code, message}'],
  [
    (r) => typeof r.firstFailedAt === 'string' && !Number.isNaN(Date.parse(r.firstFailedAt)),
    () => 'firstFailedAt is not a date',
  ],
];
const RETRY_ACTIONS: readonly Failure['action'][] = ['reject', 'accept', 'describe'];

/**
 * Reads a retry queue message's parsed body. Anything that is not a retry record is
 * reported, never acted on.
 */
export function retryRecordFrom(value: unknown): RetryRecordRead {
  if (typeof value !== 'object' || value === null)
    return { ok: false, error: 'the message body is not a JSON object' };
  const fields = value as Record<string, unknown>;
  const failed = FIELD_CHECKS.find(([test]) => !test(fields));
  if (failed) return { ok: false, error: failed[1](fields) };
  return { ok: true, record: value as RetryRecord };
}

function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiError).code === 'string' &&
    typeof (value as ApiError).message === 'string'
  );
}

/** SQS holds a message back at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;
const BASE_DELAY_SECONDS = 30;

/**
 * Exponential backoff with jitter before attempt `attempt + 1`: 30 s, 60 s, 120 s … capped
 * at SQS's 15 minutes; the jitter spreads a burst's retries so they do not meet EC2's
 * throttle together.
 */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  // Attempt 0 (deferred work) waits like attempt 1.
  const ceiling = Math.min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
