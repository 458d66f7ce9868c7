/**
 * What the guard tells operators about its work: one log line per decision and per failure,
 * and the metrics the alarms and the dashboard read (core/metric-names.ts).
 */
import { MetricName } from '../core/metric-names';
import type { Outcome, ServiceReport } from '../core/reconcile';
import type { Hint, QueueMessage, Work } from './intake';
import { count, gauge, logger } from './telemetry';
import type { UnwireReport, UpkeepFailure, UpkeepReport } from './upkeep';

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
    count(MetricName.UNKNOWN_TRIGGER, 1);
  } else {
    logger.info('Ignoring an event that does not concern the guard', { why: work.why });
  }
}

/** A message on the hint queue that is no hint: it goes back to its queue, for its DLQ. */
export function reportUnreadableHint(message: Extract<QueueMessage, { kind: 'unreadable' }>): void {
  logger.warn(
    'Unreadable message on the hint queue; SQS will deliver it again, then dead-letter it',
    {
      messageId: message.messageId,
      problem: message.problem,
    },
  );
  count(MetricName.UNKNOWN_TRIGGER, 1);
}

/** Logs every decision and failure of one service's reconcile, and counts its outcomes. */
export function reportService(report: ServiceReport): void {
  for (const outcome of report.outcomes) logOutcome(outcome, report);
  for (const failure of report.failures) {
    // Failed Rejects and Accepts are logged per endpoint above; a retry says the rest.
    if (failure.deferred) {
      // No time left is no failure: the retry queue has it, and counts no attempt.
      if (failure.action === 'describe') {
        logger.warn('Deferred to a retry', {
          serviceId: failure.serviceId,
          action: failure.action,
          endpointIds: failure.endpointIds,
          why: failure.error.message,
        });
      }
    } else if (failure.action === 'describe' || !failure.retryable) {
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
    // No time left, or no policy SSM would confirm: `why` says which.
    logger.warn('Deferred to a retry', { ...fields, why: error?.message });
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
    MetricName.CONNECTIONS_EVALUATED,
    outcomes.filter((o) => o.decision.action !== 'skip').length,
  );
  count(MetricName.CONNECTIONS_REJECTED, tally('reject', 'done'));
  count(MetricName.CONNECTIONS_ACCEPTED, tally('accept', 'done'));
  count(MetricName.CONNECTIONS_KEPT, tally('keep', 'none'));
  count(MetricName.DRY_RUN_REJECTS, tally('reject', 'dryRun'));
  count(MetricName.DRY_RUN_ACCEPTS, tally('accept', 'dryRun'));
  count(MetricName.REJECT_UNSUCCESSFUL, tally('reject', 'failed'));
  count(MetricName.ACCEPT_UNSUCCESSFUL, tally('accept', 'failed'));
  count(
    MetricName.PERMISSION_DENIED,
    outcomes.filter((o) => o.error?.code === 'UnauthorizedOperation').length,
  );
}

/**
 * What the sweep's upkeep found and did: one line per notification created and per failure,
 * one WARN line per service whose posture lets connections in without the guard, one summary
 * line, and the counts of services (not one metric per service).
 */
export function reportUpkeep(report: UpkeepReport): void {
  if (report.outOfTime) {
    logger.info("Wiring and posture stopped at the invocation's deadline; the next sweep goes on");
  }
  for (const failure of report.failures) logUpkeepFailure(failure);
  if (report.notFound.length > 0) {
    logger.warn('Protected services not found in this account and Region', {
      serviceIds: report.notFound,
    });
  }
  const { wiring, posture, services } = report;
  let unwired = report.failures.filter((f) => f.step !== 'read permissions').length;
  if (wiring) {
    for (const { serviceId, notificationId } of wiring.created) {
      logger.info('Connection notification created', {
        serviceId,
        notificationId,
        topicArn: wiring.topicArn,
      });
    }
    if (wiring.removed.length > 0) {
      logger.info('Duplicate connection notifications removed', {
        notificationIds: wiring.removed,
      });
    }
    if (wiring.deferred.length > 0) {
      logger.info('Not wired yet: left for the next sweep (no time left, or over its share)', {
        serviceIds: wiring.deferred,
      });
    }
    if (wiring.duplicated.length > 0) {
      logger.warn('Services with more than one connection notification to the topic', {
        serviceIds: wiring.duplicated,
      });
    }
    for (const n of wiring.disabled) {
      logger.error('Connection notification is not enabled: EC2 will not deliver it', {
        serviceId: n.serviceId,
        notificationId: n.notificationId,
        state: n.state,
      });
    }
    unwired += wiring.disabled.length;
    count(MetricName.NOTIFICATIONS_CREATED, wiring.created.length);
  }
  count(MetricName.NOTIFICATION_WIRING_FAILED, unwired);
  if (!services || !posture) return;

  for (const serviceId of posture.acceptingAutomatically) {
    logger.warn('Service accepts connection requests itself: the guard cannot reject them', {
      serviceId,
      acceptanceRequired: false,
    });
  }
  for (const serviceId of posture.openToEveryone) {
    logger.warn('Service allows every principal (*) to request a connection', { serviceId });
  }
  logger.info('Service posture', {
    services: services.length,
    acceptingAutomatically: posture.acceptingAutomatically,
    openToEveryone: posture.openToEveryone,
    permissionsNotReadYet: posture.permissionsUnknown.length,
  });
  // Levels, graphed and alarmed as a Maximum: only a sweep of every service measures them.
  if (report.partial) return;
  gauge(MetricName.SERVICES_PROTECTED, services.length);
  gauge(MetricName.SERVICES_ACCEPTING_AUTOMATICALLY, posture.acceptingAutomatically.length);
  gauge(MetricName.SERVICES_OPEN_TO_EVERYONE, posture.openToEveryone.length);
}

function logUpkeepFailure(failure: UpkeepFailure): void {
  const fields = {
    step: failure.step,
    serviceId: failure.serviceId,
    errorCode: failure.error.code,
    errorMessage: failure.error.message,
  };
  if (failure.step === 'read permissions') {
    logger.warn('Could not read the allowed principals of the service', fields);
  } else {
    logger.error('Could not wire the connection notifications; the next sweep tries again', fields);
  }
}

/** What removing the guard's notifications at the stack's deletion did. */
export function reportUnwire(report: UnwireReport): void {
  for (const failure of report.failures) {
    logger.error('Could not remove the connection notifications the guard created', {
      errorCode: failure.error.code,
      errorMessage: failure.error.message,
    });
  }
  logger.info('Connection notifications removed', {
    topicArn: report.topicArn,
    notificationIds: report.deleted,
  });
}
