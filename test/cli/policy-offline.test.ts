/** `policy validate` and `policy explain`: the guard's validator and decide(), no AWS. */
import * as fs from 'node:fs';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';
import { runCli } from '../../local-aws/cli';
import {
  ACME,
  enforcePolicy,
  GLOBEX,
  MALLORY,
  policyDir,
  SERVICE,
  STRANGER,
  writePolicy,
} from './fixtures';

let fakes: AwsFakes;
let dir: string;
let valid: string;

beforeAll(async () => {
  // Offline commands must not call AWS: the fakes' call logs prove it.
  fakes = await startAwsFakes({ region: 'eu-west-1' });
  dir = policyDir();
  valid = writePolicy(dir, 'valid.json', enforcePolicy());
});

afterAll(async () => {
  expect(fakes.ssm.calls).toEqual([]);
  expect(fakes.ec2.calls).toEqual([]);
  await fakes.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('policy validate', () => {
  test('a valid policy exits 0 with a one-line summary', async () => {
    const run = await runCli(['policy', 'validate', valid], fakes);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      `${valid}: valid policy (mode enforce, default reject, 2 rules, 1 account denied, revoke off)\n` +
        `  policy: ${fs.statSync(valid).size} bytes: fits the Standard tier (4,096)\n`,
    );
  });

  test('an invalid policy exits 1 listing every error with its JSON path', async () => {
    const file = writePolicy(
      dir,
      'invalid.json',
      enforcePolicy({
        deny: ['12345'],
        rules: [{ id: 'acme', principals: [ACME], expires: '2027-02-31T00:00:00Z', colour: 'red' }],
      }),
    );

    const run = await runCli(['policy', 'validate', file], fakes);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        `error: ${file} is not a valid policy (3 errors)`,
        '  deny[0]: "12345" is not a 12-digit account ID or account root ARN',
        '  rules[0].colour: unknown field (expected one of id, description, services, principals, principalSets, regions, expires, accept)',
        '  rules[0].expires: "2027-02-31T00:00:00Z" is not an RFC 3339 date-time with a time zone, such as "2027-06-30T00:00:00Z"',
        '',
      ].join('\n'),
    );
  });

  test('text that is not JSON names the line and column', async () => {
    const file = writePolicy(dir, 'broken.json', '{\n  "version": 1,\n  oops\n}\n');

    const run = await runCli(['policy', 'validate', file], fakes);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^ {2}\(root\): not valid JSON at line 3, column 3/m);
  });

  test('a missing file is one line and exit 1', async () => {
    const run = await runCli(['policy', 'validate', `${dir}/nope.json`], fakes);

    expect(run).toMatchObject({ code: 1, stderr: `error: ${dir}/nope.json: no such file\n` });
  });

  test.each([
    [[], 'missing <file>'],
    [['a.json', 'b.json'], 'unexpected argument "b.json"'],
    [['a.json', '--strict'], "Unknown option '--strict'"],
  ])('usage error %j exits 2 with a pointer to --help', async (args, message) => {
    const run = await runCli(['policy', 'validate', ...args], fakes);

    expect(run).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `error: ${message} (see vpce-guard policy validate --help)\n`,
    });
  });
});

describe('policy explain', () => {
  const explain = (...args: string[]) =>
    runCli(['policy', 'explain', valid, '--service', SERVICE, ...args], fakes, {
      env: { AWS_REGION: 'eu-west-1' },
    });

  test('shows the decision, the rule that matched and the reason', async () => {
    const run = await explain('--account', MALLORY);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        'Decision: reject',
        'Rule:     deny',
        `Reason:   account ${MALLORY} is on the deny list`,
        `For:      a pendingAcceptance connection from ${MALLORY} in eu-west-1 to ${SERVICE}`,
        '',
      ].join('\n'),
    );
  });

  test('--json gives scripts the same decision as one object', async () => {
    const run = await explain('--account', GLOBEX, '--json');

    expect(JSON.parse(run.stdout)).toEqual({
      action: 'accept',
      rule: 'globex',
      reason: 'allowed by rule globex, which accepts',
      mode: 'enforce',
      account: GLOBEX,
      service: SERVICE,
      region: 'eu-west-1',
      state: 'pendingAcceptance',
    });
  });

  test('--region is the consumer’s Region, and defaults to AWS_REGION', async () => {
    const home = await explain('--account', ACME, '--json');
    const abroad = await explain('--account', ACME, '--region', 'us-east-1', '--json');

    expect(JSON.parse(home.stdout)).toMatchObject({ action: 'keep', rule: 'acme' });
    expect(JSON.parse(abroad.stdout)).toMatchObject({
      action: 'reject',
      rule: 'defaultAction',
      reason: `no rule allows account ${ACME} on ${SERVICE} from us-east-1; default action is reject`,
    });
  });

  test('an available connection is left alone unless the policy revokes', async () => {
    const run = await explain('--account', STRANGER, '--state', 'available');

    expect(run.stdout).toContain('Decision: skip');
    expect(run.stdout).toContain('connection is available and the policy does not revoke');
  });

  test('a dry-run policy says that the guard would only log the decision', async () => {
    const file = writePolicy(dir, 'dry.json', enforcePolicy({ mode: 'dryRun' }));

    const run = await runCli(
      ['policy', 'explain', file, '--service', SERVICE, '--account', STRANGER],
      fakes,
      { env: { AWS_REGION: 'eu-west-1' } },
    );

    expect(run.stdout).toMatch(/^Decision: reject \(mode dryRun: the guard only logs it\)$/m);
  });

  test('an expired rule no longer allows: the clock is the command’s own', async () => {
    const file = writePolicy(
      dir,
      'expiring.json',
      enforcePolicy({
        rules: [{ id: 'trial', principals: [STRANGER], expires: '2026-12-01T00:00:00Z' }],
      }),
    );
    const at = (now: string) =>
      runCli(
        ['policy', 'explain', file, '--service', SERVICE, '--account', STRANGER, '--json'],
        fakes,
        { env: { AWS_REGION: 'eu-west-1' }, now: new Date(now) },
      ).then((run) => JSON.parse(run.stdout) as { action: string; reason: string });

    expect(await at('2026-11-25T12:00:00Z')).toMatchObject({ action: 'keep' });
    expect(await at('2026-12-02T00:00:00Z')).toMatchObject({
      action: 'reject',
      reason:
        'rule trial matched but expired at 2026-12-01T00:00:00.000Z; default action is reject',
    });
  });

  test.each([
    [['--account', ACME], '--service is required'],
    [['--service', SERVICE], '--account is required'],
    [
      ['--service', SERVICE, '--account', '12345'],
      '--account: "12345" is not a 12-digit account ID',
    ],
    [
      ['--service', 'svc-1', '--account', ACME],
      '--service: "svc-1" is not an endpoint service ID (vpce-svc-…)',
    ],
    [
      ['--service', SERVICE, '--account', ACME, '--state', 'rejected'],
      '--state: "rejected" is not one of pendingAcceptance, available',
    ],
  ])('usage error %j exits 2', async (args, message) => {
    const run = await runCli(['policy', 'explain', valid, ...args], fakes, {
      env: { AWS_REGION: 'eu-west-1' },
    });

    expect(run).toMatchObject({
      code: 2,
      stderr: `error: ${message} (see vpce-guard policy explain --help)\n`,
    });
  });

  test('without --region or AWS_REGION the consumer’s Region must be given', async () => {
    const run = await runCli(
      ['policy', 'explain', valid, '--service', SERVICE, '--account', ACME],
      fakes,
      { env: {} },
    );

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--region is required when AWS_REGION is not set');
  });
});
