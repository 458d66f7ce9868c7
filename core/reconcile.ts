/**
 * Reconcile endpoint services: read the truth from EC2 (core/read.ts), then settle each
 * service: decide, and act in batches.
 *
 * Reading and settling are separate steps: a hint or a retry record reads its one service
 * (`reconcileService`), a sweep reads every service in one call and settles each
 * (`sweepServices`). Both return what happened to every connection and every piece of work
 * that could not be done; they do not log, count or queue, so the Lambda and the CLI report
 * the same run each in their own way.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Connection } from './connection';
import { isOutOfTime } from './deadline';
import { chunk } from './batches';
import { type ChangeAction, changeConnections, type EndpointError, SERVICE_NOT_FOUND } from './ec2';
import { type Decision, decide, type Mode, type Policy } from './policy';
import { DeadlineExceededError, type TokenBucket } from './rate-limiter';
import { readActionableByService, readTarget, type Target } from './read';
import { ATTEMPT_ALLOWANCE_MS } from './sdk-deadline';

export type { Target } from './read';

/** What reading and settling need: the policy, the EC2 client and its limits. */
export interface ReconcileContext {
  readonly ec2: EC2Client;
  readonly policy: Policy;
  /** Endpoint IDs per Reject/Accept call. */
  readonly batchSize: number;
  readonly now: () => Date;
  /** Client-side buckets that mirror EC2's throttling of the two mutating actions. */
  readonly limiters: Readonly<Record<ChangeAction, TokenBucket>>;
  /**
   * Epoch ms by which every EC2 call must be over: a Reject or Accept starts only with
   * ATTEMPT_ALLOWANCE_MS left (the rest is reported as deferred), and a call that the deadline
   * refuses or cuts short is deferred too, never counted as failed.
   */
  readonly deadline?: number;
  /**
   * Called once per service, before its first Reject or Accept, for the policy to act on. A
   * container's cached policy may predate an edit that another container was told of: a
   * rejection on a stale policy could refuse a consumer just allowed, so the caller may
   * re-read it. A different policy is decided again. Undefined: the policy could not be
   * confirmed (SSM did not answer), so no change is made: each is deferred to a retry.
   */
  readonly confirmPolicy?: () => Promise<Policy | undefined>;
  /** The Region of connections that report none. */
  readonly homeRegion: string;
  /** Called after each Describe page, for progress lines on long sweeps. */
  readonly onPage?: () => void;
}

/**
 * `done`: the action took effect; `dryRun`: EC2 said it would have; `none`: keep or skip;
 * `failed`: EC2 refused or failed; `deferred`: not attempted (the invocation ran out of time,
 * or the policy could not be confirmed): a retry that counts no attempt has it.
 */
export type Result = 'done' | 'dryRun' | 'none' | 'failed' | 'deferred';

export interface Outcome {
  readonly connection: Connection;
  readonly decision: Decision;
  readonly result: Result;
  readonly error?: ApiError;
}

export interface ApiError {
  readonly code: string;
  readonly message: string;
}

/** Work that did not get done, with what a retry needs to do it again. */
export interface Failure {
  readonly serviceId: string;
  /** `describe`: the service could not be read, so nothing was decided. */
  readonly action: ChangeAction | 'describe';
  /** The endpoints concerned; empty: the whole service. */
  readonly endpointIds: readonly string[];
  readonly error: ApiError;
  /** False when trying again cannot help (the service no longer exists). */
  readonly retryable: boolean;
  /** Not attempted for lack of time: a retry should not count it as an attempt. */
  readonly deferred?: boolean;
}

export interface ServiceReport {
  readonly serviceId: string;
  /** The mode of the policy that was acted on. */
  readonly mode: Mode;
  readonly outcomes: readonly Outcome[];
  readonly failures: readonly Failure[];
}

/** The error code of work deferred to a retry without an attempt (no time, no confirmed policy). */
const DEFERRED = 'Deferred';
const OUT_OF_TIME = "the invocation's deadline came first";

/** Reads one target's connections and settles them; a failed read is reported, not thrown. */
export async function reconcileService(
  ctx: ReconcileContext,
  target: Target,
): Promise<ServiceReport> {
  return (await reconcile(ctx, target)).report;
}

/**
 * Reconciles each target in turn, `onService` told of each report as it is made. A target not
 * started before the deadline is deferred: its retry counts no attempt.
 */
export async function reconcileTargets(
  ctx: ReconcileContext,
  targets: readonly Target[],
  onService?: (report: ServiceReport) => void,
): Promise<ServiceReport[]> {
  const reports: ServiceReport[] = [];
  let current = ctx;
  for (const target of targets) {
    let report: ServiceReport;
    if (ctx.deadline !== undefined && ctx.now().getTime() >= ctx.deadline) {
      report = deferredReport(target, current.policy.mode);
    } else {
      const settled = await reconcile(current, target);
      report = settled.report;
      current = withPolicy(current, settled.policy);
    }
    onService?.(report);
    reports.push(report);
  }
  return reports;
}

/** What settling a service did, and the policy it acted on (the confirmed one). */
interface Settled {
  readonly report: ServiceReport;
  readonly policy: Policy;
}

/**
 * The context for the next service: decided first with the policy the last one confirmed, so
 * that a sweep in which the policy changed decides each later service once, not twice.
 */
function withPolicy<C extends ReconcileContext>(ctx: C, policy: Policy): C {
  return policy === ctx.policy ? ctx : { ...ctx, policy };
}

async function reconcile(ctx: ReconcileContext, target: Target): Promise<Settled> {
  const { serviceId } = target;
  let connections: Connection[];
  try {
    connections = await readTarget(ctx.ec2, ctx.policy, ctx.homeRegion, target, ctx.onPage);
  } catch (error) {
    const { policy } = ctx;
    if (isOutOfTime(error)) return { report: deferredReport(target, policy.mode), policy };
    const apiError = toApiError(error);
    const failure: Failure = {
      serviceId,
      action: 'describe',
      endpointIds: target.endpointIds ?? [],
      error: apiError,
      retryable: apiError.code !== SERVICE_NOT_FOUND,
    };
    return { report: { serviceId, mode: policy.mode, outcomes: [], failures: [failure] }, policy };
  }
  return settle(ctx, serviceId, connections);
}

/**
 * A sweep: every actionable connection of the account read in one paginated call, then each
 * service that has some settled in turn, `onService` told of each report as it is made.
 * `serviceIds`: only these services, in this order (the protected ones); absent: every
 * service. A failed read throws: nothing was decided, and the caller's trigger is retried.
 */
export async function sweepServices(
  ctx: ReconcileContext,
  serviceIds?: readonly string[],
  onService?: (report: ServiceReport) => void,
): Promise<ServiceReport[]> {
  const byService = await readActionableByService(ctx.ec2, ctx.policy, ctx.homeRegion, ctx.onPage);
  const order = serviceIds ?? [...byService.keys()];
  const reports: ServiceReport[] = [];
  let current = ctx;
  for (const serviceId of order) {
    const connections = byService.get(serviceId);
    if (!connections) continue;
    const { report, policy } = await settle(current, serviceId, connections);
    current = withPolicy(current, policy);
    onService?.(report);
    reports.push(report);
  }
  return reports;
}

/**
 * Settles connections of one service that were just read: decides each, confirms the policy
 * before the first change, and rejects or accepts in batches. No call is started once out of
 * time: the changes are deferred.
 */
async function settle(
  ctx: ReconcileContext,
  serviceId: string,
  connections: readonly Connection[],
): Promise<Settled> {
  let policy = ctx.policy;
  let decided = decideAll(policy, connections, ctx.now());
  // Why no change may be made now: each is deferred to a retry, which counts no attempt.
  let deferral: string | undefined;
  if (!decided.some((d) => isChange(d.decision))) {
    // Nothing to change: no call, no confirmation.
  } else if (!hasTimeForACall(ctx)) {
    deferral = OUT_OF_TIME;
  } else if (ctx.confirmPolicy) {
    const confirmed = await ctx.confirmPolicy();
    if (!confirmed) {
      deferral = 'the policy could not be re-read to confirm it before a change';
    } else if (confirmed !== policy) {
      policy = confirmed;
      decided = decideAll(policy, connections, ctx.now());
    }
  }

  const results = new Map<string, { result: Result; error?: ApiError }>();
  const failures: Failure[] = [];
  for (const action of ['reject', 'accept'] as const) {
    const endpointIds = decided
      .filter((d) => d.decision.action === action)
      .map((d) => d.connection.endpointId);
    for (const batch of chunk(endpointIds, ctx.batchSize)) {
      const failure = deferral
        ? deferBatch(serviceId, action, batch, deferral, results)
        : await changeBatch({ ...ctx, policy }, action, serviceId, batch, results);
      if (failure) failures.push(failure);
    }
  }

  const outcomes = decided.map(({ connection, decision }) => ({
    connection,
    decision,
    ...(results.get(connection.endpointId) ?? { result: 'none' as const }),
  }));
  return { report: { serviceId, mode: policy.mode, outcomes, failures }, policy };
}

function decideAll(policy: Policy, connections: readonly Connection[], now: Date) {
  return connections.map((connection) => ({
    connection,
    decision: decide(policy, connection, now),
  }));
}

/** Whether a call started now would have ATTEMPT_ALLOWANCE_MS before the deadline. */
function hasTimeForACall(ctx: ReconcileContext): boolean {
  return ctx.deadline === undefined || ctx.now().getTime() <= ctx.deadline - ATTEMPT_ALLOWANCE_MS;
}

function isChange(decision: Decision): boolean {
  return decision.action === 'reject' || decision.action === 'accept';
}

/** One Reject or Accept call; records each endpoint's result and returns what failed. */
async function changeBatch(
  ctx: ReconcileContext,
  action: ChangeAction,
  serviceId: string,
  batch: readonly string[],
  results: Map<string, { result: Result; error?: ApiError }>,
): Promise<Failure | undefined> {
  const dryRun = ctx.policy.mode === 'dryRun';
  const failAll = (error: ApiError, retryable: boolean): Failure => {
    for (const id of batch) results.set(id, { result: 'failed', error });
    return { serviceId, action, endpointIds: batch, error, retryable };
  };

  let unsuccessful: EndpointError[];
  try {
    // A call that starts with no time left to end would only be cut short.
    await ctx.limiters[action].take(
      ctx.deadline === undefined ? undefined : ctx.deadline - ATTEMPT_ALLOWANCE_MS,
    );
    unsuccessful = await changeConnections(ctx.ec2, action, serviceId, batch, dryRun);
  } catch (error) {
    // No token in time, or the call refused or cut short by the deadline (EC2 may or may not
    // have acted): the retry re-reads the endpoints; it is no failed attempt.
    if (isOutOfTime(error)) {
      const why = error instanceof DeadlineExceededError ? error.message : OUT_OF_TIME;
      return deferBatch(serviceId, action, batch, why, results);
    }
    const apiError = toApiError(error);
    // With DryRun, EC2 answers a permitted call with the DryRunOperation error.
    if (dryRun && apiError.code === 'DryRunOperation') {
      for (const id of batch) results.set(id, { result: 'dryRun' });
      return undefined;
    }
    // A dry run changes nothing, so a denied one has nothing to retry: it is reported.
    const retryable =
      apiError.code !== SERVICE_NOT_FOUND && !(dryRun && apiError.code === 'UnauthorizedOperation');
    return failAll(apiError, retryable);
  }

  for (const id of batch) results.set(id, { result: dryRun ? 'dryRun' : 'done' });
  if (unsuccessful.length === 0) return undefined;
  const inBatch = new Set(batch);
  // An entry that names no endpoint of the batch (no ResourceId, or another ID) could be about
  // any of them: none of the batch counts as done, so each is reported, counted and retried.
  const unnamed = unsuccessful.find((e) => !inBatch.has(e.endpointId));
  if (unnamed) {
    const error = { code: unnamed.code, message: unnamed.message };
    for (const id of batch) results.set(id, { result: 'failed', error });
  }
  for (const entry of unsuccessful) {
    if (!inBatch.has(entry.endpointId)) continue;
    results.set(entry.endpointId, {
      result: 'failed',
      error: { code: entry.code, message: entry.message },
    });
  }
  const named = unsuccessful.filter((e) => inBatch.has(e.endpointId)).map((e) => e.endpointId);
  const first = unsuccessful[0]!;
  return {
    serviceId,
    action,
    // An entry that names no endpoint of the batch cannot be retried by ID: retry the service.
    endpointIds: named.length === unsuccessful.length ? named : [],
    error: { code: first.code, message: first.message },
    retryable: true,
  };
}

/** A batch not attempted, left for a retry that counts no attempt; `why` says what stopped it. */
function deferBatch(
  serviceId: string,
  action: ChangeAction,
  batch: readonly string[],
  why: string,
  results: Map<string, { result: Result; error?: ApiError }>,
): Failure {
  const error = { code: DEFERRED, message: why };
  for (const id of batch) results.set(id, { result: 'deferred', error });
  return { serviceId, action, endpointIds: batch, error, retryable: true, deferred: true };
}

/**
 * A target left for a retry because the invocation ran out of time before reading it: no
 * attempt was made, so its retry counts none.
 */
export function deferredReport(target: Target, mode: Mode): ServiceReport {
  const { serviceId, endpointIds = [] } = target;
  const error = { code: DEFERRED, message: 'the invocation ran out of time before this service' };
  return {
    serviceId,
    mode,
    outcomes: [],
    failures: [
      { serviceId, action: 'describe', endpointIds, error, retryable: true, deferred: true },
    ],
  };
}

/** A run in numbers; a dry run counts what it would have done. */
export interface ReconcileSummary {
  readonly services: number;
  readonly evaluated: number;
  readonly rejected: number;
  readonly accepted: number;
  readonly kept: number;
  readonly unsuccessful: number;
}

export function summarise(reports: readonly ServiceReport[]): ReconcileSummary {
  const outcomes = reports.flatMap((r) => r.outcomes);
  const acted = (action: string) =>
    outcomes.filter(
      (o) => o.decision.action === action && (o.result === 'done' || o.result === 'dryRun'),
    ).length;
  return {
    services: reports.length,
    evaluated: outcomes.filter((o) => o.decision.action !== 'skip').length,
    rejected: acted('reject'),
    accepted: acted('accept'),
    kept: outcomes.filter((o) => o.decision.action === 'keep').length,
    unsuccessful: outcomes.filter((o) => o.result === 'failed').length,
  };
}

/** An error as the guard reports it: AWS's code (or the error's name) and message. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof Error) {
    const code = (error as { Code?: string }).Code ?? error.name;
    return { code: code || 'Error', message: error.message || code || 'no message' };
  }
  return { code: 'Error', message: String(error) };
}
