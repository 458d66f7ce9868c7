/**
 * The real `vpce-guard` command, built as the package ships it (package.json "bin": one
 * bundled file, scripts/build.ts), in a child process, with the SDK's own credential chain: a
 * profile from AWS_CONFIG_FILE, endpoints from the environment, the local fakes behind them.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';
import { buildCli } from '../../scripts/build';
import { ACME, enforcePolicy, MALLORY, policyDir, SERVICE, writePolicy } from './fixtures';

let cli: string;
let fakes: AwsFakes;
let home: string;

beforeAll(async () => {
  fakes = await startAwsFakes({ region: 'eu-west-1' });
  home = policyDir();
  cli = await buildCli(path.join(home, 'vpce-guard.mjs'));
  fs.writeFileSync(path.join(home, 'config'), '[profile ops]\nregion = ap-southeast-2\n');
  fs.writeFileSync(
    path.join(home, 'credentials'),
    '[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = ops-secret\n',
  );
});

afterAll(async () => {
  await fakes.close();
  fs.rmSync(home, { recursive: true, force: true });
});

/** Runs the command with only the fakes' endpoints and a private HOME: no keys, no Region. */
function vpceGuard(...args: string[]) {
  return vpceGuardWith({}, ...args);
}

/** The same, with `extra` in its environment. */
async function vpceGuardWith(extra: Record<string, string>, ...args: string[]) {
  const { AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_SSM } = fakes.env();
  const env = {
    ...extra,
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
    AWS_ENDPOINT_URL_EC2,
    AWS_ENDPOINT_URL_SSM,
    // The SDK's notice that it will need Node 22 in 2027 is not what these tests read.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  try {
    // Run as the shell runs it: by its #! line, with node from PATH.
    const { stdout, stderr } = await promisify(execFile)(cli, args, { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

test('--profile takes the Region and credentials from the profile, as the SDK’s chain does', async () => {
  const serviceId = fakes.ec2.addService();
  const acme = fakes.ec2.addConnection({ serviceId, owner: ACME });
  // The SSM fake keeps a store per Region: the policy is where the profile's Region points.
  fakes.ssm.setParameter('/vpce-guard/policy', JSON.stringify(enforcePolicy()), 'String', {
    region: 'ap-southeast-2',
  });

  const run = await vpceGuard('status', '--profile', 'ops', '--service', serviceId);

  expect(run).toMatchObject({ code: 0, stderr: '' });
  // A same-Region consumer is in the profile's Region, where acme is not allowed.
  expect(run.stdout).toMatch(
    new RegExp(`^${acme} +${ACME} +ap-southeast-2 +pendingAcceptance +reject `, 'm'),
  );
});

test('without a Region anywhere, an AWS command says where to set one, exit 1', async () => {
  const run = await vpceGuard('policy', 'pull');

  expect(run).toMatchObject({
    code: 1,
    stdout: '',
    stderr:
      'error: no AWS Region: pass --region, set AWS_REGION (the AWS SDK ignores AWS_DEFAULT_REGION), or set a region in your AWS profile\n',
  });
});

test('policy explain without an SDK Region says how to read the sets, not to pass --region', async () => {
  // --region is the consumer's Region here, and the SDK ignores AWS_DEFAULT_REGION.
  const dir = policyDir();
  const file = writePolicy(
    dir,
    'sets.json',
    enforcePolicy({ rules: [{ id: 'gold', principalSets: ['gold'] }] }),
  );

  const run = await vpceGuardWith(
    { AWS_DEFAULT_REGION: 'eu-west-1' },
    ...[
      'policy',
      'explain',
      file,
      '--account',
      ACME,
      '--service',
      SERVICE,
      '--region',
      'eu-west-1',
    ],
  );

  expect(run).toMatchObject({
    code: 1,
    stdout: '',
    stderr:
      'error: no AWS Region to read the principal sets from Parameter Store (--region is the consumer’s here): set AWS_REGION (the AWS SDK ignores AWS_DEFAULT_REGION) or a region in your AWS profile, name the policy by its ARN with --name, or give the sets with --set <name>=<file>\n',
  });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an invalid policy is refused with its JSON path, exit 1, and nothing is written', async () => {
  const dir = policyDir();
  const file = writePolicy(dir, 'bad.json', enforcePolicy({ deny: [MALLORY, 'nobody'] }));

  const run = await vpceGuard('policy', 'push', file, '--yes', '--profile', 'ops', '--name', '/p');

  expect(run).toMatchObject({
    code: 1,
    stdout: '',
    stderr: `error: ${file} is not a valid policy (1 error)\n  deny[1]: "nobody" is not a 12-digit account ID or account root ARN\n`,
  });
  expect(fakes.ssm.parameter('/p')).toBeUndefined();
  fs.rmSync(dir, { recursive: true, force: true });
});
