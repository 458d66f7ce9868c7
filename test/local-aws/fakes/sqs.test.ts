import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { FakeSqs } from '../../../local-aws/fakes/sqs';

const ACCOUNT = '999988887777';

let sqs: FakeSqs;
let client: SQSClient;
let queueUrl: string;

beforeEach(async () => {
  sqs = await FakeSqs.start({ region: 'eu-west-1', accountId: ACCOUNT });
  client = new SQSClient({
    endpoint: sqs.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  queueUrl = sqs.createQueue('retry');
});

afterEach(async () => {
  client.destroy();
  await sqs.close();
});

const receive = (options: { VisibilityTimeout?: number; WaitTimeSeconds?: number } = {}) =>
  client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      ...options,
    }),
  );

const approximateCounts = async () => {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return Attributes;
};

describe('queues', () => {
  test('are addressed by URL; creating one again with the same attributes finds it', async () => {
    expect(queueUrl).toBe(`${sqs.url}/${ACCOUNT}/retry`);
    expect((await client.send(new GetQueueUrlCommand({ QueueName: 'retry' }))).QueueUrl).toBe(
      queueUrl,
    );
    const again = await client.send(
      new CreateQueueCommand({ QueueName: 'retry', Attributes: { VisibilityTimeout: '30' } }),
    );
    expect(again.QueueUrl).toBe(queueUrl);
  });

  test('a different attribute for an existing name is QueueNameExists', async () => {
    const call = client.send(
      new CreateQueueCommand({ QueueName: 'retry', Attributes: { VisibilityTimeout: '60' } }),
    );
    await expect(call).rejects.toBeInstanceOf(QueueNameExists);
  });

  test('an unknown queue is QueueDoesNotExist, named as the SDK models it from the query-compatible code', async () => {
    const error = await client
      .send(new SendMessageCommand({ QueueUrl: `${sqs.url}/${ACCOUNT}/missing`, MessageBody: 'x' }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect(error).toMatchObject({
      Code: 'AWS.SimpleQueueService.NonExistentQueue',
      message: 'The specified queue does not exist.',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe('messages', () => {
  test('round-trip with body and attribute digests the SDK verifies', async () => {
    const MessageAttributes = {
      kind: { DataType: 'String', StringValue: 'retry' },
      blob: { DataType: 'Binary', BinaryValue: Uint8Array.of(0, 1, 255) },
    };
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"attempt":1,"note":"é"}',
        MessageAttributes,
      }),
    );

    const { Messages } = await receive();

    expect(Messages).toEqual([
      {
        MessageId: sent.MessageId,
        ReceiptHandle: expect.any(String),
        MD5OfBody: sent.MD5OfMessageBody,
        Body: '{"attempt":1,"note":"é"}',
        Attributes: { ApproximateReceiveCount: '1' },
        MessageAttributes,
        MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
      },
    ]);
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(sqs.messages('retry')).toEqual([
      expect.objectContaining({ body: { attempt: 1, note: 'é' }, receiveCount: 1 }),
    ]);
  });

  test('stay hidden for their visibility timeout once received', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));

    await receive({ VisibilityTimeout: 30 });

    expect((await receive()).Messages).toBeUndefined();
    const [message] = sqs.messages(queueUrl);
    expect(message?.receiveCount).toBe(1);
    expect(message?.visibleAt.getTime()).toBeGreaterThan(Date.now() + 25_000);
  });

  test('come back at once with a zero visibility timeout, counting receives', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));

    await receive({ VisibilityTimeout: 0 });
    const { Messages } = await receive({ VisibilityTimeout: 0 });

    expect(Messages?.[0]?.Attributes).toEqual({ ApproximateReceiveCount: '2' });
  });

  test('are gone once deleted; an unknown receipt handle is ReceiptHandleIsInvalid', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
    const { Messages } = await receive();

    await client.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: Messages?.[0]?.ReceiptHandle }),
    );

    expect(sqs.messages(queueUrl)).toEqual([]);
    await expect(
      client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: 'forged' })),
    ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
  });

  test('a long poll ends when the fake closes', async () => {
    const started = Date.now();
    const poll = receive({ WaitTimeSeconds: 20 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));

    await sqs.close();

    expect(await poll).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('honour DelaySeconds: invisible, and counted as delayed, until the delay is over', async () => {
    const sentAt = Date.now();
    await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later', DelaySeconds: 1 }),
    );

    expect((await receive()).Messages).toBeUndefined();
    expect(await approximateCounts()).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesDelayed: '1',
    });
    // A long poll returns as soon as the message becomes visible.
    const { Messages } = await receive({ WaitTimeSeconds: 3 });

    expect(Messages?.map((m) => m.Body)).toEqual(['later']);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1000);
  });
});

describe('SendMessageBatch', () => {
  const entries = (n: number): SendMessageBatchRequestEntry[] =>
    Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: `{"n":${i}}` }));

  test('reports injected and invalid entries in Failed, queues the others', async () => {
    sqs.failBatchEntries(
      { code: 'InternalError', status: 500 },
      { match: (e) => e.Id === 'e1', times: 1 },
    );

    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [...entries(3), { Id: 'late', MessageBody: '{}', DelaySeconds: 901 }],
      }),
    );

    expect(result.Successful?.map((s) => s.Id)).toEqual(['e0', 'e2']);
    expect(result.Failed).toEqual([
      { Id: 'e1', SenderFault: false, Code: 'InternalError', Message: expect.any(String) },
      { Id: 'late', SenderFault: true, Code: 'InvalidParameterValue', Message: expect.any(String) },
    ]);
    expect(sqs.messages(queueUrl).map((m) => m.body)).toEqual([{ n: 0 }, { n: 2 }]);
  });

  test.each([
    ['no entries', [], 'EmptyBatchRequest'],
    ['11 entries', entries(11), 'TooManyEntriesInBatchRequest'],
    ['repeated IDs', [...entries(1), ...entries(1)], 'BatchEntryIdsNotDistinct'],
    ['an invalid ID', [{ Id: 'no spaces', MessageBody: 'x' }], 'InvalidBatchEntryId'],
  ])('refuses a batch with %s', async (_case, Entries, name) => {
    await expect(
      client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries })),
    ).rejects.toMatchObject({
      name,
      $metadata: { httpStatusCode: 400 },
    });
  });
});

test('failNext fails whole calls, and the call log counts them', async () => {
  sqs.failNext('SendMessage', { code: 'RequestThrottled', status: 403 });
  const send = () => client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));

  await expect(send()).rejects.toMatchObject({
    name: 'RequestThrottled',
    $metadata: { httpStatusCode: 403 },
  });
  await send();

  expect(sqs.count('SendMessage')).toBe(2);
  expect(sqs.calls.filter((c) => c.throttled)).toHaveLength(1);
});
