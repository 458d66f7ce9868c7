/**
 * The AWS clients of the CLI, configured by the standard chain: `--region` and `--profile`
 * when given, else the SDK's own sources (AWS_REGION, AWS_PROFILE, ~/.aws/config and
 * credentials, SSO, instance roles …).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { EC2_MAX_ATTEMPTS } from '../core/ec2';

export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
}

export interface AwsClients {
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  /** Closes the clients' sockets, so the process can exit. */
  destroy(): void;
}

export function createAwsClients(options: AwsOptions): AwsClients {
  // An absent setting is left to the SDK's chain.
  return awsClients(
    new EC2Client({ ...options, maxAttempts: EC2_MAX_ATTEMPTS }),
    new SSMClient({ ...options }),
  );
}

/** The pair of clients a command uses, closed together. */
export function awsClients(ec2: EC2Client, ssm: SSMClient): AwsClients {
  return {
    ec2,
    ssm,
    destroy: () => {
      ec2.destroy();
      ssm.destroy();
    },
  };
}

/** The Region the clients call, as the SDK resolved it (throws `Region is missing`). */
export function regionOf(clients: AwsClients): Promise<string> {
  return clients.ec2.config.region();
}

/**
 * Runs `work` with fresh clients and closes them after, whatever happens. `options` may be a
 * command's parsed values: only --region and --profile are taken.
 */
export async function withAwsClients<T>(
  create: (options: AwsOptions) => AwsClients,
  { region, profile }: AwsOptions,
  work: (clients: AwsClients) => Promise<T>,
): Promise<T> {
  const clients = create({ ...(region ? { region } : {}), ...(profile ? { profile } : {}) });
  try {
    return await work(clients);
  } finally {
    clients.destroy();
  }
}
