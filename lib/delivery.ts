/**
 * How events are delivered to the guard function: its timeout, and the batching, windows and
 * concurrency of its event sources. Defined once: the stack is built from these, and the
 * benchmark (bench/rig.ts) drives the bundled function with the same numbers.
 */
import { Duration } from 'aws-cdk-lib';

/** Long enough for a sweep that backs off on EC2's Reject/Accept token bucket (1 per second). */
export const GUARD_TIMEOUT = Duration.minutes(1);

/**
 * A message must stay invisible while one invocation may still work on it: AWS's rule of
 * thumb for an SQS event source is six times the function's timeout.
 */
export const EVENT_SOURCE_VISIBILITY_TIMEOUT = Duration.seconds(GUARD_TIMEOUT.toSeconds() * 6);

/**
 * The hint queue's event source: a burst of a thousand connection requests reaches the guard
 * in about ten invocations, which reconcile each service named once. At most two at a time
 * (SQS's minimum): Reject and Accept share a token bucket of 10 per account and Region, and
 * more concurrency would only throttle itself.
 */
export const HINT_SOURCE = {
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(5),
  maxConcurrency: 2,
} as const;

/** The retry queue's event source: small batches, so one slow record delays few others. */
export const RETRY_SOURCE = { batchSize: 5, maxConcurrency: 2 } as const;

/** The schedule and the policy-change rule invoke the guard directly: rarely, seldom together. */
export const DIRECT_INVOCATIONS = 1;

/**
 * The least reserved concurrency that throttles none of the guard's invocations: a throttled
 * SQS delivery counts as a receive, so it would push hints and retries toward their
 * dead-letter queues.
 */
export const MIN_RESERVED_CONCURRENCY =
  HINT_SOURCE.maxConcurrency + RETRY_SOURCE.maxConcurrency + DIRECT_INVOCATIONS;

/** EventBridge's retries of a target it could not reach, within the event's maximum age. */
export const EVENT_DELIVERY = { retryAttempts: 8, maxEventAge: Duration.hours(1) } as const;

/**
 * The retry queue: records wait up to 14 days (the SQS maximum) for an event source that is
 * stuck or disabled. The guard counts their attempts itself (`maxAttempts`) and dead-letters
 * them explicitly; the redrive (10 receives) is only the backstop for records that crash the
 * function or whose deliveries are throttled (a throttled delivery counts as a receive).
 */
export const RETRY_QUEUE = { retentionPeriod: Duration.days(14), maxReceiveCount: 10 } as const;

/**
 * The hint queue: a hint is worth little after the next sweeps; 4 days (the SQS default)
 * outlasts any outage of the guard. It goes to its dead-letter queue after 10 receives.
 */
export const HINT_QUEUE = { retentionPeriod: Duration.days(4), maxReceiveCount: 10 } as const;
