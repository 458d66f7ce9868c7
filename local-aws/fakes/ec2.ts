/**
 * A fake EC2 endpoint for the VPC endpoint service actions vpce-guard calls, on 127.0.0.1.
 * The model: endpoint services and the connections of consumers' endpoints to them.
 */
import { randomBytes } from 'node:crypto';
import {
  decodeQuery,
  ec2ErrorReply,
  ec2Reply,
  objects,
  text,
  texts,
  type QueryObject,
  type XmlObject,
} from './ec2-wire';
import { AwsError, listen, newRequestId, type Listening, type Reply } from './http';
import {
  CallLog,
  FaultPlan,
  faultError,
  faultMessage,
  type CallRecord,
  type Fault,
} from './instrumentation';
import { paginate, type Row } from './ec2-pagination';
import { TokenBucket, type BucketSpec } from './token-bucket';

export type Ec2Action =
  | 'DescribeVpcEndpointConnections'
  | 'DescribeVpcEndpointServiceConfigurations'
  | 'RejectVpcEndpointConnections'
  | 'AcceptVpcEndpointConnections';

export type BucketName = 'describe' | 'reject' | 'accept';

/** EC2's token buckets for these actions, per account and Region (EC2 API throttling page). */
export const EC2_BUCKETS: Readonly<Record<BucketName, BucketSpec>> = {
  describe: { capacity: 100, refillPerSecond: 20 },
  reject: { capacity: 10, refillPerSecond: 1 },
  accept: { capacity: 10, refillPerSecond: 1 },
};

/** All Describe* actions share one bucket; each mutating action has its own. */
const BUCKET_OF: Readonly<Record<Ec2Action, BucketName>> = {
  DescribeVpcEndpointConnections: 'describe',
  DescribeVpcEndpointServiceConfigurations: 'describe',
  RejectVpcEndpointConnections: 'reject',
  AcceptVpcEndpointConnections: 'accept',
};

const isEc2Action = (action: string): action is Ec2Action => action in BUCKET_OF;

/** Field names are the wire's XML element names, so a connection serializes as it is. */
export interface VpcEndpointConnection {
  serviceId: string;
  vpcEndpointId: string;
  vpcEndpointOwner: string;
  vpcEndpointState: string;
  /**
   * Left out of answers when absent; the region filter then counts the connection as same-Region.
   */
  vpcEndpointRegion?: string;
  creationTimestamp: Date;
  vpcEndpointConnectionId: string;
}

export interface EndpointService {
  serviceId: string;
  serviceName: string;
  serviceState: 'Available';
  acceptanceRequired: true;
}

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

export interface FakeEc2Options {
  region: string;
  accountId: string;
  /** Enforce EC2's token buckets ({@link EC2_BUCKETS}). @default false */
  throttling?: boolean;
}

interface Filter {
  name: string;
  values: string[];
}

/** A connection state change that Reject and Accept make, and the states it may start from. */
interface Transition {
  from: readonly string[];
  to: string;
  verb: string;
}
const REJECT: Transition = {
  from: ['pendingacceptance', 'available'],
  to: 'rejected',
  verb: 'rejected',
};
const ACCEPT: Transition = { from: ['pendingacceptance'], to: 'available', verb: 'accepted' };

export class FakeEc2 {
  /**
   * Actions answered with `UnauthorizedOperation` (403), dry runs included, as if IAM denied them.
   */
  readonly unauthorized = new Set<Ec2Action>();
  readonly region: string;
  readonly accountId: string;
  private server!: Listening; // set by start(), before any request can arrive
  private readonly log = new CallLog<Ec2Action>();
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

  private constructor(options: FakeEc2Options) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.setThrottling(options.throttling ?? false);
  }

  static async start(options: FakeEc2Options): Promise<FakeEc2> {
    const fake = new FakeEc2(options);
    fake.server = await listen(async (_req, body) => fake.handle(body));
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  // ---- seeding and inspection ----

  /** Adds an endpoint service and returns its ID. */
  addService(serviceId = newId('vpce-svc-')): string {
    if (this.services.has(serviceId)) throw new Error(`service ${serviceId} already exists`);
    const row = {
      seq: ++this.seq,
      value: {
        serviceId,
        serviceName: `com.amazonaws.vpce.${this.region}.${serviceId}`,
        serviceState: 'Available' as const,
        acceptanceRequired: true as const,
      },
    };
    this.services.set(serviceId, row);
    this.serviceRows.push(row);
    this.connectionsByService.set(serviceId, []);
    return serviceId;
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
        serviceId: input.serviceId,
        vpcEndpointId: endpointId,
        vpcEndpointOwner: input.owner,
        vpcEndpointState: input.state ?? 'pendingAcceptance',
        vpcEndpointRegion: input.region,
        creationTimestamp: input.createdAt ?? new Date(),
        vpcEndpointConnectionId: newId('vpce-con-'),
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
    row.value.vpcEndpointState = state;
  }

  // ---- behaviour ----

  /**
   * Turns EC2's token buckets on (each full) or off; `overrides` replaces the specs of some
   * buckets.
   */
  setThrottling(enabled: boolean, overrides: Partial<Record<BucketName, BucketSpec>> = {}): void {
    const bucket = (name: BucketName) => new TokenBucket(overrides[name] ?? EC2_BUCKETS[name]);
    this.buckets = enabled
      ? { describe: bucket('describe'), reject: bucket('reject'), accept: bucket('accept') }
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

  get calls(): readonly CallRecord[] {
    return this.log.calls;
  }

  count(action: Ec2Action): number {
    return this.log.count(action);
  }

  get throttledCount(): number {
    return this.log.throttledCount;
  }

  // ---- the API ----

  private async handle(body: string): Promise<Reply> {
    const params = decodeQuery(body);
    const action = text(params.Action) ?? '';
    delete params.Action;
    delete params.Version;
    const requestId = newRequestId();
    const call: CallRecord = { action, params, throttled: false, at: Date.now() };
    try {
      return ec2Reply(action, requestId, this.dispatch(action, params));
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      call.error = err.code;
      call.throttled = err.code === 'RequestLimitExceeded';
      return ec2ErrorReply(err, requestId);
    } finally {
      this.log.record(call);
    }
  }

  /**
   * Whole-request checks first: throttling (a refused request is not looked at), injected
   * faults, permissions, and DryRun, which only checks permissions; then the action itself.
   */
  private dispatch(action: string, params: QueryObject): XmlObject {
    if (!isEc2Action(action)) {
      throw new AwsError(
        'InvalidAction',
        `The action ${action} is not valid for this web service.`,
      );
    }
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
    if (text(params.DryRun) === 'true') {
      throw new AwsError(
        'DryRunOperation',
        'Request would have succeeded, but DryRun flag is set.',
        412,
      );
    }
    switch (action) {
      case 'DescribeVpcEndpointConnections':
        return this.describeConnections(params);
      case 'DescribeVpcEndpointServiceConfigurations':
        return this.describeServices(params);
      case 'RejectVpcEndpointConnections':
        return this.changeStates(params, REJECT);
      case 'AcceptVpcEndpointConnections':
        return this.changeStates(params, ACCEPT);
    }
  }

  private describeConnections(params: QueryObject): XmlObject {
    const filters = objects(params.Filter).map((f) => ({
      name: text(f.Name) ?? '',
      values: texts(f.Value),
    }));
    const predicates = filters.map((f) => {
      const matches = this.connectionFilter(f.name);
      return (c: VpcEndpointConnection) => f.values.some((value) => matches(c, value));
    });
    const { page, nextToken } = paginate(this.connectionCandidates(filters), params, (c) =>
      predicates.every((p) => p(c)),
    );
    return { vpcEndpointConnectionSet: page.map((c) => ({ ...c })), nextToken };
  }

  private connectionFilter(name: string): (c: VpcEndpointConnection, value: string) => boolean {
    const regionOf = (c: VpcEndpointConnection) => c.vpcEndpointRegion ?? this.region;
    switch (name) {
      case 'service-id':
        return (c, v) => c.serviceId === v;
      case 'vpc-endpoint-id':
        return (c, v) => c.vpcEndpointId === v;
      case 'vpc-endpoint-owner':
        return (c, v) => c.vpcEndpointOwner === v;
      case 'vpc-endpoint-state':
        // AWS documents both `pendingAcceptance` and `PendingAcceptance`.
        return (c, v) => c.vpcEndpointState.toLowerCase() === v.toLowerCase();
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

  private describeServices(params: QueryObject): XmlObject {
    if (params.Filter !== undefined) {
      throw new AwsError('InvalidParameterValue', 'Filters are not supported by this fake');
    }
    const ids = texts(params.ServiceId);
    const missing = ids.find((id) => !this.services.has(id));
    if (missing) throw serviceNotFound(missing);
    const rows = ids.length > 0 ? this.rowsOf(ids, this.services) : this.serviceRows;
    const { page, nextToken } = paginate(rows, params, () => true);
    return {
      serviceConfigurationSet: page.map((s) => ({
        serviceType: [{ serviceType: 'Interface' }],
        ...s,
        managesVpcEndpoints: false,
      })),
      nextToken,
    };
  }

  /**
   * Reject or Accept: whole-call errors are thrown; per-endpoint ones go to `unsuccessful` in a
   * 200.
   */
  private changeStates(params: QueryObject, transition: Transition): XmlObject {
    const serviceId = required(params, 'ServiceId');
    const endpointIds = texts(params.VpcEndpointId);
    if (endpointIds.length === 0) throw missingParameter('VpcEndpointId');
    if (!this.services.has(serviceId)) throw serviceNotFound(serviceId);
    const unsuccessful: XmlObject[] = [];
    const fail = (resourceId: string, code: string, message: string) =>
      unsuccessful.push({ error: { code, message }, resourceId });
    for (const id of new Set(endpointIds)) {
      const connection = this.connectionsById.get(id)?.value;
      const fault = this.endpointFaults.take(id);
      if (fault) {
        fail(id, fault.code, faultMessage(fault));
      } else if (!connection || connection.serviceId !== serviceId) {
        fail(id, 'InvalidVpcEndpointId.NotFound', `The Vpc Endpoint Id '${id}' does not exist`);
      } else if (!transition.from.includes(connection.vpcEndpointState.toLowerCase())) {
        // The real code for a connection in the wrong state is not documented.
        fail(
          id,
          'InvalidState',
          `Endpoint ${id} is in state '${connection.vpcEndpointState}' and cannot be ${transition.verb}`,
        );
      } else {
        connection.vpcEndpointState = transition.to;
        this.changedAtById.set(id, Date.now());
      }
    }
    return { unsuccessful };
  }
}

function required(params: QueryObject, name: string): string {
  const value = text(params[name]);
  if (value === undefined) throw missingParameter(name);
  return value;
}

const missingParameter = (name: string) =>
  new AwsError('MissingParameter', `The request must contain the parameter ${name}`);

const serviceNotFound = (serviceId: string) =>
  new AwsError(
    'InvalidVpcEndpointServiceId.NotFound',
    `The VpcEndpointService Id '${serviceId}' does not exist`,
  );

/** Resource IDs as AWS makes them: a prefix and 17 hex digits. */
const newId = (prefix: string): string => prefix + randomBytes(9).toString('hex').slice(0, 17);
