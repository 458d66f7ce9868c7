/**
 * Reading the truth from EC2, the first step of a reconcile (core/reconcile.ts settles what
 * was read). Two ways, by what triggered the guard:
 * - a target (a hint's service, a retry record's endpoints) reads just that service;
 * - a sweep reads the actionable connections of every service the account owns in ONE
 *   paginated `DescribeVpcEndpointConnections`, filtered on state only, and groups them by
 *   service: ceil(connections / 1000) calls, however many services there are.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Connection, KnownState } from './connection';
import { type ConnectionQuery, describeConnections } from './ec2';
import type { Policy } from './policy';

export interface Target {
  readonly serviceId: string;
  /** Re-read only these endpoints, whatever their state (a retry record's own). */
  readonly endpointIds?: readonly string[];
}

/** What the guard may act on: pending connections, and available ones when the policy revokes. */
function actionableStates(policy: Pick<Policy, 'revoke'>): KnownState[] {
  return policy.revoke ? ['pendingAcceptance', 'available'] : ['pendingAcceptance'];
}

/**
 * A target's connections: its own endpoints in any state, or its service's actionable ones.
 * A failed call throws.
 */
export function readTarget(
  ec2: EC2Client,
  policy: Pick<Policy, 'revoke'>,
  homeRegion: string,
  target: Target,
  onPage?: () => void,
): Promise<Connection[]> {
  const query: ConnectionQuery = target.endpointIds?.length
    ? { serviceId: target.serviceId, endpointIds: target.endpointIds }
    : { serviceId: target.serviceId, states: actionableStates(policy) };
  return describeConnections(ec2, query, homeRegion, onPage);
}

/**
 * Every actionable connection of every service the account owns, read in one paginated call
 * and grouped by service, in the order EC2 listed them. A failed call throws.
 */
export async function readActionableByService(
  ec2: EC2Client,
  policy: Pick<Policy, 'revoke'>,
  homeRegion: string,
  onPage?: () => void,
): Promise<Map<string, Connection[]>> {
  const connections = await describeConnections(
    ec2,
    { states: actionableStates(policy) },
    homeRegion,
    onPage,
  );
  const byService = new Map<string, Connection[]>();
  for (const connection of connections) {
    const ofService = byService.get(connection.serviceId);
    if (ofService) ofService.push(connection);
    else byService.set(connection.serviceId, [connection]);
  }
  return byService;
}
