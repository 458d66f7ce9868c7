/**
 * The guard's core: trigger → targets → reconcile → report, log, count and queue.
 *
 * Takes every client, the clock and the configuration as arguments (see `GuardDeps`), so
 * tests drive it without mocking modules. `handler.ts` only builds the dependencies.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import type { Clock } from './clock';
import type { GuardConfig } from './config';
import { type ChangeAction, listOwnedServiceIds } from './ec2';
import { MetricName } from './metric-names';
import type { Policy } from './policy';
import type { PolicyProblem, PolicyStore } from './policy-store';
import type { TokenBucket } from './rate-limiter';
import {
  type Failure,
  type Outcome,
  reconcileService,
  type ReconcileSummary,
  type ServiceReport,
  summarise,
  type Target,
} from './reconcile';
import {
  backoffSeconds,
  nextAttempt,
  type OutgoingMessage,
  parseRetryRecord,
  type RetryRecord,
  retryRecordFor,
  sendMessages,
} from './retry';
import { count, logger } from './telemetry';
import { type Trigger, parseTrigger } from './triggers';

export interface GuardDeps {
  readonly config: GuardConfig;
  readonly ec2: EC2Client;
  readonly sqs: SQSClient;
  readonly policies: PolicyStore;
  readonly limiters: Readonly<Record<ChangeAction, TokenBucket>>;
  readonly clock: Clock;
  /** For the retry backoff's jitter. */
  readonly random?: () => number;
}

/** What an invocation did, in numbers (the response of a manual invocation). */
export interface GuardSummary extends ReconcileSummary {
  readonly trigger: Trigger['kind'];
  readonly retriesQueued: number;
}

export interface SqsResponse {
  readonly batchItemFailures: SQSBatchItemFailure[];
}

/** Thrown for an asynchronous trigger when no valid policy is loaded: AWS retries the event. */
export class PolicyUnavailableError extends Error {
  constructor(problem: PolicyProblem) {
    super(
      `no valid policy in SSM parameter ${problem.parameter}: ` +
        problem.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
    );
    this.name = 'PolicyUnavailableError';
  }
}

/** Handles one event. `deadline` (epoch ms): no EC2 change is started after it. */
export async function handleEvent(
  event: unknown,
  deps: GuardDeps,
  deadline?: number,
): Promise<GuardSummary | SqsResponse> {
  const trigger = parseTrigger(event, deps.config.policyParameterName);
  switch (trigger.kind) {
    case 'unknown':
      // Answered without an error: a retried unknown event would only come back unknown.
      logger.warn('Ignoring an event of unknown shape', { seen: trigger.seen });
      count(MetricName.UnknownTrigger, 1);
      return emptySummary(trigger.kind);
    case 'ignored':
      logger.info('Ignoring an event that does not concern the guard', { why: trigger.why });
      return emptySummary(trigger.kind);
    case 'retry':
      return handleRetryRecords(trigger.records, deps, deadline);
    case 'policyChanged':
      deps.policies.invalidate();
      return reconcileTrigger(trigger, deps, deadline);
    default:
      return reconcileTrigger(trigger, deps, deadline);
  }
}

async function reconcileTrigger(
  trigger: Extract<Trigger, { kind: 'hint' | 'sweep' | 'manual' | 'policyChanged' }>,
  deps: GuardDeps,
  deadline?: number,
): Promise<GuardSummary> {
  if (trigger.kind === 'hint') {
    const { source, serviceIds, endpointIds, message } = trigger;
    logger.info('Connection request hint', { source, serviceIds, endpointIds });
    // AWS does not document the notification's body: keep it visible to operators.
    if (message !== undefined) logger.debug('Notification message', { message });
  }
  const policy = await loadPolicy(deps);
  if (!policy.policy) throw new PolicyUnavailableError(policy.problem!);

  const serviceIds = await targetServices(trigger, deps);
  const reports: ServiceReport[] = [];
  for (const serviceId of serviceIds) {
    reports.push(await reconcileAndLog(policy.policy, { serviceId }, deps, deadline));
  }

  const failures = reports.flatMap((r) => r.failures);
  const now = new Date(deps.clock.now());
  const retries = retryable(failures).map((failure) => retryRecordFor(failure, now));
  // A send that fails throws: the invocation fails and AWS retries the whole event.
  await queueRetries(retries, deps);
  return { trigger: trigger.kind, ...summarise(reports), retriesQueued: retries.length };
}

/** The services a trigger concerns, limited to the protected ones. */
async function targetServices(trigger: Trigger, deps: GuardDeps): Promise<readonly string[]> {
  const named = trigger.kind === 'hint' || trigger.kind === 'manual' ? trigger.serviceIds : [];
  if (named.length === 0) return protectedServices(deps);

  const protectedIds = deps.config.protectedServiceIds;
  if (!protectedIds) return named; // Describe only ever shows the account's own services.
  const allowed = named.filter((id) => protectedIds.includes(id));
  const ignored = named.filter((id) => !protectedIds.includes(id));
  if (ignored.length > 0)
    logger.warn('Ignoring services that are not protected', { serviceIds: ignored });
  return allowed;
}

async function protectedServices(deps: GuardDeps): Promise<readonly string[]> {
  return deps.config.protectedServiceIds ?? listOwnedServiceIds(deps.ec2);
}

async function handleRetryRecords(
  records: readonly SQSRecord[],
  deps: GuardDeps,
  deadline?: number,
): Promise<SqsResponse> {
  const policy = await loadPolicy(deps);
  if (!policy.policy) {
    // Every record stays on the queue for a later attempt, when the policy may be fixed.
    return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
  }
  const batchItemFailures: SQSBatchItemFailure[] = [];
  for (const record of records) {
    try {
      await handleRetryRecord(record, policy.policy, deps, deadline);
    } catch (error) {
      logger.error('Could not process a retry record; SQS will deliver it again', {
        messageId: record.messageId,
        error: error as Error,
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

async function handleRetryRecord(
  sqsRecord: SQSRecord,
  policy: Policy,
  deps: GuardDeps,
  deadline?: number,
): Promise<void> {
  const parsed = parseRetryRecord(sqsRecord.body);
  if (!parsed.ok) {
    logger.error('Unreadable retry record', {
      messageId: sqsRecord.messageId,
      problem: parsed.error,
    });
    return deadLetter(sqsRecord, sqsRecord.body, `unreadable: ${parsed.error}`, deps);
  }
  const record = parsed.record;
  const protectedIds = deps.config.protectedServiceIds;
  if (protectedIds && !protectedIds.includes(record.serviceId)) {
    logger.error('Retry record for a service that is not protected', {
      messageId: sqsRecord.messageId,
      serviceId: record.serviceId,
    });
    return deadLetter(
      sqsRecord,
      sqsRecord.body,
      `service ${record.serviceId} is not protected`,
      deps,
    );
  }

  const target: Target = {
    serviceId: record.serviceId,
    ...(record.endpointIds.length ? { endpointIds: record.endpointIds } : {}),
  };
  logger.appendKeys({ retryAttempt: record.attempt + 1, retryMessageId: sqsRecord.messageId });
  try {
    const report = await reconcileAndLog(policy, target, deps, deadline);
    const failures = retryable(report.failures);
    if (failures.length === 0) return;
    const attempts = record.attempt + 1;
    const next = failures.map((failure) => nextAttempt(record, failure));
    if (attempts >= deps.config.maxAttempts) {
      logger.error('Retry attempts exhausted; sending to the dead-letter queue', {
        serviceId: record.serviceId,
        attempts,
      });
      for (const exhausted of next) {
        await deadLetter(
          sqsRecord,
          JSON.stringify(exhausted),
          `exhausted after ${attempts} attempts`,
          deps,
        );
      }
      return;
    }
    await queueRetries(next, deps, backoffSeconds(attempts, deps.random));
  } finally {
    logger.removeKeys(['retryAttempt', 'retryMessageId']);
  }
}

/**
 * Gives up on a retry record: explicitly to the dead-letter queue when one is configured,
 * else by failing the record so that the retry queue's redrive policy moves it there.
 */
async function deadLetter(
  sqsRecord: SQSRecord,
  body: string,
  reason: string,
  deps: GuardDeps,
): Promise<void> {
  const dlq = deps.config.deadLetterQueueUrl;
  if (!dlq)
    throw new Error(
      `retry record ${sqsRecord.messageId} given up (${reason}); no DEAD_LETTER_QUEUE_URL, so it is left to the redrive policy`,
    );
  await sendMessages(deps.sqs, dlq, [{ body, attributes: { reason } }], deps.clock);
  count(MetricName.RetriesDeadLettered, 1);
}

async function queueRetries(
  records: readonly RetryRecord[],
  deps: GuardDeps,
  delaySeconds?: number,
): Promise<void> {
  if (records.length === 0) return;
  const messages: OutgoingMessage[] = records.map((record) => ({
    body: JSON.stringify(record),
    delaySeconds: delaySeconds ?? backoffSeconds(record.attempt, deps.random),
  }));
  await sendMessages(deps.sqs, deps.config.retryQueueUrl, messages, deps.clock);
  count(MetricName.RetriesQueued, records.length);
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

async function loadPolicy(deps: GuardDeps) {
  const load = await deps.policies.get();
  if (load.problem) {
    logger.error(
      load.policy
        ? 'Policy invalid; acting on the last valid policy'
        : 'Policy invalid and no valid policy loaded; acting on nothing',
      {
        parameter: load.problem.parameter,
        errors: load.problem.errors.map((e) => `${e.path}: ${e.message}`),
      },
    );
    count(MetricName.PolicyInvalid, 1);
  }
  return load;
}

async function reconcileAndLog(
  policy: Policy,
  target: Target,
  deps: GuardDeps,
  deadline?: number,
): Promise<ServiceReport> {
  const report = await reconcileService(
    {
      ec2: deps.ec2,
      policy,
      homeRegion: deps.config.region,
      batchSize: deps.config.rejectBatchSize,
      now: () => new Date(deps.clock.now()),
      limiters: deps.limiters,
      ...(deadline !== undefined ? { deadline } : {}),
    },
    target,
  );
  for (const outcome of report.outcomes) logOutcome(outcome, policy);
  for (const failure of report.failures) {
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
  return report;
}

function logOutcome(outcome: Outcome, policy: Policy): void {
  const { connection, decision } = outcome;
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
    mode: policy.mode,
  };
  if (outcome.result === 'failed' && outcome.error) {
    if (outcome.error.code === 'UnauthorizedOperation') {
      logger.error('Permission denied: the guard may not change this service', {
        ...fields,
        errorCode: outcome.error.code,
        errorMessage: outcome.error.message,
      });
    } else {
      logger.error('Unsuccessful', {
        ...fields,
        action: decision.action,
        errorCode: outcome.error.code,
        errorMessage: outcome.error.message,
      });
    }
  } else if (decision.action === 'skip') {
    logger.debug('Decision', fields);
  } else {
    logger.info(
      outcome.result === 'dryRun' ? `Decision (dry run: would ${decision.action})` : 'Decision',
      fields,
    );
  }
}

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

function retryable(failures: readonly Failure[]): Failure[] {
  return failures.filter((f) => f.retryable);
}

function emptySummary(kind: Trigger['kind']): GuardSummary {
  return { trigger: kind, ...summarise([]), retriesQueued: 0 };
}
