import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { FakeSqs } from '../../local-aws/fakes';
import type { Invocation } from '../../local-aws/local-lambda';
import { SqsEventSource } from '../../local-aws/sqs-event-source';

const REGION = 'eu-west-1';
let sqs: FakeSqs;
let client: SQSClient;
let queueUrl: string;

beforeEach(async () => {
  sqs = await FakeSqs.start({ region: REGION, accountId: '123456789012' });
  client = new SQSClient({
    region: REGION,
    endpoint: sqs.url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  queueUrl = sqs.createQueue('retry');
});

afterEach(async () => {
  client.destroy();
  await sqs.close();
});

function source(
  invoke: (event: SQSEvent) => Promise<Invocation>,
  batch: { batchSize: number; batchingWindowMs?: number } = { batchSize: 2 },
) {
  return new SqsEventSource({
    sqs: client,
    queueUrl,
    queueArn: `arn:aws:sqs:${REGION}:123456789012:retry`,
    ...batch,
    invoke,
  });
}

const handled = async () => ({ result: { batchItemFailures: [] } });

async function send(body: string, delaySeconds = 0) {
  await client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      DelaySeconds: delaySeconds,
      MessageAttributes: { reason: { DataType: 'String', StringValue: 'test' } },
    }),
  );
}

test('delivers visible messages as Lambda SQS records, in batches, and deletes the handled ones', async () => {
  await send('one');
  await send('two');
  await send('later', 60);
  const events: SQSEvent[] = [];
  const eventSource = source(async (event) => {
    events.push(event);
    const failed = event.Records.filter((r) => r.body === 'two');
    return { result: { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) } };
  });

  expect(await eventSource.pollOnce()).toBe(2);

  expect(events[0]?.Records).toEqual([
    expect.objectContaining({
      body: 'one',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:retry`,
      awsRegion: REGION,
      attributes: expect.objectContaining({ ApproximateReceiveCount: '1' }),
      messageAttributes: {
        reason: {
          dataType: 'String',
          stringValue: 'test',
          stringListValues: [],
          binaryListValues: [],
        },
      },
    }),
    expect.objectContaining({ body: 'two' }),
  ]);
  // The failed record stays (in flight until its visibility timeout), the delayed one waits.
  expect(sqs.messages(queueUrl).map((m) => m.rawBody)).toEqual(['two', 'later']);
  expect(await eventSource.pollOnce()).toBe(0);
  expect(eventSource).toMatchObject({ invocations: 1, delivered: 2 });
});

test('gathers a batch larger than one receive, and what arrives within the batching window', async () => {
  for (let i = 0; i < 12; i++) await send(`m${i}`);
  const sizes: number[] = [];
  const eventSource = source(
    async (event) => {
      sizes.push(event.Records.length);
      return handled();
    },
    { batchSize: 15, batchingWindowMs: 500 },
  );

  const polled = eventSource.pollOnce();
  await send('late');
  expect(await polled).toBe(13);
  expect(sizes).toEqual([13]);
});

test('a failed invocation deletes nothing', async () => {
  await send('one');
  const eventSource = source(async () => ({ error: { name: 'Error', message: 'boom' } }));

  await eventSource.pollOnce();

  expect(sqs.messages(queueUrl)).toHaveLength(1);
});

test('start polls in the background until stop', async () => {
  const bodies: string[] = [];
  const eventSource = source(async (event) => {
    bodies.push(...event.Records.map((r) => r.body));
    return handled();
  });
  eventSource.start();
  await send('one');
  while (bodies.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  await eventSource.stop();

  expect(bodies).toEqual(['one']);
  expect(sqs.messages(queueUrl)).toHaveLength(0);
});
