/**
 * The CLI's outside world for an in-process run: captured output, a scripted stdin, a fixed
 * environment and clock, and AWS clients of the real SDK pointed at the local fakes.
 * Used by the CLI's tests and by the demo, which pushes its policy edit with the CLI.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { RAMClient } from '@aws-sdk/client-ram';
import { SSMClient } from '@aws-sdk/client-ssm';
import { PassThrough } from 'node:stream';
import { type AwsClients, type AwsOptions, awsClients } from '../cli/aws';
import type { CliIo, Input, Output } from '../cli/io';
import { main } from '../cli/main';
import type { AwsFakes, FakeEc2 } from './fakes';
import type { FakeRam } from './fakes/ram';
import type { FakeSsm } from './fakes/ssm';

export interface CapturedOutput extends Output {
  readonly text: string;
}

export function captureOutput(isTTY = false): CapturedOutput {
  let text = '';
  return {
    isTTY,
    get text() {
      return text;
    },
    write(chunk: string) {
      text += chunk;
      return true;
    },
  };
}

/** A stdin that is a terminal (or not) and answers with `lines`, then ends. */
export function scriptedStdin(lines: readonly string[], isTTY: boolean): Input {
  const stream = Object.assign(new PassThrough(), { isTTY });
  stream.end(lines.map((line) => `${line}\n`).join(''));
  return stream;
}

/**
 * Clients of the real SDK that talk to the fakes. `--region` reaches the clients as the CLI
 * passes it, and the SSM and RAM clients' own Region (a --name ARN's) to them: the SSM fake
 * keeps one store per Region and account, and signs tell them apart. `--profile` is recorded,
 * not used; `accessKeyId` (default "fake": the SSM fake's default account) picks the caller's
 * account.
 */
export function fakeAwsClients(fakes: AwsFakes, seen: AwsOptions[] = [], accessKeyId = 'fake') {
  return (options: AwsOptions): AwsClients => {
    seen.push(options);
    const config = {
      region: options.region ?? fakes.region,
      credentials: { accessKeyId, secretAccessKey: 'fake' },
      maxAttempts: 1,
    };
    const policyRegion = options.ssmRegion ? { region: options.ssmRegion } : {};
    return awsClients(
      new EC2Client({ ...config, endpoint: fakes.ec2.url }),
      new SSMClient({ ...config, ...policyRegion, endpoint: fakes.ssm.url }),
      new RAMClient({ ...config, ...policyRegion, endpoint: fakes.ram.url }),
    );
  };
}

/** The discard port: a connection there is refused at once. */
const NOTHING_ANSWERS = 'http://127.0.0.1:9';

/** One environment of a fleet of fakes: an account and Region, with its own EC2. */
export interface FakeEnvironment {
  readonly account: string;
  readonly region: string;
  readonly ec2: FakeEc2;
}

/**
 * Clients of the real SDK for a fleet: each `--profile` is an account (`profiles`; no profile:
 * the first environment's account), whose access key tells the SSM fake the caller's account
 * and whose credentials name it (as SSO and assumed roles do); each account and Region has its
 * own EC2 fake. The SSM fake is shared: it keeps one store per account and Region; so is the
 * RAM fake, if given (else RAM calls go where nothing answers).
 */
export function fleetAwsClients(
  ssm: FakeSsm,
  environments: readonly FakeEnvironment[],
  profiles: Readonly<Record<string, string>>,
  ram?: FakeRam,
) {
  for (const account of new Set(environments.map((e) => e.account))) {
    ssm.addAccessKey(`key-${account}`, account);
  }
  return (options: AwsOptions): AwsClients => {
    const account = options.profile ? profiles[options.profile] : environments[0]!.account;
    if (!account) throw new Error(`The config profile (${options.profile}) could not be found`);
    const region = options.region ?? environments[0]!.region;
    const ec2 = environments.find((e) => e.account === account && e.region === region)?.ec2;
    const config = {
      region,
      credentials: { accessKeyId: `key-${account}`, secretAccessKey: 'fake', accountId: account },
      maxAttempts: 1,
    };
    const policyRegion = options.ssmRegion ? { region: options.ssmRegion } : {};
    return awsClients(
      // An environment with no fake is a Region where nothing answers.
      new EC2Client({ ...config, endpoint: ec2?.url ?? NOTHING_ANSWERS }),
      new SSMClient({ ...config, ...policyRegion, endpoint: ssm.url }),
      new RAMClient({ ...config, ...policyRegion, endpoint: ram?.url ?? NOTHING_ANSWERS }),
    );
  };
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The AWS options each command built its clients with. */
  readonly awsOptions: readonly AwsOptions[];
}

export interface CliRunOptions {
  readonly stdin?: Input;
  /** Output streams that claim to be terminals. @default false */
  readonly tty?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: Date;
  /** The clients' factory. @default fakeAwsClients(fakes): one account and Region */
  readonly aws?: (options: AwsOptions) => AwsClients;
}

/** Runs one command line of the CLI in this process against the fakes. */
export async function runCli(
  argv: readonly string[],
  fakes: AwsFakes,
  options: CliRunOptions = {},
): Promise<CliRun> {
  const stdout = captureOutput(options.tty);
  const stderr = captureOutput(options.tty);
  const awsOptions: AwsOptions[] = [];
  const io: CliIo = {
    stdout,
    stderr,
    stdin: options.stdin ?? scriptedStdin([], false),
    env: options.env ?? { AWS_REGION: fakes.region },
    now: () => options.now ?? new Date(),
    aws: options.aws
      ? (clientOptions) => {
          awsOptions.push(clientOptions);
          return options.aws!(clientOptions);
        }
      : fakeAwsClients(fakes, awsOptions),
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text, awsOptions };
}
