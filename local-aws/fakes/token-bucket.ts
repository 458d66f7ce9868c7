export interface BucketSpec {
  /** Tokens when full: the largest burst accepted. */
  capacity: number;
  refillPerSecond: number;
}

/** EC2's request token bucket: each request takes a token; tokens come back at a steady rate. */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly spec: BucketSpec,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = spec.capacity;
    this.refilledAt = now();
  }

  /** Takes a token if one is left; false means AWS would answer `RequestLimitExceeded`. */
  tryTake(): boolean {
    const now = this.now();
    const refill = ((now - this.refilledAt) / 1000) * this.spec.refillPerSecond;
    this.tokens = Math.min(this.spec.capacity, this.tokens + refill);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
