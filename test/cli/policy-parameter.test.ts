/** `policy pull` and `policy push` against the fake SSM, through the real SDK. */
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { fakeAwsClients, runCli, scriptedStdin } from '../../local-aws/cli';
import { enforcePolicy, freshFakesPerTest, MALLORY, writePolicy } from './fixtures';

const NAME = '/vpce-guard/policy';

const ctx = freshFakesPerTest();

const text = (policy: object) => `${JSON.stringify(policy, null, 2)}\n`;
/** The SSM calls made, by action, so a test can say "nothing was written". */
const ssmActions = () => ctx.fakes.ssm.calls.map((c) => c.action);

describe('policy pull', () => {
  test('prints the live policy as stored', async () => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()));

    const run = await runCli(['policy', 'pull'], ctx.fakes);

    expect(run).toMatchObject({ code: 0, stdout: text(enforcePolicy()), stderr: '' });
  });

  test('decrypts a SecureString and reads the parameter --name names, with --region and --profile', async () => {
    ctx.fakes.ssm.setParameter('/team/policy', '{"version":1}', 'SecureString');

    const run = await runCli(
      ['policy', 'pull', '--name', '/team/policy', '--region', 'eu-west-1', '--profile', 'ops'],
      ctx.fakes,
    );

    expect(run.stdout).toBe('{"version":1}\n');
    expect(run.awsOptions).toEqual([{ region: 'eu-west-1', profile: 'ops' }]);
  });

  test('a missing parameter is one line and exit 1', async () => {
    const run = await runCli(['policy', 'pull'], ctx.fakes);

    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `error: SSM parameter ${NAME} does not exist in this account and Region (deploy the stack, or run vpce-guard policy push)\n`,
    });
  });

  test('an invalid live policy is printed all the same, with its errors as a warning', async () => {
    ctx.fakes.ssm.setParameter(NAME, '{"version": 2}');

    const run = await runCli(['policy', 'pull'], ctx.fakes);

    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"version": 2}\n');
    expect(run.stderr).toMatch(
      new RegExp(
        `^warning: version 1 of ${NAME} is not a valid policy \\(3 errors\\)\\n  version: 2 is not a supported version`,
      ),
    );
  });

  test('an AWS error is one line with its code and exit 1', async () => {
    ctx.fakes.ssm.failNext('GetParameter', {
      code: 'AccessDeniedException',
      message:
        'User: arn:aws:iam::000000000000:user/ops is not authorized to perform: ssm:GetParameter',
    });

    const run = await runCli(['policy', 'pull'], ctx.fakes);

    expect(run).toMatchObject({
      code: 1,
      stderr:
        'error: AccessDeniedException: User: arn:aws:iam::000000000000:user/ops is not authorized to perform: ssm:GetParameter\n',
    });
  });
});

describe('policy push', () => {
  test('shows the diff against the live policy and overwrites it with --yes', async () => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()));
    const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy({ defaultAction: 'keep' }));

    const run = await runCli(['policy', 'push', file, '--yes'], ctx.fakes);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        `--- ${NAME} (live, version 1)`,
        `+++ ${file}`,
        '@@ -1,7 +1,7 @@',
        ' {',
        '   "version": 1,',
        '   "mode": "enforce",',
        '-  "defaultAction": "reject",',
        '+  "defaultAction": "keep",',
        '   "deny": [',
        `     "${MALLORY}"`,
        '   ],',
        '',
        `Overwrite ${NAME} in eu-west-1: String, Standard tier, ${Buffer.byteLength(fs.readFileSync(file))} bytes.`,
        `Pushed ${file} to ${NAME}: version 2, Standard tier. The guard applies it within seconds.`,
        '',
      ].join('\n'),
    );
    expect(ctx.fakes.ssm.parameter(NAME)).toMatchObject({
      value: fs.readFileSync(file, 'utf8'),
      version: 2,
      type: 'String',
      tier: 'Standard',
    });
    expect(ctx.fakes.ssm.calls.find((c) => c.action === 'PutParameter')?.params).toMatchObject({
      Overwrite: true,
      Tier: 'Standard',
    });
  });

  test('never pushes an invalid policy: exit 1 with its JSON paths, and no AWS call', async () => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()));
    const file = writePolicy(
      ctx.dir,
      'bad.json',
      enforcePolicy({ deny: ['12345'], mode: 'audit' }),
    );

    const run = await runCli(['policy', 'push', file, '--yes'], ctx.fakes);

    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: [
        `error: ${file} is not a valid policy (2 errors)`,
        '  mode: "audit" is not one of "enforce", "dryRun"',
        '  deny[0]: "12345" is not a 12-digit account ID or account root ARN',
        '',
      ].join('\n'),
    });
    expect(ssmActions()).toEqual([]);
    expect(ctx.fakes.ssm.parameter(NAME)?.version).toBe(1);
  });

  test('creates a missing parameter as a String, with a diff from nothing', async () => {
    const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy());

    const run = await runCli(['policy', 'push', file, '--yes'], ctx.fakes);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `--- ${NAME} (does not exist yet)\n+++ ${file}\n@@ -0,0 +1,26 @@\n+{\n`,
    );
    expect(run.stdout).toContain(`Create ${NAME} in eu-west-1: String, Standard tier`);
    expect(ctx.fakes.ssm.parameter(NAME)).toMatchObject({ version: 1, type: 'String' });
  });

  test('a policy over 4096 bytes goes to the Advanced tier, and stays there when it shrinks', async () => {
    const big = writePolicy(ctx.dir, 'big.json', enforcePolicy({ rules: manyRules(60) }));
    const bytes = fs.statSync(big).size;
    expect(bytes).toBeGreaterThan(4096);
    expect(bytes).toBeLessThanOrEqual(8192);
    const small = writePolicy(ctx.dir, 'small.json', enforcePolicy());

    const first = await runCli(['policy', 'push', big, '--yes'], ctx.fakes);
    const second = await runCli(['policy', 'push', small, '--yes'], ctx.fakes);

    expect(first.stdout).toContain(`Advanced tier, ${bytes} bytes`);
    // SSM refuses to move a parameter back from Advanced to Standard.
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(second.stdout).toContain(
      'Overwrite /vpce-guard/policy in eu-west-1: String, Advanced tier',
    );
    expect(ctx.fakes.ssm.parameter(NAME)).toMatchObject({ tier: 'Advanced', version: 2 });
  });

  test('refuses a policy over 8192 bytes before any AWS call', async () => {
    const file = writePolicy(ctx.dir, 'huge.json', enforcePolicy({ rules: manyRules(130) }));

    const run = await runCli(['policy', 'push', file, '--yes'], ctx.fakes);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: the policy is ${fs.statSync(file).size} bytes; an SSM parameter holds at most 8192 (Advanced tier): shorten it (descriptions, rules that could be merged)\n`,
    );
    expect(ssmActions()).toEqual([]);
  });

  test('keeps the type and customer-managed KMS key of a SecureString', async () => {
    const { ssm, destroy } = fakeAwsClients(ctx.fakes)({});
    await ssm.send(
      new PutParameterCommand({
        Name: NAME,
        Value: text(enforcePolicy()),
        Type: 'SecureString',
        KeyId: 'alias/vpce-guard-policy',
      }),
    );
    destroy();
    const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy({ revoke: true }));

    const run = await runCli(['policy', 'push', file, '--yes'], ctx.fakes);

    expect(run.stdout).toContain(`Overwrite ${NAME} in eu-west-1: SecureString, Standard tier`);
    expect(ctx.fakes.ssm.parameter(NAME)).toMatchObject({
      type: 'SecureString',
      keyId: 'alias/vpce-guard-policy',
      version: 2,
    });
  });

  test('the same policy again is no change, and nothing is written', async () => {
    const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy());
    ctx.fakes.ssm.setParameter(NAME, fs.readFileSync(file, 'utf8'));

    const run = await runCli(['policy', 'push', file, '--yes'], ctx.fakes);

    expect(run).toMatchObject({
      code: 0,
      stdout: `No change: ${NAME} (version 1) already holds ${file}.\n`,
    });
    expect(ssmActions()).toEqual(['GetParameter']);
  });

  test('without a terminal and without --yes it shows the diff but refuses, exit 2', async () => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()));
    const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy({ revoke: true }));

    const run = await runCli(['policy', 'push', file], ctx.fakes, {
      stdin: scriptedStdin(['y'], false),
    });

    expect(run.code).toBe(2);
    expect(run.stdout).toContain('+  "revoke": true');
    expect(run.stderr).toBe(
      'error: not pushed: stdin is not a terminal, so nothing can confirm; pass --yes to push (see vpce-guard policy push --help)\n',
    );
    expect(ssmActions()).not.toContain('PutParameter');
  });

  test('on a terminal it asks, and pushes on "y"', async () => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()));
    const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy({ revoke: true }));

    const run = await runCli(['policy', 'push', file], ctx.fakes, {
      stdin: scriptedStdin(['y'], true),
    });

    expect(run).toMatchObject({ code: 0, stderr: 'Push this policy? [y/N] ' });
    expect(ctx.fakes.ssm.parameter(NAME)?.version).toBe(2);
  });

  test.each([['n'], [''], ['maybe']])(
    'on a terminal, answer %j pushes nothing, exit 1',
    async (answer) => {
      ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()));
      const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy({ revoke: true }));

      const run = await runCli(['policy', 'push', file], ctx.fakes, {
        stdin: scriptedStdin([answer], true),
      });

      expect(run).toMatchObject({ code: 1, stderr: 'Push this policy? [y/N] Not pushed.\n' });
      expect(ctx.fakes.ssm.parameter(NAME)?.version).toBe(1);
    },
  );

  test('refuses when the live policy changed while the diff was on screen', async () => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()));
    const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy({ revoke: true }));
    // A colleague pushes while the operator reads the diff, just before the answer comes.
    const stdin = Object.assign(
      new Readable({
        read() {
          ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy({ defaultAction: 'keep' })));
          this.push('y\n');
          this.push(null);
        },
      }),
      { isTTY: true },
    );

    const run = await runCli(['policy', 'push', file], ctx.fakes, { stdin });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `error: not pushed: ${NAME} changed while you were reviewing (version 1 → 2); run push again to see the new diff`,
    );
    expect(ctx.fakes.ssm.parameter(NAME)?.value).toContain('"defaultAction": "keep"');
  });

  test('colours the diff on a terminal, not in a pipe or with NO_COLOR', async () => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()));
    const file = writePolicy(ctx.dir, 'policy.json', enforcePolicy({ revoke: true }));
    const push = (env: NodeJS.ProcessEnv) =>
      runCli(['policy', 'push', file, '--yes', '--name', '/other'], ctx.fakes, { tty: true, env });

    expect((await push({ AWS_REGION: 'eu-west-1' })).stdout).toContain('\u001b[32m+');
    expect((await push({ AWS_REGION: 'eu-west-1', NO_COLOR: '1' })).stdout).not.toContain(
      '\u001b[',
    );
  });
});

describe('policy push to a parameter named by its ARN', () => {
  const HOME = '111111111111';
  const SHARED = (region = 'eu-west-1') =>
    `arn:aws:ssm:${region}:${HOME}:parameter/vpce-guard/policy`;
  /** The CLI run by a caller of the fakes' own account (not HOME), or of `account`. */
  const as = (account?: string) => {
    if (account) ctx.fakes.ssm.addAccessKey(`key-${account}`, account);
    return { aws: fakeAwsClients(ctx.fakes, [], account ? `key-${account}` : 'fake') };
  };
  const pushTo = (arn: string, options: ReturnType<typeof as>) =>
    runCli(
      [
        'policy',
        'push',
        writePolicy(ctx.dir, 'policy.json', enforcePolicy()),
        '--yes',
        '--name',
        arn,
      ],
      ctx.fakes,
      options,
    );
  const writes = () =>
    ctx.fakes.ssm.calls.filter((c) => c.action === 'PutParameter' || c.action.startsWith('Delete'));

  beforeEach(() => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy({ revoke: true })), 'String', {
      account: HOME,
      region: 'eu-west-1',
      tier: 'Advanced',
    });
    ctx.fakes.ssm.share(NAME, ctx.fakes.accountId, { account: HOME, region: 'eu-west-1' });
  });

  test('refuses another account’s parameter, shared through RAM: exit 2, nothing written anywhere', async () => {
    const run = await pushTo(SHARED(), as());

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `error: --name: ${SHARED()} is no parameter of the account these credentials are in (it has none with that ARN in eu-west-1): a parameter another account shares through AWS RAM is read-only from here, so run the push with the credentials of account ${HOME} (its --profile), naming the parameter by name; a new parameter is created by name, with --region (see vpce-guard policy push --help)\n`,
    );
    expect(writes()).toEqual([]);
    expect(ctx.fakes.ssm.parameter(NAME)).toBeUndefined();
    expect(ctx.fakes.ssm.parameter(NAME, { account: HOME, region: 'eu-west-1' })?.value).toBe(
      text(enforcePolicy({ revoke: true })),
    );
  });

  test('refuses it too when this account has a parameter of the same name', async () => {
    ctx.fakes.ssm.setParameter(NAME, text(enforcePolicy()), 'String', { region: 'eu-west-1' });

    const run = await pushTo(SHARED(), as());

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `(its ${NAME} is ${ctx.fakes.ssm.arnOf(NAME, { region: 'eu-west-1' })})`,
    );
    expect(writes()).toEqual([]);
  });

  test('writes its own account’s parameter by its ARN, in the ARN’s Region', async () => {
    const run = await pushTo(SHARED(), as(HOME));

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Overwrite ${NAME} in eu-west-1`);
    expect(ctx.fakes.ssm.parameter(NAME, { account: HOME, region: 'eu-west-1' })?.value).toBe(
      text(enforcePolicy()),
    );
  });

  test('refuses to create a parameter through an ARN: name it by name', async () => {
    const run = await pushTo(SHARED('us-east-1'), as(HOME));

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('(it has none with that ARN in us-east-1)');
    expect(writes()).toEqual([]);
  });
});

/** Enough rules to make a policy of about 70 bytes a rule when pretty-printed. */
function manyRules(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `partner-${i}`,
    principals: [String(100000000000 + i)],
  }));
}
