/**
 * Decision events: what the guard publishes to EventBridge about what it decided
 * (docs/events.md). Defined once, here: the function builds them, the construct's `onDecision`
 * matches them, the docs describe them.
 *
 * Pure: an invocation's service reports and the retry records it gave up on in, events out.
 */
import type { Mode } from './policy';
import type { Failure, Outcome, ServiceReport } from './reconcile';
import type { RetryRecord } from './retry-record';

/** The event's `source`. */
export const DECISION_EVENT_SOURCE = 'vpce-guard';
/** The event's `detail-type`. */
export const DECISION_EVENT_DETAIL_TYPE = 'VPC Endpoint Connection Decision';
/** `detail.version`: bumped by a change that could break a consumer's rule or parser. */
export const DECISION_EVENT_VERSION = 1;

/**
 * The announcement table: which one-time events (a connection kept pending for review, a dry
 * run's decision) were already published. The construct creates it with this key and TTL
 * attribute; the function writes them.
 */
export const ANNOUNCEMENT_TABLE = { partitionKey: 'id', timeToLiveAttribute: 'expiresAt' } as const;
/** A one-time event is published again, as a reminder, once its record is this old. */
export const ANNOUNCE_AGAIN_AFTER_DAYS = 30;

/** The longest `reason` or `errorMessage` an event carries: keeps every event small. */
const MAX_TEXT = 1024;

export type EventDecision = 'reject' | 'accept' | 'keep';

/**
 * `done`: the action took effect (for `keep`: the connection stays pending for review);
 * `dryRun`: the policy is in dry run, nothing was changed (EC2 confirmed a Reject or Accept
 * would have been allowed); `queued`: it failed or ran out of time, and AWS will have it tried
 * again (a retry record, or, when SQS refused the record, the failed invocation AWS retries);
 * `unsuccessful`: it failed and will not be retried (the service no longer exists, or a dry run
 * may not act); `gaveUp`: its retry record used its last attempt and the dead-letter queue took
 * it.
 */
export type EventOutcome = 'done' | 'dryRun' | 'queued' | 'unsuccessful' | 'gaveUp';

/** The event's `detail` (docs/events.md has the table and a JSON example). */
export interface DecisionEventDetail {
  readonly version: typeof DECISION_EVENT_VERSION;
  readonly serviceId: string;
  /** Null only for `gaveUp` on a whole service that could not be read. */
  readonly endpointId: string | null;
  /** The consumer's account, as EC2 reported it; null when the connection was never read. */
  readonly owner: string | null;
  /** The consumer's Region (`VpcEndpointRegion`, else the service's); null as for `owner`. */
  readonly region: string | null;
  /** The connection's state when decided (`pendingAcceptance`; `available` for a revoke). */
  readonly state: string | null;
  /** Null only for `gaveUp` when the service could not be read, so nothing was decided. */
  readonly decision: EventDecision | null;
  readonly mode: Mode;
  /** The rule that allowed, `deny` for the deny list, null for the default action. */
  readonly rule: string | null;
  /** One sentence for a human: why. */
  readonly reason: string;
  readonly outcome: EventOutcome;
  /** Which attempt this was: 1 for the first, more for a retry record's. */
  readonly attempt: number;
  /** EC2's error code when the action failed (`queued`, `unsuccessful`, `gaveUp`). */
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

export interface DecisionEvent {
  readonly detail: DecisionEventDetail;
  /**
   * Set for an event published only once, not on every sweep that sees the same thing: a
   * connection kept pending for review, and every decision of a dry run (nothing changes, so a
   * sweep would find it again every time). Two events with the same key say the same thing.
   */
  readonly onceKey?: string;
}

/** A service report of an invocation, and which attempt of its work it was. */
export interface AttemptReport {
  readonly report: ServiceReport;
  readonly attempt: number;
}

/**
 * The events of an invocation: one per decision that changes or would change a connection
 * (reject, accept; a revoke is a reject of an available connection), one per connection kept
 * pending for review, and one per endpoint of a retry record given up (`gaveUp`). `gaveUp`
 * holds the records this invocation sent to the dead-letter queue.
 */
export function decisionEvents(
  reports: readonly AttemptReport[],
  gaveUp: readonly RetryRecord[],
): DecisionEvent[] {
  const events: DecisionEvent[] = [];
  // What the outcomes already said was given up: `service#attempt` and `service#attempt#endpoint`.
  const told = new Set<string>();
  for (const { report, attempt } of reports) {
    const givenUp = gaveUp.filter((r) => r.serviceId === report.serviceId && r.attempt === attempt);
    for (const outcome of report.outcomes) {
      const event = outcomeEvent(outcome, report, attempt, givenUp);
      if (!event) continue;
      events.push(event);
      if (event.detail.outcome === 'gaveUp') {
        told.add(`${report.serviceId}#${attempt}`);
        told.add(`${report.serviceId}#${attempt}#${event.detail.endpointId}`);
      }
    }
  }
  for (const record of gaveUp) events.push(...untoldGiveUps(record, reports, told));
  return events;
}

function outcomeEvent(
  outcome: Outcome,
  report: ServiceReport,
  attempt: number,
  givenUp: readonly RetryRecord[],
): DecisionEvent | undefined {
  const { connection, decision, result, error } = outcome;
  const action = decision.action;
  let eventOutcome: EventOutcome;
  if (action === 'keep') {
    // An available connection kept as it is (a revoking sweep) changes nothing: no event.
    if (connection.state !== 'pendingAcceptance') return undefined;
    eventOutcome = report.mode === 'dryRun' ? 'dryRun' : 'done';
  } else if ((action === 'reject' || action === 'accept') && result !== 'none') {
    eventOutcome =
      result === 'done' || result === 'dryRun'
        ? result
        : failedOutcome(connection.endpointId, report.failures, action, givenUp);
  } else {
    return undefined;
  }
  return withOnceKey({
    version: DECISION_EVENT_VERSION,
    serviceId: report.serviceId,
    endpointId: connection.endpointId,
    owner: connection.owner,
    region: connection.region,
    state: connection.state,
    decision: action,
    mode: report.mode,
    rule: decision.rule === 'defaultAction' ? null : decision.rule,
    reason: clip(decision.reason),
    outcome: eventOutcome,
    attempt,
    errorCode: error?.code ?? null,
    errorMessage: error ? clip(error.message) : null,
  });
}

/** A Reject or Accept that failed or was deferred: not retryable, given up, or queued. */
function failedOutcome(
  endpointId: string,
  failures: readonly Failure[],
  action: 'reject' | 'accept',
  givenUp: readonly RetryRecord[],
): EventOutcome {
  // A failure or record without endpoint IDs concerns its whole service.
  const concerns = (ids: readonly string[]) => ids.length === 0 || ids.includes(endpointId);
  const failure = failures.find((f) => f.action === action && concerns(f.endpointIds));
  if (failure && !failure.retryable) return 'unsuccessful';
  return givenUp.some((r) => concerns(r.endpointIds)) ? 'gaveUp' : 'queued';
}

/**
 * A given-up record's endpoints that no decision of its last attempt spoke of (its service
 * could not be read, say): one event each, or one for the whole service.
 */
function untoldGiveUps(
  record: RetryRecord,
  reports: readonly AttemptReport[],
  told: ReadonlySet<string>,
): DecisionEvent[] {
  const attemptKey = `${record.serviceId}#${record.attempt}`;
  const untold: (string | null)[] =
    record.endpointIds.length > 0
      ? record.endpointIds.filter((id) => !told.has(`${attemptKey}#${id}`))
      : told.has(attemptKey)
        ? []
        : [null];
  // Its last attempt's report (there is always one) says the policy's mode.
  const last = reports.find(
    (r) => r.report.serviceId === record.serviceId && r.attempt === record.attempt,
  );
  const { code, message } = record.lastError;
  return untold.map((endpointId) => ({
    detail: {
      version: DECISION_EVENT_VERSION,
      serviceId: record.serviceId,
      endpointId,
      owner: null,
      region: null,
      state: null,
      decision: record.action === 'describe' ? null : record.action,
      mode: last?.report.mode ?? 'enforce',
      rule: null,
      reason: clip(`gave up after ${record.attempt} attempts: ${code}: ${message}`),
      outcome: 'gaveUp',
      attempt: record.attempt,
      errorCode: code,
      errorMessage: clip(message),
    },
  }));
}

/** Every decision of a dry run, and every connection kept pending, is announced once. */
function withOnceKey(detail: DecisionEventDetail): DecisionEvent {
  if (detail.mode !== 'dryRun' && detail.decision !== 'keep') return { detail };
  const { serviceId, endpointId, decision, mode, outcome } = detail;
  return { detail, onceKey: [serviceId, endpointId, decision, mode, outcome].join('/') };
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}
