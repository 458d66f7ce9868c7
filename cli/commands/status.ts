import type { Connection, KnownState } from '../../core/connection';
import { describeConnections } from '../../core/ec2';
import { type Decision, decide, type Policy } from '../../core/policy';
import { withAwsClients } from '../aws';
import { type Command, parseCommandArgs } from '../command';
import { EXIT_OK } from '../errors';
import { describePolicy, readPolicyFile } from '../policy-file';
import { readLivePolicy } from '../policy-parameter';
import {
  resolveTargets,
  SERVICES_OPTIONS,
  SERVICES_OPTIONS_HELP,
  serviceIdsOption,
} from '../services';
import { formatTable } from '../table';

/** Table order: what the guard will act on first, what it did last. */
const STATE_ORDER: readonly string[] = ['pendingAcceptance', 'available', 'rejected'];

interface Row {
  readonly connection: Connection;
  readonly decision: Decision;
}

export const status: Command = {
  path: ['status'],
  usage:
    'status [--service <id>]… [--policy <file>] [--name <parameter>] [--region <r>] [--profile <p>]',
  summary:
    'Per service, the pending and rejected connections and what the policy decides for each.',
  help: `Reads the connections from EC2 (DescribeVpcEndpointConnections: pending and rejected ones,
and available ones when the policy revokes) and decides each with the live policy, or with
--policy, to preview a policy file before you push it. Changes nothing.

EC2 keeps listing a rejected connection until its owner deletes the endpoint; for those,
DECISION is what the policy decides for the same request today.

Options:
  --policy <file>       decide with this policy file instead of the live one
${SERVICES_OPTIONS_HELP}

Example:
  vpce-guard status --service vpce-svc-0123456789abcdef0 --policy policy.json`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      ...SERVICES_OPTIONS,
      policy: { type: 'string' },
    });
    const named = serviceIdsOption(values.service);
    const file = values.policy === undefined ? undefined : await readPolicyFile(values.policy);

    return withAwsClients(io.aws, values, async (aws) => {
      const { policy, label } = file
        ? { policy: file.policy, label: file.path }
        : await readLivePolicy(aws.ssm, values.name);
      io.stdout.write(`Policy: ${label} (${describePolicy(policy)})\n`);
      const { serviceIds, homeRegion } = await resolveTargets(aws, named, io.stdout);
      let anyRejected = false;
      for (const serviceId of serviceIds) {
        const query = { serviceId, states: statesToShow(policy) };
        const connections = await describeConnections(aws.ec2, query, homeRegion);
        io.stdout.write(serviceSection(serviceId, connections, policy, io.now()));
        anyRejected ||= connections.some(isRejected);
      }
      if (anyRejected) io.stdout.write(REJECTED_NOTE);
      return EXIT_OK;
    });
  },
};

const REJECTED_NOTE =
  '\nFor a rejected connection, DECISION is what the policy decides for the same request today.\n';

/** A heading with the counts per state, and the table of connections and decisions. */
function serviceSection(
  serviceId: string,
  connections: readonly Connection[],
  policy: Policy,
  now: Date,
): string {
  const rows = sortByState(connections).map((connection) => ({
    connection,
    decision: decide(policy, asRequest(connection), now),
  }));
  const heading = `\n${serviceId}: ${countStates(connections)}\n`;
  return rows.length > 0 ? heading + statusTable(rows) : heading;
}

/** Pending and rejected; available too when the policy revokes, since the guard acts on them. */
function statesToShow(policy: Policy): KnownState[] {
  return ['pendingAcceptance', ...(policy.revoke ? (['available'] as const) : []), 'rejected'];
}

/** A rejected connection is decided as the request it was, so the table shows today's answer. */
function asRequest(connection: Connection): Connection {
  return isRejected(connection) ? { ...connection, state: 'pendingAcceptance' } : connection;
}

function isRejected(connection: Connection): boolean {
  return connection.state === 'rejected';
}

function sortByState(connections: readonly Connection[]): Connection[] {
  const rank = (c: Connection) => STATE_ORDER.indexOf(c.state);
  return [...connections].sort((a, b) => rank(a) - rank(b)); // stable: EC2's order within a state
}

function countStates(connections: readonly Connection[]): string {
  if (connections.length === 0) return 'no pending or rejected connections';
  const counts = new Map<string, number>();
  for (const c of connections) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
}

function statusTable(rows: readonly Row[]): string {
  return formatTable<Row>(
    [
      { header: 'endpoint', value: (r) => r.connection.endpointId },
      { header: 'owner', value: (r) => r.connection.owner },
      { header: 'region', value: (r) => r.connection.region },
      { header: 'state', value: (r) => r.connection.state },
      { header: 'decision', value: (r) => r.decision.action },
      { header: 'reason', value: (r) => r.decision.reason },
    ],
    rows,
  );
}
