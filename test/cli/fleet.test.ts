/**
 * `status` and `reconcile` across a fleet (docs/cli.md#a-fleet): several accounts and Regions,
 * each with its own EC2 fake, one SSM fake that tells accounts (by access key) and Regions (by
 * signature) apart, the policy read once from the home, one table with account and Region
 * columns, and one environment's failure reported while the others still run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeEc2 } from '../../local-aws/fakes';
import { FakeSsm } from '../../local-aws/fakes/ssm';
import { type FakeEnvironment, fleetAwsClients, runCli } from '../../local-aws/cli';
import { ACME, enforcePolicy, GLOBEX, MALLORY, policyDir, STRANGER } from './fixtures';

const A = '111111111111';
const B = '222222222222';
const NAME = '/vpce-guard/policy';
const HOME_ARN = `arn:aws:ssm:eu-west-1:${A}:parameter/vpce-guard/policy`;
const PROFILES = { prod: A, partner: B };

let ssm: FakeSsm;
let environments: FakeEnvironment[];
let dir: string;
let cdkJson: string;

beforeEach(async () => {
  ssm = await FakeSsm.start({ region: 'eu-west-1', accountId: A });
  environments = await Promise.all(
    [
      [A, 'eu-west-1'],
      [A, 'us-east-1'],
      [B, 'eu-west-1'],
    ].map(async ([account, region]) => ({
      account: account!,
      region: region!,
      ec2: await FakeEc2.start({ region: region! }),
    })),
  );
  ssm.setParameter(NAME, JSON.stringify(enforcePolicy()), 'String', {
    region: 'eu-west-1',
    account: A,
    tier: 'Advanced',
  });
  ssm.share(NAME, B, { region: 'eu-west-1', account: A });
  dir = policyDir();
  cdkJson = path.join(dir, 'cdk.json');
  fs.writeFileSync(
    cdkJson,
    JSON.stringify({
      app: 'npx tsx bin/vpce-guard.ts',
      context: {
        'vpce-guard:environments': `${A}/eu-west-1,${A}/us-east-1,${B}/eu-west-1`,
        'vpce-guard:policyHome': `${A}/eu-west-1`,
      },
    }),
  );
});

afterEach(async () => {
  await Promise.all([ssm.close(), ...environments.map((e) => e.ec2.close())]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const ec2Of = (account: string, region: string) =>
  environments.find((e) => e.account === account && e.region === region)!.ec2;

function run(argv: readonly string[]) {
  // The fakes' own `AwsFakes` is not used: every client goes through the fleet's factory.
  return runCli(argv, {} as never, {
    aws: fleetAwsClients(ssm, environments, PROFILES),
    env: {},
    now: new Date('2026-01-01T00:00:00Z'),
  });
}

/** The rows of the table whose header has these columns, in order, as arrays of cells. */
function tableRows(stdout: string, headers: string): string[][] {
  const lines = stdout.split('\n');
  const header = lines.findIndex((line) => line.split(/ {2,}/).join(' ').startsWith(headers));
  if (header === -1) return [];
  const end = lines.indexOf('', header);
  return lines.slice(header + 1, end === -1 ? undefined : end).map((line) => line.split(/ {2,}/));
}

/** A service in each environment, with one pending connection each. */
function seedConnections() {
  const seeded = [
    { account: A, region: 'eu-west-1', owner: ACME },
    { account: A, region: 'us-east-1', owner: MALLORY },
    { account: B, region: 'eu-west-1', owner: GLOBEX },
  ].map(({ account, region, owner }) => {
    const ec2 = ec2Of(account, region);
    const serviceId = ec2.addService();
    const endpointId = ec2.addConnection({ serviceId, owner });
    return { account, region, owner, serviceId, endpointId };
  });
  return seeded;
}

test('status --fleet: one table of every environment, decided by the home’s policy, read once', async () => {
  const [acme, mallory, globex] = seedConnections();

  const result = await run([
    'status',
    '--fleet',
    cdkJson,
    '--profile',
    `${A}=prod`,
    '--profile',
    `${B}=partner`,
  ]);

  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toContain(`Policy: ${HOME_ARN} version 1 (mode enforce,`);
  expect(tableRows(result.stdout, 'ACCOUNT REGION SERVICE ACCEPTANCE')).toEqual([
    [A, 'eu-west-1', acme!.serviceId, 'required', '0'],
    [A, 'us-east-1', mallory!.serviceId, 'required', '0'],
    [B, 'eu-west-1', globex!.serviceId, 'required', '0'],
  ]);
  const connections = tableRows(result.stdout, 'ACCOUNT REGION SERVICE ENDPOINT');
  expect(connections).toEqual([
    [
      A,
      'eu-west-1',
      acme!.serviceId,
      acme!.endpointId,
      ACME,
      'eu-west-1',
      'pendingAcceptance',
      'keep',
      'allowed by rule acme',
    ],
    [
      A,
      'us-east-1',
      mallory!.serviceId,
      mallory!.endpointId,
      MALLORY,
      'us-east-1',
      'pendingAcceptance',
      'reject',
      `account ${MALLORY} is on the deny list`,
    ],
    [
      B,
      'eu-west-1',
      globex!.serviceId,
      globex!.endpointId,
      GLOBEX,
      'eu-west-1',
      'pendingAcceptance',
      'accept',
      'allowed by rule globex, which accepts',
    ],
  ]);
  // The policy: one read, in the home's Region and account, whichever environment is shown.
  const reads = ssm.calls.filter((c) => c.action === 'GetParameter');
  expect(reads.map((c) => [c.region, c.account])).toEqual([['eu-west-1', A]]);
  expect(result.awsOptions[0]).toEqual({
    region: 'eu-west-1',
    profile: 'prod',
    ssmRegion: 'eu-west-1',
  });
  // Each environment's EC2 was asked about its own services only.
  for (const e of environments) expect(e.ec2.count('DescribeVpcEndpointConnections')).toBe(1);
});

test('status in several Regions of several profiles: the account comes from the credentials', async () => {
  seedConnections();

  const result = await run([
    'status',
    '--region',
    'eu-west-1,us-east-1',
    '--profile',
    'prod',
    '--profile',
    'partner',
  ]);

  // partner has no guard in us-east-1: nothing answers there, and the others are still shown.
  expect(result.code).toBe(1);
  expect(
    tableRows(result.stdout, 'ACCOUNT REGION SERVICE ACCEPTANCE').map((row) => row.slice(0, 2)),
  ).toEqual([
    [A, 'eu-west-1'],
    [A, 'us-east-1'],
    [B, 'eu-west-1'],
  ]);
  expect(result.stderr).toMatch(
    new RegExp(`^error: 1 of 4 environments could not be read:\\n  ${B} us-east-1: `),
  );
});

test('reconcile --fleet acts in every environment, and one environment’s failure leaves the others done', async () => {
  const [acme, mallory, globex] = seedConnections();
  ec2Of(B, 'eu-west-1').failNext('DescribeVpcEndpointConnections', {
    code: 'UnauthorizedOperation',
    message: 'You are not authorized to perform this operation.',
    status: 403,
  });

  const result = await run([
    'reconcile',
    '--fleet',
    cdkJson,
    '--profile',
    `${A}=prod`,
    '--profile',
    `${B}=partner`,
  ]);

  expect(result.code).toBe(1);
  expect(tableRows(result.stdout, 'ACCOUNT REGION SERVICE ENDPOINT')).toEqual([
    [
      A,
      'eu-west-1',
      acme!.serviceId,
      acme!.endpointId,
      ACME,
      'eu-west-1',
      'keep',
      'left as is',
      'allowed by rule acme',
    ],
    [
      A,
      'us-east-1',
      mallory!.serviceId,
      mallory!.endpointId,
      MALLORY,
      'us-east-1',
      'reject',
      'rejected',
      `account ${MALLORY} is on the deny list`,
    ],
  ]);
  expect(tableRows(result.stdout, 'ACCOUNT REGION SERVICES')).toEqual([
    [A, 'eu-west-1', '1', '1', '0', '0', '1', '0'],
    [A, 'us-east-1', '1', '1', '1', '0', '0', '0'],
  ]);
  expect(result.stderr).toContain(
    `${B} eu-west-1: could not read the connections: nothing was decided: UnauthorizedOperation: You are not authorized to perform this operation.`,
  );
  expect(ec2Of(A, 'us-east-1').connection(mallory!.endpointId)?.VpcEndpointState).toBe('rejected');
  expect(ec2Of(B, 'eu-west-1').connection(globex!.endpointId)?.VpcEndpointState).toBe(
    'pendingAcceptance',
  );
});

test('policy push writes the home parameter once, from a profile and Region of anywhere', async () => {
  const file = path.join(dir, 'policy.json');
  fs.writeFileSync(
    file,
    `${JSON.stringify(enforcePolicy({ deny: [MALLORY, STRANGER] }), null, 2)}\n`,
  );

  const result = await run([
    'policy',
    'push',
    file,
    '--name',
    HOME_ARN,
    '--profile',
    'prod',
    '--region',
    'us-east-1',
    '--yes',
  ]);

  expect(result).toMatchObject({ code: 0, stderr: '' });
  const writes = ssm.calls.filter((c) => c.action === 'PutParameter');
  expect(writes.map((c) => [c.region, c.account])).toEqual([['eu-west-1', A]]);
  expect(JSON.parse(ssm.parameter(NAME, { region: 'eu-west-1', account: A })!.value).deny).toEqual([
    MALLORY,
    STRANGER,
  ]);
  expect(ssm.parameterNames({ region: 'us-east-1', account: A })).toEqual([]);
});

test.each([
  [
    ['status', '--profile', `${A}=prod`],
    `error: --profile: "${A}=prod": <account>=<profile> is for --fleet`,
  ],
  [['status', '--region', 'ireland'], 'error: --region: "ireland" is not a Region name'],
  [
    ['reconcile', '--fleet', 'cdk.json', '--region', 'eu-west-1'],
    'error: --region: --fleet takes the Regions of vpce-guard:environments',
  ],
])('%j is a usage error', async (argv, line) => {
  const result = await run(argv);
  expect(result).toMatchObject({ code: 2, stdout: '' });
  expect(result.stderr).toBe(`${line} (see vpce-guard ${argv[0]} --help)\n`);
});

test.each([
  [[`${A}=prod`], `no profile for account ${B} of the fleet`],
  [[], `no profile for account ${A}, ${B} of the fleet`],
  [['prod'], 'one profile reads one account'],
])(
  '--fleet of two accounts with --profile %j is a usage error: one set of credentials reads one account',
  async (profiles, message) => {
    const argv = ['reconcile', '--fleet', cdkJson, ...profiles.flatMap((p) => ['--profile', p])];
    const result = await run(argv);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain(
      `give <account>=<profile> for each of its accounts (${A}, ${B})`,
    );
    for (const e of environments) expect(e.ec2.calls).toEqual([]);
  },
);

test('--fleet: an environment whose profile signs in to another account fails, unread; the others run', async () => {
  const [acme, , globex] = seedConnections();

  const result = await run([
    'status',
    '--fleet',
    cdkJson,
    '--profile',
    `${A}=prod`,
    '--profile',
    `${B}=prod`,
  ]);

  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    `${B} eu-west-1: profile prod signs in to account ${A}, not ${B}: nothing was read there (give --profile ${B}=<profile>)`,
  );
  const rows = tableRows(result.stdout, 'ACCOUNT REGION SERVICE ACCEPTANCE');
  expect(rows.map((r) => [r[0], r[2]])).toEqual([
    [A, acme!.serviceId],
    [A, expect.any(String)],
  ]);
  expect(result.stdout).not.toContain(globex!.serviceId);
  // Account A's EC2 in eu-west-1 was read once, for A: never again under B's name.
  expect(ec2Of(A, 'eu-west-1').count('DescribeVpcEndpointConnections')).toBe(1);
});

test('--fleet: the policy is not read with credentials of another account than the home', async () => {
  seedConnections();
  // The home's profile signs in to B: a plain --name would read B's parameter as the fleet's.
  const result = await run([
    'reconcile',
    '--fleet',
    cdkJson,
    '--name',
    NAME,
    '--profile',
    `${A}=partner`,
    '--profile',
    `${B}=partner`,
  ]);
  expect(result).toMatchObject({ code: 1, stdout: '' });
  expect(result.stderr).toContain(
    `profile partner signs in to account ${B}, not ${A}: nothing was read there`,
  );
  expect(ssm.calls.filter((c) => c.action === 'GetParameter')).toEqual([]);
  for (const e of environments) expect(e.ec2.calls).toEqual([]);
});

test('--fleet names the file and the key of a bad environment list', async () => {
  fs.writeFileSync(
    cdkJson,
    JSON.stringify({ context: { 'vpce-guard:environments': `${A}/mars` } }),
  );
  const result = await run(['status', '--fleet', cdkJson]);
  expect(result).toMatchObject({ code: 1, stdout: '' });
  expect(result.stderr).toContain(
    `${cdkJson}: vpce-guard:environments[0].region: "mars" is not a Region name`,
  );
});
