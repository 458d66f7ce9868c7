import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { FakeEventBridge } from '../../../local-aws/fakes/eventbridge';

let fake: FakeEventBridge;
let client: EventBridgeClient;

beforeEach(async () => {
  fake = await FakeEventBridge.start();
  client = new EventBridgeClient({
    endpoint: fake.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  client.destroy();
  await fake.close();
});

const entry = (detail: object, extra: Partial<PutEventsRequestEntry> = {}) => ({
  Source: 'vpce-guard',
  DetailType: 'VPC Endpoint Connection Decision',
  Detail: JSON.stringify(detail),
  ...extra,
});

test('PutEvents puts each entry on its bus, by name or ARN, and answers an EventId per entry', async () => {
  const time = new Date('2026-11-25T12:00:00Z');
  const output = await client.send(
    new PutEventsCommand({
      Entries: [
        entry({ n: 1 }, { Time: time }),
        entry({ n: 2 }, { EventBusName: 'guard-bus' }),
        entry(
          { n: 3 },
          { EventBusName: 'arn:aws:events:eu-west-1:111122223333:event-bus/guard-bus' },
        ),
      ],
    }),
  );

  expect(output.FailedEntryCount).toBe(0);
  expect(output.Entries).toEqual([
    { EventId: expect.any(String) },
    { EventId: expect.any(String) },
    { EventId: expect.any(String) },
  ]);
  expect(fake.eventsOn()).toEqual([
    {
      id: output.Entries![0]!.EventId,
      bus: 'default',
      source: 'vpce-guard',
      detailType: 'VPC Endpoint Connection Decision',
      detail: { n: 1 },
      resources: [],
      time,
    },
  ]);
  expect(fake.eventsOn('guard-bus').map((e) => e.detail)).toEqual([{ n: 2 }, { n: 3 }]);
  expect(fake.count('PutEvents')).toBe(1);
});

test('more than 10 entries, or none, is a ValidationException for the whole call, as AWS documents', async () => {
  const eleven = Array.from({ length: 11 }, (_, n) => entry({ n }));
  await expect(client.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({
    name: 'ValidationException',
    $metadata: { httpStatusCode: 400 },
  });
  await expect(client.send(new PutEventsCommand({ Entries: [] }))).rejects.toMatchObject({
    name: 'ValidationException',
  });
  expect(fake.allEvents).toEqual([]);
});

test('entries over 256 KB in total are refused, sized as EventBridge sizes them', async () => {
  const big = 'x'.repeat(130 * 1024);
  await expect(
    client.send(new PutEventsCommand({ Entries: [entry({ big }), entry({ big })] })),
  ).rejects.toMatchObject({ name: 'ValidationException' });
  await client.send(new PutEventsCommand({ Entries: [entry({ big })] }));
  expect(fake.allEvents).toHaveLength(1);
});

test('an injected per-entry failure comes back inside a successful answer; the other entries are put', async () => {
  fake.failEntries(
    { code: 'ThrottlingException', message: 'Rate exceeded' },
    { match: (e) => (e.detail as { n: number }).n === 2, times: 1 },
  );

  const output = await client.send(
    new PutEventsCommand({ Entries: [entry({ n: 1 }), entry({ n: 2 }), entry({ n: 3 })] }),
  );

  expect(output.FailedEntryCount).toBe(1);
  expect(output.Entries).toEqual([
    { EventId: expect.any(String) },
    { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
    { EventId: expect.any(String) },
  ]);
  expect(fake.eventsOn().map((e) => e.detail)).toEqual([{ n: 1 }, { n: 3 }]);
  // Used up: the same entry goes through the next time.
  await client.send(new PutEventsCommand({ Entries: [entry({ n: 2 })] }));
  expect(fake.eventsOn()).toHaveLength(3);
});

test('a detail that is not a JSON object, or an aws. source, fails its entry as EventBridge does', async () => {
  const output = await client.send(
    new PutEventsCommand({
      Entries: [
        { Source: 'vpce-guard', DetailType: 'x', Detail: 'not json' },
        entry({}, { Source: 'aws.ec2' }),
      ],
    }),
  );
  expect(output.Entries?.map((e) => e.ErrorCode)).toEqual([
    'MalformedDetail',
    'NotAuthorizedForSourceException',
  ]);
  expect(output.FailedEntryCount).toBe(2);
});

test('a whole call can be failed, as a throttled one', async () => {
  fake.failNext('PutEvents', { code: 'ThrottlingException', status: 400 });
  await expect(client.send(new PutEventsCommand({ Entries: [entry({})] }))).rejects.toMatchObject({
    name: 'ThrottlingException',
  });
  expect(fake.calls[0]).toMatchObject({ action: 'PutEvents', throttled: true });
});
