/**
 * Local fakes of the AWS APIs vpce-guard uses (EC2, SSM, SQS), each an HTTP server on
 * 127.0.0.1 speaking the real wire protocol, so that the real AWS SDK clients talk to them
 * unchanged. See ../README.md for what is faked and what is not.
 */
import { FakeEc2 } from './ec2';
import { FakeSqs } from './sqs';
import { FakeSsm } from './ssm';

export { FakeEc2 } from './ec2';
export { FakeSqs } from './sqs';

export interface AwsFakes {
  ec2: FakeEc2;
  ssm: FakeSsm;
  sqs: FakeSqs;
  region: string;
  accountId: string;
  /**
   * Environment that points the AWS SDK at the fakes: `AWS_ENDPOINT_URL_EC2`, `_SSM`, `_SQS`,
   * `AWS_REGION` and dummy credentials (the fakes accept any signature).
   */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export interface AwsFakesOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** The provider's account: in queue URLs and ARNs. @default '000000000000' */
  accountId?: string;
  /** Enforce EC2's token buckets from the start. @default false */
  throttling?: boolean;
}

export async function startAwsFakes(options: AwsFakesOptions = {}): Promise<AwsFakes> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const started = await Promise.allSettled([
    FakeEc2.start({ region, throttling: options.throttling }),
    FakeSsm.start({ region, accountId }),
    FakeSqs.start({ region, accountId }),
  ] as const);
  const [ec2, ssm, sqs] = started;
  if (ec2.status === 'fulfilled' && ssm.status === 'fulfilled' && sqs.status === 'fulfilled') {
    return fakes(ec2.value, ssm.value, sqs.value, region, accountId);
  }
  // Close what did start: a server left open would keep the test process alive.
  await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
  throw started.find((s) => s.status === 'rejected')?.reason;
}

function fakes(
  ec2: FakeEc2,
  ssm: FakeSsm,
  sqs: FakeSqs,
  region: string,
  accountId: string,
): AwsFakes {
  return {
    ec2,
    ssm,
    sqs,
    region,
    accountId,
    env: () => ({
      AWS_ENDPOINT_URL_EC2: ec2.url,
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_ENDPOINT_URL_SQS: sqs.url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'fake-access-key-id',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    }),
    close: async () => {
      await Promise.all([ec2.close(), ssm.close(), sqs.close()]);
    },
  };
}
