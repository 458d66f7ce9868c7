/**
 * Bursts of connection requests from denied accounts against EC2's real token buckets: what
 * a burst costs in API calls, how long until the last denied connection is rejected, and
 * whether anything is lost.
 *
 * Each connection request is followed by its notification, delivered as the stack delivers
 * it: to the hint queue, whose event source hands batches to one warm guard (or, `direct`,
 * one invocation per notification). The container runs one invocation at a time. Retry
 * records come back through the retry queue's event source once their delay is over.
 */
import { deniedOwner } from './accounts';
import { type Delivery, Rig } from './rig';
import { seconds } from './stats';

export type Arrival = 'all-pending' | 'steady-5/s';

export interface BurstCase {
  readonly arrival: Arrival;
  readonly services: number;
  readonly requests: number;
}

/** The keys of `burst` in results.json. */
export interface BurstResult extends BurstCase {
  readonly rejectCalls: number;
  readonly describeCalls: number;
  readonly throttled: number;
  readonly secondsToLastReject: number;
  readonly lost: number;
}

/** What explains a result, for the table only. */
export interface BurstDetails {
  readonly invocations: number;
  readonly retryDeliveries: number;
  readonly errors: number;
  /** From the last arrival to the last rejection. */
  readonly secondsAfterLastArrival: number;
  /** From the last arrival until the container had handled every notification. */
  readonly backlogSeconds: number;
  readonly settled: boolean;
}

const STEADY_PER_SECOND = 5;

export function burstCases(sizes: readonly number[]): BurstCase[] {
  return (['all-pending', 'steady-5/s'] as const).flatMap((arrival) =>
    [1, 5].flatMap((services) => sizes.map((requests) => ({ arrival, services, requests }))),
  );
}

export async function runBurst(
  bundle: string,
  c: BurstCase,
  options: { rejectBatchSize?: number; delivery?: Delivery } = {},
): Promise<{ result: BurstResult; details: BurstDetails }> {
  const rig = await Rig.start({ bundle, services: c.services, throttling: true, ...options });
  try {
    const denied: string[] = [];
    const notifications: Promise<void>[] = [];
    const arrive = (i: number) => {
      const serviceId = rig.serviceIds[i % rig.serviceIds.length]!;
      const endpointId = rig.aws.ec2.addConnection({ serviceId, owner: deniedOwner(i) });
      denied.push(endpointId);
      return () => notifications.push(rig.notify(serviceId, endpointId));
    };

    let started: number;
    if (c.arrival === 'all-pending') {
      const notify = Array.from({ length: c.requests }, (_, i) => arrive(i));
      started = Date.now();
      for (const send of notify) send();
    } else {
      started = Date.now();
      for (let i = 0; i < c.requests; i++) {
        await sleepUntil(started + (i * 1000) / STEADY_PER_SECOND);
        arrive(i)();
      }
    }
    const lastArrival = Date.now();
    await Promise.all(notifications);
    await rig.hintsHandled();
    const notificationsDone = Date.now();
    const settled = await rig.settle(denied);
    await rig.stopDelivery();

    const lastReject = rig.lastRejectedAt(denied) ?? Date.now();
    const { ec2 } = rig.aws;
    return {
      result: {
        ...c,
        rejectCalls: ec2.count('RejectVpcEndpointConnections'),
        describeCalls: ec2.count('DescribeVpcEndpointConnections'),
        throttled: ec2.throttledCount,
        secondsToLastReject: seconds(lastReject - started),
        lost: rig.lost(denied),
      },
      details: {
        invocations: rig.invocations,
        retryDeliveries: rig.retries.delivered,
        errors: rig.errors.length,
        secondsAfterLastArrival: seconds(Math.max(0, lastReject - lastArrival)),
        backlogSeconds: seconds(notificationsDone - lastArrival),
        settled,
      },
    };
  } finally {
    await rig.close();
  }
}

/** The target for a burst that is all pending at once. */
export function rejectCallTarget(c: BurstCase, batchSize: number): number | undefined {
  return c.arrival === 'all-pending' ? Math.ceil(c.requests / batchSize) + c.services : undefined;
}

const sleepUntil = (at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
