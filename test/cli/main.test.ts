/** The CLI's front door: commands, --help everywhere, usage errors, and AWS setup errors. */
import { createAwsClients } from '../../cli/aws';
import { COMMANDS } from '../../cli/main';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';
import { runCli } from '../../local-aws/cli';

let fakes: AwsFakes;

beforeAll(async () => {
  fakes = await startAwsFakes({ region: 'eu-west-1' });
});

afterAll(async () => {
  await fakes.close();
});

test.each([[['--help']], [['-h']]])('%j lists every command, exit 0', async (argv) => {
  const run = await runCli(argv, fakes);

  expect(run).toMatchObject({ code: 0, stderr: '' });
  for (const command of COMMANDS) {
    expect(run.stdout).toContain(`  vpce-guard ${command.usage}\n      ${command.summary}\n`);
  }
  expect(run.stdout).toContain('Exit codes: 0 ok, 1 invalid policy or failure, 2 usage error.');
});

test('policy --help lists the policy commands only', async () => {
  const run = await runCli(['policy', '--help'], fakes);

  expect(run.code).toBe(0);
  expect(run.stdout).toContain('vpce-guard policy push <file>');
  expect(run.stdout).not.toContain('vpce-guard reconcile');
});

test.each(COMMANDS.map((c) => [c.path.join(' '), c] as const))(
  '%s --help prints its usage, options and an example, even among other arguments',
  async (_name, command) => {
    const run = await runCli([...command.path, 'x.json', '--help', '--yes'], fakes);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`^Usage: vpce-guard ${command.path.join(' ')}`));
    expect(run.stdout).toContain('Example:\n  vpce-guard ');
    expect(run.awsOptions).toEqual([]);
  },
);

test.each([
  [[], 'error: missing a command (see vpce-guard --help)'],
  [['polcy'], 'error: unknown command "polcy" (see vpce-guard --help)'],
  [['policy'], 'error: policy needs a command (see vpce-guard policy --help)'],
  [['policy', 'delete'], 'error: unknown command "policy delete" (see vpce-guard policy --help)'],
  [['status', '--regin', 'x'], "error: Unknown option '--regin' (see vpce-guard status --help)"],
  [
    ['policy', 'pull', '--name'],
    "error: Option '--name <value>' argument missing (see vpce-guard policy pull --help)",
  ],
])('%j is a usage error: one line, exit 2', async (argv, line) => {
  const run = await runCli(argv, fakes);

  expect(run).toMatchObject({ code: 2, stdout: '', stderr: `${line}\n` });
});

test('the real clients take --region and --profile as the SDK’s own options', async () => {
  const clients = createAwsClients({ region: 'ap-southeast-2', profile: 'ops' });
  try {
    expect(await clients.ec2.config.region()).toBe('ap-southeast-2');
    expect(await clients.ssm.config.region()).toBe('ap-southeast-2');
    expect(clients.ec2.config.profile).toBe('ops');
    expect(clients.ssm.config.profile).toBe('ops');
    expect(await clients.ec2.config.maxAttempts()).toBe(6);
  } finally {
    clients.destroy();
  }
});
