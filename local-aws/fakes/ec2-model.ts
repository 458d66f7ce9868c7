/**
 * One in-memory model of EC2 for vpce-guard: endpoint services (with their acceptance setting
 * and allowed principals), the connections of consumers' endpoints to them, endpoint connection
 * notifications, and the actions the guard calls, in the SDK's request and response shapes. The wire fake (ec2.ts) serves it over EC2's Query protocol; the guard's unit tests
 * answer a mocked `EC2Client` from it directly. Errors are thrown as `AwsError`s named by
 * their code, as the SDK names the exceptions it parses.
 */
import { randomBytes } from 'node:crypto';
import type {
  AcceptVpcEndpointConnectionsRequest,
  CreateVpcEndpointConnectionNotificationRequest,
  DeleteVpcEndpointConnectionNotificationsRequest,
  DescribeVpcEndpointConnectionNotificationsRequest,
  DescribeVpcEndpointConnectionsRequest,
  DescribeVpcEndpointServiceConfigurationsRequest,
  DescribeVpcEndpointServicePermissionsRequest,
  RejectVpcEndpointConnectionsRequest,
  UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { AwsError } from './aws-error';
import { FaultPlan, faultError, faultMessage, type Fault } from './instrumentation';
import { paginate, type Row } from './ec2-pagination';
import { TokenBucket, type BucketSpec } from './token-bucket';

export type Ec2Action =
  | 'DescribeVpcEndpointConnections'
  | 'DescribeVpcEndpointServiceConfigurations'
  | 'DescribeVpcEndpointServicePermissions'
  | 'DescribeVpcEndpointConnectionNotifications'
  | 'CreateVpcEndpointConnectionNotification'
  | 'DeleteVpcEndpointConnectionNotifications'
  | 'RejectVpcEndpointConnections'
  | 'AcceptVpcEndpointConnections';

export type BucketName = 'describe' | 'reject' | 'accept' | 'mutating';

/** EC2's token buckets for these actions, per account and Region (EC2 API throttling page). */
export const EC2_BUCKETS: Readonly<Record<BucketName, BucketSpec>> = {
  describe: { capacity: 100, refillPerSecond: 20 },
  reject: { capacity: 10, refillPerSecond: 1 },
  accept: { capacity: 10, refillPerSecond: 1 },
  /** The other mutating actions: creating and deleting notifications. */
  mutating: { capacity: 50, refillPerSecond: 5 },
};

/**
 * All Describe* actions share one bucket (stricter than EC2's page, which now says each API
 * has its own: a fake that shares catches a budget the guard would overspend); Reject and
 * Accept have their own; the notification calls draw on the other mutating actions' bucket.
 */
const BUCKET_OF: Readonly<Record<Ec2Action, BucketName>> = {
  DescribeVpcEndpointConnections: 'describe',
  DescribeVpcEndpointServiceConfigurations: 'describe',
  DescribeVpcEndpointServicePermissions: 'describe',
  DescribeVpcEndpointConnectionNotifications: 'describe',
  CreateVpcEndpointConnectionNotification: 'mutating',
  DeleteVpcEndpointConnectionNotifications: 'mutating',
  RejectVpcEndpointConnections: 'reject',
  AcceptVpcEndpointConnections: 'accept',
};

export const isEc2Action = (action: string): action is Ec2Action => action in BUCKET_OF;

/**
 * A connection as EC2 answers it. The SDK types the state as its PascalCase enum, but EC2's
 * documentation shows camelCase on the wire (`pendingAcceptance`): the model keeps the state
 * as it was given, so that the guard is tested against either spelling.
 */
export interface VpcEndpointConnection {
  ServiceId: string;
  VpcEndpointId: string;
  VpcEndpointOwner: string;
  VpcEndpointState: string;
  /** Left out of answers when absent; the region filter then counts it as same-Region. */
  VpcEndpointRegion?: string;
  CreationTimestamp: Date;
  VpcEndpointConnectionId: string;
}

/** An endpoint service configuration as EC2 answers it. */
export interface EndpointService {
  ServiceType: [{ ServiceType: 'Interface' }];
  ServiceId: string;
  ServiceName: string;
  ServiceState: 'Available';
  AcceptanceRequired: boolean;
  ManagesVpcEndpoints: false;
}

export interface NewService {
  /** @default true */
  acceptanceRequired?: boolean;
  /** Principals allowed to connect (account root ARNs, role ARNs, or `*`). @default none */
  allowedPrincipals?: string[];
}

/** A principal allowed to connect to a service, as EC2 answers it. */
export interface AllowedPrincipal {
  PrincipalType: 'All' | 'Account' | 'Role' | 'User' | 'Service' | 'OrganizationUnit';
  Principal: string;
  ServicePermissionId: string;
  ServiceId: string;
}

/** An endpoint connection notification as EC2 answers it. */
export interface ConnectionNotification {
  ConnectionNotificationId: string;
  ServiceId?: string;
  VpcEndpointId?: string;
  ConnectionNotificationType: 'Topic';
  ConnectionNotificationArn: string;
  ConnectionEvents: string[];
  ConnectionNotificationState: 'Enabled' | 'Disabled';
}

/** The events a notification may be for (CreateVpcEndpointConnectionNotification). */
const CONNECTION_EVENTS = ['Accept', 'Connect', 'Delete', 'Reject'];

export interface NewConnection {
  serviceId: string;
  /** The consumer's 12-digit account ID (not validated, so tests can seed bad data). */
  owner: string;
  /** @default 'pendingAcceptance' */
  state?: string;
  region?: string;
  /** @default a new `vpce-` + 17 hex digits */
  endpointId?: string;
  /** @default now */
  createdAt?: Date;
}

export interface Ec2ModelOptions {
  region: string;
  /** Enforce EC2's token buckets ({@link EC2_BUCKETS}). @default false */
  throttling?: boolean;
  /**
   * The most items one Describe page holds, whatever `MaxResults` asks: EC2's is 1,000; a test
   * makes it small to exercise pagination. @default 1000
   */
  maxPageSize?: number;
}

interface Filter {
  name: string;
  values: string[];
}

/** A connection state change that Reject and Accept make, and the states it may start from. */
interface Transition {
  action: Ec2Action;
  from: readonly string[];
  to: string;
  verb: string;
}
const REJECT: Transition = {
  action: 'RejectVpcEndpointConnections',
  from: ['pendingacceptance', 'available'],
  to: 'rejected',
  verb: 'rejected',
};
const ACCEPT: Transition = {
  action: 'AcceptVpcEndpointConnections',
  from: ['pendingacceptance'],
  to: 'available',
  verb: 'accepted',
};

export class Ec2Model {
  /**
   * Actions answered with `UnauthorizedOperation` (403), dry runs included, as if IAM denied them.
   */
  readonly unauthorized = new Set<Ec2Action>();
  readonly region: string;
  private readonly maxPageSize: number | undefined;
  private readonly callFaults = new FaultPlan<Ec2Action>();
  private readonly endpointFaults = new FaultPlan<string>();
  private buckets: Record<BucketName, TokenBucket> | undefined;
  private seq = 0;
  private readonly services = new Map<string, Row<EndpointService>>();
  private readonly serviceRows: Row<EndpointService>[] = [];
  private readonly connectionsById = new Map<string, Row<VpcEndpointConnection>>();
  /**
   * Per service, in creation order: a service-id filter (what the guard always sends) reads only
   * its own.
   */
  private readonly connectionsByService = new Map<string, Row<VpcEndpointConnection>[]>();
  private readonly connectionRows: Row<VpcEndpointConnection>[] = [];
  /** When Reject or Accept last changed each endpoint's state (epoch ms). */
  private readonly changedAtById = new Map<string, number>();
  private readonly principalsByService = new Map<string, AllowedPrincipal[]>();
  private readonly notificationRows: Row<ConnectionNotification>[] = [];
  /** Each client token's request (to compare with a repeat) and the answer it got. */
  private readonly tokens = new Map<string, { request: string; answer: ConnectionNotification }>();

  constructor(options: Ec2ModelOptions) {
    this.region = options.region;
    this.maxPageSize = options.maxPageSize;
    this.setThrottling(options.throttling ?? false);
  }

  // ---- seeding and inspection ----

  /** Adds an endpoint service and returns its ID. */
  addService(serviceId = newId('vpce-svc-'), options: NewService = {}): string {
    if (this.services.has(serviceId)) throw new Error(`service ${serviceId} already exists`);
    const row = {
      seq: ++this.seq,
      value: {
        ServiceType: [{ ServiceType: 'Interface' }] as [{ ServiceType: 'Interface' }],
        ServiceId: serviceId,
        ServiceName: `com.amazonaws.vpce.${this.region}.${serviceId}`,
        ServiceState: 'Available' as const,
        AcceptanceRequired: options.acceptanceRequired ?? true,
        ManagesVpcEndpoints: false as const,
      },
    };
    this.services.set(serviceId, row);
    this.serviceRows.push(row);
    this.connectionsByService.set(serviceId, []);
    this.setAllowedPrincipals(serviceId, options.allowedPrincipals ?? []);
    return serviceId;
  }

  /** Replaces the principals allowed to connect to a service (`*`: everyone). */
  setAllowedPrincipals(serviceId: string, principals: readonly string[]): void {
    if (!this.services.has(serviceId)) throw new Error(`unknown service ${serviceId}`);
    this.principalsByService.set(
      serviceId,
      principals.map((principal) => ({
        PrincipalType:
          principal === '*' ? 'All' : principal.includes(':role/') ? 'Role' : 'Account',
        Principal: principal,
        ServicePermissionId: newId('vpce-svc-perm-'),
        ServiceId: serviceId,
      })),
    );
  }

  /** Copies of the notifications that exist, in creation order. */
  notifications(): ConnectionNotification[] {
    return this.notificationRows.map((row) => ({ ...row.value }));
  }

  /** Adds a notification behind the API's back, as another stack or an operator would. */
  addNotification(input: {
    serviceId: string;
    topicArn: string;
    events?: string[];
    state?: 'Enabled' | 'Disabled';
  }): string {
    return this.storeNotification({
      ConnectionNotificationId: newId('vpce-nfn-'),
      ServiceId: input.serviceId,
      ConnectionNotificationType: 'Topic',
      ConnectionNotificationArn: input.topicArn,
      ConnectionEvents: input.events ?? ['Connect'],
      ConnectionNotificationState: input.state ?? 'Enabled',
    }).ConnectionNotificationId;
  }

  /** Adds a consumer's connection request to a service and returns the endpoint ID. */
  addConnection(input: NewConnection): string {
    const ofService = this.connectionsByService.get(input.serviceId);
    if (!ofService) throw new Error(`unknown service ${input.serviceId}: addService() it first`);
    const endpointId = input.endpointId ?? newId('vpce-');
    if (this.connectionsById.has(endpointId)) {
      throw new Error(`endpoint ${endpointId} already exists`);
    }
    const row = {
      seq: ++this.seq,
      value: {
        ServiceId: input.serviceId,
        VpcEndpointId: endpointId,
        VpcEndpointOwner: input.owner,
        VpcEndpointState: input.state ?? 'pendingAcceptance',
        VpcEndpointRegion: input.region,
        CreationTimestamp: input.createdAt ?? new Date(),
        VpcEndpointConnectionId: newId('vpce-con-'),
      },
    };
    this.connectionsById.set(endpointId, row);
    ofService.push(row);
    this.connectionRows.push(row);
    return endpointId;
  }

  /** A copy of the connection of `endpointId`, if it exists. */
  connection(endpointId: string): VpcEndpointConnection | undefined {
    const row = this.connectionsById.get(endpointId);
    return row && { ...row.value };
  }

  /** Copies of all connections, or of one service's, in creation order. */
  connections(serviceId?: string): VpcEndpointConnection[] {
    const rows =
      serviceId === undefined
        ? this.connectionRows
        : (this.connectionsByService.get(serviceId) ?? []);
    return rows.map((row) => ({ ...row.value }));
  }

  /**
   * When a Reject or Accept call last changed the state of `endpointId` (not `setState`): how the
   * benchmark times the last rejection of a burst.
   */
  changedAt(endpointId: string): Date | undefined {
    const at = this.changedAtById.get(endpointId);
    return at === undefined ? undefined : new Date(at);
  }

  /**
   * Changes a connection's state behind the API's back, as a consumer deleting its endpoint would.
   */
  setState(endpointId: string, state: string): void {
    const row = this.connectionsById.get(endpointId);
    if (!row) throw new Error(`unknown endpoint ${endpointId}`);
    row.value.VpcEndpointState = state;
  }

  // ---- behaviour ----

  /**
   * Turns EC2's token buckets on (each full) or off; `overrides` replaces the specs of some
   * buckets.
   */
  setThrottling(enabled: boolean, overrides: Partial<Record<BucketName, BucketSpec>> = {}): void {
    const bucket = (name: BucketName) => new TokenBucket(overrides[name] ?? EC2_BUCKETS[name]);
    this.buckets = enabled
      ? {
          describe: bucket('describe'),
          reject: bucket('reject'),
          accept: bucket('accept'),
          mutating: bucket('mutating'),
        }
      : undefined;
  }

  /**
   * The next `times` calls of `action` fail with `fault` (HTTP status `fault.status`, default 400).
   */
  failNext(action: Ec2Action, fault: Fault, times = 1): void {
    this.callFaults.add((a) => a === action, fault, times);
  }

  /**
   * Reject and Accept report `endpointId` in `Unsuccessful` with `fault`, the next `times` times.
   */
  failEndpoint(endpointId: string, fault: Fault, times = Infinity): void {
    this.endpointFaults.add((id) => id === endpointId, fault, times);
  }

  // ---- the API ----

  describeConnections(request: DescribeVpcEndpointConnectionsRequest): {
    VpcEndpointConnections: VpcEndpointConnection[];
    NextToken?: string;
  } {
    this.admit('DescribeVpcEndpointConnections', request.DryRun);
    const filters = (request.Filters ?? []).map((f) => ({
      name: f.Name ?? '',
      values: f.Values ?? [],
    }));
    const predicates = filters.map((f) => {
      const matches = this.connectionFilter(f.name);
      return (c: VpcEndpointConnection) => f.values.some((value) => matches(c, value));
    });
    const { page, nextToken } = paginate(
      this.connectionCandidates(filters),
      request,
      (c) => predicates.every((p) => p(c)),
      this.maxPageSize,
    );
    return { VpcEndpointConnections: page.map((c) => ({ ...c })), NextToken: nextToken };
  }

  describeServices(request: DescribeVpcEndpointServiceConfigurationsRequest): {
    ServiceConfigurations: EndpointService[];
    NextToken?: string;
  } {
    this.admit('DescribeVpcEndpointServiceConfigurations', request.DryRun);
    if (request.Filters !== undefined) {
      throw new AwsError('InvalidParameterValue', 'Filters are not supported by this fake');
    }
    const ids = request.ServiceIds ?? [];
    const missing = ids.find((id) => !this.services.has(id));
    if (missing) throw serviceNotFound(missing);
    const rows = ids.length > 0 ? this.rowsOf(ids, this.services) : this.serviceRows;
    const { page, nextToken } = paginate(rows, request, () => true, this.maxPageSize);
    return { ServiceConfigurations: page.map((s) => ({ ...s })), NextToken: nextToken };
  }

  describeServicePermissions(request: DescribeVpcEndpointServicePermissionsRequest): {
    AllowedPrincipals: AllowedPrincipal[];
    NextToken?: string;
  } {
    this.admit('DescribeVpcEndpointServicePermissions', request.DryRun);
    if (request.Filters !== undefined) {
      throw new AwsError('InvalidParameterValue', 'Filters are not supported by this fake');
    }
    if (request.ServiceId === undefined) throw missingParameter('ServiceId');
    const principals = this.principalsByService.get(request.ServiceId);
    if (!principals) throw serviceNotFound(request.ServiceId);
    const rows = principals.map((value, i) => ({ seq: i + 1, value }));
    const { page, nextToken } = paginate(rows, request, () => true, this.maxPageSize);
    return { AllowedPrincipals: page.map((p) => ({ ...p })), NextToken: nextToken };
  }

  describeNotifications(request: DescribeVpcEndpointConnectionNotificationsRequest): {
    ConnectionNotificationSet: ConnectionNotification[];
    NextToken?: string;
  } {
    this.admit('DescribeVpcEndpointConnectionNotifications', request.DryRun);
    const filters = (request.Filters ?? []).map((f) => ({
      matches: notificationFilter(f.Name ?? ''),
      values: f.Values ?? [],
    }));
    const id = request.ConnectionNotificationId;
    const { page, nextToken } = paginate(
      this.notificationRows,
      request,
      (n) =>
        (id === undefined || n.ConnectionNotificationId === id) &&
        filters.every((f) => f.values.some((v) => f.matches(n, v))),
      this.maxPageSize,
    );
    return {
      ConnectionNotificationSet: page.map((n) => copyNotification(n)),
      NextToken: nextToken,
    };
  }

  /**
   * As EC2 documents client tokens: a repeated token with the same request answers what the
   * first call answered (even if that notification has been deleted since), and creates
   * nothing; with another request it fails `IdempotentParameterMismatch`.
   */
  createNotification(request: CreateVpcEndpointConnectionNotificationRequest): {
    ConnectionNotification: ConnectionNotification;
    ClientToken?: string;
  } {
    this.admit('CreateVpcEndpointConnectionNotification', request.DryRun);
    const { ServiceId, VpcEndpointId, ConnectionNotificationArn, ClientToken } = request;
    const events = request.ConnectionEvents ?? [];
    if (!ConnectionNotificationArn) throw missingParameter('ConnectionNotificationArn');
    if (events.length === 0) throw missingParameter('ConnectionEvents');
    const bad = events.find((e) => !CONNECTION_EVENTS.includes(e));
    if (bad !== undefined) {
      throw new AwsError('InvalidParameterValue', `Invalid connection event: ${bad}`);
    }
    if ((ServiceId === undefined) === (VpcEndpointId === undefined)) {
      throw new AwsError('InvalidParameter', 'Specify either a service ID or a VPC endpoint ID');
    }
    if (VpcEndpointId !== undefined) {
      throw new AwsError(
        'InvalidParameterValue',
        'Endpoint notifications are not supported by this fake',
      );
    }
    if (!this.services.has(ServiceId!)) throw serviceNotFound(ServiceId!);
    const key = JSON.stringify([ServiceId, ConnectionNotificationArn, [...events].sort()]);
    if (ClientToken !== undefined) {
      const earlier = this.tokens.get(ClientToken);
      if (earlier && earlier.request !== key) {
        throw new AwsError(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a resource that is already deleted or a request with different parameters.',
        );
      }
      if (earlier) return { ConnectionNotification: copyNotification(earlier.answer), ClientToken };
    }
    const notification = this.storeNotification({
      ConnectionNotificationId: newId('vpce-nfn-'),
      ServiceId,
      ConnectionNotificationType: 'Topic',
      ConnectionNotificationArn,
      ConnectionEvents: [...events],
      ConnectionNotificationState: 'Enabled',
    });
    if (ClientToken !== undefined) {
      this.tokens.set(ClientToken, { request: key, answer: copyNotification(notification) });
    }
    return {
      ConnectionNotification: copyNotification(notification),
      ...(ClientToken !== undefined ? { ClientToken } : {}),
    };
  }

  /** Per-notification failures come back in `Unsuccessful`, as for Reject and Accept. */
  deleteNotifications(request: DeleteVpcEndpointConnectionNotificationsRequest): {
    Unsuccessful: UnsuccessfulItem[];
  } {
    this.admit('DeleteVpcEndpointConnectionNotifications', request.DryRun);
    const ids = request.ConnectionNotificationIds ?? [];
    if (ids.length === 0) throw missingParameter('ConnectionNotificationId');
    const unsuccessful: UnsuccessfulItem[] = [];
    for (const id of new Set(ids)) {
      const index = this.notificationRows.findIndex((r) => r.value.ConnectionNotificationId === id);
      if (index < 0) {
        // The real code for an unknown notification is not documented.
        unsuccessful.push({
          ResourceId: id,
          Error: {
            Code: 'InvalidConnectionNotification.NotFound',
            Message: `The connection notification '${id}' does not exist`,
          },
        });
      } else {
        this.notificationRows.splice(index, 1);
      }
    }
    return { Unsuccessful: unsuccessful };
  }

  rejectConnections(request: RejectVpcEndpointConnectionsRequest): {
    Unsuccessful: UnsuccessfulItem[];
  } {
    return this.changeStates(request, REJECT);
  }

  acceptConnections(request: AcceptVpcEndpointConnectionsRequest): {
    Unsuccessful: UnsuccessfulItem[];
  } {
    return this.changeStates(request, ACCEPT);
  }

  private storeNotification(notification: ConnectionNotification): ConnectionNotification {
    this.notificationRows.push({ seq: ++this.seq, value: notification });
    return notification;
  }

  /**
   * What EC2 checks of a whole request before the action: throttling (a refused request is not
   * looked at), injected faults, permissions, and DryRun, which only checks permissions.
   */
  private admit(action: Ec2Action, dryRun = false): void {
    if (this.buckets && !this.buckets[BUCKET_OF[action]].tryTake()) {
      throw new AwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    }
    const fault = this.callFaults.take(action);
    if (fault) throw faultError(fault);
    if (this.unauthorized.has(action)) {
      throw new AwsError(
        'UnauthorizedOperation',
        'You are not authorized to perform this operation.',
        403,
      );
    }
    if (dryRun) {
      throw new AwsError(
        'DryRunOperation',
        'Request would have succeeded, but DryRun flag is set.',
        412,
      );
    }
  }

  private connectionFilter(name: string): (c: VpcEndpointConnection, value: string) => boolean {
    const regionOf = (c: VpcEndpointConnection) => c.VpcEndpointRegion ?? this.region;
    switch (name) {
      case 'service-id':
        return (c, v) => c.ServiceId === v;
      case 'vpc-endpoint-id':
        return (c, v) => c.VpcEndpointId === v;
      case 'vpc-endpoint-owner':
        return (c, v) => c.VpcEndpointOwner === v;
      case 'vpc-endpoint-state':
        // AWS documents both `pendingAcceptance` and `PendingAcceptance`.
        return (c, v) => c.VpcEndpointState.toLowerCase() === v.toLowerCase();
      case 'vpc-endpoint-region':
        return (c, v) => (v === 'cross-region' ? regionOf(c) !== this.region : regionOf(c) === v);
      default:
        throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
    }
  }

  /** The smallest set of rows, in creation order, that can hold every match of `filters`. */
  private connectionCandidates(filters: Filter[]): readonly Row<VpcEndpointConnection>[] {
    const ids = filters.find((f) => f.name === 'vpc-endpoint-id');
    if (ids) return this.rowsOf(ids.values, this.connectionsById);
    const services = filters.find((f) => f.name === 'service-id');
    const [serviceId, ...others] = services?.values ?? [];
    if (serviceId !== undefined && others.length === 0) {
      return this.connectionsByService.get(serviceId) ?? [];
    }
    return this.connectionRows;
  }

  private rowsOf<T>(ids: string[], index: Map<string, Row<T>>): Row<T>[] {
    return [...new Set(ids)]
      .map((id) => index.get(id))
      .filter((row) => row !== undefined)
      .sort((a, b) => a.seq - b.seq);
  }

  /**
   * Reject or Accept: whole-call errors are thrown; per-endpoint ones go to `Unsuccessful` in a
   * successful answer.
   */
  private changeStates(
    request: RejectVpcEndpointConnectionsRequest,
    transition: Transition,
  ): { Unsuccessful: UnsuccessfulItem[] } {
    this.admit(transition.action, request.DryRun);
    const serviceId = request.ServiceId;
    if (serviceId === undefined) throw missingParameter('ServiceId');
    const endpointIds = request.VpcEndpointIds ?? [];
    if (endpointIds.length === 0) throw missingParameter('VpcEndpointId');
    if (!this.services.has(serviceId)) throw serviceNotFound(serviceId);
    const unsuccessful: UnsuccessfulItem[] = [];
    const fail = (resourceId: string, code: string, message: string) =>
      unsuccessful.push({ Error: { Code: code, Message: message }, ResourceId: resourceId });
    for (const id of new Set(endpointIds)) {
      const connection = this.connectionsById.get(id)?.value;
      const fault = this.endpointFaults.take(id);
      if (fault) {
        fail(id, fault.code, faultMessage(fault));
      } else if (!connection || connection.ServiceId !== serviceId) {
        fail(id, 'InvalidVpcEndpointId.NotFound', `The Vpc Endpoint Id '${id}' does not exist`);
      } else if (!transition.from.includes(connection.VpcEndpointState.toLowerCase())) {
        // The real code for a connection in the wrong state is not documented.
        fail(
          id,
          'InvalidState',
          `Endpoint ${id} is in state '${connection.VpcEndpointState}' and cannot be ${transition.verb}`,
        );
      } else {
        connection.VpcEndpointState = transition.to;
        this.changedAtById.set(id, Date.now());
      }
    }
    return { Unsuccessful: unsuccessful };
  }
}

/** The filters DescribeVpcEndpointConnectionNotifications documents. */
function notificationFilter(name: string): (n: ConnectionNotification, value: string) => boolean {
  switch (name) {
    case 'connection-notification-arn':
      return (n, v) => n.ConnectionNotificationArn === v;
    case 'connection-notification-id':
      return (n, v) => n.ConnectionNotificationId === v;
    case 'connection-notification-state':
      return (n, v) => n.ConnectionNotificationState === v;
    case 'connection-notification-type':
      return (n, v) => n.ConnectionNotificationType === v;
    case 'service-id':
      return (n, v) => n.ServiceId === v;
    case 'vpc-endpoint-id':
      return (n, v) => n.VpcEndpointId === v;
    default:
      throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
}

const copyNotification = (n: ConnectionNotification): ConnectionNotification => ({
  ...n,
  ConnectionEvents: [...n.ConnectionEvents],
});

const missingParameter = (name: string) =>
  new AwsError('MissingParameter', `The request must contain the parameter ${name}`);

const serviceNotFound = (serviceId: string) =>
  new AwsError(
    'InvalidVpcEndpointServiceId.NotFound',
    `The VpcEndpointService Id '${serviceId}' does not exist`,
  );

/** Resource IDs as AWS makes them: a prefix and 17 hex digits. */
const newId = (prefix: string): string => prefix + randomBytes(9).toString('hex').slice(0, 17);
