import type { Connection, KnownState } from '../../core/connection';
import { describeConnections, listOwnedServices, type OwnedService } from '../../core/ec2';
import { type Decision, decide, type Policy } from '../../core/policy';
import { type AllowedPrincipals, describeAllowedPrincipals } from '../../core/posture';
import { withAwsClients } from '../aws';
import { type Command, parseCommandArgs, policyParameterOption } from '../command';
import { EXIT_OK } from '../errors';
import { describePolicy, readPolicyFile } from '../policy-file';
import { readLivePolicy, resolvePrincipalSets } from '../policy-parameter';
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
    "Each service's posture, its pending and rejected connections, and what the policy decides.",
  help: `Reads each service's posture: ACCEPTANCE says whether EC2 waits for a connection to be
accepted ("automatic": EC2 accepts every request itself, before the guard can reject it), and
PRINCIPALS how many may request one ("*": everyone). Then reads the connections from EC2
(DescribeVpcEndpointConnections: pending and rejected ones, and available ones when the policy
revokes; one read for every service, one per --service) and decides each with the live
policy, or with --policy, to preview a policy file before you push it; either's principal
sets are read from Parameter Store. Changes nothing.

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
      // A policy file's principal sets are read from beside --name, as the guard would read them.
      const { policy, label } = file
        ? {
            policy: (
              await resolvePrincipalSets(
                aws.ssm,
                policyParameterOption(values.name),
                file.policy,
                file.path,
              )
            ).policy,
            label: file.path,
          }
        : await readLivePolicy(aws.ssm, values.name);
      io.stdout.write(`Policy: ${label} (${describePolicy(policy)})\n`);
      const { serviceIds, homeRegion, services } = await resolveTargets(aws, named, io.stdout);
      if (serviceIds.length === 0) return EXIT_OK;
      const configured = services ?? (await listOwnedServices(aws.ec2, serviceIds));
      const postures: Posture[] = [];
      for (const service of configured) {
        postures.push({
          ...service,
          principals: await describeAllowedPrincipals(aws.ec2, service.serviceId),
        });
      }
      io.stdout.write(`\n${postureTable(postures)}`);
      if (postures.some((p) => p.acceptanceRequired === false)) io.stdout.write(AUTOMATIC_NOTE);

      const states = statesToShow(policy);
      // Every service: one read of the account; named ones: one read each.
      const all =
        named.length === 0 ? await describeConnections(aws.ec2, { states }, homeRegion) : undefined;
      let anyRejected = false;
      for (const serviceId of serviceIds) {
        const connections = all
          ? all.filter((c) => c.serviceId === serviceId)
          : await describeConnections(aws.ec2, { serviceId, states }, homeRegion);
        io.stdout.write(serviceSection(serviceId, connections, policy, io.now()));
        anyRejected ||= connections.some(isRejected);
      }
      if (anyRejected) io.stdout.write(REJECTED_NOTE);
      return EXIT_OK;
    });
  },
};

interface Posture extends OwnedService {
  readonly principals: AllowedPrincipals;
}

const AUTOMATIC_NOTE =
  '\nACCEPTANCE automatic: EC2 accepts every request itself, before the guard can reject it; only a policy that revokes cuts such connections, later.\n';

/** One line per service: whether requests wait for acceptance, and who may make them. */
function postureTable(postures: readonly Posture[]): string {
  return formatTable<Posture>(
    [
      { header: 'service', value: (p) => p.serviceId },
      {
        header: 'acceptance',
        value: (p) =>
          p.acceptanceRequired === undefined
            ? 'unknown'
            : p.acceptanceRequired
              ? 'required'
              : 'automatic',
      },
      {
        header: 'principals',
        value: (p) => (p.principals.everyone ? '* (everyone)' : String(p.principals.count)),
        align: 'right',
      },
    ],
    postures,
  );
}

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
