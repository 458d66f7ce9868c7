/**
 * The guard as deployed: its esbuild bundle, in a fresh Node.js process, with the real AWS
 * SDK talking over HTTP to local fakes of EC2 (Query/XML), SSM (JSON 1.1) and SQS (JSON 1.0).
 * Proves that the bundle loads and that the SDK serializes and parses what the guard needs.
 */
import { snsEnvelope, snsEvent, sqsEvent, type EventOrigin } from '../../local-aws/events';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';
import { buildGuardBundle } from '../../local-aws/bundle';
import { LocalLambda } from '../../local-aws/local-lambda';

const ALLOWED = '111122223333';
const ACCEPTED = '444455556666';
const DENIED = '999988887777';
const PARAMETER = '/vpce-guard/policy';
const ORIGIN: EventOrigin = { region: 'eu-west-1', accountId: '123456789012' };
const TOPIC = 'vpce-guard-notifications';

let bundle: string;
let fakes: AwsFakes;
let guard: LocalLambda | undefined;

beforeAll(async () => {
  bundle = await buildGuardBundle();
});

beforeEach(async () => {
  fakes = await startAwsFakes({ region: 'eu-west-1', accountId: '123456789012' });
});

afterEach(async () => {
  await guard?.close();
  guard = undefined;
  await fakes.close();
});

function policy(serviceId: string, overrides: Record<string, unknown> = {}) {
  return JSON.stringify({
    version: 1,
    mode: 'enforce',
    defaultAction: 'reject',
    deny: [DENIED],
    rules: [
      { id: 'acme', services: [serviceId], principals: [ALLOWED] },
      {
        id: 'globex',
        services: [serviceId],
        principals: [`arn:aws:iam::${ACCEPTED}:root`],
        accept: true,
      },
    ],
    ...overrides,
  });
}

async function startGuard(extraEnv: Record<string, string> = {}) {
  const retryQueue = fakes.sqs.createQueue('vpce-guard-retry');
  const deadLetterQueue = fakes.sqs.createQueue('vpce-guard-retry-dlq');
  guard = await LocalLambda.start(bundle, {
    ...fakes.env(),
    POLICY_PARAMETER_NAME: PARAMETER,
    RETRY_QUEUE_URL: retryQueue,
    DEAD_LETTER_QUEUE_URL: deadLetterQueue,
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...extraEnv,
  });
  return { guard, retryQueue, deadLetterQueue };
}

function notification(serviceId: string, endpointId: string) {
  const message = JSON.stringify({ event: 'Connect', serviceId, vpcEndpointId: endpointId });
  return snsEvent(message, TOPIC, ORIGIN);
}

test('rejects a denied pending connection, accepts and keeps the allowed ones, through the real SDK', async () => {
  const serviceId = fakes.ec2.addService();
  const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
  const stranger = fakes.ec2.addConnection({
    serviceId,
    owner: '123412341234',
    region: 'us-east-1',
  });
  const allowed = fakes.ec2.addConnection({ serviceId, owner: ALLOWED });
  const accepted = fakes.ec2.addConnection({ serviceId, owner: ACCEPTED });
  fakes.ssm.setParameter(PARAMETER, policy(serviceId), 'SecureString');
  // The construct names each guard's service (its alarms read that metric dimension).
  const { guard } = await startGuard({
    PROTECTED_SERVICE_IDS: serviceId,
    POWERTOOLS_SERVICE_NAME: 'Shop-Guard',
  });

  const invocation = await guard.invoke(notification(serviceId, denied));

  expect(invocation).toEqual({
    result: {
      trigger: 'hint',
      services: 1,
      evaluated: 4,
      rejected: 2,
      accepted: 1,
      kept: 1,
      unsuccessful: 0,
      retriesQueued: 0,
    },
  });
  expect(fakes.ec2.connection(denied)?.VpcEndpointState).toBe('rejected');
  expect(fakes.ec2.connection(stranger)?.VpcEndpointState).toBe('rejected');
  expect(fakes.ec2.connection(allowed)?.VpcEndpointState).toBe('pendingAcceptance');
  expect(fakes.ec2.connection(accepted)?.VpcEndpointState).toBe('available');
  expect(fakes.ec2.count('RejectVpcEndpointConnections')).toBe(1);
  expect(guard.logsWith('Decision')).toContainEqual(
    expect.objectContaining({
      level: 'INFO',
      service: 'Shop-Guard',
      endpointId: stranger,
      region: 'us-east-1',
      decision: 'reject',
      rule: 'defaultAction',
    }),
  );
});

test('an Unsuccessful entry is logged and lands on the retry queue as a retry record', async () => {
  const serviceId = fakes.ec2.addService();
  const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
  fakes.ec2.failEndpoint(denied, { code: 'InvalidState', message: 'The endpoint is busy.' });
  fakes.ssm.setParameter(PARAMETER, policy(serviceId));
  const { guard, retryQueue } = await startGuard();

  const invocation = await guard.invoke({ reconcile: 'all' });

  expect(invocation.result).toMatchObject({ services: 1, unsuccessful: 1, retriesQueued: 1 });
  expect(guard.logsWith('Unsuccessful')).toEqual([
    expect.objectContaining({
      level: 'ERROR',
      serviceId,
      endpointId: denied,
      action: 'reject',
      errorCode: 'InvalidState',
      errorMessage: 'The endpoint is busy.',
    }),
  ]);
  const [message] = fakes.sqs.messages(retryQueue);
  expect(message?.body).toMatchObject({
    type: 'vpce-guard/retry',
    serviceId,
    endpointIds: [denied],
    action: 'reject',
    attempt: 1,
    lastError: { code: 'InvalidState', message: 'The endpoint is busy.' },
  });
});

test('a retry record from the queue is acted on again once EC2 accepts the call', async () => {
  const serviceId = fakes.ec2.addService();
  const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
  fakes.ssm.setParameter(PARAMETER, policy(serviceId));
  const { guard } = await startGuard();
  const body = JSON.stringify({
    type: 'vpce-guard/retry',
    serviceId,
    endpointIds: [denied],
    action: 'reject',
    attempt: 1,
    lastError: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
    firstFailedAt: new Date().toISOString(),
  });

  const invocation = await guard.invoke(sqsEvent([body], 'vpce-guard-retry', ORIGIN));

  expect(invocation).toEqual({ result: { batchItemFailures: [] } });
  expect(fakes.ec2.connection(denied)?.VpcEndpointState).toBe('rejected');
});

test('hints queued by SNS on the hint queue are read from their envelope and settled in one pass', async () => {
  const serviceId = fakes.ec2.addService();
  const denied = [1, 2, 3].map(() => fakes.ec2.addConnection({ serviceId, owner: DENIED }));
  fakes.ssm.setParameter(PARAMETER, policy(serviceId));
  const { guard } = await startGuard();
  const envelopes = denied.map((endpointId) =>
    snsEnvelope(JSON.stringify({ serviceId, endpointId }), TOPIC, ORIGIN),
  );

  const invocation = await guard.invoke(sqsEvent(envelopes, 'vpce-guard-hints', ORIGIN));

  expect(invocation).toEqual({ result: { batchItemFailures: [] } });
  expect(denied.map((id) => fakes.ec2.connection(id)?.VpcEndpointState)).toEqual([
    'rejected',
    'rejected',
    'rejected',
  ]);
  expect(fakes.ec2.count('DescribeVpcEndpointConnections')).toBe(1);
  expect(fakes.ec2.count('RejectVpcEndpointConnections')).toBe(1);
});

test('a dry run proves the permission with DryRun=true and changes nothing', async () => {
  const serviceId = fakes.ec2.addService();
  const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
  fakes.ssm.setParameter(PARAMETER, policy(serviceId, { mode: 'dryRun' }));
  const { guard, retryQueue } = await startGuard();

  const invocation = await guard.invoke({ reconcile: [serviceId] });

  expect(invocation.result).toMatchObject({ rejected: 1, unsuccessful: 0 });
  expect(fakes.ec2.connection(denied)?.VpcEndpointState).toBe('pendingAcceptance');
  expect(fakes.sqs.messages(retryQueue)).toEqual([]);
});

test('an invalid policy makes no change and fails the invocation with the JSON path', async () => {
  const serviceId = fakes.ec2.addService();
  const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
  fakes.ssm.setParameter(PARAMETER, policy(serviceId, { deny: ['12345'] }));
  const { guard } = await startGuard();

  const invocation = await guard.invoke({ reconcile: 'all' });

  expect(invocation.error).toEqual({
    name: 'PolicyUnavailableError',
    message: `no valid policy in SSM parameter ${PARAMETER}: deny[0]: "12345" is not a 12-digit account ID or account root ARN`,
  });
  expect(fakes.ec2.connection(denied)?.VpcEndpointState).toBe('pendingAcceptance');
  expect(fakes.ec2.count('RejectVpcEndpointConnections')).toBe(0);
});

test('a missing variable fails the init with its name', async () => {
  await expect(
    LocalLambda.start(bundle, { ...fakes.env(), RETRY_QUEUE_URL: 'https://sqs.local/1/q' }),
  ).rejects.toThrow('init failed: ConfigError: POLICY_PARAMETER_NAME is required but not set');
});

describe('decision events', () => {
  const TABLE = 'vpce-guard-announcements';
  const summary = (e: { source: string; detailType: string; detail: unknown }) => {
    const d = e.detail as Record<string, unknown>;
    return [e.source, e.detailType, d.endpointId, d.decision, d.rule, d.outcome, d.mode];
  };

  test('every decision is put on the bus by the real bundle; a request kept pending is announced once, across containers', async () => {
    const serviceId = fakes.ec2.addService();
    const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
    const allowed = fakes.ec2.addConnection({ serviceId, owner: ALLOWED });
    const accepted = fakes.ec2.addConnection({ serviceId, owner: ACCEPTED });
    fakes.ssm.setParameter(PARAMETER, policy(serviceId));
    fakes.dynamoDb.createTable(TABLE, 'id');
    const env = { PROTECTED_SERVICE_IDS: serviceId, ANNOUNCEMENT_TABLE_NAME: TABLE };
    const { guard } = await startGuard(env);

    await guard.invoke(notification(serviceId, denied));
    await guard.invoke({ reconcile: 'all' }); // the next sweep finds the kept request again
    const other = await LocalLambda.start(bundle, {
      ...fakes.env(),
      POLICY_PARAMETER_NAME: PARAMETER,
      RETRY_QUEUE_URL: fakes.sqs.createQueue('vpce-guard-retry'),
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...env,
    });
    try {
      await other.invoke({ reconcile: 'all' }); // a new container: the table remembers
    } finally {
      await other.close();
    }

    const type = 'VPC Endpoint Connection Decision';
    expect(fakes.eventBridge.eventsOn().map(summary)).toEqual(
      expect.arrayContaining([
        ['vpce-guard', type, denied, 'reject', 'deny', 'done', 'enforce'],
        ['vpce-guard', type, accepted, 'accept', 'globex', 'done', 'enforce'],
        ['vpce-guard', type, allowed, 'keep', 'acme', 'done', 'enforce'],
      ]),
    );
    expect(fakes.eventBridge.allEvents).toHaveLength(3);
    expect(fakes.eventBridge.eventsOn()[0]?.detail).toMatchObject({
      version: 1,
      serviceId,
      owner: expect.stringMatching(/^\d{12}$/),
      region: 'eu-west-1',
      state: 'pendingAcceptance',
      attempt: 1,
    });
    expect(fakes.dynamoDb.items(TABLE)).toHaveLength(1);
  });

  test('a rejection EventBridge refuses is logged and counted; the decision stands and the invocation succeeds', async () => {
    const serviceId = fakes.ec2.addService();
    const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
    fakes.ssm.setParameter(PARAMETER, policy(serviceId));
    fakes.eventBridge.failEntries({ code: 'AccessDeniedException', message: 'not allowed' });
    const { guard } = await startGuard();

    const invocation = await guard.invoke({ reconcile: [serviceId] });

    expect(invocation.result).toMatchObject({ rejected: 1 });
    expect(fakes.ec2.connection(denied)?.VpcEndpointState).toBe('rejected');
    expect(
      guard.logsWith('Decision events not published: the decisions stand, their events are lost'),
    ).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        failed: 1,
        errors: ['AccessDeniedException: not allowed'],
      }),
    ]);
  });
});

describe('the deadline under persistent throttling', () => {
  test('with 7 s left and Reject throttled by another caller, the guard returns in time and every piece of work is queued', async () => {
    const services = [1, 2, 3].map(() => fakes.ec2.addService());
    const denied = services.flatMap((serviceId) =>
      [1, 2].map(() => ({
        serviceId,
        endpointId: fakes.ec2.addConnection({ serviceId, owner: DENIED }),
      })),
    );
    fakes.ssm.setParameter(PARAMETER, policy(services[0]!));
    // Another caller keeps Reject's bucket empty: every Reject is RequestLimitExceeded.
    fakes.ec2.setThrottling(true, { reject: { capacity: 0, refillPerSecond: 0 } });
    const { guard, retryQueue } = await startGuard();

    const invocation = await guard.invoke({ reconcile: 'all' }, 7_000);
    const end = guard.ends.at(-1)!;

    expect(invocation.error).toBeUndefined();
    // It returned with time left: a real Lambda would not have stopped it before it queued.
    expect(end.remainingMs).toBeGreaterThan(0);
    const rejects = fakes.ec2.calls.filter((c) => c.action === 'RejectVpcEndpointConnections');
    expect(rejects.length).toBeGreaterThan(0);
    // No Reject reached EC2 after the EC2 calls' deadline, 5 s before the time was up (each
    // starts with at least a call's 1 s allowance before it).
    expect(Math.max(...rejects.map((c) => c.at))).toBeLessThan(end.timeoutAt - 5_000);
    // The queueing came before the last second, which is left to return in.
    const sends = fakes.sqs.calls.filter((c) => c.action === 'SendMessageBatch');
    expect(sends.length).toBeGreaterThan(0);
    expect(Math.max(...sends.map((c) => c.at))).toBeLessThan(end.timeoutAt - 1_000);
    const records = fakes.sqs
      .messages(retryQueue)
      .map((m) => m.body as { serviceId: string; endpointIds: string[] });
    for (const { serviceId, endpointId } of denied) {
      expect(fakes.ec2.connection(endpointId)?.VpcEndpointState).toBe('pendingAcceptance');
      expect(
        records.some(
          (r) =>
            r.serviceId === serviceId &&
            (r.endpointIds.length === 0 || r.endpointIds.includes(endpointId)),
        ),
      ).toBe(true);
    }
    // Their events say so.
    const outcomes = fakes.eventBridge.allEvents.map(
      (e) => (e.detail as { outcome: string }).outcome,
    );
    expect(new Set(outcomes)).toEqual(new Set(['queued']));
  });
});
