/**
 * How `vpce-guard reconcile` reports a run: a table of outcomes per service, a summary with
 * the guard's own counts, and one line per piece of work that failed.
 */
import type { Failure, Outcome, ReconcileSummary } from '../core/reconcile';
import type { EnvironmentLabel } from './fleet';
import { formatTable } from './table';

export function outcomeTable(outcomes: readonly Outcome[]): string {
  return formatTable<Outcome>(
    [
      { header: 'endpoint', value: (o) => o.connection.endpointId },
      { header: 'owner', value: (o) => o.connection.owner },
      { header: 'region', value: (o) => o.connection.region },
      { header: 'decision', value: (o) => o.decision.action },
      { header: 'result', value: resultText },
      { header: 'reason', value: (o) => o.decision.reason },
    ],
    outcomes,
  );
}

export function summaryTable(summary: ReconcileSummary): string {
  return formatTable(
    summaryColumns((s: ReconcileSummary) => s),
    [summary],
  );
}

/** One line per failed piece of work: the service, what failed, and AWS's error. */
export function failureLines(failures: readonly Failure[]): string[] {
  return failures.map((f) => {
    const what =
      f.action === 'describe'
        ? 'could not read its connections'
        : `${f.action} failed for ${f.endpointIds.length > 0 ? f.endpointIds.join(', ') : 'the whole service'}`;
    return `${f.serviceId}: ${what}: ${f.error.code}: ${f.error.message}`;
  });
}

/** Several environments' outcomes in one table, with their account and Region. */
export function fleetOutcomeTable(
  rows: readonly {
    readonly at: EnvironmentLabel;
    readonly serviceId: string;
    readonly outcome: Outcome;
  }[],
): string {
  return formatTable(
    [
      { header: 'account', value: (r: (typeof rows)[number]) => r.at.account },
      { header: 'region', value: (r) => r.at.region },
      { header: 'service', value: (r) => r.serviceId },
      { header: 'endpoint', value: (r) => r.outcome.connection.endpointId },
      { header: 'owner', value: (r) => r.outcome.connection.owner },
      { header: 'owner region', value: (r) => r.outcome.connection.region },
      { header: 'decision', value: (r) => r.outcome.decision.action },
      { header: 'result', value: (r) => resultText(r.outcome) },
      { header: 'reason', value: (r) => r.outcome.decision.reason },
    ],
    rows,
  );
}

/** One summary row per environment. */
export function fleetSummaryTable(
  rows: readonly { readonly at: EnvironmentLabel; readonly summary: ReconcileSummary }[],
): string {
  type Row = (typeof rows)[number];
  return formatTable<Row>(
    [
      { header: 'account', value: (r) => r.at.account },
      { header: 'region', value: (r) => r.at.region },
      ...summaryColumns((r: Row) => r.summary),
    ],
    rows,
  );
}

/** The count columns of a summary, in the order both summary tables show them. */
function summaryColumns<Row>(summaryOf: (row: Row) => ReconcileSummary) {
  const counts: readonly (keyof ReconcileSummary)[] = [
    'services',
    'evaluated',
    'rejected',
    'accepted',
    'kept',
    'unsuccessful',
  ];
  return counts.map((header) => ({
    header,
    value: (row: Row) => String(summaryOf(row)[header]),
    align: 'right' as const,
  }));
}

function resultText(outcome: Outcome): string {
  const { action } = outcome.decision;
  switch (outcome.result) {
    case 'done':
      return action === 'reject' ? 'rejected' : 'accepted';
    case 'dryRun':
      return `would ${action}`;
    case 'failed':
      return `failed: ${outcome.error?.code ?? 'unknown error'}`;
    case 'deferred':
      return 'not attempted: out of time';
    case 'none':
      return action === 'keep' ? 'left as is' : 'skipped';
  }
}
