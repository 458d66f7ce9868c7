/**
 * The guard's core: trigger → targets → reconcile → report, log, count and queue.
 *
 * Takes every client, the clock and the configuration as arguments (see `GuardDeps`), so
 * tests drive it without mocking modules. `handler.ts` only builds the dependencies.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import type { Clock } from '../core/clock';
import type { GuardConfig } from '../core/contract';
import { type ChangeAction, listOwnedServiceIds } from '../core/ec2';
import { MetricName } from '../core/metric-names';
import type { Policy } from '../core/policy';
import type { PolicyLoad, PolicyProblem, PolicyStore } from './policy-store';
import type { TokenBucket } from '../core/rate-limiter';
import {
  type Failure,
  type Outcome,
  reconcileService,
  type ReconcileSummary,
  type ServiceReport,
  summarise,
  type Target,
} from '../core/reconcile';
import {
  backoffSeconds,
  nextAttempt,
  parseRetryRecord,
  type RetryRecord,
  retryRecordFor,
} from '../core/retry-record';
import { type OutgoingMessage, sendMessages } from './queue-send';
import { count, logger } from './telemetry';
import { classifyQueued, type Trigger, parseTrigger } from './intake';

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

/**
 * How fresh the policy must be before the guard rejects or accepts: each container caches
 * it, and only one container hears of an edit, so a change is confirmed against SSM first.
 */
const CONFIRM_POLICY_MAX_AGE_MS = 5_000;

/** The triggers that reconcile services (the others are answered without touching EC2). */
type ReconcileTrigger = Extract<Trigger, { kind: 'hint' | 'sweep' | 'manual' | 'policyChanged' }>;

/** Handles one event. `deadline` (epoch ms): no EC2 call is started after it. */
export async function handleEvent(
  event: unknown,
  deps: GuardDeps,
  deadline?: number,
): Promise<GuardSummary | SqsResponse> {
  const trigger = parseTrigger(event, deps.config.policyParameterName);
  if (trigger.kind === 'queue') return handleQueueRecords(trigger.records, deps, deadline);
  if (!isReconcileTrigger(trigger)) {
    reportIgnored(trigger);
    return { trigger: trigger.kind, ...summarise([]), retriesQueued: 0 };
  }

  const { policy, problem } = await loadPolicy(deps, trigger.kind === 'policyChanged');
  if (!policy) throw new PolicyUnavailableError(problem!);
  // A retry record that cannot be sent throws: the invocation fails and AWS retries the event.
  const { reports, retriesQueued } = await reconcileTriggers([trigger], policy, deps, deadline);
  return { trigger: trigger.kind, ...summarise(reports), retriesQueued };
}

function isReconcileTrigger(trigger: Trigger): trigger is ReconcileTrigger {
  return ['hint', 'sweep', 'manual', 'policyChanged'].includes(trigger.kind);
}

function reportIgnored(trigger: Trigger): void {
  if (trigger.kind === 'unknown') {
    // Answered without an error: a retried unknown event would only come back unknown.
    logger.warn('Ignoring an event of unknown shape', { seen: trigger.seen });
    count(MetricName.UnknownTrigger, 1);
  } else if (trigger.kind === 'ignored') {
    logger.info('Ignoring an event that does not concern the guard', { why: trigger.why });
  }
}

/**
 * Reconciles every service the triggers name, each once: a burst of hints in one batch costs
 * one Describe per service, not one per hint.
 */
async function reconcileTriggers(
  triggers: readonly ReconcileTrigger[],
  policy: Policy,
  deps: GuardDeps,
  deadline?: number,
) {
  for (const trigger of triggers) logHint(trigger);
  const serviceIds = await targetServices(triggers, deps);
  const reports: ServiceReport[] = [];
  for (const serviceId of serviceIds) {
    reports.push(
      pastDeadline(deps, deadline)
        ? deferredReport({ serviceId }, policy)
        : await reconcileAndLog(policy, { serviceId }, deps, deadline),
    );
  }
  const now = new Date(deps.clock.now());
  const records = retryable(reports.flatMap((r) => r.failures)).map((f) => retryRecordFor(f, now));
  return { reports, retriesQueued: await dispatchRetries(records, deps) };
}

function logHint(trigger: ReconcileTrigger): void {
  if (trigger.kind !== 'hint') return;
  const { source, serviceIds, endpointIds, message } = trigger;
  logger.info('Connection request hint', { source, serviceIds, endpointIds });
  // AWS does not document the notification's body: keep it visible to operators.
  if (message !== undefined) logger.debug('Notification message', { message });
}

/** The services the triggers concern, limited to the protected ones. */
async function targetServices(
  triggers: readonly ReconcileTrigger[],
  deps: GuardDeps,
): Promise<readonly string[]> {
  const named = triggers.map((t) => (t.kind === 'hint' || t.kind === 'manual' ? t.serviceIds : []));
  if (named.some((ids) => ids.length === 0)) return protectedServices(deps);

  const requested = [...new Set(named.flat())];
  const protectedIds = deps.config.protectedServiceIds;
  if (!protectedIds) return requested; // Describe only ever shows the account's own services.
  const ignored = requested.filter((id) => !protectedIds.includes(id));
  if (ignored.length > 0) {
    logger.warn('Ignoring services that are not protected', { serviceIds: ignored });
  }
  return requested.filter((id) => protectedIds.includes(id));
}

async function protectedServices(deps: GuardDeps): Promise<readonly string[]> {
  return deps.config.protectedServiceIds ?? listOwnedServiceIds(deps.ec2);
}

function pastDeadline(deps: GuardDeps, deadline?: number): boolean {
  return deadline !== undefined && deps.clock.now() >= deadline;
}

/** A target left for a retry because the invocation ran out of time before reading it. */
function deferredReport(target: Target, policy: Policy): ServiceReport {
  const { serviceId, endpointIds = [] } = target;
  const error = { code: 'Deferred', message: 'the invocation ran out of time before this service' };
  return {
    serviceId,
    mode: policy.mode,
    outcomes: [],
    failures: [
      { serviceId, action: 'describe', endpointIds, error, retryable: true, deferred: true },
    ],
  };
}

/**
 * Messages from the guard's queues. Hints that SNS and EventBridge queued are merged and
 * reconciled once; retry records are handled one by one. Whatever fails is reported as a
 * batch item failure, so SQS delivers it again.
 */
async function handleQueueRecords(
  records: readonly SQSRecord[],
  deps: GuardDeps,
  deadline?: number,
): Promise<SqsResponse> {
  const messages = records.map((r) => classifyQueued(r, deps.config.policyParameterName));
  const hints = messages.flatMap((m) => (m.kind === 'trigger' ? [m] : []));
  const retries = messages.flatMap((m) => (m.kind === 'retry' ? [m.record] : []));
  const changed = hints.some((h) => h.trigger.kind === 'policyChanged');

  const { policy } = await loadPolicy(deps, changed);
  if (!policy) {
    // Every message stays on its queue for a later attempt, when the policy may be fixed.
    return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
  }

  const batchItemFailures: SQSBatchItemFailure[] = [];
  const triggers = hints.map((h) => h.trigger);
  for (const trigger of triggers) if (!isReconcileTrigger(trigger)) reportIgnored(trigger);
  const toReconcile = triggers.filter(isReconcileTrigger);
  if (toReconcile.length > 0) {
    try {
      await reconcileTriggers(toReconcile, policy, deps, deadline);
    } catch (error) {
      logger.error('Could not reconcile the queued hints; SQS will deliver them again', {
        error: error as Error,
      });
      batchItemFailures.push(...hints.map((h) => ({ itemIdentifier: h.record.messageId })));
    }
  }

  for (const record of retries) {
    try {
      await handleRetryRecord(record, policy, deps, deadline);
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
  const { messageId } = sqsRecord;
  const parsed = parseRetryRecord(sqsRecord.body);
  if (!parsed.ok) {
    logger.error('Unreadable retry record', { messageId, problem: parsed.error });
    return deadLetter(sqsRecord.body, `unreadable: ${parsed.error}`, deps);
  }
  const record = parsed.record;
  const protectedIds = deps.config.protectedServiceIds;
  if (protectedIds && !protectedIds.includes(record.serviceId)) {
    logger.error('Retry record for a service that is not protected', {
      messageId,
      serviceId: record.serviceId,
    });
    return deadLetter(sqsRecord.body, `service ${record.serviceId} is not protected`, deps);
  }

  const target: Target = {
    serviceId: record.serviceId,
    ...(record.endpointIds.length ? { endpointIds: record.endpointIds } : {}),
  };
  logger.appendKeys({ retryAttempt: record.attempt + 1, retryMessageId: messageId });
  try {
    const report = pastDeadline(deps, deadline)
      ? deferredReport(target, policy)
      : await reconcileAndLog(policy, target, deps, deadline);
    const next = retryable(report.failures).map((failure) => nextAttempt(record, failure));
    await dispatchRetries(next, deps);
  } finally {
    logger.removeKeys(['retryAttempt', 'retryMessageId']);
  }
}

/**
 * Queues each retry record with its backoff, or dead-letters it once it has had
 * `MAX_ATTEMPTS` attempts. Returns how many were queued; a send that fails throws.
 */
async function dispatchRetries(records: readonly RetryRecord[], deps: GuardDeps): Promise<number> {
  const { maxAttempts } = deps.config;
  const exhausted = records.filter((r) => r.attempt >= maxAttempts);
  const queued = records.filter((r) => r.attempt < maxAttempts);
  for (const record of exhausted) {
    logger.error('Retry attempts exhausted; sending to the dead-letter queue', {
      serviceId: record.serviceId,
      endpointIds: record.endpointIds,
      attempts: record.attempt,
      lastError: record.lastError,
    });
    await deadLetter(JSON.stringify(record), `exhausted after ${record.attempt} attempts`, deps);
  }
  await queueRetries(queued, deps);
  return queued.length;
}

/**
 * Gives up on a retry record: explicitly to the dead-letter queue when one is configured,
 * else by failing the SQS record so that the retry queue's redrive policy moves it there.
 */
async function deadLetter(body: string, reason: string, deps: GuardDeps): Promise<void> {
  const dlq = deps.config.deadLetterQueueUrl;
  if (!dlq) {
    throw new Error(
      `a retry record was given up (${reason}); with no DEAD_LETTER_QUEUE_URL it is left to the redrive policy`,
    );
  }
  await sendMessages(deps.sqs, dlq, [{ body, attributes: { reason } }], deps.clock);
  count(MetricName.RetriesDeadLettered, 1);
}

async function queueRetries(records: readonly RetryRecord[], deps: GuardDeps): Promise<void> {
  if (records.length === 0) return;
  const messages: OutgoingMessage[] = records.map((record) => ({
    body: JSON.stringify(record),
    delaySeconds: backoffSeconds(record.attempt, deps.random),
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

/**
 * The policy to act on (none when there is no valid one). `reload` drops the cache first:
 * the parameter changed.
 */
async function loadPolicy(deps: GuardDeps, reload = false): Promise<PolicyLoad> {
  if (reload) deps.policies.invalidate();
  return deps.policies.get();
}

/** The PolicyStore's `onProblem`: each load that found a problem is logged and counted once. */
export function reportPolicyProblem(problem: PolicyProblem, fallback: boolean): void {
  const what = problem.kind === 'unreadable' ? 'Policy unreadable' : 'Policy invalid';
  logger.error(
    fallback
      ? `${what}; acting on the last valid policy`
      : `${what} and no valid policy loaded; acting on nothing`,
    { parameter: problem.parameter, errors: problem.errors.map((e) => `${e.path}: ${e.message}`) },
  );
  count(problem.kind === 'unreadable' ? MetricName.PolicyUnreadable : MetricName.PolicyInvalid, 1);
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
      // The loaded policy stands in when SSM cannot confirm it: it was valid when loaded.
      confirmPolicy: async () =>
        (await deps.policies.get(CONFIRM_POLICY_MAX_AGE_MS)).policy ?? policy,
    },
    target,
  );
  for (const outcome of report.outcomes) logOutcome(outcome, report);
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
  } else if (decision.action === 'skip' || (decision.action === 'keep' && !isPending(connection))) {
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

function isPending(connection: Outcome['connection']): boolean {
  return connection.state.toLowerCase() === 'pendingacceptance';
}

function retryable(failures: readonly Failure[]): Failure[] {
  return failures.filter((f) => f.retryable);
}
