/**
 * Local fakes of the AWS APIs vpce-guard uses (EC2, SSM, SQS, EventBridge, DynamoDB, RAM), each an
 * HTTP server on 127.0.0.1 speaking the real wire protocol, so that the real AWS SDK clients
 * talk to them unchanged. See ../README.md for what is faked and what is not.
 */
import { FakeDynamoDb } from './dynamodb';
import { FakeEc2 } from './ec2';
import { FakeEventBridge } from './eventbridge';
import { FakeRam } from './ram';
import { FakeSqs } from './sqs';
import { FakeSsm } from './ssm';

export { FakeDynamoDb } from './dynamodb';
export { FakeEc2 } from './ec2';
export { FakeEventBridge } from './eventbridge';
export { FakeRam } from './ram';
export { FakeSqs } from './sqs';

export interface AwsFakes {
  ec2: FakeEc2;
  ssm: FakeSsm;
  sqs: FakeSqs;
  eventBridge: FakeEventBridge;
  dynamoDb: FakeDynamoDb;
  /** Resource shares of the SSM fake's parameters, which its account principals then read. */
  ram: FakeRam;
  region: string;
  accountId: string;
  /**
   * Environment that points the AWS SDK at the fakes: `AWS_ENDPOINT_URL_EC2`, `_SSM`, `_SQS`,
   * `_EVENTBRIDGE`, `_DYNAMODB`, `_RAM`, `AWS_REGION` and dummy credentials (the fakes accept
   * any signature).
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
    FakeEventBridge.start(),
    FakeDynamoDb.start(),
  ] as const);
  const [ec2, ssm, sqs, eventBridge, dynamoDb] = started;
  // RAM shares the SSM fake's parameters: it starts once SSM has.
  const [ram] = await Promise.allSettled(
    ssm.status === 'fulfilled' ? [FakeRam.start({ ssm: ssm.value })] : [],
  );
  if (
    ec2.status === 'fulfilled' &&
    ssm.status === 'fulfilled' &&
    sqs.status === 'fulfilled' &&
    eventBridge.status === 'fulfilled' &&
    dynamoDb.status === 'fulfilled' &&
    ram?.status === 'fulfilled'
  ) {
    return fakes(
      { ec2: ec2.value, ssm: ssm.value, sqs: sqs.value },
      { eventBridge: eventBridge.value, dynamoDb: dynamoDb.value, ram: ram.value },
      region,
      accountId,
    );
  }
  // Close what did start: a server left open would keep the test process alive.
  const all = ram ? [...started, ram] : started;
  await Promise.all(all.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
  throw all.find((s) => s.status === 'rejected')?.reason;
}

function fakes(
  { ec2, ssm, sqs }: Pick<AwsFakes, 'ec2' | 'ssm' | 'sqs'>,
  { eventBridge, dynamoDb, ram }: Pick<AwsFakes, 'eventBridge' | 'dynamoDb' | 'ram'>,
  region: string,
  accountId: string,
): AwsFakes {
  return {
    ec2,
    ssm,
    sqs,
    eventBridge,
    dynamoDb,
    ram,
    region,
    accountId,
    env: () => ({
      AWS_ENDPOINT_URL_EC2: ec2.url,
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_ENDPOINT_URL_SQS: sqs.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.url,
      AWS_ENDPOINT_URL_RAM: ram.url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'fake-access-key-id',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    }),
    close: async () => {
      await Promise.all([
        ec2.close(),
        ssm.close(),
        sqs.close(),
        eventBridge.close(),
        dynamoDb.close(),
        ram.close(),
      ]);
    },
  };
}
