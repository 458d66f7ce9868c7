/** `vpce-guard status`: EC2's connections, decided by the live policy or a file, changing nothing. */
import { runCli } from '../../local-aws/cli';
import {
  ACME,
  enforcePolicy,
  freshFakesPerTest,
  GLOBEX,
  MALLORY,
  STRANGER,
  writePolicy,
} from './fixtures';

const NAME = '/vpce-guard/policy';

const ctx = freshFakesPerTest();

/** The table rows of one service's section, as arrays of cells. */
function rowsOf(stdout: string, serviceId: string): string[][] {
  const section = stdout.split(`\n${serviceId}: `)[1]?.split('\n\n')[0] ?? '';
  return section
    .split('\n')
    .slice(2) // the counts line and the header
    .filter(Boolean)
    .map((line) => line.split(/ {2,}/));
}

test('lists pending and rejected connections with what the live policy decides for each', async () => {
  const serviceId = ctx.fakes.ec2.addService();
  const acme = ctx.fakes.ec2.addConnection({ serviceId, owner: ACME });
  const mallory = ctx.fakes.ec2.addConnection({ serviceId, owner: MALLORY, region: 'us-east-1' });
  const oldAcme = ctx.fakes.ec2.addConnection({ serviceId, owner: ACME, state: 'rejected' });
  const oldStranger = ctx.fakes.ec2.addConnection({
    serviceId,
    owner: STRANGER,
    state: 'Rejected',
  });
  ctx.fakes.ec2.addConnection({ serviceId, owner: GLOBEX, state: 'available' });
  ctx.fakes.ec2.addConnection({ serviceId, owner: GLOBEX, state: 'deleted' });
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['status'], ctx.fakes);

  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(run.stdout).toContain(
    `Policy: ${NAME} version 1 (mode enforce, default reject, 2 rules, 1 account denied, revoke off)\n`,
  );
  // EC2 spells states either way; the edge normalises them, so they count together.
  expect(run.stdout).toContain(`\n${serviceId}: 2 pendingAcceptance, 2 rejected\n`);
  expect(rowsOf(run.stdout, serviceId)).toEqual([
    [acme, ACME, 'eu-west-1', 'pendingAcceptance', 'keep', 'allowed by rule acme'],
    [
      mallory,
      MALLORY,
      'us-east-1',
      'pendingAcceptance',
      'reject',
      `account ${MALLORY} is on the deny list`,
    ],
    // Rejected connections are decided as the same request today: acme is allowed now.
    [oldAcme, ACME, 'eu-west-1', 'rejected', 'keep', 'allowed by rule acme'],
    [
      oldStranger,
      STRANGER,
      'eu-west-1',
      'rejected',
      'reject',
      `no rule allows account ${STRANGER} on ${serviceId} from eu-west-1; default action is reject`,
    ],
  ]);
  expect(run.stdout).toContain(
    'For a rejected connection, DECISION is what the policy decides for the same request today.',
  );
  expect(ctx.fakes.ec2.count('RejectVpcEndpointConnections')).toBe(0);
  expect(ctx.fakes.ec2.connection(mallory)?.VpcEndpointState).toBe('pendingAcceptance');
});

test('shows available connections too when the policy revokes', async () => {
  const serviceId = ctx.fakes.ec2.addService();
  const stranger = ctx.fakes.ec2.addConnection({ serviceId, owner: STRANGER, state: 'available' });
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy({ revoke: true })));

  const run = await runCli(['status'], ctx.fakes);

  expect(rowsOf(run.stdout, serviceId)).toEqual([
    [
      stranger,
      STRANGER,
      'eu-west-1',
      'available',
      'reject',
      expect.stringContaining('no rule allows'),
    ],
  ]);
});

test('--service limits it to the services named; others are not read', async () => {
  const shown = ctx.fakes.ec2.addService();
  const hidden = ctx.fakes.ec2.addService();
  ctx.fakes.ec2.addConnection({ serviceId: hidden, owner: STRANGER });
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['status', '--service', shown], ctx.fakes);

  expect(run.stdout).toContain(`\n${shown}: no pending or rejected connections\n`);
  expect(run.stdout).not.toContain(hidden);
  // Its posture is read for it alone.
  expect(
    ctx.fakes.ec2.calls
      .filter((c) => c.action === 'DescribeVpcEndpointServiceConfigurations')
      .map((c) => c.params),
  ).toEqual([{ ServiceId: [shown] }]);
});

test("shows each service's posture: acceptance required or automatic, and who may connect", async () => {
  const careful = ctx.fakes.ec2.addService(undefined, {
    allowedPrincipals: [`arn:aws:iam::${ACME}:root`, `arn:aws:iam::${GLOBEX}:root`],
  });
  const open = ctx.fakes.ec2.addService(undefined, {
    acceptanceRequired: false,
    allowedPrincipals: ['*'],
  });
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['status'], ctx.fakes);

  expect(run.stdout).toContain(
    [
      'SERVICE                     ACCEPTANCE    PRINCIPALS',
      `${careful}  required               2`,
      `${open}  automatic   * (everyone)`,
      '',
      'ACCEPTANCE automatic: EC2 accepts every request itself, before the guard can reject it; only a policy that revokes cuts such connections, later.',
    ].join('\n'),
  );
  // One read of the connections for both services.
  expect(ctx.fakes.ec2.count('DescribeVpcEndpointConnections')).toBe(1);
});

test('--policy previews a file on the live connections, without reading the live policy', async () => {
  const serviceId = ctx.fakes.ec2.addService();
  const stranger = ctx.fakes.ec2.addConnection({ serviceId, owner: STRANGER });
  const file = writePolicy(ctx.dir, 'next.json', enforcePolicy({ defaultAction: 'keep' }));

  const run = await runCli(['status', '--policy', file], ctx.fakes);

  expect(run.stdout).toContain(`Policy: ${file} (mode enforce, default keep,`);
  expect(rowsOf(run.stdout, serviceId)).toEqual([
    [
      stranger,
      STRANGER,
      'eu-west-1',
      'pendingAcceptance',
      'keep',
      expect.stringContaining('default action is keep'),
    ],
  ]);
  expect(ctx.fakes.ssm.calls).toEqual([]);
});

test('the Region of same-Region consumers is the one --region names', async () => {
  const serviceId = ctx.fakes.ec2.addService();
  ctx.fakes.ec2.addConnection({ serviceId, owner: ACME });
  // Parameter Store is per Region too: the policy is read where --region points.
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()), 'String', {
    region: 'us-west-2',
  });

  const run = await runCli(['status', '--region', 'us-west-2', '--profile', 'ops'], ctx.fakes);

  expect(run.awsOptions).toEqual([{ region: 'us-west-2', profile: 'ops' }]);
  // acme is allowed from eu-west-1 only: seen from us-west-2, its request is rejected.
  expect(rowsOf(run.stdout, serviceId)[0]).toEqual([
    expect.any(String),
    ACME,
    'us-west-2',
    'pendingAcceptance',
    'reject',
    expect.stringContaining('from us-west-2'),
  ]);
});

test('an invalid live policy is exit 1 with its JSON paths', async () => {
  ctx.fakes.ec2.addService();
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy({ deny: ['999'] })));

  const run = await runCli(['status'], ctx.fakes);

  expect(run).toMatchObject({
    code: 1,
    stdout: '',
    stderr: [
      `error: the live policy in ${NAME} version 1 is not a valid policy (1 error)`,
      '  deny[0]: "999" is not a 12-digit account ID or account root ARN',
      '',
    ].join('\n'),
  });
});

test('a malformed --service is a usage error before any AWS call', async () => {
  const run = await runCli(['status', '--service', 'vpce-123'], ctx.fakes);

  expect(run).toMatchObject({
    code: 2,
    stderr:
      'error: --service: "vpce-123" is not an endpoint service ID (vpce-svc-…) (see vpce-guard status --help)\n',
  });
  expect(run.awsOptions).toEqual([]);
});

test('an account with no endpoint service in the Region is told so, which is often the wrong Region', async () => {
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()), 'String', {
    region: 'eu-central-1',
  });

  const run = await runCli(['status', '--region', 'eu-central-1'], ctx.fakes);

  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(run.stdout).toContain(
    '\nNo endpoint service: this account owns none in eu-central-1 (check --region and --profile).\n',
  );
});
