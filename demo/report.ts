/**
 * What the demo prints for a step, taken from the truth only: the guard's own log lines of
 * the invocation (its decision and reason per endpoint) and the fake EC2's state after it.
 */
import {
  DECISION_EVENT_DETAIL_TYPE,
  DECISION_EVENT_SOURCE,
  type DecisionEventDetail,
} from '../core/decision-event';
import type { GuardSummary, SqsResponse } from '../lambda/guard';
import { formatTable } from '../cli/table';
import type { FakeEc2 } from '../local-aws/fakes';
import { ownerLabel } from './scenario';

export interface DecisionRow {
  readonly endpointId: string;
  readonly owner: string;
  readonly decision: string;
  readonly reason: string;
  readonly finalState: string;
}

/** The guard's messages that carry a decision: made, dry-run, or failed. */
const DECISION_MESSAGES = /^(Decision|Unsuccessful|Permission denied)/;

export function decisionRows(
  logs: readonly Record<string, unknown>[],
  ec2: FakeEc2,
): DecisionRow[] {
  return logs
    .filter((line) => DECISION_MESSAGES.test(String(line.message)))
    .map((line) => {
      const endpointId = String(line.endpointId);
      return {
        endpointId,
        owner: String(line.owner),
        decision: String(line.decision),
        reason: String(line.reason),
        finalState: ec2.connection(endpointId)?.VpcEndpointState ?? 'unknown',
      };
    });
}

export function decisionTable(rows: readonly DecisionRow[]): string {
  return formatTable<DecisionRow>(
    [
      { header: 'endpoint', value: (r) => r.endpointId },
      { header: 'owner', value: (r) => ownerLabel(r.owner) },
      { header: 'decision', value: (r) => r.decision },
      { header: 'final state', value: (r) => r.finalState },
      // Last: the longest column, and the one a reader reads as a sentence.
      { header: 'reason', value: (r) => r.reason },
    ],
    rows,
  );
}

/** The decision events the guard put on the bus: what a rule on them (e-mail, chat) sees. */
export function eventsTable(events: readonly DecisionEventDetail[]): string {
  const title = `To EventBridge, default bus: ${events.length} "${DECISION_EVENT_DETAIL_TYPE}" event(s) from ${DECISION_EVENT_SOURCE}`;
  if (events.length === 0) return `${title}\n`;
  return `${title}\n${formatTable<DecisionEventDetail>(
    [
      { header: 'endpoint', value: (e) => e.endpointId ?? '(whole service)' },
      { header: 'owner', value: (e) => (e.owner ? ownerLabel(e.owner) : '') },
      { header: 'decision', value: (e) => e.decision ?? '' },
      { header: 'outcome', value: (e) => e.outcome },
      { header: 'rule', value: (e) => e.rule ?? '(default action)' },
    ],
    events,
  )}`;
}

/** The guard's own answer to the invocation, in one line. */
export function summaryLine(summary: GuardSummary | SqsResponse): string {
  if ('batchItemFailures' in summary) {
    const failed = summary.batchItemFailures.length;
    return `guard answered the hint queue: ${failed === 0 ? 'no batch item failures, SQS deletes the batch' : `${failed} batch item failure(s)`}`;
  }
  return (
    `guard answered: evaluated ${summary.evaluated}, rejected ${summary.rejected}, ` +
    `accepted ${summary.accepted}, kept ${summary.kept}, unsuccessful ${summary.unsuccessful}, ` +
    `retries queued ${summary.retriesQueued}`
  );
}
