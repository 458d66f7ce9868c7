import type { Connection, KnownState } from '../../core/connection';
import { describeConnections, listOwnedServices, type OwnedService } from '../../core/ec2';
import { type Decision, decide, type Policy } from '../../core/policy';
import { type AllowedPrincipals, describeAllowedPrincipals } from '../../core/posture';
import type { AwsClients } from '../aws';
import { type Command, parseCommandArgs, policyParameterOption } from '../command';
import { EXIT_FAILURE, EXIT_OK, formatProblem } from '../errors';
import {
  type EnvironmentLabel,
  environmentFailures,
  FLEET_OPTIONS,
  FLEET_OPTIONS_HELP,
  fleetTargets,
  inEveryEnvironment,
  withPolicyClients,
} from '../fleet';
import type { CliIo } from '../io';
import { describePolicy, type PolicyFile, readPolicyFile } from '../policy-file';
import { readLivePolicy, resolvePrincipalSets } from '../policy-parameter';
import { resolveTargets, serviceIdsOption } from '../services';
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
    'status [--service <id>]… [--policy <file>] [--name <parameter>] [--region <r>]… [--profile <p>]… [--fleet <cdk.json>]',
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

Several environments (several --region or --profile, or --fleet) make one table of services
and one of connections, with ACCOUNT and REGION columns; the policy is read once (the
fleet's home's) and decides for all. An environment that cannot be read is reported (exit 1)
and the others are shown.

Options:
  --policy <file>       decide with this policy file instead of the live one
${FLEET_OPTIONS_HELP}

Example:
  vpce-guard status --service vpce-svc-0123456789abcdef0 --policy policy.json
  vpce-guard status --fleet cdk.json --profile 111122223333=prod --profile 444455556666=eu`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      ...FLEET_OPTIONS,
      policy: { type: 'string' },
    });
    const named = serviceIdsOption(values.service);
    const plan = fleetTargets(values);
    const file = values.policy === undefined ? undefined : await readPolicyFile(values.policy);
    if (plan.fleet) return fleetStatus(io, plan, named, file);

    return withPolicyClients(io, plan.policy, async (aws) => {
      const { policy, label } = await statusPolicy(aws, plan.policy.name, file);
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

/** The live policy, or a policy file with its principal sets read from beside `name`. */
async function statusPolicy(
  aws: AwsClients,
  name: string,
  file: PolicyFile | undefined,
): Promise<{ readonly policy: Policy; readonly label: string }> {
  if (!file) return readLivePolicy(aws.ssm, name);
  // A policy file's principal sets are read from beside --name, as the guard would read them.
  const { policy } = await resolvePrincipalSets(
    aws.ssm,
    policyParameterOption(name),
    file.policy,
    file.path,
  );
  return { policy, label: file.path };
}

/** What one environment shows: its services' posture, and each service's connections. */
interface EnvironmentStatus {
  readonly postures: readonly Posture[];
  readonly connections: readonly Connection[];
}

/** Several environments: one policy, one table of services and one of connections. */
async function fleetStatus(
  io: CliIo,
  plan: ReturnType<typeof fleetTargets>,
  named: readonly string[],
  file: PolicyFile | undefined,
): Promise<number> {
  const { policy, label } = await withPolicyClients(io, plan.policy, (aws) =>
    statusPolicy(aws, plan.policy.name, file),
  );
  io.stdout.write(`Policy: ${label} (${describePolicy(policy)})\n`);
  const states = statesToShow(policy);
  const results = await inEveryEnvironment(io, plan.targets, async (aws) => {
    const quiet = { write: () => true };
    const { serviceIds, homeRegion, services } = await resolveTargets(aws, named, quiet);
    const configured =
      serviceIds.length === 0 ? [] : (services ?? (await listOwnedServices(aws.ec2, serviceIds)));
    const postures: Posture[] = [];
    for (const service of configured) {
      postures.push({
        ...service,
        principals: await describeAllowedPrincipals(aws.ec2, service.serviceId),
      });
    }
    const connections: Connection[] = [];
    if (named.length === 0 && serviceIds.length > 0) {
      connections.push(...(await describeConnections(aws.ec2, { states }, homeRegion)));
    } else {
      for (const serviceId of serviceIds) {
        connections.push(
          ...(await describeConnections(aws.ec2, { serviceId, states }, homeRegion)),
        );
      }
    }
    return { postures, connections: sortByState(connections) } satisfies EnvironmentStatus;
  });

  const shown = results.flatMap((r) => ('result' in r ? [{ ...r, ...r.result }] : []));
  const postures = shown.flatMap((r) =>
    r.postures.map((p) => ({ ...p, at: r as EnvironmentLabel })),
  );
  io.stdout.write(`\n${fleetPostureTable(postures)}`);
  if (postures.some((p) => p.acceptanceRequired === false)) io.stdout.write(AUTOMATIC_NOTE);
  const rows = shown.flatMap((r) =>
    r.connections.map((connection) => ({
      at: r as EnvironmentLabel,
      connection,
      decision: decide(policy, asRequest(connection), io.now()),
    })),
  );
  io.stdout.write(
    rows.length > 0 ? `\n${fleetConnectionTable(rows)}` : '\nNo pending or rejected connections.\n',
  );
  if (rows.some((r) => isRejected(r.connection))) io.stdout.write(REJECTED_NOTE);
  for (const r of shown.filter((r) => r.postures.length === 0 && named.length === 0)) {
    io.stdout.write(
      `\n${r.account} ${r.region}: no endpoint service (check --region and --profile).\n`,
    );
  }

  const failed = environmentFailures(results);
  if (failed.length === 0) return EXIT_OK;
  io.stderr.write(
    formatProblem(
      'error',
      `${failed.length} of ${results.length} environments could not be read:`,
      failed,
    ),
  );
  return EXIT_FAILURE;
}

type At<T> = T & { readonly at: EnvironmentLabel };

const ENVIRONMENT_COLUMNS = [
  { header: 'account', value: (r: { at: EnvironmentLabel }) => r.at.account },
  { header: 'region', value: (r: { at: EnvironmentLabel }) => r.at.region },
];

function fleetPostureTable(postures: readonly At<Posture>[]): string {
  return formatTable<At<Posture>>(
    [
      ...ENVIRONMENT_COLUMNS,
      { header: 'service', value: (p) => p.serviceId },
      { header: 'acceptance', value: acceptanceText },
      { header: 'principals', value: principalsText, align: 'right' },
    ],
    postures,
  );
}

function fleetConnectionTable(rows: readonly At<Row>[]): string {
  return formatTable<At<Row>>(
    [
      ...ENVIRONMENT_COLUMNS,
      { header: 'service', value: (r) => r.connection.serviceId },
      { header: 'endpoint', value: (r) => r.connection.endpointId },
      { header: 'owner', value: (r) => r.connection.owner },
      { header: 'owner region', value: (r) => r.connection.region },
      { header: 'state', value: (r) => r.connection.state },
      { header: 'decision', value: (r) => r.decision.action },
      { header: 'reason', value: (r) => r.decision.reason },
    ],
    rows,
  );
}

function acceptanceText(p: Posture): string {
  if (p.acceptanceRequired === undefined) return 'unknown';
  return p.acceptanceRequired ? 'required' : 'automatic';
}

function principalsText(p: Posture): string {
  return p.principals.everyone ? '* (everyone)' : String(p.principals.count);
}

const AUTOMATIC_NOTE =
  '\nACCEPTANCE automatic: EC2 accepts every request itself, before the guard can reject it; only a policy that revokes cuts such connections, later.\n';

/** One line per service: whether requests wait for acceptance, and who may make them. */
function postureTable(postures: readonly Posture[]): string {
  return formatTable<Posture>(
    [
      { header: 'service', value: (p) => p.serviceId },
      { header: 'acceptance', value: acceptanceText },
      { header: 'principals', value: principalsText, align: 'right' },
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
