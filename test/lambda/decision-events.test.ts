/**
 * Publishing decision events through the real EventBridge and DynamoDB clients, against the
 * local fakes: batches, retries of failed entries, the once-only announcements shared by
 * containers, and failures that are counted, never thrown.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Clock } from '../../core/clock';
import type { Connection } from '../../core/connection';
import { InvocationDeadline } from '../../core/deadline';
import { MetricName } from '../../core/metric-names';
import type { Decision } from '../../core/policy';
import type { ServiceReport } from '../../core/reconcile';
import { abortAtDeadline, retrySettings } from '../../core/sdk-deadline';
import { FakeDynamoDb } from '../../local-aws/fakes/dynamodb';
import { FakeEventBridge } from '../../local-aws/fakes/eventbridge';
import { Announcements } from '../../lambda/announcements';
import {
  batches,
  DecisionJournal,
  DecisionPublisher,
  entrySize,
} from '../../lambda/decision-events';
import { metrics } from '../../lambda/telemetry';

const REGION = 'eu-west-1';
const SERVICE = 'vpce-svc-0123456789abcdef0';
const TABLE = 'vpce-guard-announcements';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const DAY_MS = 24 * 60 * 60 * 1000;

class ManualClock implements Clock {
  time = Date.parse('2026-11-25T12:00:00Z');
  now = () => this.time;
  sleep = async (ms: number) => {
    this.time += ms;
  };
}

let eventBridge: FakeEventBridge;
let dynamoDb: FakeDynamoDb;
let clock: ManualClock;
const clients: { destroy(): void }[] = [];

beforeEach(async () => {
  [eventBridge, dynamoDb] = await Promise.all([FakeEventBridge.start(), FakeDynamoDb.start()]);
  dynamoDb.createTable(TABLE, 'id');
  clock = new ManualClock();
});

afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  jest.restoreAllMocks();
  await Promise.all([eventBridge.close(), dynamoDb.close()]);
});

/** A container's publisher, with its own clients and its own announcement cache. */
function container(
  options: { busName?: string; table?: string | null; deadline?: InvocationDeadline } = {},
) {
  const deadline = options.deadline ?? new InvocationDeadline();
  const events = abortAtDeadline(
    new EventBridgeClient({
      region: REGION,
      endpoint: eventBridge.url,
      credentials,
      ...retrySettings(1, deadline),
    }),
    deadline,
  );
  const dynamodb = abortAtDeadline(
    new DynamoDBClient({
      region: REGION,
      endpoint: dynamoDb.url,
      credentials,
      ...retrySettings(1, deadline),
    }),
    deadline,
  );
  clients.push(events, dynamodb);
  return new DecisionPublisher({
    events,
    ...(options.busName ? { busName: options.busName } : {}),
    announcements: new Announcements(
      options.table === null ? undefined : { dynamodb, name: options.table ?? TABLE },
      clock,
    ),
    clock,
    deadline,
  });
}

let counter = 0;
function connection(): Connection {
  counter += 1;
  return {
    serviceId: SERVICE,
    endpointId: `vpce-${counter.toString(16).padStart(17, '0')}`,
    owner: '999988887777',
    state: 'pendingAcceptance',
    region: REGION,
  };
}

const REJECT: Decision = { action: 'reject', rule: 'defaultAction', reason: 'default action' };
const KEEP: Decision = { action: 'keep', rule: 'acme', reason: 'allowed by rule acme' };

/** A journal of one report: `rejected` connections rejected, and `kept` kept pending. */
function journal({ rejected = [] as Connection[], kept = [] as Connection[] }) {
  const report: ServiceReport = {
    serviceId: SERVICE,
    mode: 'enforce',
    outcomes: [
      ...rejected.map((c) => ({ connection: c, decision: REJECT, result: 'done' as const })),
      ...kept.map((c) => ({ connection: c, decision: KEEP, result: 'none' as const })),
    ],
    failures: [],
  };
  const j = new DecisionJournal();
  j.noteReports([report]);
  return j;
}

const many = (n: number) => Array.from({ length: n }, connection);
const detailsOn = (bus = 'default') =>
  eventBridge.eventsOn(bus).map((e) => e.detail as { endpointId: string; decision: string });

test('25 decisions go out in PutEvents batches of 10, 10 and 5, on the configured bus', async () => {
  const rejected = many(25);

  const result = await container({ busName: 'guard-bus' }).publish(journal({ rejected }));

  expect(result).toEqual({ published: 25, failed: 0, alreadyAnnounced: 0 });
  expect(eventBridge.count('PutEvents')).toBe(3);
  expect(eventBridge.calls.map((c) => (c.params as { Entries: unknown[] }).Entries.length)).toEqual(
    [10, 10, 5],
  );
  expect(detailsOn('guard-bus').map((d) => d.endpointId)).toEqual(
    rejected.map((c) => c.endpointId),
  );
  expect(eventBridge.allEvents[0]).toMatchObject({
    source: 'vpce-guard',
    detailType: 'VPC Endpoint Connection Decision',
    time: new Date(clock.time),
  });
});

test('entries EventBridge fails retryably are put again; the rest of the batch is not', async () => {
  const rejected = many(3);
  eventBridge.failEntries(
    { code: 'ThrottlingException', message: 'Rate exceeded' },
    {
      match: (e) => (e.detail as { endpointId: string }).endpointId === rejected[1]!.endpointId,
      times: 2,
    },
  );

  const result = await container().publish(journal({ rejected }));

  expect(result).toEqual({ published: 3, failed: 0, alreadyAnnounced: 0 });
  expect(eventBridge.calls.map((c) => (c.params as { Entries: unknown[] }).Entries.length)).toEqual(
    [3, 1, 1],
  );
  expect(detailsOn()).toHaveLength(3);
});

test('what EventBridge still refuses is counted as DecisionEventsFailed and logged, never thrown', async () => {
  const addMetric = jest.spyOn(metrics, 'addMetric');
  const rejected = many(3);
  // Not retryable: given up at once. Retryable but failing every time: given up after 3 puts.
  eventBridge.failEntries(
    { code: 'AccessDeniedException' },
    { match: (e) => (e.detail as { endpointId: string }).endpointId === rejected[0]!.endpointId },
  );
  eventBridge.failEntries(
    { code: 'InternalFailure' },
    { match: (e) => (e.detail as { endpointId: string }).endpointId === rejected[1]!.endpointId },
  );

  const result = await container().publish(journal({ rejected }));

  expect(result).toEqual({ published: 1, failed: 2, alreadyAnnounced: 0 });
  expect(eventBridge.count('PutEvents')).toBe(3);
  expect(addMetric).toHaveBeenCalledWith(MetricName.DECISION_EVENTS_FAILED, 'Count', 2);
});

test('a PutEvents call that fails whole fails its batch, not the invocation', async () => {
  eventBridge.failNext('PutEvents', { code: 'AccessDeniedException', status: 400 }, 1);

  const result = await container().publish(journal({ rejected: many(12) }));

  expect(result).toEqual({ published: 2, failed: 10, alreadyAnnounced: 0 });
});

test('out of time, nothing is put: every event is counted failed', async () => {
  const deadline = new InvocationDeadline(() => clock.time);
  deadline.set(clock.time - 1);

  const result = await container({ deadline }).publish(journal({ rejected: many(2) }));

  deadline.clear();
  expect(result).toEqual({ published: 0, failed: 2, alreadyAnnounced: 0 });
  expect(eventBridge.count('PutEvents')).toBe(0);
});

describe('a connection kept pending', () => {
  test('is announced once across containers: one claim in the table, one event', async () => {
    const kept = [connection()];
    const first = container();

    await first.publish(journal({ kept }));
    await first.publish(journal({ kept })); // the next sweep, same container: no write
    const second = await container().publish(journal({ kept })); // another container

    expect(detailsOn()).toEqual([expect.objectContaining({ decision: 'keep' })]);
    expect(second).toEqual({ published: 0, failed: 0, alreadyAnnounced: 1 });
    expect(dynamoDb.count('PutItem')).toBe(2);
    expect(dynamoDb.items(TABLE)).toEqual([
      {
        id: { S: `${SERVICE}/${kept[0]!.endpointId}/keep/enforce/done` },
        expiresAt: { N: String(Math.floor((clock.time + 30 * DAY_MS) / 1000)) },
      },
    ]);
  });

  test('is announced again, as a reminder, once its claim is 30 days old (even if TTL has not deleted it)', async () => {
    const kept = [connection()];
    await container().publish(journal({ kept }));

    clock.time += 30 * DAY_MS + 1000;
    await container().publish(journal({ kept }));

    expect(detailsOn()).toHaveLength(2);
  });

  test('is announced anyway when DynamoDB fails (twice rather than never), then remembered by the container', async () => {
    const addMetric = jest.spyOn(metrics, 'addMetric');
    const kept = [connection()];
    // The table is unreachable for every claim from now on.
    dynamoDb.failNext('PutItem', { code: 'InternalServerError', status: 500 }, Infinity);
    const publisher = container();

    await publisher.publish(journal({ kept }));
    await publisher.publish(journal({ kept }));
    await publisher.publish(journal({ kept }));

    // Published once by this container, not on every sweep, and the unchecked claim counted
    // (it alarms): another container may announce it again, but never every 5 minutes.
    expect(detailsOn()).toHaveLength(1);
    expect(dynamoDb.count('PutItem')).toBe(1);
    expect(addMetric).toHaveBeenCalledWith(MetricName.ANNOUNCEMENTS_UNCHECKED, 'Count', 1);
    expect(addMetric).not.toHaveBeenCalledWith(
      MetricName.DECISION_EVENTS_FAILED,
      expect.anything(),
      expect.anything(),
    );
  });

  test('whose claim DynamoDB could not check, and whose event EventBridge refused, is tried again by the next sweep', async () => {
    const kept = [connection()];
    dynamoDb.failNext('PutItem', { code: 'InternalServerError', status: 500 }, 1);
    eventBridge.failEntries({ code: 'AccessDeniedException' }, { times: 1 });
    const publisher = container();

    await publisher.publish(journal({ kept }));
    await publisher.publish(journal({ kept }));

    // Not remembered, since it was not published: the second sweep claims it and announces it.
    expect(detailsOn()).toHaveLength(1);
    expect(dynamoDb.count('PutItem')).toBe(2);
  });

  test('whose event EventBridge refused gives its claim back: the next sweep announces it', async () => {
    const kept = [connection()];
    eventBridge.failEntries({ code: 'AccessDeniedException' }, { times: 1 });

    const failed = await container().publish(journal({ kept }));
    const retried = await container().publish(journal({ kept }));

    expect(failed).toMatchObject({ published: 0, failed: 1 });
    expect(retried).toMatchObject({ published: 1, failed: 0 });
    expect(detailsOn()).toHaveLength(1);
  });

  test('without a table, each container remembers its own announcements', async () => {
    const kept = [connection()];
    const publisher = container({ table: null });

    await publisher.publish(journal({ kept }));
    await publisher.publish(journal({ kept }));

    expect(detailsOn()).toHaveLength(1);
    expect(dynamoDb.count('PutItem')).toBe(0);
  });
});

test('batches hold at most 10 entries and 256 KB, sized as EventBridge sizes them', () => {
  const item = (bytes: number) => ({
    entry: { Source: 's', DetailType: 'd', Detail: 'x'.repeat(bytes - 2) },
  });
  expect(entrySize(item(100).entry)).toBe(100);
  expect(entrySize({ ...item(100).entry, Time: new Date(), Resources: ['abc'] })).toBe(117);
  expect(batches(Array.from({ length: 21 }, () => item(10))).map((b) => b.length)).toEqual([
    10, 10, 1,
  ]);
  expect(
    batches([item(100 * 1024), item(100 * 1024), item(100 * 1024)]).map((b) => b.length),
  ).toEqual([2, 1]);
});
