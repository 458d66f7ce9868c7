/**
 * The CLI's outside world for an in-process run: captured output, a scripted stdin, a fixed
 * environment and clock, and AWS clients of the real SDK pointed at the local fakes.
 * Used by the CLI's tests and by the demo, which pushes its policy edit with the CLI.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { PassThrough } from 'node:stream';
import { type AwsClients, type AwsOptions, awsClients } from '../cli/aws';
import type { CliIo, Input, Output } from '../cli/io';
import { main } from '../cli/main';
import type { AwsFakes } from './fakes';

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
 * passes it, and the SSM client's own Region (a --name ARN's) to it: the SSM fake keeps one
 * store per Region and account, and signs tell them apart. `--profile` is recorded, not used;
 * `accessKeyId` (default "fake": the SSM fake's default account) picks the caller's account.
 */
export function fakeAwsClients(fakes: AwsFakes, seen: AwsOptions[] = [], accessKeyId = 'fake') {
  return (options: AwsOptions): AwsClients => {
    seen.push(options);
    const config = {
      region: options.region ?? fakes.region,
      credentials: { accessKeyId, secretAccessKey: 'fake' },
      maxAttempts: 1,
    };
    return awsClients(
      new EC2Client({ ...config, endpoint: fakes.ec2.url }),
      new SSMClient({
        ...config,
        ...(options.ssmRegion ? { region: options.ssmRegion } : {}),
        endpoint: fakes.ssm.url,
      }),
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
    aws: fakeAwsClients(fakes, awsOptions),
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text, awsOptions };
}
