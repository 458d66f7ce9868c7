/**
 * The time an invocation's calls must end by, for AWS SDK clients that live longer than one
 * invocation.
 *
 * A Lambda container builds its clients once and runs one invocation at a time; each
 * invocation has its own deadline. So the handler sets the deadline here at the start of each
 * invocation and clears it at the end, and the clients built once read it on every call: their
 * retry strategy refuses a retry that would end after it, and every call is aborted when it
 * comes (sdk-deadline.ts). Without a deadline (the CLI, a test) nothing is refused or aborted.
 */

/**
 * Left of the invocation's time when the EC2 and SSM calls must be over, retries included:
 * enough to queue the work left and publish the decisions.
 */
export const SAFETY_MARGIN_MS = 5_000;
/** Left when everything must be over (queueing, publishing): enough to return and flush metrics. */
export const FINISH_MARGIN_MS = 1_000;

const DEADLINE_REACHED = 'DeadlineReached';

/** Thrown, or given as the abort reason, once the deadline has come. */
export class DeadlineReachedError extends Error {
  constructor(what = 'the call') {
    super(`${what} would end after the invocation's deadline: its work is left for a retry`);
    this.name = DEADLINE_REACHED;
  }
}

/**
 * Whether `error` only says that the invocation had no time left: a call started after the
 * deadline (DeadlineReached), or one the deadline's abort cut short (the SDK's AbortError, whose
 * cause is the DeadlineReachedError the signal was aborted with). Such a call did not fail: its
 * work is deferred to a retry that counts no attempt, and nothing is reported as a failure.
 */
export function isOutOfTime(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === DEADLINE_REACHED) return true;
  const cause: unknown = error.cause;
  return error.name === 'AbortError' && cause instanceof Error && cause.name === DEADLINE_REACHED;
}

export class InvocationDeadline {
  private endsAt: number | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `now` is epoch milliseconds: the SDK's retry delays and sockets run on real time. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Calls must end by `epochMs` from now on; `undefined` removes the deadline. */
  set(epochMs: number | undefined): void {
    this.clear();
    if (epochMs === undefined) return;
    this.endsAt = epochMs;
    const controller = new AbortController();
    this.controller = controller;
    this.timer = setTimeout(
      () => controller.abort(new DeadlineReachedError()),
      Math.max(0, epochMs - this.now()),
    );
    // A deadline never keeps the process alive (the CLI, a test that forgets to clear it).
    this.timer.unref();
  }

  /** No deadline any more: the invocation is over. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.endsAt = undefined;
    this.controller = undefined;
    this.timer = undefined;
  }

  /** The deadline, in epoch milliseconds; undefined when there is none. */
  get at(): number | undefined {
    return this.endsAt;
  }

  /** Milliseconds until the deadline (negative once it has passed); Infinity without one. */
  remainingMs(): number {
    return this.endsAt === undefined ? Infinity : this.endsAt - this.now();
  }

  /** Aborts when the deadline comes; undefined without a deadline. */
  get signal(): AbortSignal | undefined {
    return this.controller?.signal;
  }
}
