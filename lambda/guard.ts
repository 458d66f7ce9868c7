/**
 * The guard's orchestration: an event's work → the services it concerns → reconcile → report
 * and queue what is left.
 *
 * Takes every client, the clock and the configuration as arguments (`GuardDeps`), so tests
 * drive it without mocking modules; `handler.ts` only builds them. What it delegates: the
 * intake (intake.ts), the decision and the EC2 calls (core/reconcile.ts), logs and metrics
 * (report.ts), retries and dead letters (retries.ts), a bad policy (policy-problems.ts).
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SQSBatchItemFailure } from 'aws-lambda';
import type { GuardConfig } from '../core/contract';
import { type ChangeAction, listOwnedServiceIds } from '../core/ec2';
import type { Policy } from '../core/policy';
import type { TokenBucket } from '../core/rate-limiter';
import {
  deferredReport,
  reconcileService,
  type ReconcileSummary,
  type ServiceReport,
  summarise,
  type Target,
} from '../core/reconcile';
import { nextAttempt, type RetryRecord, retryRecordFor } from '../core/retry-record';
import { classifyEvent, type QueueMessage, type Work } from './intake';
import { PolicyUnavailableError } from './policy-problems';
import type { PolicyLoad, PolicyStore } from './policy-store';
import { reportHint, reportIgnored, reportService } from './report';
import { deadLetter, dispatchRetries, type RetryDeps, retryable } from './retries';
import { logger } from './telemetry';

export interface GuardDeps extends RetryDeps {
  readonly config: GuardConfig;
  readonly ec2: EC2Client;
  readonly policies: PolicyStore;
  readonly limiters: Readonly<Record<ChangeAction, TokenBucket>>;
}

/** What an invocation did, in numbers (the response of a direct invocation). */
export interface GuardSummary extends ReconcileSummary {
  readonly trigger: Work['kind'];
  readonly retriesQueued: number;
}

export interface SqsResponse {
  readonly batchItemFailures: SQSBatchItemFailure[];
}

/**
 * How fresh the policy must be before the guard rejects or accepts: each container caches
 * it, and only one container hears of an edit, so a change is confirmed against SSM first.
 */
const CONFIRM_POLICY_MAX_AGE_MS = 5_000;

/** The work that reconciles services (the rest is answered without touching EC2). */
type ReconcileWork = Extract<Work, { kind: 'hint' | 'sweep' | 'manual' | 'policyChanged' }>;

function isReconcileWork(work: Work): work is ReconcileWork {
  return work.kind !== 'ignored' && work.kind !== 'unknown';
}

/** Handles one event. `deadline` (epoch ms): no EC2 call is started after it. */
export async function handleEvent(
  event: unknown,
  deps: GuardDeps,
  deadline?: number,
): Promise<GuardSummary | SqsResponse> {
  const intake = classifyEvent(event, deps.config.policyParameterName);
  if (intake.kind === 'queue') return handleQueueMessages(intake.messages, deps, deadline);
  if (!isReconcileWork(intake)) {
    reportIgnored(intake);
    return { trigger: intake.kind, ...summarise([]), retriesQueued: 0 };
  }

  const { policy, problem } = await loadPolicy(deps, intake.kind === 'policyChanged');
  if (!policy) throw new PolicyUnavailableError(problem!);
  // A retry record that cannot be sent throws: the invocation fails and AWS retries the event.
  const { reports, retriesQueued } = await reconcileWork([intake], policy, deps, deadline);
  return { trigger: intake.kind, ...summarise(reports), retriesQueued };
}

/**
 * Messages from the guard's queues. Hints that SNS and EventBridge queued are merged and
 * reconciled once; retry records are handled one by one. Whatever fails is reported as a
 * batch item failure, so SQS delivers it again.
 */
async function handleQueueMessages(
  messages: readonly QueueMessage[],
  deps: GuardDeps,
  deadline?: number,
): Promise<SqsResponse> {
  const triggers = messages.flatMap((m) => (m.kind === 'work' ? [m] : []));
  const changed = triggers.some((t) => t.work.kind === 'policyChanged');
  const { policy } = await loadPolicy(deps, changed);
  if (!policy) {
    // Every message stays on its queue for a later attempt, when the policy may be fixed.
    return { batchItemFailures: messages.map((m) => ({ itemIdentifier: m.messageId })) };
  }

  const batchItemFailures: SQSBatchItemFailure[] = [];
  const failed = (messageId: string) => batchItemFailures.push({ itemIdentifier: messageId });
  const work = triggers.map((t) => t.work);
  for (const w of work) if (!isReconcileWork(w)) reportIgnored(w);
  const toReconcile = work.filter(isReconcileWork);
  if (toReconcile.length > 0) {
    try {
      await reconcileWork(toReconcile, policy, deps, deadline);
    } catch (error) {
      logger.error('Could not reconcile the queued hints; SQS will deliver them again', {
        error: error as Error,
      });
      for (const t of triggers) failed(t.messageId);
    }
  }

  for (const message of messages) {
    if (message.kind === 'work') continue;
    try {
      if (message.kind === 'retry') {
        await retry(message, policy, deps, deadline);
      } else {
        logger.error('Unreadable retry record', {
          messageId: message.messageId,
          problem: message.problem,
        });
        await deadLetter(message.body, `unreadable: ${message.problem}`, deps);
      }
    } catch (error) {
      logger.error('Could not process a retry record; SQS will deliver it again', {
        messageId: message.messageId,
        error: error as Error,
      });
      failed(message.messageId);
    }
  }
  return { batchItemFailures };
}

/**
 * Reconciles every service the work names, each once: a burst of hints in one batch costs
 * one Describe per service, not one per hint.
 */
async function reconcileWork(
  work: readonly ReconcileWork[],
  policy: Policy,
  deps: GuardDeps,
  deadline?: number,
): Promise<{ reports: ServiceReport[]; retriesQueued: number }> {
  for (const w of work) if (w.kind === 'hint') reportHint(w);
  const reports: ServiceReport[] = [];
  for (const serviceId of await targetServices(work, deps)) {
    reports.push(await reconcileTarget({ serviceId }, policy, deps, deadline));
  }
  const now = new Date(deps.clock.now());
  const records = retryable(reports.flatMap((r) => r.failures)).map((f) => retryRecordFor(f, now));
  return { reports, retriesQueued: await dispatchRetries(records, deps) };
}

/** The services the work concerns, limited to the protected ones. */
async function targetServices(
  work: readonly ReconcileWork[],
  deps: GuardDeps,
): Promise<readonly string[]> {
  const named = work.map((w) => (w.kind === 'hint' || w.kind === 'manual' ? w.serviceIds : []));
  const protectedIds = deps.config.protectedServiceIds;
  if (named.some((ids) => ids.length === 0)) return protectedIds ?? listOwnedServiceIds(deps.ec2);

  const requested = [...new Set(named.flat())];
  if (!protectedIds) return requested; // Describe only ever shows the account's own services.
  const ignored = requested.filter((id) => !protectedIds.includes(id));
  if (ignored.length > 0) {
    logger.warn('Ignoring services that are not protected', { serviceIds: ignored });
  }
  return requested.filter((id) => protectedIds.includes(id));
}

/** A retry record's next attempt: its own endpoints (or its whole service) reconciled again. */
async function retry(
  message: Extract<QueueMessage, { kind: 'retry' }>,
  policy: Policy,
  deps: GuardDeps,
  deadline?: number,
): Promise<void> {
  const { record, messageId } = message;
  const protectedIds = deps.config.protectedServiceIds;
  if (protectedIds && !protectedIds.includes(record.serviceId)) {
    logger.error('Retry record for a service that is not protected', {
      messageId,
      serviceId: record.serviceId,
    });
    return deadLetter(message.body, `service ${record.serviceId} is not protected`, deps);
  }
  const target: Target = {
    serviceId: record.serviceId,
    ...(record.endpointIds.length ? { endpointIds: record.endpointIds } : {}),
  };
  logger.appendKeys({ retryAttempt: record.attempt + 1, retryMessageId: messageId });
  try {
    const report = await reconcileTarget(target, policy, deps, deadline);
    const next: RetryRecord[] = retryable(report.failures).map((f) => nextAttempt(record, f));
    await dispatchRetries(next, deps);
  } finally {
    logger.removeKeys(['retryAttempt', 'retryMessageId']);
  }
}

/** Reconciles one target and reports it; past the deadline it is deferred to a retry instead. */
async function reconcileTarget(
  target: Target,
  policy: Policy,
  deps: GuardDeps,
  deadline?: number,
): Promise<ServiceReport> {
  if (deadline !== undefined && deps.clock.now() >= deadline) {
    return deferredReport(target, policy.mode);
  }
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
  reportService(report);
  return report;
}

/**
 * The policy to act on (none when there is no valid one). `reload` drops the cache first:
 * the parameter changed.
 */
async function loadPolicy(deps: GuardDeps, reload: boolean): Promise<PolicyLoad> {
  if (reload) deps.policies.invalidate();
  return deps.policies.get();
}
