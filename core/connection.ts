/**
 * An endpoint connection as the guard sees it, and its states.
 *
 * AWS documents the states both camelCase (`pendingAcceptance`) and PascalCase
 * (`PendingAcceptance`). The EC2 edge (core/ec2.ts) normalises every state it reads to one
 * spelling, so that everything after it compares states with `===`.
 */

/** Every state AWS documents for `VpcEndpointState`, in the spelling the guard uses. */
const CONNECTION_STATES = [
  'pendingAcceptance',
  'pending',
  'available',
  'deleting',
  'deleted',
  'rejected',
  'failed',
  'expired',
  'partial',
] as const;
export type KnownState = (typeof CONNECTION_STATES)[number];

/**
 * A normalised state. A state AWS may add later is kept as EC2 sent it: the guard decides
 * nothing on it, but the logs still show it.
 */
// `string & {}` keeps the known states' autocompletion while admitting any other string.
export type ConnectionState = KnownState | (string & {});

const BY_LOWER_CASE = new Map<string, KnownState>(
  CONNECTION_STATES.map((s) => [s.toLowerCase(), s]),
);

/** The guard's spelling of a state EC2 reported, in whatever case. */
export function normaliseState(state: string): ConnectionState {
  return BY_LOWER_CASE.get(state.toLowerCase()) ?? state;
}

/**
 * The values a `vpc-endpoint-state` filter needs to find connections in `states`: filter
 * values are compared literally, and AWS documents both spellings.
 */
export function stateFilterValues(states: readonly KnownState[]): string[] {
  return states.flatMap((s) => [s, s[0]!.toUpperCase() + s.slice(1)]);
}

/** A connection as EC2's DescribeVpcEndpointConnections reports it, normalised. */
export interface Connection {
  readonly serviceId: string;
  readonly endpointId: string;
  /** The consumer's 12-digit account ID. */
  readonly owner: string;
  readonly state: ConnectionState;
  /** The consumer's Region: `VpcEndpointRegion`, or the service's own Region when absent. */
  readonly region: string;
}
