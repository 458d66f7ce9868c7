/**
 * A client-side token bucket that mirrors EC2's own for one action.
 *
 * EC2 throttles RejectVpcEndpointConnections and AcceptVpcEndpointConnections with a bucket
 * of 10 requests refilled at 1 per second, per account and Region. Waiting for a token here
 * costs the same time as being throttled, but spends no request, so a burst drains in the
 * fewest calls. Other callers in the account share EC2's bucket, so the SDK's retries on
 * `RequestLimitExceeded` stay behind this as the second line.
 */
import { type Clock, realClock } from './clock';
import { DeadlineReachedError } from './deadline';
import type { ChangeAction } from './ec2';

/**
 * Thrown when a token would come only after the caller's deadline: a DeadlineReachedError,
 * so that `isOutOfTime` tells it as it tells a call the deadline refused (core/deadline.ts).
 */
export class DeadlineExceededError extends DeadlineReachedError {
  constructor(waitMs: number) {
    super();
    this.message = `the next EC2 request token comes in ${waitMs} ms, after the invocation's deadline`;
  }
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = capacity;
    this.updatedAt = clock.now();
  }

  /**
   * Waits for a token and takes it. Gives up at once, taking nothing, when the token would
   * come after `deadline` (epoch ms): the caller then queues the work instead of timing out.
   */
  async take(deadline = Infinity): Promise<void> {
    this.refill();
    const waitMs =
      this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.refillPerSecond) * 1000);
    if (this.clock.now() + waitMs > deadline) throw new DeadlineExceededError(waitMs);
    // Taken now, paid for by the wait: concurrent callers queue behind one another.
    this.tokens -= 1;
    if (waitMs > 0) await this.clock.sleep(waitMs);
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.updatedAt) / 1000) * this.refillPerSecond,
    );
    this.updatedAt = now;
  }
}

/**
 * EC2's documented bucket for each of RejectVpcEndpointConnections and
 * AcceptVpcEndpointConnections, refilled 5% slower here: a copy that refills exactly as fast
 * drifts ahead of EC2's by a request's latency and then spends a throttled call every second
 * (measured: npm run bench).
 */
const EC2_MUTATING_BUCKET = { capacity: 10, refillPerSecond: 0.95 };

/**
 * EC2's documented bucket of its other mutating actions (50 requests, refilled at 5 per
 * second), which CreateVpcEndpointConnectionNotification and
 * DeleteVpcEndpointConnectionNotifications draw on; refilled 5% slower here, as above.
 */
const EC2_OTHER_MUTATING_BUCKET = { capacity: 50, refillPerSecond: 4.75 };

/** The bucket the guard's wiring (creating and deleting notifications) waits on. */
export function wiringLimiter(clock: Clock = realClock): TokenBucket {
  return new TokenBucket(
    EC2_OTHER_MUTATING_BUCKET.capacity,
    EC2_OTHER_MUTATING_BUCKET.refillPerSecond,
    clock,
  );
}

/** One bucket per mutating action, as the guard and the CLI use them. */
export function mutatingLimiters(clock: Clock = realClock): Record<ChangeAction, TokenBucket> {
  const bucket = () =>
    new TokenBucket(EC2_MUTATING_BUCKET.capacity, EC2_MUTATING_BUCKET.refillPerSecond, clock);
  return { reject: bucket(), accept: bucket() };
}
