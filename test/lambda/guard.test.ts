import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  RejectVpcEndpointConnectionsCommand,
} from '@aws-sdk/client-ec2';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DeadlineReachedError } from '../../core/deadline';
import { PolicyUnavailableError } from '../../lambda/policy-problems';
import { logger, metrics } from '../../lambda/telemetry';
import { ManualInvocationError } from '../../lambda/intake';
import {
  ACCEPTED,
  ALLOWED,
  connection,
  createVpcEndpointEvent,
  DENIED,
  DLQ_URL,
  eventBridgeEvent,
  harness,
  hintQueueEvent,
  parameterChange,
  POLICY,
  POLICY_PARAMETER,
  retryBody,
  RETRY_QUEUE_URL,
  scheduledEvent,
  SERVICE_A,
  SERVICE_B,
  snsEnvelope,
  snsEvent,
  sqsEvent,
  STRANGER,
} from './harness';

const addMetric = jest.spyOn(metrics, 'addMetric');
const logError = jest.spyOn(logger, 'error');
const logInfo = jest.spyOn(logger, 'info');
const logWarn = jest.spyOn(logger, 'warn');
const logDebug = jest.spyOn(logger, 'debug');

beforeEach(() => jest.clearAllMocks());

function metricTotal(name: string): number {
  return addMetric.mock.calls
    .filter(([n]) => n === name)
    .reduce((sum, [, , value]) => sum + value, 0);
}

function rejectCalls(h: ReturnType<typeof harness>) {
  return h.ec2.commandCalls(RejectVpcEndpointConnectionsCommand).map((c) => c.args[0].input);
}

describe('triggers', () => {
  test('an endpoint connection notification reconciles the service it names: rejects the denied, accepts and keeps the allowed', async () => {
    const denied = connection(DENIED);
    const stranger = connection(STRANGER);
    const allowed = connection(ALLOWED);
    const accepted = connection(ACCEPTED);
    const h = harness({ connections: [denied, stranger, allowed, accepted] });

    const summary = await h.run(
      snsEvent(
        JSON.stringify({
          serviceId: SERVICE_A,
          vpcEndpointId: denied.VpcEndpointId,
          event: 'Connect',
        }),
      ),
    );

    expect(h.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionsCommand, {
      Filters: [
        { Name: 'service-id', Values: [SERVICE_A] },
        { Name: 'vpc-endpoint-state', Values: ['pendingAcceptance', 'PendingAcceptance'] },
      ],
    });
    expect(rejectCalls(h)).toEqual([
      {
        ServiceId: SERVICE_A,
        VpcEndpointIds: [denied.VpcEndpointId, stranger.VpcEndpointId],
        DryRun: false,
      },
    ]);
    expect(h.ec2).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, {
      ServiceId: SERVICE_A,
      VpcEndpointIds: [accepted.VpcEndpointId],
    });
    expect(h.stateOf(denied.VpcEndpointId)).toBe('rejected');
    expect(h.stateOf(allowed.VpcEndpointId)).toBe('pendingAcceptance');
    expect(h.stateOf(accepted.VpcEndpointId)).toBe('available');
    expect(summary).toMatchObject({
      trigger: 'hint',
      services: 1,
      evaluated: 4,
      rejected: 2,
      accepted: 1,
      kept: 1,
      unsuccessful: 0,
    });
    expect(metricTotal('ConnectionsEvaluated')).toBe(4);
    expect(metricTotal('ConnectionsRejected')).toBe(2);
    expect(metricTotal('ConnectionsAccepted')).toBe(1);
  });

  test('logs one line per decision with the connection, decision, reason and rule', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied] });
    await h.run(scheduledEvent());
    expect(logInfo).toHaveBeenCalledWith(
      'Decision',
      expect.objectContaining({
        serviceId: SERVICE_A,
        endpointId: denied.VpcEndpointId,
        owner: DENIED,
        decision: 'reject',
        rule: 'deny',
        reason: `account ${DENIED} is on the deny list`,
        result: 'done',
      }),
    );
  });

  test('a notification whose body names no service reconciles every protected service', async () => {
    const a = connection(DENIED);
    const b = connection(DENIED, { ServiceId: SERVICE_B });
    const h = harness({
      connections: [a, b],
      config: { protectedServiceIds: [SERVICE_A, SERVICE_B] },
    });
    await h.run(snsEvent('something happened, the format is not documented'));
    expect(rejectCalls(h).map((c) => c.ServiceId)).toEqual([SERVICE_A, SERVICE_B]);
    expect(logDebug).toHaveBeenCalledWith('Notification message', {
      message: 'something happened, the format is not documented',
    });
  });

  test('without PROTECTED_SERVICE_IDS, a sweep covers every endpoint service the account owns', async () => {
    const a = connection(DENIED);
    const b = connection(DENIED, { ServiceId: SERVICE_B });
    const h = harness({
      connections: [a, b],
      config: { protectedServiceIds: undefined },
      ownedServices: [SERVICE_A, SERVICE_B],
    });
    await h.run(scheduledEvent());
    expect(h.ec2).toHaveReceivedCommandTimes(DescribeVpcEndpointServiceConfigurationsCommand, 1);
    expect(h.stateOf(a.VpcEndpointId)).toBe('rejected');
    expect(h.stateOf(b.VpcEndpointId)).toBe('rejected');
  });

  test('reads every page of owned services when protecting them all', async () => {
    const h = harness({ config: { protectedServiceIds: undefined } });
    h.ec2
      .on(DescribeVpcEndpointServiceConfigurationsCommand)
      .resolvesOnce({ ServiceConfigurations: [{ ServiceId: SERVICE_A }], NextToken: 'page-2' })
      .resolvesOnce({ ServiceConfigurations: [{ ServiceId: SERVICE_B }] });
    const summary = await h.run(scheduledEvent());
    expect(h.ec2).toHaveReceivedNthSpecificCommandWith(
      2,
      DescribeVpcEndpointServiceConfigurationsCommand,
      {
        NextToken: 'page-2',
      },
    );
    expect(summary).toMatchObject({ services: 2 });
  });

  test('a notification naming a service that is not protected makes no EC2 call for it', async () => {
    const h = harness({ connections: [connection(DENIED, { ServiceId: SERVICE_B })] });
    await h.run(snsEvent(`service ${SERVICE_B}`));
    expect(h.ec2).not.toHaveReceivedCommand(DescribeVpcEndpointConnectionsCommand);
    expect(h.ec2).not.toHaveReceivedCommand(RejectVpcEndpointConnectionsCommand);
    expect(logWarn).toHaveBeenCalledWith('Ignoring services that are not protected', {
      serviceIds: [SERVICE_B],
    });
  });

  test('a CloudTrail CreateVpcEndpoint event reconciles the requested service', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied] });
    await h.run(
      createVpcEndpointEvent(`com.amazonaws.vpce.eu-west-1.${SERVICE_A}`, denied.VpcEndpointId),
    );
    expect(h.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionsCommand, {
      Filters: expect.arrayContaining([{ Name: 'service-id', Values: [SERVICE_A] }]),
    });
    expect(h.stateOf(denied.VpcEndpointId)).toBe('rejected');
  });

  test('a CreateVpcEndpoint event for an AWS service endpoint is ignored without an EC2 call', async () => {
    const h = harness({ connections: [connection(DENIED)] });
    const summary = await h.run(createVpcEndpointEvent('com.amazonaws.eu-west-1.s3'));
    expect(summary).toMatchObject({ trigger: 'ignored' });
    expect(h.ec2).not.toHaveReceivedAnyCommand();
  });

  test('a CreateVpcEndpoint event without request parameters sweeps every protected service', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied] });
    await h.run(createVpcEndpointEvent(undefined));
    expect(h.stateOf(denied.VpcEndpointId)).toBe('rejected');
  });

  test('a scheduled event sweeps every protected service', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied] });
    const summary = await h.run(scheduledEvent());
    expect(summary).toMatchObject({ trigger: 'sweep', rejected: 1 });
  });

  test('a manual invocation reconciles all services or the listed ones', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied] });
    await expect(h.run({ reconcile: [SERVICE_A] })).resolves.toMatchObject({
      trigger: 'manual',
      rejected: 1,
    });
    await expect(h.run({ reconcile: 'all' })).resolves.toMatchObject({
      trigger: 'sweep',
      services: 1,
    });
  });

  test('a malformed manual invocation fails with a message that says what was expected', async () => {
    const h = harness();
    await expect(h.run({ reconcile: ['vpce-svc-nothex'] })).rejects.toThrow(ManualInvocationError);
    await expect(h.run({ reconcile: 42 })).rejects.toThrow('Expected {"reconcile": "all"}');
    expect(h.ec2).not.toHaveReceivedAnyCommand();
  });

  test.each([
    ['a string', 'hello'],
    ['an empty object', {}],
    [
      'an unknown EventBridge event',
      eventBridgeEvent('EC2 Instance State-change Notification', 'aws.ec2', {}),
    ],
    ['records from an unknown source', { Records: [{ eventSource: 'aws:s3' }] }],
  ])(
    '%s is logged and counted as an unknown trigger, with no EC2 call and no error',
    async (_name, event) => {
      const h = harness({ connections: [connection(DENIED)] });
      await expect(h.run(event)).resolves.toMatchObject({ trigger: 'unknown' });
      expect(h.ec2).not.toHaveReceivedAnyCommand();
      expect(h.sqs).not.toHaveReceivedAnyCommand();
      expect(metricTotal('UnknownTrigger')).toBe(1);
      expect(logWarn).toHaveBeenCalledWith('Ignoring an event of unknown shape', {
        seen: expect.any(String),
      });
    },
  );
});

describe('decisions come from EC2, never from the event', () => {
  test('a forged notification that claims an allowed owner and state is decided on what Describe returns', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied] });
    await h.run(
      snsEvent(
        JSON.stringify({
          serviceId: SERVICE_A,
          vpcEndpointId: denied.VpcEndpointId,
          vpcEndpointOwner: ALLOWED,
          vpcEndpointState: 'available',
        }),
      ),
    );
    expect(rejectCalls(h)).toEqual([
      expect.objectContaining({ VpcEndpointIds: [denied.VpcEndpointId] }),
    ]);
  });

  test('a notification naming hundreds of services costs no more Describes than a sweep', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied], config: { protectedServiceIds: undefined } });
    const madeUp = Array.from(
      { length: 500 },
      (_, i) => `vpce-svc-${(0x10000000 + i).toString(16)}`,
    );

    await h.run(snsEvent([SERVICE_A, ...madeUp].join(' ')));

    // One read of every pending connection instead of 501, and the real one is still rejected.
    expect(h.ec2.commandCalls(DescribeVpcEndpointConnectionsCommand)).toHaveLength(1);
    expect(rejectCalls(h)).toEqual([
      expect.objectContaining({ VpcEndpointIds: [denied.VpcEndpointId] }),
    ]);
    expect(h.sent()).toEqual([]);
    expect(logInfo).toHaveBeenCalledWith(
      'Sweeping instead: the hints name more services than a sweep reads for less',
      { services: 501, readApartAtMost: 23 },
    );
  });

  test('a manual reconcile reads the services it lists, however many', async () => {
    const h = harness({ config: { protectedServiceIds: undefined } });
    const listed = Array.from(
      { length: 30 },
      (_, i) => `vpce-svc-${(0x10000000 + i).toString(16)}`,
    );
    await h.run({ reconcile: listed });
    expect(h.ec2.commandCalls(DescribeVpcEndpointConnectionsCommand)).toHaveLength(30);
  });

  test('an endpoint named in a notification but not pending is left alone', async () => {
    const gone = connection(DENIED, { VpcEndpointState: 'rejected' });
    const h = harness({ connections: [gone] });
    await h.run(
      snsEvent(JSON.stringify({ serviceId: SERVICE_A, vpcEndpointId: gone.VpcEndpointId })),
    );
    expect(h.ec2).not.toHaveReceivedCommand(RejectVpcEndpointConnectionsCommand);
  });

  test('with revoke, available connections kept as they are are logged at DEBUG, not INFO', async () => {
    const kept = connection(ALLOWED, { VpcEndpointState: 'available' });
    const h = harness({ policy: { ...POLICY, revoke: true }, connections: [kept] });
    await h.run(scheduledEvent());
    expect(logDebug).toHaveBeenCalledWith(
      'Decision',
      expect.objectContaining({ endpointId: kept.VpcEndpointId, decision: 'keep' }),
    );
    expect(logInfo).not.toHaveBeenCalledWith('Decision', expect.anything());
  });

  test('with revoke, available connections of principals no longer allowed are rejected', async () => {
    const stale = connection(STRANGER, { VpcEndpointState: 'available' });
    const kept = connection(ALLOWED, { VpcEndpointState: 'available' });
    const h = harness({ policy: { ...POLICY, revoke: true }, connections: [stale, kept] });
    await h.run(scheduledEvent());
    expect(h.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionsCommand, {
      Filters: expect.arrayContaining([
        {
          Name: 'vpc-endpoint-state',
          Values: ['pendingAcceptance', 'PendingAcceptance', 'available', 'Available'],
        },
      ]),
    });
    expect(rejectCalls(h)).toEqual([
      expect.objectContaining({ VpcEndpointIds: [stale.VpcEndpointId] }),
    ]);
  });
});

describe('pagination and batching', () => {
  test('reads every page of connections before deciding', async () => {
    const denied = Array.from({ length: 5 }, () => connection(DENIED));
    const h = harness({ connections: denied, pageSize: 2 });
    await h.run(scheduledEvent());
    expect(h.ec2).toHaveReceivedCommandTimes(DescribeVpcEndpointConnectionsCommand, 3);
    const [firstPage] = h.ec2.commandCalls(DescribeVpcEndpointConnectionsCommand);
    const { NextToken } = await firstPage!.returnValue;
    expect(NextToken).toEqual(expect.any(String));
    expect(h.ec2).toHaveReceivedNthSpecificCommandWith(2, DescribeVpcEndpointConnectionsCommand, {
      NextToken,
      MaxResults: 1000,
    });
    expect(rejectCalls(h).flatMap((c) => c.VpcEndpointIds)).toHaveLength(5);
  });

  test('a burst of 120 denied requests costs three Reject calls of at most the batch size', async () => {
    const burst = Array.from({ length: 120 }, () => connection(STRANGER));
    const h = harness({ connections: burst });
    for (const c of burst)
      await h.run(
        snsEvent(JSON.stringify({ serviceId: SERVICE_A, vpcEndpointId: c.VpcEndpointId })),
      );
    expect(rejectCalls(h).map((c) => c.VpcEndpointIds?.length)).toEqual([50, 50, 20]);
    expect(burst.every((c) => h.stateOf(c.VpcEndpointId) === 'rejected')).toBe(true);
  });

  test('waits for EC2 request tokens instead of spending throttled calls', async () => {
    const burst = Array.from({ length: 12 }, () => connection(STRANGER));
    const h = harness({ connections: burst, config: { rejectBatchSize: 1 } });
    const start = h.clock.now();
    await h.run(scheduledEvent());
    expect(rejectCalls(h)).toHaveLength(12);
    // 10 tokens at once, then one per 1/0.95 s: the copy refills 5% slower than EC2's bucket.
    expect(h.clock.now() - start).toBe(2 * Math.ceil(1000 / 0.95));
  });

  test('past the invocation deadline, the remaining batches are deferred to a retry that counts no attempt', async () => {
    const burst = Array.from({ length: 12 }, () => connection(STRANGER));
    const h = harness({ connections: burst, config: { rejectBatchSize: 1 } });
    // Ten tokens at once; the next comes with less than a call's allowance (1 s) left.
    const summary = await h.runBy(scheduledEvent(), h.clock.now() + 1500);
    expect(rejectCalls(h)).toHaveLength(10);
    expect(h.sent().map((m) => [m.record.endpointIds, m.record.attempt])).toEqual([
      [[burst[10]!.VpcEndpointId], 0],
      [[burst[11]!.VpcEndpointId], 0],
    ]);
    // Running out of time is not EC2 failing: no Unsuccessful line or metric.
    expect(summary).toMatchObject({ unsuccessful: 0, retriesQueued: 2 });
    expect(metricTotal('RejectUnsuccessful')).toBe(0);
    expect(logError).not.toHaveBeenCalledWith('Unsuccessful', expect.anything());
  });

  test('a retry record reached past the deadline is deferred with its own endpoints, not widened', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending] });
    const body = retryBody({ endpointIds: [pending.VpcEndpointId], attempt: 2 });
    await h.runBy(sqsEvent([body]), h.clock.now());
    expect(h.ec2).not.toHaveReceivedAnyCommand();
    expect(h.sent()[0]!.record).toMatchObject({ endpointIds: [pending.VpcEndpointId], attempt: 2 });
  });

  test('past the deadline, a sweep starts no change and re-reads no policy: the rest is deferred', async () => {
    const [a, b] = [connection(DENIED), connection(DENIED, { ServiceId: SERVICE_B })];
    const h = harness({ connections: [], config: { protectedServiceIds: [SERVICE_A, SERVICE_B] } });
    await h.run(scheduledEvent());
    h.addConnection(a);
    h.addConnection(b);
    h.clock.time += 4_000;
    // Service A's Reject takes 2 s to answer: the sweep is then past its deadline.
    h.ec2.on(RejectVpcEndpointConnectionsCommand).callsFake((input) => {
      h.clock.time += 2_000;
      return h.model.rejectConnections(input);
    });

    await h.runBy(scheduledEvent(), h.clock.now() + 2_500);

    expect(rejectCalls(h).map((c) => c.ServiceId)).toEqual([SERVICE_A]);
    expect(h.stateOf(b.VpcEndpointId)).toBe('pendingAcceptance');
    // The cached policy is 6 s old when B is settled, but no call is started for it.
    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(h.sent().map((m) => m.record)).toEqual([
      expect.objectContaining({
        serviceId: SERVICE_B,
        endpointIds: [b.VpcEndpointId],
        attempt: 0,
        lastError: expect.objectContaining({ code: 'Deferred' }),
      }),
    ]);
  });

  test('a deferral never dead-letters: a redriven record at its last attempt waits for one', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending], config: { maxAttempts: 3 } });
    // Redriven from the dead-letter queue: its attempts are used up, it gets one more.
    const body = retryBody({ endpointIds: [pending.VpcEndpointId], attempt: 3 });

    await h.runBy(sqsEvent([body]), h.clock.now());

    expect(h.sent(DLQ_URL)).toEqual([]);
    expect(h.sent(RETRY_QUEUE_URL).map((m) => m.record)).toEqual([
      expect.objectContaining({ endpointIds: [pending.VpcEndpointId], attempt: 3 }),
    ]);
  });

  test('services not yet read at the deadline are deferred whole', async () => {
    const h = harness({
      connections: [connection(DENIED), connection(DENIED, { ServiceId: SERVICE_B })],
      config: { protectedServiceIds: [SERVICE_A, SERVICE_B] },
    });
    await h.runBy(scheduledEvent(), h.clock.now());
    expect(h.ec2).not.toHaveReceivedCommand(DescribeVpcEndpointConnectionsCommand);
    expect(h.sent().map((m) => m.record)).toEqual([
      expect.objectContaining({
        serviceId: SERVICE_A,
        endpointIds: [],
        action: 'describe',
        attempt: 0,
      }),
      expect.objectContaining({
        serviceId: SERVICE_B,
        endpointIds: [],
        action: 'describe',
        attempt: 0,
      }),
    ]);
    // No time left is no failure: a WARN line per service, no ERROR.
    expect(logError).not.toHaveBeenCalledWith('Could not reconcile the service', expect.anything());
    expect(logWarn).toHaveBeenCalledWith(
      'Deferred to a retry',
      expect.objectContaining({
        serviceId: SERVICE_A,
        action: 'describe',
        why: expect.any(String),
      }),
    );
  });
});

describe('nothing is lost', () => {
  test('an Unsuccessful entry is logged, counted and queued for retry with the service, endpoint, attempt and error', async () => {
    const [a, b] = [connection(DENIED), connection(DENIED)];
    const h = harness({ connections: [a, b] });
    h.ec2.on(RejectVpcEndpointConnectionsCommand).resolves({
      Unsuccessful: [
        {
          ResourceId: b.VpcEndpointId,
          Error: { Code: 'InvalidState', Message: 'The endpoint is in a transitional state.' },
        },
      ],
    });

    const summary = await h.run(scheduledEvent());

    expect(summary).toMatchObject({ rejected: 1, unsuccessful: 1, retriesQueued: 1 });
    expect(logError).toHaveBeenCalledWith(
      'Unsuccessful',
      expect.objectContaining({
        serviceId: SERVICE_A,
        endpointId: b.VpcEndpointId,
        action: 'reject',
        errorCode: 'InvalidState',
        errorMessage: 'The endpoint is in a transitional state.',
      }),
    );
    expect(metricTotal('RejectUnsuccessful')).toBe(1);
    expect(metricTotal('RetriesQueued')).toBe(1);
    const [message] = h.sent();
    expect(message!.record).toEqual({
      type: 'vpce-guard/retry',
      serviceId: SERVICE_A,
      endpointIds: [b.VpcEndpointId],
      action: 'reject',
      attempt: 1,
      lastError: { code: 'InvalidState', message: 'The endpoint is in a transitional state.' },
      firstFailedAt: '2026-11-25T12:00:00.000Z',
    });
    expect(message!.DelaySeconds).toBe(23); // 30 s ceiling, jitter 0.5: 15 + 7.5, rounded
  });

  test('an Unsuccessful entry that names no endpoint leaves none of its batch reported done', async () => {
    const [a, b] = [connection(DENIED), connection(STRANGER)];
    const h = harness({ connections: [a, b] });
    h.ec2.on(RejectVpcEndpointConnectionsCommand).resolves({
      Unsuccessful: [{ Error: { Code: 'InternalError', Message: 'try again' } }],
    });

    const summary = await h.run(scheduledEvent());

    // Either endpoint may be the one EC2 meant: both are failures, counted and logged.
    expect(summary).toMatchObject({ rejected: 0, unsuccessful: 2, retriesQueued: 1 });
    expect(metricTotal('ConnectionsRejected')).toBe(0);
    expect(metricTotal('RejectUnsuccessful')).toBe(2);
    for (const c of [a, b]) {
      expect(logError).toHaveBeenCalledWith(
        'Unsuccessful',
        expect.objectContaining({ endpointId: c.VpcEndpointId, errorCode: 'InternalError' }),
      );
    }
    expect(h.published().map((d) => d.outcome)).toEqual(['queued', 'queued']);
    // The retry cannot name an endpoint it does not know: it reads the service again.
    expect(h.sent()[0]!.record).toMatchObject({ serviceId: SERVICE_A, endpointIds: [] });
  });

  test('a Reject call still throttled after the SDK retries queues all of its endpoints', async () => {
    const denied = [connection(DENIED), connection(STRANGER)];
    const h = harness({ connections: denied });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(
        Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }),
      );
    const summary = await h.run(scheduledEvent());
    expect(summary).toMatchObject({ unsuccessful: 2, retriesQueued: 1 });
    expect(h.sent()[0]!.record).toMatchObject({
      endpointIds: denied.map((c) => c.VpcEndpointId),
      lastError: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
    });
  });

  test("a hint's Describe that fails queues the whole service", async () => {
    const h = harness({ connections: [connection(DENIED)] });
    h.ec2
      .on(DescribeVpcEndpointConnectionsCommand)
      .rejects(
        Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError' }),
      );
    await h.run(snsEvent(SERVICE_A));
    expect(h.sent()[0]!.record).toMatchObject({
      serviceId: SERVICE_A,
      endpointIds: [],
      action: 'describe',
      lastError: { code: 'InternalError' },
    });
  });

  test('a service that no longer exists is reported, not retried forever', async () => {
    const h = harness({ connections: [connection(DENIED)] });
    h.ec2.on(DescribeVpcEndpointConnectionsCommand).rejects(
      Object.assign(new Error(`The Vpc Endpoint Service Id '${SERVICE_A}' does not exist`), {
        name: 'InvalidVpcEndpointServiceId.NotFound',
      }),
    );
    await h.run(snsEvent(SERVICE_A));
    expect(h.sqs).not.toHaveReceivedAnyCommand();
    expect(logError).toHaveBeenCalledWith(
      'Could not reconcile the service',
      expect.objectContaining({ serviceId: SERVICE_A, retried: false }),
    );
  });

  test('SendMessageBatch entries reported as Failed are sent again', async () => {
    const h = harness({ connections: [connection(DENIED)] });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    h.sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [],
        Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
      })
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }],
        Failed: [],
      });
    await expect(h.run(scheduledEvent())).resolves.toMatchObject({ retriesQueued: 1 });
    expect(h.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
  });

  test('when the retry queue keeps refusing, the invocation fails so that AWS retries the event', async () => {
    const h = harness({ connections: [connection(DENIED)] });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    h.sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false, Message: 'down' }],
    });
    await expect(h.run(scheduledEvent())).rejects.toThrow(
      `could not send 1 message(s) to ${RETRY_QUEUE_URL}: 0: InternalError: down`,
    );
    expect(h.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
  });
});

describe('dry run', () => {
  const dryRunPolicy = { ...POLICY, mode: 'dryRun' };

  test('decides the same, calls Reject and Accept with DryRun, counts DryRunOperation as success and changes nothing', async () => {
    const denied = connection(DENIED);
    const accepted = connection(ACCEPTED);
    const h = harness({ policy: dryRunPolicy, connections: [denied, accepted] });
    const dryRunOk = Object.assign(
      new Error('Request would have succeeded, but DryRun flag is set.'),
      { name: 'DryRunOperation' },
    );
    h.ec2.on(RejectVpcEndpointConnectionsCommand).rejects(dryRunOk);
    h.ec2.on(AcceptVpcEndpointConnectionsCommand).rejects(dryRunOk);

    const summary = await h.run(scheduledEvent());

    expect(h.ec2).toHaveReceivedCommandWith(RejectVpcEndpointConnectionsCommand, {
      DryRun: true,
      VpcEndpointIds: [denied.VpcEndpointId],
    });
    expect(h.ec2).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, {
      DryRun: true,
      VpcEndpointIds: [accepted.VpcEndpointId],
    });
    expect(summary).toMatchObject({ rejected: 1, accepted: 1, unsuccessful: 0, retriesQueued: 0 });
    expect(metricTotal('DryRunRejects')).toBe(1);
    expect(metricTotal('ConnectionsRejected')).toBe(0);
    expect(logInfo).toHaveBeenCalledWith(
      'Decision (dry run: would reject)',
      expect.objectContaining({ endpointId: denied.VpcEndpointId, mode: 'dryRun' }),
    );
    expect(h.stateOf(denied.VpcEndpointId)).toBe('pendingAcceptance');
  });

  test('an UnauthorizedOperation in dry run is logged as a permission error and not retried', async () => {
    const denied = connection(DENIED);
    const h = harness({ policy: dryRunPolicy, connections: [denied] });
    h.ec2.on(RejectVpcEndpointConnectionsCommand).rejects(
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
      }),
    );
    await h.run(scheduledEvent());
    expect(logError).toHaveBeenCalledWith(
      'Permission denied: the guard may not change this service',
      expect.objectContaining({ endpointId: denied.VpcEndpointId }),
    );
    expect(metricTotal('PermissionDenied')).toBe(1);
    expect(h.sqs).not.toHaveReceivedAnyCommand();
  });
});

describe('the policy', () => {
  test('is read from SSM once across warm invocations within the cache time', async () => {
    const h = harness({ connections: [connection(DENIED)] });
    await h.run(scheduledEvent());
    h.clock.time += 59_000;
    await h.run(scheduledEvent());
    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(h.ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: POLICY_PARAMETER,
      WithDecryption: true,
    });
    h.clock.time += 2_000;
    await h.run(scheduledEvent());
    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  test('a Parameter Store Change of the policy drops the cache, reloads and sweeps', async () => {
    const stranger = connection(STRANGER);
    const h = harness({ connections: [stranger], policy: { ...POLICY, defaultAction: 'keep' } });
    await h.run(scheduledEvent());
    expect(h.stateOf(stranger.VpcEndpointId)).toBe('pendingAcceptance');

    h.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(POLICY) } });
    await expect(h.run(parameterChange())).resolves.toMatchObject({
      trigger: 'policyChanged',
      rejected: 1,
    });
    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
    expect(h.stateOf(stranger.VpcEndpointId)).toBe('rejected');
  });

  test('a Parameter Store Change of another parameter is ignored', async () => {
    const h = harness({ connections: [connection(DENIED)] });
    await expect(h.run(parameterChange('/other/parameter'))).resolves.toMatchObject({
      trigger: 'ignored',
    });
    expect(h.ec2).not.toHaveReceivedAnyCommand();
    expect(h.ssm).not.toHaveReceivedAnyCommand();
  });

  test.each([
    ['unparsable', '{"version": 1,', '(root)'],
    [
      'invalid',
      JSON.stringify({ ...POLICY, rules: [{ id: 'x', principals: ['12345'] }] }),
      'rules[0].principals[0]',
    ],
  ])(
    'an %s policy causes no EC2 change, an error naming the JSON path, the PolicyInvalid metric and a retryable failure',
    async (_kind, text, path) => {
      const h = harness({ policy: text, connections: [connection(DENIED)] });
      await expect(h.run(scheduledEvent())).rejects.toThrow(PolicyUnavailableError);
      expect(h.ec2).not.toHaveReceivedAnyCommand();
      expect(metricTotal('PolicyInvalid')).toBe(1);
      expect(logError).toHaveBeenCalledWith(
        'Policy invalid and no valid policy loaded; acting on nothing',
        expect.objectContaining({
          parameter: POLICY_PARAMETER,
          errors: [expect.stringContaining(`${path}: `)],
        }),
      );
    },
  );

  test('a missing parameter fails the invocation with the parameter named', async () => {
    const h = harness({ connections: [connection(DENIED)] });
    h.ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('Parameter not found'), { name: 'ParameterNotFound' }));
    await expect(h.run(scheduledEvent())).rejects.toThrow(
      `no valid policy in SSM parameter ${POLICY_PARAMETER}: (parameter): could not be read: ParameterNotFound`,
    );
    expect(h.ec2).not.toHaveReceivedAnyCommand();
    // Unreadable is not invalid: the runbooks differ.
    expect(metricTotal('PolicyUnreadable')).toBe(1);
    expect(metricTotal('PolicyInvalid')).toBe(0);
  });

  test('a cached policy older than a few seconds is confirmed against SSM before a rejection', async () => {
    const stranger = connection(STRANGER);
    const h = harness({ connections: [] });
    await h.run(scheduledEvent());
    // Another container heard of this edit; this one still caches the old policy.
    const allowed = { ...POLICY, rules: [...POLICY.rules, { id: 'new', principals: [STRANGER] }] };
    h.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(allowed) } });
    h.addConnection(stranger);
    h.clock.time += 10_000;

    await h.run(snsEvent(SERVICE_A));

    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
    expect(h.ec2).not.toHaveReceivedCommand(RejectVpcEndpointConnectionsCommand);
    expect(logInfo).toHaveBeenCalledWith(
      'Decision',
      expect.objectContaining({ rule: 'new', decision: 'keep' }),
    );
  });

  test('a cached policy that SSM cannot confirm before a rejection is not acted on: the change waits for a retry', async () => {
    const stranger = connection(STRANGER);
    const h = harness({ connections: [] });
    await h.run(scheduledEvent());
    // Another container heard that STRANGER is now allowed; SSM throttles this one's re-read.
    h.ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    h.addConnection(stranger);
    h.clock.time += 10_000;

    const summary = await h.run(snsEvent(SERVICE_A));

    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
    expect(h.ec2).not.toHaveReceivedCommand(RejectVpcEndpointConnectionsCommand);
    expect(h.stateOf(stranger.VpcEndpointId)).toBe('pendingAcceptance');
    // Deferred, not failed: the retry counts no attempt, and EC2 was not refused anything.
    expect(h.sent().map((m) => m.record)).toEqual([
      expect.objectContaining({
        serviceId: SERVICE_A,
        endpointIds: [stranger.VpcEndpointId],
        action: 'reject',
        attempt: 0,
        lastError: expect.objectContaining({ code: 'Deferred' }),
      }),
    ]);
    expect(summary).toMatchObject({ rejected: 0, unsuccessful: 0, retriesQueued: 1 });
    expect(metricTotal('RejectUnsuccessful')).toBe(0);
    expect(metricTotal('PolicyUnreadable')).toBe(1);
    expect(logWarn).toHaveBeenCalledWith(
      'Deferred to a retry',
      expect.objectContaining({
        endpointId: stranger.VpcEndpointId,
        decision: 'reject',
        result: 'deferred',
        why: 'the policy could not be re-read to confirm it before a change',
      }),
    );
  });

  test('a policy that turns invalid is still confirmed by the last valid one: the guard acts on it', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [] });
    await h.run(scheduledEvent());
    h.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"version": 2}' } });
    h.addConnection(denied);
    h.clock.time += 10_000;

    await h.run(snsEvent(SERVICE_A));

    expect(h.stateOf(denied.VpcEndpointId)).toBe('rejected');
    expect(metricTotal('PolicyInvalid')).toBe(1);
  });

  test('a re-read the deadline refused is no "Policy unreadable": not reported, not cached, the change deferred', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [] });
    await h.run(scheduledEvent());
    // What the SDK client throws for a call started after the invocation's deadline.
    h.ssm.on(GetParameterCommand).rejects(new DeadlineReachedError());
    h.addConnection(denied);
    h.clock.time += 10_000;

    await h.run(snsEvent(SERVICE_A));

    expect(h.stateOf(denied.VpcEndpointId)).toBe('pendingAcceptance');
    expect(h.sent()[0]!.record).toMatchObject({ attempt: 0, lastError: { code: 'Deferred' } });
    expect(metricTotal('PolicyUnreadable')).toBe(0);
    expect(logError).not.toHaveBeenCalledWith(
      expect.stringContaining('Policy unreadable'),
      expect.anything(),
    );
    // Not cached as a failed load: the next invocation reads SSM again, and acts.
    h.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(POLICY) } });
    await h.run(snsEvent(SERVICE_A));
    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 3);
    expect(h.stateOf(denied.VpcEndpointId)).toBe('rejected');
  });

  test('a fresh policy is not read again before a rejection', async () => {
    const h = harness({ connections: [connection(DENIED)] });
    await h.run(scheduledEvent());
    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
  });

  test('with no valid policy, retry records stay on the queue as batch item failures', async () => {
    const h = harness({ policy: 'not json', connections: [connection(DENIED)] });
    await expect(h.run(sqsEvent([retryBody(), retryBody()]))).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-0' }, { itemIdentifier: 'msg-1' }],
    });
    expect(h.ec2).not.toHaveReceivedAnyCommand();
  });

  test('with no cache time, a broken policy is reported once per 5 s, not on every read', async () => {
    const h = harness({ connections: [connection(DENIED)], config: { policyCacheSeconds: 0 } });
    await h.run(scheduledEvent());
    h.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"version": 2}' } });

    // The sweep read it twice (loaded, then confirmed before its Reject); each hint reads again.
    for (let i = 0; i < 3; i++) await h.run(snsEvent(SERVICE_A));
    expect(h.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2 + 3);
    expect(metricTotal('PolicyInvalid')).toBe(1);

    h.clock.time += 5_000;
    await h.run(snsEvent(SERVICE_A));
    expect(metricTotal('PolicyInvalid')).toBe(2);
  });

  test('a policy that turns invalid leaves the guard acting on the last valid one', async () => {
    const first = connection(DENIED);
    const h = harness({ connections: [first] });
    await h.run(scheduledEvent());
    h.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"version": 2}' } });
    const second = connection(DENIED);
    h.addConnection(second);
    await h.run(parameterChange());
    expect(h.stateOf(second.VpcEndpointId)).toBe('rejected');
    expect(metricTotal('PolicyInvalid')).toBe(1);
    expect(logError).toHaveBeenCalledWith(
      'Policy invalid; acting on the last valid policy',
      expect.anything(),
    );
  });
});

describe('retry records', () => {
  test('re-read their endpoints and are done when those are no longer actionable', async () => {
    const gone = connection(DENIED, { VpcEndpointState: 'rejected' });
    const h = harness({ connections: [gone] });
    const response = await h.run(sqsEvent([retryBody({ endpointIds: [gone.VpcEndpointId] })]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionsCommand, {
      Filters: [
        { Name: 'service-id', Values: [SERVICE_A] },
        { Name: 'vpc-endpoint-id', Values: [gone.VpcEndpointId] },
      ],
    });
    expect(h.ec2).not.toHaveReceivedCommand(RejectVpcEndpointConnectionsCommand);
    expect(h.sqs).not.toHaveReceivedAnyCommand();
  });

  test('act again on endpoints that are still pending', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending] });
    await h.run(sqsEvent([retryBody({ endpointIds: [pending.VpcEndpointId] })]));
    expect(h.stateOf(pending.VpcEndpointId)).toBe('rejected');
  });

  test('that fail again are queued with the next attempt and a longer backoff', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending] });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    await h.run(
      sqsEvent([
        retryBody({
          endpointIds: [pending.VpcEndpointId],
          firstFailedAt: '2026-11-25T11:00:00.000Z',
        }),
      ]),
    );
    const [message] = h.sent();
    expect(message!.record).toMatchObject({
      attempt: 2,
      firstFailedAt: '2026-11-25T11:00:00.000Z',
      endpointIds: [pending.VpcEndpointId],
    });
    expect(message!.DelaySeconds).toBe(45); // 60 s ceiling, jitter 0.5
  });

  test('after MAX_ATTEMPTS go to the dead-letter queue with the reason', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending], config: { maxAttempts: 3 } });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    const response = await h.run(
      sqsEvent([retryBody({ endpointIds: [pending.VpcEndpointId], attempt: 2 })]),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.sent(RETRY_QUEUE_URL)).toHaveLength(0);
    const [dead] = h.sent(DLQ_URL);
    expect(dead!.record).toMatchObject({ attempt: 3, endpointIds: [pending.VpcEndpointId] });
    expect(dead!.MessageAttributes).toEqual({
      reason: { DataType: 'String', StringValue: 'exhausted after 3 attempts' },
    });
    expect(metricTotal('RetriesDeadLettered')).toBe(1);
  });

  test('with MAX_ATTEMPTS 1, a first failure goes straight to the dead-letter queue', async () => {
    const h = harness({ connections: [connection(DENIED)], config: { maxAttempts: 1 } });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    await expect(h.run(scheduledEvent())).resolves.toMatchObject({ retriesQueued: 0 });
    expect(h.sent(RETRY_QUEUE_URL)).toHaveLength(0);
    expect(h.sent(DLQ_URL)[0]!.record).toMatchObject({ attempt: 1, action: 'reject' });
  });

  test("re-read at most 100 endpoint IDs per Describe, under EC2's cap on a filter's values", async () => {
    const many = Array.from({ length: 150 }, () => connection(DENIED));
    const h = harness({ connections: many });
    await h.run(sqsEvent([retryBody({ endpointIds: many.map((c) => c.VpcEndpointId) })]));
    const filters = h.ec2
      .commandCalls(DescribeVpcEndpointConnectionsCommand)
      .map(
        (c) => c.args[0].input.Filters?.find((f) => f.Name === 'vpc-endpoint-id')?.Values?.length,
      );
    expect(filters).toEqual([100, 50]);
    expect(many.every((c) => h.stateOf(c.VpcEndpointId) === 'rejected')).toBe(true);
  });

  test('without a dead-letter queue URL, an exhausted record is failed so the redrive policy moves it', async () => {
    const pending = connection(DENIED);
    const h = harness({
      connections: [pending],
      config: { maxAttempts: 2, deadLetterQueueUrl: undefined },
    });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    await expect(
      h.run(sqsEvent([retryBody({ endpointIds: [pending.VpcEndpointId] })])),
    ).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-0' }],
    });
  });

  test.each([
    ['not JSON', 'hello', 'unreadable: the message body is not JSON'],
    [
      'a forged service ID',
      retryBody({ serviceId: 'vpce-svc-zzz' }),
      'unreadable: serviceId "vpce-svc-zzz" is not an endpoint service ID',
    ],
    [
      'a bad attempt count',
      retryBody({ attempt: -1 }),
      'unreadable: attempt -1 is not a whole number',
    ],
    [
      'an unprotected service',
      retryBody({ serviceId: SERVICE_B }),
      `service ${SERVICE_B} is not protected`,
    ],
  ])(
    'with %s go to the dead-letter queue untouched, with no EC2 call',
    async (_name, body, reason) => {
      const h = harness({ connections: [connection(DENIED)] });
      await expect(h.run(sqsEvent([body]))).resolves.toEqual({ batchItemFailures: [] });
      expect(h.ec2).not.toHaveReceivedAnyCommand();
      const dead = h.sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input;
      expect(dead.QueueUrl).toBe(DLQ_URL);
      expect(dead.Entries![0]).toMatchObject({
        MessageBody: body,
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason } },
      });
    },
  );

  test('a record whose requeue fails is reported as a batch item failure, the others succeed', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending] });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    h.sqs
      .on(SendMessageBatchCommand)
      .rejectsOnce(new Error('socket hang up'))
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }], Failed: [] });
    const response = await h.run(
      sqsEvent([
        retryBody({ endpointIds: [pending.VpcEndpointId] }),
        retryBody({ endpointIds: [pending.VpcEndpointId] }),
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-0' }] });
  });
});

describe('queued hints', () => {
  test('a batch of notifications and CloudTrail events from the hint queue costs one Describe per service', async () => {
    const burst = Array.from({ length: 30 }, () => connection(STRANGER));
    const h = harness({ connections: burst });
    const bodies = [
      ...burst.map((c) =>
        snsEnvelope(JSON.stringify({ serviceId: SERVICE_A, vpcEndpointId: c.VpcEndpointId })),
      ),
      JSON.stringify(createVpcEndpointEvent(`com.amazonaws.vpce.eu-west-1.${SERVICE_A}`)),
    ];

    await expect(h.run(sqsEvent(bodies))).resolves.toEqual({ batchItemFailures: [] });

    expect(h.ec2).toHaveReceivedCommandTimes(DescribeVpcEndpointConnectionsCommand, 1);
    expect(rejectCalls(h)).toHaveLength(1);
    expect(burst.every((c) => h.stateOf(c.VpcEndpointId) === 'rejected')).toBe(true);
  });

  test('hints and retry records in one batch are each handled their own way', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending] });
    const response = await h.run(
      sqsEvent([
        snsEnvelope(SERVICE_A),
        retryBody({ endpointIds: [pending.VpcEndpointId] }),
        'not json',
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.stateOf(pending.VpcEndpointId)).toBe('rejected');
    const dead = h.sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(dead).toContainEqual(
      expect.objectContaining({
        QueueUrl: DLQ_URL,
        Entries: [expect.objectContaining({ MessageBody: 'not json' })],
      }),
    );
  });

  test('queued hints whose sweep cannot read the connections stay on the queue', async () => {
    const h = harness({ config: { protectedServiceIds: undefined } });
    h.ec2
      .on(DescribeVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    await expect(
      h.run(sqsEvent([snsEnvelope('no service named'), snsEnvelope('nor here')])),
    ).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-0' }, { itemIdentifier: 'msg-1' }],
    });
  });

  test('junk on the hint queue goes back to it, for its own dead-letter queue: never to the retry DLQ', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending] });

    const response = await h.run(
      hintQueueEvent(['not json', '{"some": "thing"}', snsEnvelope(SERVICE_A)]),
    );

    // SQS delivers them again; after 10 receives the hint queue's redrive moves them.
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'hint-0' }, { itemIdentifier: 'hint-1' }],
    });
    expect(h.sent(DLQ_URL)).toEqual([]);
    expect(metricTotal('RetriesDeadLettered')).toBe(0);
    expect(metricTotal('UnknownTrigger')).toBe(2);
    expect(logError).not.toHaveBeenCalledWith('Unreadable retry record', expect.anything());
    expect(logWarn).toHaveBeenCalledWith(
      'Unreadable message on the hint queue; SQS will deliver it again, then dead-letter it',
      expect.objectContaining({ messageId: 'hint-0', problem: 'the message body is not JSON' }),
    );
    // The good hint in the batch is settled.
    expect(h.stateOf(pending.VpcEndpointId)).toBe('rejected');
  });

  test('an unknown EventBridge event on the queue is counted, not retried', async () => {
    const h = harness();
    const odd = JSON.stringify(eventBridgeEvent('Something Else', 'aws.ec2', {}));
    await expect(h.run(sqsEvent([odd]))).resolves.toEqual({ batchItemFailures: [] });
    expect(metricTotal('UnknownTrigger')).toBe(1);
    expect(h.ec2).not.toHaveReceivedAnyCommand();
  });
});

describe('decision events', () => {
  const brief = (d: { endpointId: string | null; decision: string | null; outcome: string }) => [
    d.endpointId,
    d.decision,
    d.outcome,
  ];

  test('each decision is published once the decisions are made: reject, accept, and a request kept pending', async () => {
    const denied = connection(DENIED);
    const accepted = connection(ACCEPTED);
    const allowed = connection(ALLOWED);
    const h = harness({ connections: [denied, accepted, allowed] });

    await h.run(snsEvent(JSON.stringify({ serviceId: SERVICE_A })));

    expect(h.published().map(brief)).toEqual([
      [denied.VpcEndpointId, 'reject', 'done'],
      [accepted.VpcEndpointId, 'accept', 'done'],
      [allowed.VpcEndpointId, 'keep', 'done'],
    ]);
    expect(h.published()[0]).toMatchObject({
      serviceId: SERVICE_A,
      owner: DENIED,
      rule: 'deny',
      mode: 'enforce',
      attempt: 1,
    });
    // Published after the decisions: the Reject and Accept came first.
    const [put] = h.events.commandCalls(PutEventsCommand);
    for (const command of [
      RejectVpcEndpointConnectionsCommand,
      AcceptVpcEndpointConnectionsCommand,
    ]) {
      expect(h.ec2.commandCalls(command)[0]!.calledBefore(put!)).toBe(true);
    }
  });

  test('a request kept pending is announced once, not on every sweep', async () => {
    const allowed = connection(ALLOWED);
    const h = harness({ connections: [allowed] });

    await h.run(scheduledEvent());
    await h.run(scheduledEvent());

    expect(h.published().map(brief)).toEqual([[allowed.VpcEndpointId, 'keep', 'done']]);
  });

  test('a throttled rejection is published as queued, and as gaveUp when its retry record is given up', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending], config: { maxAttempts: 3 } });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));

    await h.run(scheduledEvent());
    await h.run(sqsEvent([retryBody({ endpointIds: [pending.VpcEndpointId], attempt: 2 })]));

    expect(h.published()).toEqual([
      expect.objectContaining({ outcome: 'queued', attempt: 1, errorCode: 'RequestLimitExceeded' }),
      expect.objectContaining({ outcome: 'gaveUp', attempt: 3, errorCode: 'RequestLimitExceeded' }),
    ]);
  });

  test('an invocation that fails after its decisions still publishes them: AWS retries the event, the decisions stand', async () => {
    const [denied, throttled] = [connection(DENIED), connection(DENIED, { ServiceId: SERVICE_B })];
    const h = harness({
      connections: [denied, throttled],
      config: { protectedServiceIds: [SERVICE_A, SERVICE_B] },
    });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand, { ServiceId: SERVICE_B })
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    h.sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false, Message: 'down' }],
    });

    await expect(h.run(scheduledEvent())).rejects.toThrow('could not send');

    // The throttled one is `queued`: its record did not reach SQS, but AWS retries the failed
    // invocation, which tries it again (docs/events.md).
    expect(h.published().map(brief)).toEqual([
      [denied.VpcEndpointId, 'reject', 'done'],
      [throttled.VpcEndpointId, 'reject', 'queued'],
    ]);
  });

  test('a retry record is published as gaveUp only once the dead-letter queue has it', async () => {
    const pending = connection(DENIED);
    const h = harness({ connections: [pending], config: { maxAttempts: 3 } });
    h.ec2
      .on(RejectVpcEndpointConnectionsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'RequestLimitExceeded' }));
    h.sqs.on(SendMessageBatchCommand, { QueueUrl: DLQ_URL }).resolves({
      Successful: [],
      Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false, Message: 'down' }],
    });

    const response = await h.run(
      sqsEvent([retryBody({ endpointIds: [pending.VpcEndpointId], attempt: 2 })]),
    );

    // Back to its queue, to be given up again on its next delivery: not given up yet.
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-0' }] });
    expect(h.published().map(brief)).toEqual([[pending.VpcEndpointId, 'reject', 'queued']]);
  });

  test('a PutEvents that fails is logged and counted; the invocation succeeds and the decision stands', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied] });
    h.events
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));

    await expect(h.run(scheduledEvent())).resolves.toMatchObject({ rejected: 1 });

    expect(h.stateOf(denied.VpcEndpointId)).toBe('rejected');
    expect(metricTotal('DecisionEventsFailed')).toBe(1);
    expect(logError).toHaveBeenCalledWith(
      'Decision events not published: the decisions stand, their events are lost',
      expect.objectContaining({ failed: 1, errors: ['AccessDeniedException: not allowed'] }),
    );
  });

  test('in dry run, each would-be change is announced once', async () => {
    const denied = connection(DENIED);
    const h = harness({ connections: [denied], policy: { ...POLICY, mode: 'dryRun' } });

    await h.run(scheduledEvent());
    await h.run(scheduledEvent());

    expect(h.published().map((d) => [d.decision, d.mode, d.outcome])).toEqual([
      ['reject', 'dryRun', 'dryRun'],
    ]);
  });
});
