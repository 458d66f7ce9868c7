/**
 * The scheduled sweep of one large service: 10,000 connections (9,000 available, 1,000
 * pending, half of each from denied accounts), with and without `revoke`, against EC2's
 * token buckets, started by the schedule's event. Times the sweep until everything the policy rejects is rejected, retries
 * included, and reads the container's peak memory.
 */
import { readFileSync } from 'node:fs';
import { ALLOWED, deniedOwner } from './accounts';
import { Rig } from './rig';
import { round, seconds } from './stats';

/** The keys of `sweep` in results.json. */
export interface SweepResult {
  readonly revoke: boolean;
  readonly describeCalls: number;
  readonly rejectCalls: number;
  readonly seconds: number;
  readonly peakRssMb: number;
}

export interface SweepDetails {
  readonly toReject: number;
  readonly throttled: number;
  readonly retryDeliveries: number;
  readonly lost: number;
  readonly sweepInvocationSeconds: number;
}

const AVAILABLE = 9_000;
const PENDING = 1_000;

export async function runSweep(
  bundle: string,
  revoke: boolean,
  rejectBatchSize?: number,
): Promise<{ result: SweepResult; details: SweepDetails }> {
  const rig = await Rig.start({ bundle, services: 1, throttling: true, revoke, rejectBatchSize });
  try {
    const serviceId = rig.serviceIds[0]!;
    const toReject: string[] = [];
    for (let i = 0; i < AVAILABLE + PENDING; i++) {
      const pending = i >= AVAILABLE;
      const denied = i % 2 === 0;
      const state = pending ? 'pendingAcceptance' : 'available';
      const endpointId = rig.aws.ec2.addConnection({
        serviceId,
        owner: denied ? deniedOwner(i / 2) : ALLOWED,
        state,
      });
      if (denied && (pending || revoke)) toReject.push(endpointId);
    }

    const started = Date.now();
    await rig.sweep();
    const invocationEnded = Date.now();
    await rig.settle(toReject);
    await rig.stopDelivery();
    const ended = Math.max(invocationEnded, rig.lastRejectedAt(toReject) ?? 0);

    const { ec2 } = rig.aws;
    return {
      result: {
        revoke,
        describeCalls: ec2.count('DescribeVpcEndpointConnections'),
        rejectCalls: ec2.count('RejectVpcEndpointConnections'),
        seconds: seconds(ended - started),
        peakRssMb: peakRssMb(rig.guard.pid),
      },
      details: {
        toReject: toReject.length,
        throttled: ec2.throttledCount,
        retryDeliveries: rig.retries.delivered,
        lost: rig.lost(toReject),
        sweepInvocationSeconds: seconds(invocationEnded - started),
      },
    };
  } finally {
    await rig.close();
  }
}

/** The process's peak resident set (VmHWM in /proc, Linux), in MB. */
function peakRssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  return round(kb / 1024, 1);
}
