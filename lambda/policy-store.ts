/**
 * Loads the policy, with its principal sets, from SSM Parameter Store (core/policy-load.ts)
 * and caches it for this container.
 *
 * A missing, unparsable or invalid policy, or one whose sets are missing, incomplete or
 * invalid, never causes an action (docs/architecture.md#fail-safe-on-a-bad-policy).
 * The store keeps the last valid policy it loaded and serves it, with the problem, until
 * the parameter is fixed; with none, it serves only the problem.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../core/clock';
import type { Policy } from '../core/policy';
import { type LoadedSet, loadPolicy, type PolicyProblem } from '../core/policy-load';

export type { PolicyProblem } from '../core/policy-load';

export interface PolicyLoad {
  /** The policy to act on: the current one, or the last valid one when there is a problem. */
  readonly policy?: Policy;
  readonly problem?: PolicyProblem;
}

/** A failed load is tried again after this long, even when the cache time is longer. */
const FAILED_LOAD_TTL_MS = 5_000;

export class PolicyStore {
  private cached?: {
    readonly load: PolicyLoad;
    readonly loadedAt: number;
    readonly expiresAt: number;
  };
  private lastValid?: Policy;
  /** The problem last reported, and when: the same one is reported once per FAILED_LOAD_TTL_MS. */
  private reported?: { readonly problem: string; readonly at: number };
  /** The sets of the last valid load: a set whose version is unchanged is not read again. */
  private lastSets: readonly LoadedSet[] = [];

  constructor(
    /** A client in the parameter's Region (an ARN's, else the function's). */
    private readonly ssm: SSMClient,
    /** The policy parameter's name or full ARN. */
    private readonly parameterName: string,
    private readonly cacheSeconds: number,
    private readonly clock: Clock,
    /** Told of a load that found a problem: once per load window, not per read or cached use. */
    private readonly onProblem: (problem: PolicyProblem, fallback: boolean) => void = () => {},
  ) {}

  /** Forgets the cached policy (the parameter changed); the last valid one stays as a fallback. */
  invalidate(): void {
    this.cached = undefined;
  }

  /**
   * The policy, from the cache while it is fresh: within the cache time, and within `maxAgeMs`
   * of its loading when given (to confirm a policy before acting on it).
   */
  async get(maxAgeMs = Infinity): Promise<PolicyLoad> {
    const now = this.clock.now();
    const cached = this.cached;
    if (cached && now < cached.expiresAt && now - cached.loadedAt <= maxAgeMs) return cached.load;

    const problemOrPolicy = await this.fetch();
    let load: PolicyLoad;
    if ('policy' in problemOrPolicy) {
      this.reported = undefined;
      this.lastValid = problemOrPolicy.policy;
      load = { policy: problemOrPolicy.policy };
    } else {
      load = {
        ...(this.lastValid ? { policy: this.lastValid } : {}),
        problem: problemOrPolicy.problem,
      };
      // A load the invocation's deadline refused says nothing of the parameter: it is neither
      // reported (a false "Policy unreadable") nor cached (the next invocation reads again).
      if (problemOrPolicy.problem.outOfTime) return load;
      this.report(problemOrPolicy.problem, now);
    }
    const ttl = load.problem
      ? Math.min(FAILED_LOAD_TTL_MS, this.cacheSeconds * 1000)
      : this.cacheSeconds * 1000;
    this.cached = { load, loadedAt: now, expiresAt: now + ttl };
    return load;
  }

  /**
   * Reports a problem once per failed load window: with a cache time under FAILED_LOAD_TTL_MS
   * (0 included) every read loads again, and the same problem would be logged and counted each
   * time. A different problem is reported at once.
   */
  private report(problem: PolicyProblem, now: number): void {
    const key = JSON.stringify([problem.kind, problem.parameter, problem.errors]);
    const last = this.reported;
    if (last && last.problem === key && now - last.at < FAILED_LOAD_TTL_MS) return;
    this.reported = { problem: key, at: now };
    this.onProblem(problem, this.lastValid !== undefined);
  }

  private async fetch(): Promise<{ policy: Policy } | { problem: PolicyProblem }> {
    const load = await loadPolicy(this.ssm, this.parameterName, this.lastSets);
    if ('problem' in load) return load;
    this.lastSets = load.loaded.sets;
    return { policy: load.loaded.policy };
  }
}
