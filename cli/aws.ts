/**
 * The AWS clients of the CLI, configured by the standard chain: `--region` and `--profile`
 * when given, else the SDK's own sources (AWS_REGION, AWS_PROFILE, ~/.aws/config and
 * credentials, SSO, instance roles …).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { RAMClient } from '@aws-sdk/client-ram';
import { SSMClient } from '@aws-sdk/client-ssm';
import { EC2_MAX_ATTEMPTS } from '../core/ec2';
import { retrySettings } from '../core/sdk-deadline';
import { parameterRegion } from '../core/policy-parameter';

export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
  /**
   * The SSM and RAM clients' Region, when the policy is named by the ARN of a parameter in
   * another Region (SSM does not route by the Region in an ARN, and a RAM share holds the
   * resources of its own Region); absent: `region`.
   */
  readonly ssmRegion?: string;
}

export interface AwsClients {
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  /** In the policy's Region, where its RAM share is (principal sets across accounts). */
  readonly ram: RAMClient;
  /** Closes the clients' sockets, so the process can exit. */
  destroy(): void;
}

export function createAwsClients({ ssmRegion, ...options }: AwsOptions): AwsClients {
  // An absent setting is left to the SDK's chain.
  const policyRegion = ssmRegion ? { region: ssmRegion } : {};
  return awsClients(
    // The guard's own EC2 retry settings, without its deadline: an operator can wait.
    new EC2Client({ ...options, ...retrySettings(EC2_MAX_ATTEMPTS) }),
    new SSMClient({ ...options, ...policyRegion }),
    new RAMClient({ ...options, ...policyRegion }),
  );
}

/** The clients a command uses, closed together. */
export function awsClients(ec2: EC2Client, ssm: SSMClient, ram: RAMClient): AwsClients {
  return {
    ec2,
    ssm,
    ram,
    destroy: () => {
      ec2.destroy();
      ssm.destroy();
      ram.destroy();
    },
  };
}

/** The Region the clients call, as the SDK resolved it (throws `Region is missing`). */
export function regionOf(clients: AwsClients): Promise<string> {
  return clients.ec2.config.region();
}

/**
 * Runs `work` with fresh clients and closes them after, whatever happens. `options` may be a
 * command's parsed values: only --region, --profile and --name are taken; the SSM client calls
 * the Region of a --name given as an ARN.
 */
export async function withAwsClients<T>(
  create: (options: AwsOptions) => AwsClients,
  { region, profile, name }: AwsOptions & { readonly name?: string },
  work: (clients: AwsClients) => Promise<T>,
): Promise<T> {
  const ssmRegion = name === undefined ? undefined : parameterRegion(name).region;
  const clients = create({
    ...(region ? { region } : {}),
    ...(profile ? { profile } : {}),
    ...(ssmRegion ? { ssmRegion } : {}),
  });
  try {
    return await work(clients);
  } finally {
    clients.destroy();
  }
}
