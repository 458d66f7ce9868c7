/**
 * What a command may touch of the outside world, passed in so that tests run the CLI
 * in-process against local fakes with their own argv, environment, streams and clock.
 */
import { type AwsClients, type AwsOptions, createAwsClients } from './aws';

export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export type Input = NodeJS.ReadableStream & { readonly isTTY?: boolean };

export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Answers to confirmation prompts; only read when it is a terminal. */
  readonly stdin: Input;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  /** Builds the AWS clients of one command; tests point them at local fakes. */
  readonly aws: (options: AwsOptions) => AwsClients;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    now: () => new Date(),
    aws: createAwsClients,
  };
}
