/**
 * The sweep's upkeep, after the decisions: every protected service wired with its connection
 * notification, and its posture read. Wiring is infrastructure, not a decision: it runs in dry
 * run too. Nothing here may block a decision, so it runs last, only while the invocation has
 * time, and what does not fit waits for the next sweep. On the stack's deletion, `unwire`
 * removes what the wiring created.
 *
 * Logging and counting are report.ts's (`reportUpkeep`); this module only does and says what
 * it did.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Clock } from '../core/clock';
import type { GuardConfig } from '../core/contract';
import { type InvocationDeadline, isOutOfTime } from '../core/deadline';
import {
  type EndpointError,
  listOwnedServices,
  type OwnedService,
  SERVICE_NOT_FOUND,
} from '../core/ec2';
import {
  type ConnectionNotification,
  createConnectNotification,
  deleteNotifications,
  describeTopicNotifications,
  planWiring,
  wiringToken,
} from '../core/notifications';
import { describeAllowedPrincipals } from '../core/posture';
import type { TokenBucket } from '../core/rate-limiter';
import { type ApiError, toApiError } from '../core/reconcile';

/**
 * A service's allowed principals change rarely, and `DescribeVpcEndpointServicePermissions`
 * costs one call per service from EC2's Describe budget, which every tool in the account
 * shares. So a container keeps what it read, reads a service again once its answer is older
 * than PERMISSIONS_REFRESH_MS, and a sweep reads at most PERMISSIONS_READS_PER_SWEEP services,
 * the never or least recently read first. Up to 120 services are each read every 30 minutes
 * (20 per sweep, one sweep every 5 minutes); 500 services every 25 sweeps, about 2 hours.
 */
const PERMISSIONS_REFRESH_MS = 30 * 60_000;
const PERMISSIONS_READS_PER_SWEEP = 20;
/**
 * The Describe calls of a sweep besides its read of the connections: one of the services, one
 * of their notifications, and the permissions' budget.
 */
export const SWEEP_UPKEEP_DESCRIBES = 2 + PERMISSIONS_READS_PER_SWEEP;

/** Per container: whether each service's allowed principals include `*`, and when it was read. */
export class PermissionsCache {
  private readonly read = new Map<string, { everyone: boolean; at: number }>();

  constructor(private readonly clock: Clock) {}

  /** Forgets every service but `serviceIds` (all the protected services the account has now). */
  retainOnly(serviceIds: readonly string[]): void {
    const kept = new Set(serviceIds);
    for (const id of this.read.keys()) if (!kept.has(id)) this.read.delete(id);
  }

  /** Whether `serviceId` allows every principal, as last read; undefined when never read. */
  openToEveryone(serviceId: string): boolean | undefined {
    return this.read.get(serviceId)?.everyone;
  }

  /**
   * Reads the services never read or read over PERMISSIONS_REFRESH_MS ago, oldest first, at
   * most PERMISSIONS_READS_PER_SWEEP of them, while `inTime()`. Returns the failures; a read
   * the deadline refused or cut short ends the refresh instead.
   */
  async refresh(
    ec2: EC2Client,
    serviceIds: readonly string[],
    inTime: () => boolean,
  ): Promise<{ serviceId: string; error: unknown }[]> {
    const now = this.clock.now();
    const ageOf = (id: string) => now - (this.read.get(id)?.at ?? -Infinity);
    const due = serviceIds
      .filter((id) => ageOf(id) >= PERMISSIONS_REFRESH_MS)
      .sort((a, b) => ageOf(b) - ageOf(a))
      .slice(0, PERMISSIONS_READS_PER_SWEEP);
    const failures: { serviceId: string; error: unknown }[] = [];
    for (const serviceId of due) {
      if (!inTime()) break;
      try {
        const { everyone } = await describeAllowedPrincipals(ec2, serviceId);
        this.read.set(serviceId, { everyone, at: this.clock.now() });
      } catch (error) {
        if (isOutOfTime(error)) break;
        failures.push({ serviceId, error });
      }
    }
    return failures;
  }
}

/**
 * Notifications a sweep creates at most. Creating draws on an EC2 bucket of 50 requests
 * refilled at 5 a second, which other tools in the account may share: 100 is the bucket and
 * 10 seconds of its refill, so a first sweep of 500 services does not hold it empty for its
 * whole minute. The rest waits for the next sweeps: 500 services are wired within 5 sweeps.
 */
const CREATES_PER_SWEEP = 100;

export interface UpkeepDeps {
  readonly config: Pick<GuardConfig, 'protectedServiceIds' | 'notificationTopicArn'>;
  readonly ec2: EC2Client;
  readonly clock: Clock;
  readonly permissions: PermissionsCache;
  /** The client-side copy of EC2's bucket that Create and Delete draw on. */
  readonly wiringLimiter: TokenBucket;
  /** The upkeep stops at the invocation's deadline: what is left waits for the next sweep. */
  readonly deadline: InvocationDeadline;
}

/** A piece of upkeep that failed: for a service, or for all of them (listing, reading). */
export interface UpkeepFailure {
  readonly step: 'list services' | 'read notifications' | 'create' | 'delete' | 'read permissions';
  readonly serviceId?: string;
  readonly error: ApiError;
}

export interface WiringReport {
  readonly topicArn: string;
  readonly created: readonly { readonly serviceId: string; readonly notificationId?: string }[];
  /** Surplus notifications deleted (a second one of a service, after two containers raced). */
  readonly removed: readonly string[];
  /** Services not wired yet (no time left, or over the sweep's share): the next sweep wires them. */
  readonly deferred: readonly string[];
  /** Services the stack manages that have more than one notification: left as they are. */
  readonly duplicated: readonly string[];
  readonly disabled: readonly ConnectionNotification[];
}

export interface PostureReport {
  /** Protected services whose `AcceptanceRequired` is false. */
  readonly acceptingAutomatically: readonly string[];
  /** Protected services whose allowed principals include `*`. */
  readonly openToEveryone: readonly string[];
  /** Protected services whose allowed principals this container has not read yet. */
  readonly permissionsUnknown: readonly string[];
}

export interface UpkeepReport {
  /**
   * Only some services were upkept (new ones): what it found is no level of the account's, so
   * it is reported without the gauges a sweep emits.
   */
  readonly partial?: boolean;
  /** The invocation's deadline came first: what was not done waits for the next sweep. */
  readonly outOfTime?: boolean;
  /** The protected services found; absent when they could not be listed. */
  readonly services?: readonly OwnedService[];
  /** Services `protectedServiceIds` lists that the account does not own (here). */
  readonly notFound: readonly string[];
  /** Absent without a topic to wire to, or when the notifications could not be read. */
  readonly wiring?: WiringReport;
  readonly posture?: PostureReport;
  readonly failures: readonly UpkeepFailure[];
}

/**
 * What an upkeep failed to do. A call the invocation's deadline refused or cut short
 * (core/deadline.ts) is no failure, only no time left: it waits for the next sweep.
 */
class Failures {
  readonly list: UpkeepFailure[] = [];
  outOfTime = false;

  /** Records that `step` failed with `error`; false when the error only meant no time left. */
  add(step: UpkeepFailure['step'], error: unknown, serviceId?: string): boolean {
    if (isOutOfTime(error)) {
      this.outOfTime = true;
      return false;
    }
    this.list.push({ step, ...(serviceId ? { serviceId } : {}), error: toApiError(error) });
    return true;
  }
}

/**
 * The account's services, or those of `only`. EC2 fails a call filtered by service IDs when it
 * does not know one of them, and the IDs of new services come from events (one may be another
 * account's, or deleted since): then every service is listed and `only` kept, so that one
 * unknown ID does not leave the others unwired.
 */
async function listServices(ec2: EC2Client, only?: readonly string[]): Promise<OwnedService[]> {
  if (!only) return listOwnedServices(ec2);
  try {
    return await listOwnedServices(ec2, only);
  } catch (error) {
    if (toApiError(error).code !== SERVICE_NOT_FOUND) throw error;
    return (await listOwnedServices(ec2)).filter((s) => only.includes(s.serviceId));
  }
}

/**
 * Wires and reads the posture of every protected service, or of `only` these (new services),
 * while the invocation has time (`deps.deadline`).
 */
export async function upkeep(deps: UpkeepDeps, only?: readonly string[]): Promise<UpkeepReport> {
  const inTime = () => deps.deadline.remainingMs() > 0;
  const failures = new Failures();
  if (!inTime()) return { outOfTime: true, notFound: [], failures: [] };
  let owned: OwnedService[];
  try {
    owned = await listServices(deps.ec2, only);
  } catch (error) {
    failures.add('list services', error);
    return {
      ...(failures.outOfTime ? { outOfTime: true } : {}),
      notFound: [],
      failures: failures.list,
    };
  }
  const listed = deps.config.protectedServiceIds;
  const services = listed ? owned.filter((s) => listed.includes(s.serviceId)) : owned;
  const notFound =
    listed && !only ? listed.filter((id) => !owned.some((s) => s.serviceId === id)) : [];
  const ids = services.map((s) => s.serviceId);

  const topicArn = deps.config.notificationTopicArn;
  const wiring = topicArn ? await wire(deps, topicArn, ids, only, failures) : undefined;

  // A sweep lists every protected service: what it does not list was deleted (or unprotected).
  if (!only) deps.permissions.retainOnly(ids);
  for (const unread of await deps.permissions.refresh(deps.ec2, ids, inTime)) {
    failures.add('read permissions', unread.error, unread.serviceId);
  }
  const posture: PostureReport = {
    acceptingAutomatically: services
      .filter((s) => s.acceptanceRequired === false)
      .map((s) => s.serviceId),
    openToEveryone: ids.filter((id) => deps.permissions.openToEveryone(id) === true),
    permissionsUnknown: ids.filter((id) => deps.permissions.openToEveryone(id) === undefined),
  };
  const outOfTime = !inTime() || failures.outOfTime;
  return {
    ...(only ? { partial: true } : {}),
    ...(outOfTime ? { outOfTime } : {}),
    services,
    notFound,
    ...(wiring ? { wiring } : {}),
    posture,
    failures: failures.list,
  };
}

async function wire(
  deps: UpkeepDeps,
  topicArn: string,
  serviceIds: readonly string[],
  only: readonly string[] | undefined,
  failures: Failures,
): Promise<WiringReport | undefined> {
  const deadline = deps.deadline.at;
  let existing: ConnectionNotification[];
  try {
    existing = await describeTopicNotifications(deps.ec2, topicArn, only);
  } catch (error) {
    failures.add('read notifications', error);
    return undefined;
  }
  const plan = planWiring(serviceIds, existing, new Set(deps.config.protectedServiceIds ?? []));

  const created: WiringReport['created'][number][] = [];
  const deferred: string[] = plan.missing.slice(CREATES_PER_SWEEP);
  const now = plan.missing.slice(0, CREATES_PER_SWEEP);
  for (const [index, serviceId] of now.entries()) {
    if (!(await tokenInTime(deps.wiringLimiter, deadline))) {
      deferred.unshift(...now.slice(index));
      break;
    }
    try {
      const token = wiringToken(serviceId, topicArn, deps.clock.now());
      const notificationId = await createConnectNotification(deps.ec2, serviceId, topicArn, token);
      created.push({ serviceId, ...(notificationId ? { notificationId } : {}) });
    } catch (error) {
      if (!failures.add('create', error, serviceId)) {
        deferred.unshift(...now.slice(index));
        break;
      }
    }
  }

  const removed: string[] = [];
  if (plan.surplus.length > 0) {
    try {
      // A token per call: a Delete takes up to 25 IDs, and each call draws on EC2's bucket.
      const result = await deleteNotifications(deps.ec2, plan.surplus, () =>
        tokenInTime(deps.wiringLimiter, deadline),
      );
      removed.push(...result.deleted);
      failures.list.push(...result.failed.map(deleteFailure));
      // The rest waits for the next sweep, as work the deadline refused does.
      if (result.left.length > 0) failures.outOfTime = true;
    } catch (error) {
      failures.add('delete', error);
    }
  }
  return {
    topicArn,
    created,
    removed,
    deferred,
    duplicated: plan.duplicated,
    disabled: plan.disabled,
  };
}

/** A notification EC2 could not delete, as a failure of the `delete` step. */
function deleteFailure(u: EndpointError): UpkeepFailure {
  return { step: 'delete', error: { code: u.code, message: `${u.endpointId}: ${u.message}` } };
}

/** Waits for a token of `bucket`; false when it would come after the deadline. */
async function tokenInTime(bucket: TokenBucket, deadline: number | undefined): Promise<boolean> {
  try {
    await bucket.take(deadline);
    return true;
  } catch (error) {
    if (isOutOfTime(error)) return false;
    throw error;
  }
}

/** What removing the guard's notifications did. */
export interface UnwireReport {
  readonly topicArn?: string;
  readonly deleted: readonly string[];
  readonly failures: readonly UpkeepFailure[];
}

/**
 * Deletes every notification that points at the guard's topic: those it created, also for
 * services the list no longer names (wired while it protected every service; the topic is
 * deleted with the stack, and they would deliver nothing). Run when the stack is deleted,
 * after CloudFormation has deleted the stack's own notifications and the triggers that could
 * wire again. The topic comes from the guard's configuration, never from the event; the role
 * may delete notifications on `*` (lib/guard-function.ts).
 */
export async function unwire(deps: UpkeepDeps): Promise<UnwireReport> {
  const topicArn = deps.config.notificationTopicArn;
  if (!topicArn) return { deleted: [], failures: [] };
  const failures: UpkeepFailure[] = [];
  try {
    const ids = (await describeTopicNotifications(deps.ec2, topicArn)).map((n) => n.notificationId);
    const { deleted, failed } = await deleteNotifications(deps.ec2, ids);
    failures.push(...failed.map(deleteFailure));
    return { topicArn, deleted, failures };
  } catch (error) {
    failures.push({ step: 'delete', error: toApiError(error) });
    return { topicArn, deleted: [], failures };
  }
}
