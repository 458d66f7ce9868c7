/**
 * Where work the guard could not do goes (docs/architecture.md#nothing-is-lost): back to the
 * retry queue with its backoff, or, after `MAX_ATTEMPTS` attempts, to the dead-letter queue.
 * A send that fails throws, so the invocation fails and AWS retries it.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../core/clock';
import type { GuardConfig } from '../core/contract';
import { MetricName } from '../core/metric-names';
import type { Failure } from '../core/reconcile';
import { backoffSeconds, type RetryRecord } from '../core/retry-record';
import type { DecisionJournal } from './decision-events';
import { sendMessages } from './queue-send';
import { count, logger } from './telemetry';

export interface RetryDeps {
  readonly config: Pick<GuardConfig, 'retryQueueUrl' | 'deadLetterQueueUrl' | 'maxAttempts'>;
  readonly sqs: SQSClient;
  readonly clock: Clock;
  /** For the backoff's jitter. */
  readonly random?: () => number;
  /** The invocation's journal, told of each record given up (its decision event says so). */
  readonly journal?: DecisionJournal;
}

/** The failures worth another attempt (not, say, a service that no longer exists). */
function retryable(failures: readonly Failure[]): Failure[] {
  return failures.filter((f) => f.retryable);
}

/** A retry record to send, and the failure it is for. */
export interface PendingRetry {
  readonly record: RetryRecord;
  /** Deferred for lack of time (no attempt was made): never dead-lettered for it. */
  readonly deferred: boolean;
}

/** The retry of each retryable failure: `recordOf` makes its record. */
export function retriesOf(
  failures: readonly Failure[],
  recordOf: (failure: Failure) => RetryRecord,
): PendingRetry[] {
  return retryable(failures).map((f) => ({ record: recordOf(f), deferred: f.deferred === true }));
}

/**
 * Queues each retry record with its backoff, or dead-letters it once it has had
 * `MAX_ATTEMPTS` attempts. A deferral made no attempt, so it is never dead-lettered, even for
 * a record redriven with its attempts used up: it waits for that attempt. Returns how many
 * were queued.
 */
export async function dispatchRetries(
  retries: readonly PendingRetry[],
  deps: RetryDeps,
): Promise<number> {
  const { maxAttempts } = deps.config;
  const isExhausted = (r: PendingRetry) => !r.deferred && r.record.attempt >= maxAttempts;
  const exhausted = retries.filter(isExhausted).map((r) => r.record);
  const queued = retries.filter((r) => !isExhausted(r)).map((r) => r.record);
  for (const record of exhausted) {
    logger.error('Retry attempts exhausted; sending to the dead-letter queue', {
      serviceId: record.serviceId,
      endpointIds: record.endpointIds,
      attempts: record.attempt,
      lastError: record.lastError,
    });
    await deadLetter(JSON.stringify(record), `exhausted after ${record.attempt} attempts`, deps);
    // Only once the dead-letter queue has it: a send that fails leaves it on its queue, to
    // be tried again, and its event says `queued`.
    deps.journal?.noteGivenUp(record);
  }
  await queueRetries(queued, deps);
  return queued.length;
}

/**
 * Gives up on a retry queue message: explicitly to the dead-letter queue when one is
 * configured, else by failing the SQS record so that the retry queue's redrive policy moves
 * it there.
 */
export async function deadLetter(body: string, reason: string, deps: RetryDeps): Promise<void> {
  const dlq = deps.config.deadLetterQueueUrl;
  if (!dlq) {
    throw new Error(
      `a retry record was given up (${reason}); with no DEAD_LETTER_QUEUE_URL it is left to the redrive policy`,
    );
  }
  await sendMessages(deps.sqs, dlq, [{ body, attributes: { reason } }], deps.clock);
  count(MetricName.RETRIES_DEAD_LETTERED, 1);
}

async function queueRetries(records: readonly RetryRecord[], deps: RetryDeps): Promise<void> {
  if (records.length === 0) return;
  const messages = records.map((record) => ({
    body: JSON.stringify(record),
    delaySeconds: backoffSeconds(record.attempt, deps.random),
  }));
  await sendMessages(deps.sqs, deps.config.retryQueueUrl, messages, deps.clock);
  count(MetricName.RETRIES_QUEUED, records.length);
  for (const record of records) {
    logger.info('Queued for retry', {
      serviceId: record.serviceId,
      endpointIds: record.endpointIds,
      action: record.action,
      attempt: record.attempt,
      lastError: record.lastError,
    });
  }
}
