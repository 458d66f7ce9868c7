/**
 * What the guard tells operators about its work: one log line per decision and per failure,
 * and the metrics the alarms and the dashboard read (core/metric-names.ts).
 */
import { MetricName } from '../core/metric-names';
import type { Outcome, ServiceReport } from '../core/reconcile';
import type { Hint, Work } from './intake';
import { count, logger } from './telemetry';

/** A hint, as it arrived: the notification's undocumented body stays visible to operators. */
export function reportHint(hint: Hint): void {
  const { source, serviceIds, endpointIds, message } = hint;
  logger.info('Connection request hint', { source, serviceIds, endpointIds });
  if (message !== undefined) logger.debug('Notification message', { message });
}

/** Work that is not the guard's: answered without an error, since a retry would change nothing. */
export function reportIgnored(work: Extract<Work, { kind: 'ignored' | 'unknown' }>): void {
  if (work.kind === 'unknown') {
    logger.warn('Ignoring an event of unknown shape', { seen: work.seen });
    count(MetricName.UnknownTrigger, 1);
  } else {
    logger.info('Ignoring an event that does not concern the guard', { why: work.why });
  }
}

/** Logs every decision and failure of one service's reconcile, and counts its outcomes. */
export function reportService(report: ServiceReport): void {
  for (const outcome of report.outcomes) logOutcome(outcome, report);
  for (const failure of report.failures) {
    // Failed Rejects and Accepts are logged per endpoint above; a retry says the rest.
    if (failure.action === 'describe' || !failure.retryable) {
      logger.error('Could not reconcile the service', {
        serviceId: failure.serviceId,
        action: failure.action,
        errorCode: failure.error.code,
        errorMessage: failure.error.message,
        retried: failure.retryable,
      });
    }
  }
  countOutcomes(report.outcomes);
}

function logOutcome(outcome: Outcome, report: ServiceReport): void {
  const { connection, decision, error } = outcome;
  const fields = {
    serviceId: connection.serviceId,
    endpointId: connection.endpointId,
    owner: connection.owner,
    state: connection.state,
    region: connection.region,
    decision: decision.action,
    reason: decision.reason,
    rule: decision.rule,
    result: outcome.result,
    mode: report.mode,
  };
  const errorFields = { errorCode: error?.code, errorMessage: error?.message };
  if (outcome.result === 'failed' && error?.code === 'UnauthorizedOperation') {
    logger.error('Permission denied: the guard may not change this service', {
      ...fields,
      ...errorFields,
    });
  } else if (outcome.result === 'failed') {
    logger.error('Unsuccessful', { ...fields, action: decision.action, ...errorFields });
  } else if (outcome.result === 'deferred') {
    logger.warn('Deferred to a retry: the invocation ran out of time', fields);
  } else if (
    decision.action === 'skip' ||
    (decision.action === 'keep' && connection.state !== 'pendingAcceptance')
  ) {
    // Nothing to decide, or an available connection kept as it is: a revoking sweep
    // re-evaluates every one of them each time, which at INFO would flood the logs.
    logger.debug('Decision', fields);
  } else {
    const dryRun = outcome.result === 'dryRun';
    logger.info(dryRun ? `Decision (dry run: would ${decision.action})` : 'Decision', fields);
  }
}

/** Adds the outcomes of one service to this invocation's metrics. */
function countOutcomes(outcomes: readonly Outcome[]): void {
  const tally = (action: string, result: string) =>
    outcomes.filter((o) => o.decision.action === action && o.result === result).length;
  count(
    MetricName.ConnectionsEvaluated,
    outcomes.filter((o) => o.decision.action !== 'skip').length,
  );
  count(MetricName.ConnectionsRejected, tally('reject', 'done'));
  count(MetricName.ConnectionsAccepted, tally('accept', 'done'));
  count(MetricName.ConnectionsKept, tally('keep', 'none'));
  count(MetricName.DryRunRejects, tally('reject', 'dryRun'));
  count(MetricName.DryRunAccepts, tally('accept', 'dryRun'));
  count(MetricName.RejectUnsuccessful, tally('reject', 'failed'));
  count(MetricName.AcceptUnsuccessful, tally('accept', 'failed'));
  count(
    MetricName.PermissionDenied,
    outcomes.filter((o) => o.error?.code === 'UnauthorizedOperation').length,
  );
}
