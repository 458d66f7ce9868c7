/**
 * The guard's EC2 edge: read connections and services, reject or accept endpoints.
 *
 * Thin wrappers that take their client as an argument and translate between the SDK's
 * shapes and the guard's own; no decisions here.
 */
import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  type EC2Client,
  type Filter,
  RejectVpcEndpointConnectionsCommand,
  type UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { chunk } from './batches';
import { type Connection, type KnownState, normaliseState, stateFilterValues } from './connection';
import { forEachPage } from './pages';

/**
 * SDK attempts per EC2 call, more than the default 3: a call throttled by other callers in
 * the account backs off and lands instead of being queued.
 */
export const EC2_MAX_ATTEMPTS = 6;

/** The largest page EC2 serves: fewer round trips on services with many connections. */
const PAGE_SIZE = 1000;
/**
 * Values per filter (endpoint IDs, service IDs): well under EC2's cap on a filter's values
 * (200 for the Describe calls that document it).
 */
export const MAX_FILTER_VALUES = 100;

export interface ConnectionQuery {
  /** Only this service's connections; absent: those of every service the account owns. */
  readonly serviceId?: string;
  /** Read only these endpoints (any state): how a retry record re-reads its own. */
  readonly endpointIds?: readonly string[];
  /** Read only connections in these states. */
  readonly states?: readonly KnownState[];
}

/**
 * Every connection that matches the query, all pages read: of one service, or of every
 * service the account owns (a sweep). `homeRegion` is the Region of a connection that reports
 * no `VpcEndpointRegion`.
 */
export async function describeConnections(
  ec2: EC2Client,
  query: ConnectionQuery,
  homeRegion: string,
  onPage?: () => void,
): Promise<Connection[]> {
  if (!query.endpointIds?.length)
    return describePages(ec2, filtersFor(query), query.serviceId, homeRegion, onPage);
  const connections: Connection[] = [];
  for (const ids of chunk(query.endpointIds, MAX_FILTER_VALUES)) {
    const filters = [...filtersFor(query), { Name: 'vpc-endpoint-id', Values: ids }];
    connections.push(...(await describePages(ec2, filters, query.serviceId, homeRegion, onPage)));
  }
  return connections;
}

function filtersFor(query: ConnectionQuery): Filter[] {
  const filters: Filter[] = query.serviceId
    ? [{ Name: 'service-id', Values: [query.serviceId] }]
    : [];
  if (query.states?.length)
    filters.push({ Name: 'vpc-endpoint-state', Values: stateFilterValues(query.states) });
  return filters;
}

async function describePages(
  ec2: EC2Client,
  filters: Filter[],
  serviceId: string | undefined,
  homeRegion: string,
  onPage?: () => void,
): Promise<Connection[]> {
  const connections: Connection[] = [];
  const read = (nextToken: string | undefined) =>
    ec2.send(
      new DescribeVpcEndpointConnectionsCommand({
        Filters: filters,
        MaxResults: PAGE_SIZE,
        NextToken: nextToken,
      }),
    );
  await forEachPage(read, (page) => {
    onPage?.();
    for (const item of page.VpcEndpointConnections ?? []) {
      // Without these fields there is nothing to decide on: EC2 always sends them.
      const ofService = item.ServiceId ?? serviceId;
      if (!ofService || !item.VpcEndpointId || !item.VpcEndpointOwner || !item.VpcEndpointState)
        continue;
      connections.push({
        serviceId: ofService,
        endpointId: item.VpcEndpointId,
        owner: item.VpcEndpointOwner,
        // Normalised here, once: everything after the edge compares states with ===.
        state: normaliseState(item.VpcEndpointState),
        region: item.VpcEndpointRegion || homeRegion,
      });
    }
  });
  return connections;
}

/** An endpoint service this account owns, with what its configuration says of its posture. */
export interface OwnedService {
  readonly serviceId: string;
  /**
   * Whether a connection request waits for acceptance; false: EC2 accepts every request
   * itself, before the guard can decide. Absent when EC2 did not say.
   */
  readonly acceptanceRequired?: boolean;
}

/** EC2's error code for a service ID it does not know (deleted, or another account's). */
export const SERVICE_NOT_FOUND = 'InvalidVpcEndpointServiceId.NotFound';

/**
 * Every endpoint service this account owns in the client's Region, all pages read; or only
 * `serviceIds` (a service that does not exist fails the call).
 */
export async function listOwnedServices(
  ec2: EC2Client,
  serviceIds?: readonly string[],
): Promise<OwnedService[]> {
  const services: OwnedService[] = [];
  const read = (nextToken: string | undefined) =>
    ec2.send(
      new DescribeVpcEndpointServiceConfigurationsCommand(
        serviceIds
          ? { ServiceIds: [...serviceIds], NextToken: nextToken }
          : { MaxResults: PAGE_SIZE, NextToken: nextToken },
      ),
    );
  await forEachPage(read, (page) => {
    for (const service of page.ServiceConfigurations ?? []) {
      if (!service.ServiceId) continue;
      services.push({
        serviceId: service.ServiceId,
        ...(typeof service.AcceptanceRequired === 'boolean'
          ? { acceptanceRequired: service.AcceptanceRequired }
          : {}),
      });
    }
  });
  return services;
}

export type ChangeAction = 'reject' | 'accept';

export interface EndpointError {
  readonly endpointId: string;
  readonly code: string;
  readonly message: string;
}

/**
 * Rejects or accepts endpoints of one service in one call. Per-endpoint failures come back
 * inside a successful response (`Unsuccessful`), so they are returned, not thrown; a failure
 * of the whole call (throttling after the SDK's retries, a vanished service) throws.
 */
export async function changeConnections(
  ec2: EC2Client,
  action: ChangeAction,
  serviceId: string,
  endpointIds: readonly string[],
  dryRun: boolean,
): Promise<EndpointError[]> {
  const input = { ServiceId: serviceId, VpcEndpointIds: [...endpointIds], DryRun: dryRun };
  const output = await ec2.send(
    action === 'reject'
      ? new RejectVpcEndpointConnectionsCommand(input)
      : new AcceptVpcEndpointConnectionsCommand(input),
  );
  return (output.Unsuccessful ?? []).map(toEndpointError);
}

/** An `Unsuccessful` entry of a Reject, Accept or Delete call, as the guard reports it. */
export function toEndpointError(item: UnsuccessfulItem): EndpointError {
  return {
    endpointId: item.ResourceId ?? 'unknown',
    code: item.Error?.Code ?? 'Unknown',
    message: item.Error?.Message ?? 'EC2 gave no message',
  };
}
