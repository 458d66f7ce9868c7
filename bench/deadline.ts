/**
 * The deadline under persistent throttling: another caller keeps EC2's Reject bucket empty, so
 * every Reject is `RequestLimitExceeded`, and the schedule's sweep of 20 services (10 denied
 * pending connections each) runs with 7 s left, then with the function's whole minute. The
 * guard must stop calling EC2 at its deadline (5 s before the time is out), queue every piece
 * of work it could not do, and return before its time is out, whatever the SDK's jitter.
 */
import { SAFETY_MARGIN_MS } from '../core/deadline';
import { scheduledEvent } from '../local-aws/events';
import { deniedOwner } from './accounts';
import { INVOCATION_TIMEOUT_MS } from './guard-env';
import { Rig } from './rig';
import { seconds } from './stats';

/** The keys of `deadline` in results.json. */
export interface DeadlineResult {
  /** The time the invocation had (what `getRemainingTimeInMillis` started from). */
  readonly timeLeftSeconds: number;
  /** When the guard must stop calling EC2: 5 s before its time is out. */
  readonly deadlineSeconds: number;
  /** When the invocation returned, from its start. */
  readonly returnedAfterSeconds: number;
  /** When the last Reject reached EC2, from the start. */
  readonly lastRejectSeconds: number;
  readonly rejectCalls: number;
  /** Retry records on the retry queue when the invocation returned. */
  readonly retryRecords: number;
  /** Denied connections neither rejected nor covered by a retry record. Must be 0. */
  readonly lost: number;
}

export interface DeadlineDetails {
  readonly services: number;
  readonly toReject: number;
  readonly throttled: number;
  /** Decision events published, by outcome. */
  readonly events: Readonly<Record<string, number>>;
  readonly error?: string;
}

const SERVICES = 20;
const DENIED_PER_SERVICE = 10;

/** The two cases the issue measured: 7 s left, and the deployed timeout. */
export const DEADLINE_CASES_MS = [7_000, INVOCATION_TIMEOUT_MS] as const;

export async function runDeadline(
  bundle: string,
  timeLeftMs: number,
): Promise<{ result: DeadlineResult; details: DeadlineDetails }> {
  const rig = await Rig.start({ bundle, services: SERVICES, throttling: true });
  try {
    // One invocation alone: no event source delivers the retry records it queues.
    await rig.stopDelivery();
    const { ec2, sqs, eventBridge } = rig.aws;
    const denied = rig.serviceIds.flatMap((serviceId, s) =>
      Array.from({ length: DENIED_PER_SERVICE }, (_, i) =>
        ec2.addConnection({ serviceId, owner: deniedOwner(s + i) }),
      ),
    );
    // Another caller keeps Reject's bucket empty.
    ec2.setThrottling(true, { reject: { capacity: 0, refillPerSecond: 0 } });

    const started = Date.now();
    const invocation = await rig.guard.invoke(
      scheduledEvent('vpce-guard-schedule', { region: ec2.region }),
      timeLeftMs,
    );
    const returned = Date.now();

    const rejects = ec2.calls.filter((c) => c.action === 'RejectVpcEndpointConnections');
    const events: Record<string, number> = {};
    for (const e of eventBridge.allEvents) {
      const outcome = (e.detail as { outcome: string }).outcome;
      events[outcome] = (events[outcome] ?? 0) + 1;
    }
    return {
      result: {
        timeLeftSeconds: seconds(timeLeftMs),
        deadlineSeconds: seconds(timeLeftMs - SAFETY_MARGIN_MS),
        returnedAfterSeconds: seconds(returned - started),
        lastRejectSeconds: rejects.length
          ? seconds(Math.max(...rejects.map((c) => c.at)) - started)
          : 0,
        rejectCalls: rejects.length,
        retryRecords: sqs.messages(rig.queues.retries).length,
        lost: rig.lost(denied),
      },
      details: {
        services: SERVICES,
        toReject: denied.length,
        throttled: ec2.throttledCount,
        events,
        ...(invocation.error
          ? { error: `${invocation.error.name}: ${invocation.error.message}` }
          : {}),
      },
    };
  } finally {
    await rig.close();
  }
}
