/** `vpce-guard reconcile`: the guard's reconcile, run by the CLI against the fake EC2. */
import { runCli } from '../../local-aws/cli';
import { ACME, enforcePolicy, GLOBEX, MALLORY, STRANGER, freshFakesPerTest } from './fixtures';

const NAME = '/vpce-guard/policy';

const ctx = freshFakesPerTest();

/** Seeds one service with a request from each kind of account. */
function seed() {
  const serviceId = ctx.fakes.ec2.addService();
  return {
    serviceId,
    acme: ctx.fakes.ec2.addConnection({ serviceId, owner: ACME }),
    globex: ctx.fakes.ec2.addConnection({ serviceId, owner: GLOBEX }),
    mallory: ctx.fakes.ec2.addConnection({ serviceId, owner: MALLORY }),
    stranger: ctx.fakes.ec2.addConnection({ serviceId, owner: STRANGER, region: 'us-east-1' }),
  };
}

const state = (endpointId: string) => ctx.fakes.ec2.connection(endpointId)?.VpcEndpointState;

/** A table's lines after its header, as arrays of cells. */
function tableAfter(stdout: string, heading: string): string[][] {
  const section = stdout.split(`${heading}\n`)[1]?.split('\n\n')[0] ?? '';
  return section
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.trim().split(/ {2,}/));
}

test('rejects and accepts as the policy says, with a table per service and a summary', async () => {
  const { serviceId, acme, globex, mallory, stranger } = seed();
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['reconcile'], ctx.fakes);

  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(tableAfter(run.stdout, `${serviceId}: 4 evaluated`)).toEqual([
    [acme, ACME, 'eu-west-1', 'keep', 'left as is', 'allowed by rule acme'],
    [globex, GLOBEX, 'eu-west-1', 'accept', 'accepted', 'allowed by rule globex, which accepts'],
    [mallory, MALLORY, 'eu-west-1', 'reject', 'rejected', `account ${MALLORY} is on the deny list`],
    [
      stranger,
      STRANGER,
      'us-east-1',
      'reject',
      'rejected',
      `no rule allows account ${STRANGER} on ${serviceId} from us-east-1; default action is reject`,
    ],
  ]);
  expect(run.stdout).toContain(
    [
      'Summary',
      'SERVICES  EVALUATED  REJECTED  ACCEPTED  KEPT  UNSUCCESSFUL',
      '       1          4         2         1     1             0',
      '',
    ].join('\n'),
  );
  expect([acme, globex, mallory, stranger].map(state)).toEqual([
    'pendingAcceptance',
    'available',
    'rejected',
    'rejected',
  ]);
  // Batched as the guard does: one call per action and service.
  expect(ctx.fakes.ec2.count('RejectVpcEndpointConnections')).toBe(1);
  expect(ctx.fakes.ec2.count('AcceptVpcEndpointConnections')).toBe(1);
});

test('--dry-run calls EC2 with DryRun=true and changes nothing', async () => {
  const { serviceId, globex, mallory } = seed();
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['reconcile', '--dry-run', '--service', serviceId], ctx.fakes);

  expect(run.code).toBe(0);
  expect(run.stdout).toContain('(mode dryRun, default reject,');
  expect(tableAfter(run.stdout, `${serviceId}: 4 evaluated`).map((row) => row[4])).toEqual([
    'left as is',
    'would accept',
    'would reject',
    'would reject',
  ]);
  expect(run.stdout).toContain('Summary (dry run: nothing was changed)\n');
  expect(tableAfter(run.stdout, 'Summary (dry run: nothing was changed)')).toEqual([
    ['1', '4', '2', '1', '1', '0'],
  ]);
  expect([globex, mallory].map(state)).toEqual(['pendingAcceptance', 'pendingAcceptance']);
  const changes = ctx.fakes.ec2.calls.filter((c) => c.action !== 'DescribeVpcEndpointConnections');
  expect(changes.map((c) => [c.action, c.error])).toEqual([
    ['RejectVpcEndpointConnections', 'DryRunOperation'],
    ['AcceptVpcEndpointConnections', 'DryRunOperation'],
  ]);
});

test('an Unsuccessful endpoint is reported in the table and on stderr, exit 1', async () => {
  const { serviceId, mallory, stranger } = seed();
  ctx.fakes.ec2.failEndpoint(mallory, { code: 'InvalidState', message: 'The endpoint is busy.' });
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['reconcile'], ctx.fakes);

  expect(run.code).toBe(1);
  expect(tableAfter(run.stdout, `${serviceId}: 4 evaluated`)[2]?.[4]).toBe('failed: InvalidState');
  expect(tableAfter(run.stdout, 'Summary')).toEqual([['1', '4', '1', '1', '1', '1']]);
  expect(run.stderr).toBe(
    [
      "error: 1 failure (not retried; the guard's next sweep tries again):",
      `  ${serviceId}: reject failed for ${mallory}: InvalidState: The endpoint is busy.`,
      '',
    ].join('\n'),
  );
  expect(state(stranger)).toBe('rejected');
});

test('with --service, a service whose connections cannot be read is reported, and the others are reconciled', async () => {
  const broken = ctx.fakes.ec2.addService();
  const { serviceId, mallory } = seed();
  ctx.fakes.ec2.failNext('DescribeVpcEndpointConnections', {
    code: 'RequestLimitExceeded',
    message: 'Request limit exceeded.',
    status: 503,
  });
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['reconcile', '--service', broken, '--service', serviceId], ctx.fakes);

  expect(run.code).toBe(1);
  expect(run.stderr).toContain(
    `  ${broken}: could not read its connections: RequestLimitExceeded: Request limit exceeded.\n`,
  );
  expect(state(mallory)).toBe('rejected');
  expect(run.stdout).toContain(`${serviceId}: 4 evaluated`);
});

test('every service is read in ONE Describe, filtered on state only, as the guard sweeps', async () => {
  const first = seed();
  const second = seed();
  ctx.fakes.ec2.addService();
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['reconcile'], ctx.fakes);

  expect(run.code).toBe(0);
  const reads = ctx.fakes.ec2.calls.filter((c) => c.action === 'DescribeVpcEndpointConnections');
  expect(reads.map((c) => (c.params as { Filter?: unknown }).Filter)).toEqual([
    [{ Name: 'vpc-endpoint-state', Value: ['pendingAcceptance', 'PendingAcceptance'] }],
  ]);
  expect([first.mallory, second.mallory].map(state)).toEqual(['rejected', 'rejected']);
  expect(tableAfter(run.stdout, 'Summary')).toEqual([['3', '8', '4', '2', '2', '0']]);
});

test('a sweep whose read fails decides nothing and says so, exit 1', async () => {
  const { mallory } = seed();
  ctx.fakes.ec2.failNext('DescribeVpcEndpointConnections', {
    code: 'RequestLimitExceeded',
    message: 'Request limit exceeded.',
    status: 503,
  });
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy()));

  const run = await runCli(['reconcile'], ctx.fakes);

  expect(run.code).toBe(1);
  expect(run.stderr).toBe(
    [
      'error: could not read the connections: nothing was decided',
      '  RequestLimitExceeded: Request limit exceeded.',
      '',
    ].join('\n'),
  );
  expect(state(mallory)).toBe('pendingAcceptance');
});

test('an invalid live policy stops it before any EC2 call, exit 1', async () => {
  const { mallory } = seed();
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy({ rules: [{ id: 'x' }] })));

  const run = await runCli(['reconcile'], ctx.fakes);

  expect(run).toMatchObject({
    code: 1,
    stdout: '',
    stderr: [
      `error: the live policy in ${NAME} version 1 is not a valid policy (1 error)`,
      '  rules[0].principals: is required: account IDs, account root ARNs, or "*" (or name principalSets)',
      '',
    ].join('\n'),
  });
  expect(ctx.fakes.ec2.calls).toEqual([]);
  expect(state(mallory)).toBe('pendingAcceptance');
});

test('a long sweep prints a progress line per Describe page after the first', async () => {
  const big = ctx.fakes.ec2.addService();
  const small = ctx.fakes.ec2.addService();
  // More than one Describe page (1,000 connections), all kept: no Reject call to wait for.
  for (let i = 0; i < 1001; i++) ctx.fakes.ec2.addConnection({ serviceId: big, owner: STRANGER });
  ctx.fakes.ssm.setParameter(NAME, JSON.stringify(enforcePolicy({ defaultAction: 'keep' })));

  const run = await runCli(['reconcile'], ctx.fakes);

  expect(run).toMatchObject({ code: 0 });
  expect(run.stderr).toBe('every service (2): page 2 read\n');
  expect(run.stdout).toContain(`\n${small}: no pending connections\n`);
  expect(tableAfter(run.stdout, 'Summary')).toEqual([['2', '1001', '0', '0', '1001', '0']]);
});
