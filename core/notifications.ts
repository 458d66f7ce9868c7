/**
 * Endpoint connection notifications: the EC2 edge that reads, creates and deletes them, and
 * the pure plan of what a protected service lacks.
 *
 * Every protected service must have exactly one notification for the `Connect` event to the
 * guard's topic, so a connection request reaches the guard as it happens instead of at the
 * next sweep (docs/internals.md#wiring-every-protected-service).
 */
import { createHash } from 'node:crypto';
import {
  CreateVpcEndpointConnectionNotificationCommand,
  DeleteVpcEndpointConnectionNotificationsCommand,
  DescribeVpcEndpointConnectionNotificationsCommand,
  type EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import { chunk } from './batches';
import { type EndpointError, MAX_FILTER_VALUES, toEndpointError } from './ec2';
import { forEachPage } from './pages';

/** The event of a consumer asking to connect: the one the guard needs to hear of. */
const CONNECT_EVENT = 'Connect';

/** A notification as the guard sees it. */
export interface ConnectionNotification {
  readonly notificationId: string;
  /** The endpoint service it is for; absent for a notification of a consumer's endpoint. */
  readonly serviceId?: string;
  readonly events: readonly string[];
  /** `Enabled` or `Disabled`, as EC2 reports it (when it does). */
  readonly state?: string;
}

/** Notification IDs per Delete call (AWS documents no maximum). */
const DELETE_BATCH = 25;

/**
 * Every notification that points at `topicArn`, all pages read; only those of `serviceIds`
 * when given. EC2 filters on the topic (`connection-notification-arn`), so the whole account
 * costs one call per page, however many services it has.
 */
export async function describeTopicNotifications(
  ec2: EC2Client,
  topicArn: string,
  serviceIds?: readonly string[],
): Promise<ConnectionNotification[]> {
  const topic: Filter = { Name: 'connection-notification-arn', Values: [topicArn] };
  const filterSets = serviceIds
    ? chunk(serviceIds, MAX_FILTER_VALUES).map((ids) => [
        topic,
        { Name: 'service-id', Values: ids },
      ])
    : [[topic]];
  const notifications: ConnectionNotification[] = [];
  for (const filters of filterSets) {
    // No MaxResults: EC2 documents no range for this call, so its own page size is used.
    const read = (nextToken: string | undefined) =>
      ec2.send(
        new DescribeVpcEndpointConnectionNotificationsCommand({
          Filters: filters,
          NextToken: nextToken,
        }),
      );
    await forEachPage(read, (page) => {
      for (const n of page.ConnectionNotificationSet ?? []) {
        if (!n.ConnectionNotificationId) continue;
        // The filter should make this true; a notification of another topic is never counted.
        if (n.ConnectionNotificationArn && n.ConnectionNotificationArn !== topicArn) continue;
        notifications.push({
          notificationId: n.ConnectionNotificationId,
          ...(n.ServiceId ? { serviceId: n.ServiceId } : {}),
          events: n.ConnectionEvents ?? [],
          ...(n.ConnectionNotificationState ? { state: n.ConnectionNotificationState } : {}),
        });
      }
    });
  }
  return notifications;
}

/**
 * Creates the `Connect` notification of `serviceId` to `topicArn`. `clientToken` makes the
 * call idempotent: two containers that race with the same token create one notification.
 * Returns the new notification's ID (when EC2 reports it).
 */
export async function createConnectNotification(
  ec2: EC2Client,
  serviceId: string,
  topicArn: string,
  clientToken: string,
): Promise<string | undefined> {
  const output = await ec2.send(
    new CreateVpcEndpointConnectionNotificationCommand({
      ServiceId: serviceId,
      ConnectionNotificationArn: topicArn,
      ConnectionEvents: [CONNECT_EVENT],
      ClientToken: clientToken,
    }),
  );
  return output.ConnectionNotification?.ConnectionNotificationId;
}

/** What deleting notifications did. */
export interface DeleteResult {
  /** Deleted, or found deleted already (by another sweep: as good as deleted). */
  readonly deleted: readonly string[];
  /** What EC2 could not delete, with its error (`endpointId` holds the notification's ID). */
  readonly failed: readonly EndpointError[];
  /** Not attempted: `beforeCall` said no. */
  readonly left: readonly string[];
}

/**
 * Whether EC2 could not delete a notification because it no longer exists. The code is not
 * documented; a code that contains `NotFound` is taken to mean so.
 */
function alreadyDeleted(entry: EndpointError): boolean {
  return /NotFound/i.test(entry.code);
}

/**
 * Deletes notifications by ID, in calls of DELETE_BATCH; `beforeCall` is awaited before each
 * call (to wait for a request token) and stops the deletion when it answers false. What EC2
 * could not delete comes back in `Unsuccessful` inside a successful answer, so it is returned,
 * not thrown; a failed call throws.
 */
export async function deleteNotifications(
  ec2: EC2Client,
  notificationIds: readonly string[],
  beforeCall: () => Promise<boolean> = async () => true,
): Promise<DeleteResult> {
  const deleted: string[] = [];
  const failed: EndpointError[] = [];
  const batches = chunk(notificationIds, DELETE_BATCH);
  for (const [index, ids] of batches.entries()) {
    if (!(await beforeCall())) return { deleted, failed, left: batches.slice(index).flat() };
    const output = await ec2.send(
      new DeleteVpcEndpointConnectionNotificationsCommand({ ConnectionNotificationIds: ids }),
    );
    const unsuccessful = (output.Unsuccessful ?? []).map(toEndpointError);
    const notDeleted = unsuccessful.filter((u) => !alreadyDeleted(u));
    const kept = new Set(notDeleted.map((u) => u.endpointId));
    deleted.push(...ids.filter((id) => !kept.has(id)));
    failed.push(...notDeleted);
  }
  return { deleted, failed, left: [] };
}

/**
 * How long one client token stands: containers that race within it create one notification.
 * EC2 answers a repeated token with the first call's answer, even if that notification was
 * deleted since (documented for RunInstances; assumed here): a new window gives a deleted
 * notification a new token, so it is created again at the latest one window later.
 */
const TOKEN_WINDOW_MS = 10 * 60_000;

/** The client token of `serviceId`'s notification to `topicArn` in the window of `now`. */
export function wiringToken(serviceId: string, topicArn: string, now: number): string {
  const window = Math.floor(now / TOKEN_WINDOW_MS);
  const digest = createHash('sha256').update(`${topicArn}|${serviceId}|${window}`).digest('hex');
  // EC2 takes up to 64 ASCII characters.
  return `vpce-guard-${digest.slice(0, 48)}`;
}

/** What the notifications to the topic lack, and what they hold twice. */
export interface WiringPlan {
  /** Protected services with no `Connect` notification to the topic: create one each. */
  readonly missing: readonly string[];
  /**
   * Notifications to delete: every `Connect` notification of a service after its first (by
   * ID, so that racing containers pick the same one), for services the guard alone manages.
   */
  readonly surplus: readonly string[];
  /** Services the stack manages that hold more than one: reported, never deleted. */
  readonly duplicated: readonly string[];
  /** Notifications EC2 reports as not `Enabled`: they count, but deliver nothing. */
  readonly disabled: readonly ConnectionNotification[];
}

/**
 * Plans the wiring of `protectedIds` from the notifications that point at the topic.
 * `stackManaged` services get theirs from the stack (`AWS::EC2::VPCEndpointConnectionNotification`):
 * the guard only fills a gap there, and never deletes one of theirs.
 */
export function planWiring(
  protectedIds: readonly string[],
  existing: readonly ConnectionNotification[],
  stackManaged: ReadonlySet<string>,
): WiringPlan {
  const connectBy = new Map<string, ConnectionNotification[]>();
  for (const n of existing) {
    if (!n.serviceId || !n.events.includes(CONNECT_EVENT)) continue;
    connectBy.set(n.serviceId, [...(connectBy.get(n.serviceId) ?? []), n]);
  }
  const missing: string[] = [];
  const surplus: string[] = [];
  const duplicated: string[] = [];
  const disabled: ConnectionNotification[] = [];
  for (const serviceId of protectedIds) {
    const ofService = [...(connectBy.get(serviceId) ?? [])].sort((a, b) =>
      a.notificationId.localeCompare(b.notificationId),
    );
    if (ofService.length === 0) missing.push(serviceId);
    if (ofService.length > 1) {
      if (stackManaged.has(serviceId)) duplicated.push(serviceId);
      else surplus.push(...ofService.slice(1).map((n) => n.notificationId));
    }
    disabled.push(...ofService.filter((n) => n.state && n.state.toLowerCase() !== 'enabled'));
  }
  return { missing, surplus, duplicated, disabled };
}
