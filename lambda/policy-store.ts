/**
 * Loads the policy from SSM Parameter Store and caches it for this container.
 *
 * A missing, unparsable or invalid policy never causes an action
 * (docs/architecture.md#fail-safe-on-a-bad-policy).
 * The store keeps the last valid policy it loaded and serves it, with the problem, until
 * the parameter is fixed; with none, it serves only the problem.
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../core/clock';
import { type Policy, type PolicyError, parsePolicy } from '../core/policy';

export interface PolicyProblem {
  /** `unreadable`: SSM did not give the value (missing, denied, throttled); `invalid`: its content. */
  readonly kind: 'unreadable' | 'invalid';
  /** Where the problem is: the parameter, and the JSON path inside it. */
  readonly parameter: string;
  readonly errors: readonly PolicyError[];
}

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

  constructor(
    private readonly ssm: SSMClient,
    private readonly parameterName: string,
    private readonly cacheSeconds: number,
    private readonly clock: Clock,
    /** Told of each load that found a problem (once per load, not per cached use). */
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
      this.lastValid = problemOrPolicy.policy;
      load = { policy: problemOrPolicy.policy };
    } else {
      load = {
        ...(this.lastValid ? { policy: this.lastValid } : {}),
        problem: problemOrPolicy.problem,
      };
      this.onProblem(problemOrPolicy.problem, this.lastValid !== undefined);
    }
    const ttl = load.problem
      ? Math.min(FAILED_LOAD_TTL_MS, this.cacheSeconds * 1000)
      : this.cacheSeconds * 1000;
    this.cached = { load, loadedAt: now, expiresAt: now + ttl };
    return load;
  }

  private async fetch(): Promise<{ policy: Policy } | { problem: PolicyProblem }> {
    const unreadable = (message: string) => ({
      problem: {
        kind: 'unreadable' as const,
        parameter: this.parameterName,
        errors: [{ path: '(parameter)', message }],
      },
    });
    let text: string | undefined;
    try {
      const output = await this.ssm.send(
        new GetParameterCommand({ Name: this.parameterName, WithDecryption: true }),
      );
      text = output.Parameter?.Value;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return unreadable(`could not be read: ${name}: ${message}`);
    }
    if (text === undefined) return unreadable('has no value');
    const parsed = parsePolicy(text);
    if (!parsed.ok) {
      return { problem: { kind: 'invalid', parameter: this.parameterName, errors: parsed.errors } };
    }
    return { policy: parsed.policy };
  }
}
