/**
 * The guard's orchestration: an event's work → the services it concerns → reconcile → report
 * and queue what is left; after a sweep, the upkeep (wiring and posture).
 *
 * Takes every client, the clock and the configuration as arguments (`GuardDeps`), so tests
 * drive it without mocking modules; `handler.ts` only builds them. What it delegates: the
 * intake (intake.ts), the decision and the EC2 calls (core/reconcile.ts), the wiring and the
 * posture (upkeep.ts), logs and metrics (report.ts), retries and dead letters (retries.ts), a
 * bad policy (policy-problems.ts).
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SQSBatchItemFailure } from 'aws-lambda';
import type { GuardConfig } from '../core/contract';
import { type InvocationDeadline, isOutOfTime } from '../core/deadline';
import type { ChangeAction } from '../core/ec2';
import type { Policy } from '../core/policy';
import type { TokenBucket } from '../core/rate-limiter';
import {
  deferredReport,
  type ReconcileContext,
  reconcileTargets,
  type ReconcileSummary,
  type ServiceReport,
  summarise,
  sweepServices,
  type Target,
} from '../core/reconcile';
import { nextAttempt, retryRecordFor } from '../core/retry-record';
import { DecisionJournal, type DecisionPublisher } from './decision-events';
import {
  classifyEvent,
  type IntakeSettings,
  type QueuedWork,
  type QueueMessage,
  type StackEvent,
  type Work,
} from './intake';
import { PolicyUnavailableError } from './policy-problems';
import type { PolicyLoad, PolicyStore } from './policy-store';
import {
  reportHint,
  reportIgnored,
  reportService,
  reportUnreadableHint,
  reportUnwire,
  reportUpkeep,
} from './report';
import { deadLetter, dispatchRetries, retriesOf, type RetryDeps } from './retries';
import { logger } from './telemetry';
import { type PermissionsCache, SWEEP_UPKEEP_DESCRIBES, unwire, upkeep } from './upkeep';

export interface GuardDeps extends RetryDeps {
  readonly config: GuardConfig;
  /** What events are compared with, parsed once from `config` (intake.ts `intakeSettings`). */
  readonly intake: IntakeSettings;
  readonly ec2: EC2Client;
  readonly policies: PolicyStore;
  readonly limiters: Readonly<Record<ChangeAction, TokenBucket>>;
  /** The copy of EC2's bucket that creating and deleting notifications wait on. */
  readonly wiringLimiter: TokenBucket;
  /** What this container has read of each service's allowed principals. */
  readonly permissions: PermissionsCache;
  /** Publishes each invocation's decisions to EventBridge, once they are made. */
  readonly decisions: DecisionPublisher;
  /**
   * When the invocation's EC2 and SSM calls must be over (the handler sets it for each
   * invocation; none: no limit). The clients obey it too (core/sdk-deadline.ts).
   */
  readonly deadline: InvocationDeadline;
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

/** What the CDK Provider framework expects back for the notification cleanup resource. */
export interface StackEventResponse {
  readonly PhysicalResourceId: string;
}

/** The cleanup resource's physical ID: stable, so that an update never replaces it. */
export const CLEANUP_PHYSICAL_ID = 'vpce-guard-notification-cleanup';

/** The work that reconciles services (the rest is answered without touching EC2). */
type ReconcileWork = Extract<
  QueuedWork,
  { kind: 'hint' | 'sweep' | 'manual' | 'policyChanged' | 'serviceCreated' }
>;

function isReconcileWork(work: QueuedWork): work is ReconcileWork {
  return work.kind !== 'ignored' && work.kind !== 'unknown';
}

/**
 * Handles one event; no EC2 call is started after `deps.deadline`. Its decisions are published
 * last, whatever happened (docs/events.md): publishing never delays or undoes them.
 */
export async function handleEvent(
  event: unknown,
  deps: GuardDeps,
): Promise<GuardSummary | SqsResponse | StackEventResponse> {
  const journal = new DecisionJournal();
  try {
    return await handleWork(event, { ...deps, journal });
  } finally {
    await deps.decisions.publish(journal);
  }
}

async function handleWork(
  event: unknown,
  deps: GuardDeps,
): Promise<GuardSummary | SqsResponse | StackEventResponse> {
  const intake = classifyEvent(event, deps.intake);
  if (intake.kind === 'queue') return handleQueueMessages(intake.messages, deps);
  if (intake.kind === 'stackEvent') return handleStackEvent(intake, deps);
  if (!isReconcileWork(intake)) {
    reportIgnored(intake);
    return { trigger: intake.kind, ...summarise([]), retriesQueued: 0 };
  }

  const { policy, problem } = await loadPolicy(deps, intake.kind === 'policyChanged');
  if (!policy) throw new PolicyUnavailableError(problem!);
  // A retry record that cannot be sent throws: the invocation fails and AWS retries the event.
  const { reports, retriesQueued, protectedServices } = await reconcileWork([intake], policy, deps);
  const summary = summarise(reports);
  return {
    trigger: intake.kind,
    ...summary,
    services: Math.max(summary.services, protectedServices ?? 0),
    retriesQueued,
  };
}

/**
 * Messages from the guard's queues. Hints that SNS and EventBridge queued are merged and
 * reconciled once; retry records are handled one by one. Whatever fails is reported as a
 * batch item failure, so SQS delivers it again.
 */
async function handleQueueMessages(
  messages: readonly QueueMessage[],
  deps: GuardDeps,
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
      await reconcileWork(toReconcile, policy, deps);
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
        await retry(message, policy, deps);
      } else if (!message.fromRetryQueue) {
        // Not the guard's to dead-letter: back to its queue (the hint queue), whose redrive
        // moves it to its own dead-letter queue after 10 receives.
        reportUnreadableHint(message);
        failed(message.messageId);
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
 * one Describe per service, not one per hint. Work that names no service sweeps every
 * protected service with one read of the account, then does the upkeep: wiring and posture.
 */
async function reconcileWork(
  work: readonly ReconcileWork[],
  policy: Policy,
  deps: GuardDeps,
): Promise<{ reports: ServiceReport[]; retriesQueued: number; protectedServices?: number }> {
  for (const w of work) if (w.kind === 'hint') reportHint(w);
  const scope = scopeOf(work, deps.config);
  const reports: ServiceReport[] = [];
  if (scope.sweep) {
    reports.push(...(await sweep(policy, deps)));
  } else {
    const targets = scope.serviceIds.map((serviceId) => ({ serviceId }));
    reports.push(
      ...(await reconcileTargets(reconcileContext(policy, deps), targets, reportService)),
    );
  }
  deps.journal?.noteReports(reports);
  const now = new Date(deps.clock.now());
  const failures = reports.flatMap((r) => r.failures);
  const retriesQueued = await dispatchRetries(
    retriesOf(failures, (f) => retryRecordFor(f, now)),
    deps,
  );
  // Last, so that it never delays a decision or its retry records.
  if (!scope.sweep && scope.created.length > 0) {
    reportUpkeep(await upkeep(deps, scope.created));
  }
  if (!scope.sweep) return { reports, retriesQueued };
  const upkept = await upkeep(deps);
  reportUpkeep(upkept);
  // A sweep reconciled every protected service, those with no connection too.
  return { reports, retriesQueued, protectedServices: upkept.services?.length };
}

/**
 * What the work asks for: a sweep of every protected service, or these services, of which
 * `created` are new and need wiring too.
 */
type Scope =
  | { readonly sweep: true }
  | {
      readonly sweep: false;
      readonly serviceIds: readonly string[];
      readonly created: readonly string[];
    };

/**
 * The most services a batch of hints reads one by one when every service is protected (the
 * hints' IDs are then checked against nothing). Past it a sweep is cheaper for any account with
 * fewer than a thousand actionable connections (one read of them all, plus its upkeep's
 * Describes), and a forged notification naming hundreds of made-up IDs cannot spend more of the
 * account's Describe budget than a sweep. A listed `protectedServiceIds` bounds the reads
 * itself, and a manual reconcile reads the services it lists, however many.
 */
const MAX_HINTED_SERVICES_READ_APART = SWEEP_UPKEEP_DESCRIBES + 1;

/** The services the work concerns, limited to the protected ones. */
function scopeOf(work: readonly ReconcileWork[], config: GuardConfig): Scope {
  const scope = namedScope(work, config);
  if (scope.sweep || config.protectedServiceIds) return scope;
  const hinted = new Set(work.flatMap((w) => (w.kind === 'hint' ? w.serviceIds : [])));
  if (hinted.size <= MAX_HINTED_SERVICES_READ_APART) return scope;
  logger.info('Sweeping instead: the hints name more services than a sweep reads for less', {
    services: hinted.size,
    readApartAtMost: MAX_HINTED_SERVICES_READ_APART,
  });
  return { sweep: true };
}

function namedScope(work: readonly ReconcileWork[], config: GuardConfig): Scope {
  const named = work.map((w) =>
    w.kind === 'hint' || w.kind === 'manual' || w.kind === 'serviceCreated' ? w.serviceIds : [],
  );
  if (named.some((ids) => ids.length === 0)) return { sweep: true };

  const requested = [...new Set(named.flat())];
  const created = [
    ...new Set(work.flatMap((w) => (w.kind === 'serviceCreated' ? w.serviceIds : []))),
  ];
  const listed = config.protectedServiceIds;
  if (!listed) return { sweep: false, serviceIds: requested, created };
  const isProtected = (id: string) => listed.includes(id);
  const newUnprotected = created.filter((id) => !isProtected(id));
  if (newUnprotected.length > 0) {
    logger.info('New endpoint services are not protected: protectedServiceIds does not list them', {
      serviceIds: newUnprotected,
    });
  }
  const ignored = requested.filter((id) => !isProtected(id) && !created.includes(id));
  if (ignored.length > 0) {
    logger.warn('Ignoring services that are not protected', { serviceIds: ignored });
  }
  return {
    sweep: false,
    serviceIds: requested.filter(isProtected),
    created: created.filter(isProtected),
  };
}

/**
 * Every protected service, from one read of the account's actionable connections. A read that
 * fails throws, so that AWS delivers the trigger again: a retry record per service would cost
 * a Describe each, the very cost a sweep avoids.
 */
async function sweep(policy: Policy, deps: GuardDeps): Promise<ServiceReport[]> {
  if (deps.deadline.remainingMs() <= 0) return unreadSweep(policy, deps);
  try {
    return await sweepServices(
      reconcileContext(policy, deps),
      deps.config.protectedServiceIds,
      reportService,
    );
  } catch (error) {
    // Only the read throws, before any service was settled.
    if (isOutOfTime(error)) return unreadSweep(policy, deps);
    throw error;
  }
}

/**
 * A sweep the invocation had no time to read: each listed service is left for a retry that
 * counts no attempt; without a list, the trigger is failed so that AWS delivers it again.
 */
function unreadSweep(policy: Policy, deps: GuardDeps): ServiceReport[] {
  const listed = deps.config.protectedServiceIds;
  if (!listed)
    throw new Error('the invocation ran out of time before the sweep could read the connections');
  const deferred = listed.map((serviceId) => deferredReport({ serviceId }, policy.mode));
  deferred.forEach(reportService);
  return deferred;
}

/** A retry record's next attempt: its own endpoints (or its whole service) reconciled again. */
async function retry(
  message: Extract<QueueMessage, { kind: 'retry' }>,
  policy: Policy,
  deps: GuardDeps,
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
    const reports = await reconcileTargets(reconcileContext(policy, deps), [target], reportService);
    deps.journal?.noteReports(reports, record.attempt + 1);
    const failures = reports.flatMap((r) => r.failures);
    await dispatchRetries(
      retriesOf(failures, (f) => nextAttempt(record, f)),
      deps,
    );
  } finally {
    logger.removeKeys(['retryAttempt', 'retryMessageId']);
  }
}

function reconcileContext(policy: Policy, deps: GuardDeps): ReconcileContext {
  const deadline = deps.deadline.at;
  return {
    ec2: deps.ec2,
    policy,
    homeRegion: deps.config.region,
    batchSize: deps.config.rejectBatchSize,
    now: () => new Date(deps.clock.now()),
    limiters: deps.limiters,
    ...(deadline !== undefined ? { deadline } : {}),
    // A policy SSM cannot give now is not confirmed: acting on the cached one could reject a
    // consumer just allowed. An invalid one is (the last valid policy stands, as documented).
    confirmPolicy: async () => {
      const load = await deps.policies.get(CONFIRM_POLICY_MAX_AGE_MS);
      return load.problem?.kind === 'unreadable' ? undefined : (load.policy ?? policy);
    },
  };
}

/**
 * The stack's notification cleanup resource: on Delete, the notifications the guard created
 * are removed. A removal that fails fails the stack's deletion with the reason, rather than
 * leave notifications that point at a deleted topic.
 */
async function handleStackEvent(event: StackEvent, deps: GuardDeps): Promise<StackEventResponse> {
  const response = { PhysicalResourceId: event.physicalResourceId ?? CLEANUP_PHYSICAL_ID };
  if (event.requestType !== 'Delete') return response;
  const report = await unwire(deps);
  reportUnwire(report);
  if (report.failures.length > 0) {
    const reasons = report.failures.map((f) => `${f.error.code}: ${f.error.message}`);
    throw new Error(
      `could not remove the connection notifications to ${report.topicArn}: ${reasons.join('; ')}`,
    );
  }
  return response;
}

/**
 * The policy to act on (none when there is no valid one). `reload` drops the cache first:
 * the parameter changed.
 */
async function loadPolicy(deps: GuardDeps, reload: boolean): Promise<PolicyLoad> {
  if (reload) deps.policies.invalidate();
  return deps.policies.get();
}
