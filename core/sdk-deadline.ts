/**
 * AWS SDK clients whose calls end before the invocation's deadline (core/deadline.ts), however
 * throttled: a deadline-aware retry strategy, and an abort signal on every call.
 *
 * The SDK's standard strategy retries a throttled call with exponential backoff and full
 * jitter, whatever time is left: with 6 attempts from 1 s it may sleep 31 s. Its delays are
 * chosen inside `@smithy/core`'s `StandardRetryStrategy`, which (since @smithy/core 3.4x) also
 * sleeps them there, so a wrapper cannot see a delay before it is spent. This strategy makes
 * the same choices itself (the same retryable error types, backoff and Retry-After handling) and
 * refuses a retry that would not end before the deadline; the SDK then throws the call's own
 * error (`RequestLimitExceeded`), and the caller queues the work. The abort signal is the
 * backstop for an attempt that is still running when the deadline comes (a slow answer, a
 * Retry-After hint), and for any call started after it.
 */
import type { EC2ClientConfig } from '@aws-sdk/client-ec2';
import { DeadlineReachedError, type InvocationDeadline } from './deadline';

// The SDK's own types, as every client's config names them (`@smithy/types` is not a
// dependency of this project, only of the SDK).
type RetryStrategyV2 = Extract<
  NonNullable<EC2ClientConfig['retryStrategy']>,
  { refreshRetryTokenForRetry: unknown }
>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

/** The SDK's standard backoff (`@smithy/core` 3.41): base 1 s for throttling, 50 ms otherwise. */
const THROTTLING_BASE_DELAY_MS = 1_000;
const BASE_DELAY_MS = 50;
const MAX_DELAY_MS = 20_000;
/** How far the SDK lets a server's Retry-After hint lengthen its own backoff. */
const MAX_RETRY_AFTER_EXTENSION_MS = 5_000;

/**
 * The time a retried attempt is given, after its delay, to end before the deadline. An EC2 or
 * EventBridge call takes well under a second; one that takes longer is aborted at the deadline.
 */
export const ATTEMPT_ALLOWANCE_MS = 1_000;

export interface DeadlineRetryOptions {
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
  /** Absent: no deadline, the standard behaviour (the CLI). */
  readonly deadline?: InvocationDeadline;
  /** @default ATTEMPT_ALLOWANCE_MS */
  readonly attemptAllowanceMs?: number;
  /** The jitter's source. @default Math.random */
  readonly random?: () => number;
  /** For a Retry-After hint, which is a date. @default Date.now */
  readonly now?: () => number;
}

/** Why the strategy declines a retry; the SDK discards it and throws the call's own error. */
class NoRetry extends Error {
  constructor(why: string) {
    super(`no retry: ${why}`);
    this.name = 'NoRetry';
  }
}

/**
 * The SDK's standard retry mode, bounded by a deadline: retries throttling and transient errors
 * up to `maxAttempts`, with exponential backoff and full jitter, unless the retry's delay plus
 * `attemptAllowanceMs` would end after the deadline. The token carries the delay, and the
 * SDK's retry middleware sleeps it (a documented way of RetryStrategyV2), racing the call's
 * abort signal. There is no client-wide retry quota: each call is bounded by its attempts and
 * the deadline, and the guard makes tens of calls per invocation, not thousands.
 */
export class DeadlineRetryStrategy implements RetryStrategyV2 {
  private readonly maxAttempts: number;
  private readonly deadline: InvocationDeadline | undefined;
  private readonly attemptAllowanceMs: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(options: DeadlineRetryOptions) {
    this.maxAttempts = options.maxAttempts;
    this.deadline = options.deadline;
    this.attemptAllowanceMs = options.attemptAllowanceMs ?? ATTEMPT_ALLOWANCE_MS;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Before the first attempt: none starts once the deadline has passed. */
  async acquireInitialRetryToken(): Promise<RetryToken> {
    if (this.deadline && this.deadline.remainingMs() <= 0) throw new DeadlineReachedError();
    return retryToken(0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    if (info.errorType !== 'THROTTLING' && info.errorType !== 'TRANSIENT') {
      throw new NoRetry(`a ${info.errorType} error is not retried`);
    }
    const retries = token.getRetryCount();
    if (retries + 1 >= this.maxAttempts) throw new NoRetry(`${this.maxAttempts} attempts made`);
    const delay = this.delayMs(retries, info);
    if (delay + this.attemptAllowanceMs > (this.deadline?.remainingMs() ?? Infinity)) {
      throw new DeadlineReachedError(`a retry in ${delay} ms`);
    }
    return retryToken(retries + 1, delay);
  }

  recordSuccess(): void {
    // No retry quota to refill.
  }

  /** Full jitter over base × 2^retries, capped; a later Retry-After hint lengthens it a little. */
  private delayMs(retries: number, info: RetryErrorInfo): number {
    const base = info.errorType === 'THROTTLING' ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
    const delay = Math.floor(this.random() * Math.min(base * 2 ** retries, MAX_DELAY_MS));
    if (!(info.retryAfterHint instanceof Date)) return delay;
    const hinted = info.retryAfterHint.getTime() - this.now();
    return Math.max(delay, Math.min(hinted, delay + MAX_RETRY_AFTER_EXTENSION_MS));
  }
}

/**
 * A client's retry settings: `maxAttempts` attempts per call, each retry ending before
 * `deadline` when there is one. The guard and the CLI build their EC2 clients with the same
 * `maxAttempts` (EC2_MAX_ATTEMPTS); only the guard has a deadline.
 */
export function retrySettings(maxAttempts: number, deadline?: InvocationDeadline) {
  return { maxAttempts, retryStrategy: new DeadlineRetryStrategy({ maxAttempts, deadline }) };
}

function retryToken(retryCount: number, delayMs: number): RetryToken {
  return { getRetryCount: () => retryCount, getRetryDelay: () => delayMs };
}

/** What `abortAtDeadline` needs of a client: the SDK's `send`. */
interface SdkClient {
  send(...args: never[]): unknown;
}

type Send = (command: unknown, options?: { abortSignal?: unknown }) => Promise<unknown>;

/**
 * Gives every call of `client` the deadline's abort signal, unless the caller passes its own:
 * a call still running when the deadline comes is aborted (its socket, or the SDK's sleep
 * before a retry), and a call started after it fails at once. Without a deadline, calls go
 * through unchanged. Returns the client.
 */
export function abortAtDeadline<C extends SdkClient>(client: C, deadline: InvocationDeadline): C {
  const send = (client.send as Send).bind(client);
  const withSignal: Send = (command, options) => {
    const abortSignal = deadline.signal;
    return send(command, abortSignal ? { abortSignal, ...options } : options);
  };
  Object.defineProperty(client, 'send', { value: withSignal, writable: true, configurable: true });
  return client;
}

/**
 * A client of `Client` whose calls, retries included, end by `deadline`: its retry strategy
 * and its abort signal read the same deadline, so they cannot disagree. `config` adds to it
 * (a Region).
 */
export function deadlineClient<C extends SdkClient>(
  Client: new (config: ReturnType<typeof retrySettings> & { region?: string }) => C,
  maxAttempts: number,
  deadline: InvocationDeadline,
  config: { region?: string } = {},
): C {
  return abortAtDeadline(
    new Client({ ...retrySettings(maxAttempts, deadline), ...config }),
    deadline,
  );
}
