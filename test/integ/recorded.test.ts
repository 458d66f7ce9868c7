/**
 * What the integration run reads from its recorders, through the real SQS client against the
 * local SQS fake, and the redaction that makes it fit to share.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createVpcEndpointCall, snsEnvelope } from '../../local-aws/events';
import { FakeSqs } from '../../local-aws/fakes/sqs';
import {
  EXAMPLE_ACCOUNT,
  mentioningAny,
  parseNested,
  readRecorder,
  redact,
} from '../../integ/recorded';

const ACCOUNT = '210987654321';
const SERVICE = 'vpce-svc-0123456789abcdef0';
const ENDPOINT = 'vpce-0aaaabbbbccccdddd';
const origin = { accountId: ACCOUNT, region: 'eu-west-1' };
/** The notification body is not documented: any text will do. */
const NOTIFICATION = JSON.stringify({ vpcEndpointId: ENDPOINT, serviceId: SERVICE });

describe('reading a recorder', () => {
  let fake: FakeSqs;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeEach(async () => {
    fake = await FakeSqs.start({ region: 'eu-west-1', accountId: ACCOUNT });
    sqs = new SQSClient({
      endpoint: fake.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    queueUrl = fake.createQueue('recorder');
  });
  afterEach(async () => {
    sqs.destroy();
    await fake.close();
  });

  const send = (body: string) =>
    sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

  test('takes every message, each once, with the JSON inside it parsed next to its text', async () => {
    const envelope = snsEnvelope(NOTIFICATION, 'notifications', origin);
    for (let i = 0; i < 12; i++) await send(envelope);
    const recorded = await readRecorder(sqs, queueUrl, { expected: 2, waitMs: 0, pollSeconds: 0 });

    expect(recorded).toHaveLength(12);
    expect(recorded[0]?.body).toMatchObject({
      Type: 'Notification',
      Message: NOTIFICATION,
      'Message (parsed)': { vpcEndpointId: ENDPOINT, serviceId: SERVICE },
    });
    expect(recorded[0]?.attributes).toHaveProperty('SentTimestamp');
    // Received, not deleted: the queue keeps them (and goes with the stack).
    expect(fake.messages(queueUrl)).toHaveLength(12);
  });

  test('waits for the expected count no longer than it is told, and returns what came', async () => {
    await send('not JSON');
    const started = Date.now();
    const recorded = await readRecorder(sqs, queueUrl, {
      expected: 4,
      waitMs: 300,
      pollSeconds: 0,
    });
    expect(recorded).toEqual([{ body: 'not JSON', attributes: expect.any(Object) }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});

describe('keeping the run’s own events', () => {
  test('keeps the messages that name one of the IDs, anywhere in them', () => {
    const ours = {
      body: createVpcEndpointCall({ serviceName: `x.${SERVICE}`, endpointId: ENDPOINT }),
    };
    const theirs = { body: createVpcEndpointCall({ serviceName: 'x.vpce-svc-0000000000000000f' }) };
    expect(mentioningAny([ours, theirs], [SERVICE])).toEqual([ours]);
    expect(mentioningAny([ours, theirs], ['vpc-0123456789abcdef0'])).toEqual([ours, theirs]);
    expect(mentioningAny([ours, theirs], [])).toEqual([]);
  });
});

describe('parsing what was recorded', () => {
  test('keeps a string that only looks like JSON as it is', () => {
    expect(parseNested('{"Message":"{not json"}')).toEqual({ Message: '{not json' });
  });
});

describe('redacting a report', () => {
  const event = createVpcEndpointCall(
    { serviceName: `com.amazonaws.vpce.eu-west-1.${SERVICE}`, endpointId: ENDPOINT },
    origin,
  );
  const detail = {
    ...event.detail,
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEEXAMPLE123:AWSCloudFormation',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/cdk-hnb659fds-cfn-exec-role/AWSCloudFormation`,
      accountId: ACCOUNT,
      accessKeyId: 'ASIAEXAMPLEEXAMPLE12',
    },
    sourceIPAddress: '203.0.113.7',
    userAgent: 'cloudformation.amazonaws.com',
  };
  const report = {
    cloudTrailEvents: [{ body: { ...event, detail } }],
    notifications: [{ body: parseNested(snsEnvelope(NOTIFICATION, 'notifications', origin)) }],
    [`key-${ACCOUNT}`]: 1,
  };
  const redacted = JSON.stringify(redact(report, ACCOUNT));

  test('replaces the account everywhere, keys included, with the example account', () => {
    expect(redacted).not.toContain(ACCOUNT);
    expect(redacted).toContain(`arn:aws:sns:eu-west-1:${EXAMPLE_ACCOUNT}:notifications`);
    expect(redacted).toContain(`"key-${EXAMPLE_ACCOUNT}":1`);
  });

  test('hides who called and from where, but not an AWS service calling', () => {
    const { detail: shared } = (redact(report, ACCOUNT) as typeof report).cloudTrailEvents[0]!.body;
    expect(shared.userIdentity).toEqual({
      type: 'AssumedRole',
      principalId: '<redacted>',
      arn: `arn:aws:sts::${EXAMPLE_ACCOUNT}:assumed-role/cdk-hnb659fds-cfn-exec-role/AWSCloudFormation`,
      accountId: EXAMPLE_ACCOUNT,
      accessKeyId: '<redacted>',
    });
    expect(shared.sourceIPAddress).toBe('<redacted>');
    const fromAService = redact({ sourceIPAddress: 'cloudformation.amazonaws.com' }, ACCOUNT);
    expect(fromAService).toEqual({ sourceIPAddress: 'cloudformation.amazonaws.com' });
  });

  test('keeps the shape: the same keys, the IDs of the resources', () => {
    const keys = (value: unknown): string[] =>
      value && typeof value === 'object'
        ? Object.entries(value).flatMap(([k, v]) => [k, ...keys(v)])
        : [];
    expect(keys(redact(report, ACCOUNT))).toEqual(
      keys(report).map((k) => k.replace(ACCOUNT, EXAMPLE_ACCOUNT)),
    );
    expect(redacted).toContain(ENDPOINT);
    expect(redacted).toContain(SERVICE);
  });
});
