/**
 * The sweep of every service in one read, and its upkeep: every protected service wired with a
 * connection notification, new services protected at once, the guard's notifications removed
 * with the stack, and each service's posture reported.
 */
import {
  CreateVpcEndpointConnectionNotificationCommand,
  DeleteVpcEndpointConnectionNotificationsCommand,
  DescribeVpcEndpointConnectionNotificationsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicePermissionsCommand,
  RejectVpcEndpointConnectionsCommand,
} from '@aws-sdk/client-ec2';
import { CLEANUP_PHYSICAL_ID } from '../../lambda/guard';
import { logger, metrics } from '../../lambda/telemetry';
import { wiringToken } from '../../core/notifications';
import {
  connection,
  DENIED,
  harness,
  POLICY,
  scheduledEvent,
  SERVICE_A,
  SERVICE_B,
  serviceCreatedEvent,
  sqsEvent,
  stackEvent,
  TOPIC_ARN,
  type HarnessOptions,
} from './harness';

const addMetric = jest.spyOn(metrics, 'addMetric');
const logError = jest.spyOn(logger, 'error');
const logInfo = jest.spyOn(logger, 'info');
const logWarn = jest.spyOn(logger, 'warn');

beforeEach(() => jest.clearAllMocks());

/** The values of a metric, as each call emitted them. */
const metricValues = (name: string) =>
  addMetric.mock.calls.filter(([n]) => n === name).map(([, , value]) => value);

const SERVICE_C = 'vpce-svc-0aaaaaaaaaaaaaaa1';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:someone-else';

/** Protecting every service the account owns (A, B, C), wired to the guard's topic. */
function protectingAll(options: HarnessOptions = {}) {
  return harness({
    ownedServices: [SERVICE_A, SERVICE_B, SERVICE_C],
    ...options,
    config: { protectedServiceIds: undefined, notificationTopicArn: TOPIC_ARN, ...options.config },
  });
}

const toTopic = (h: ReturnType<typeof harness>) =>
  h.model.notifications().filter((n) => n.ConnectionNotificationArn === TOPIC_ARN);

describe('a sweep', () => {
  test('reads every service in ONE Describe filtered on state only, then settles each', async () => {
    const a = connection(DENIED);
    const c = connection(DENIED, { ServiceId: SERVICE_C });
    const h = protectingAll({ connections: [a, c] });

    await h.run(scheduledEvent());

    expect(
      h.ec2.commandCalls(DescribeVpcEndpointConnectionsCommand).map((c) => c.args[0].input),
    ).toEqual([
      {
        Filters: [
          { Name: 'vpc-endpoint-state', Values: ['pendingAcceptance', 'PendingAcceptance'] },
        ],
        MaxResults: 1000,
        NextToken: undefined,
      },
    ]);
    expect(
      h.ec2.commandCalls(RejectVpcEndpointConnectionsCommand).map((c) => c.args[0].input),
    ).toEqual([
      expect.objectContaining({ ServiceId: SERVICE_A, VpcEndpointIds: [a.VpcEndpointId] }),
      expect.objectContaining({ ServiceId: SERVICE_C, VpcEndpointIds: [c.VpcEndpointId] }),
    ]);
  });

  test('costs ceil(connections / 1000) Describe calls, however many services', async () => {
    const services = Array.from(
      { length: 40 },
      (_, i) => `vpce-svc-${i.toString(16).padStart(17, '0')}`,
    );
    // 1,500 kept connections over 40 services: two pages.
    const kept = Array.from({ length: 1500 }, (_, i) =>
      connection('111122223333', { ServiceId: services[i % 40] }),
    );
    const h = harness({
      policy: { ...POLICY, defaultAction: 'keep' },
      ownedServices: services,
      connections: kept,
      config: { protectedServiceIds: undefined },
    });
    const summary = await h.run(scheduledEvent());
    expect(h.ec2).toHaveReceivedCommandTimes(DescribeVpcEndpointConnectionsCommand, 2);
    expect(summary).toMatchObject({ services: 40, evaluated: 1500, kept: 1500 });
  });

  test('with protectedServiceIds, settles only the listed services, whatever the read returns', async () => {
    const a = connection(DENIED);
    const b = connection(DENIED, { ServiceId: SERVICE_B });
    const h = harness({ connections: [a, b], config: { protectedServiceIds: [SERVICE_A] } });
    await h.run(scheduledEvent());
    expect(h.stateOf(a.VpcEndpointId)).toBe('rejected');
    expect(h.stateOf(b.VpcEndpointId)).toBe('pendingAcceptance');
  });

  test('whose read fails fails the invocation (AWS retries it), deciding and queueing nothing', async () => {
    const h = protectingAll({ connections: [connection(DENIED)] });
    h.ec2
      .on(DescribeVpcEndpointConnectionsCommand)
      .rejects(
        Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }),
      );
    await expect(h.run(scheduledEvent())).rejects.toThrow('Request limit exceeded.');
    expect(h.ec2).not.toHaveReceivedCommand(RejectVpcEndpointConnectionsCommand);
    expect(h.sqs).not.toHaveReceivedAnyCommand();
  });
});

describe('wiring', () => {
  test('a sweep creates the missing Connect notification of each protected service, once', async () => {
    const h = protectingAll();
    h.model.addNotification({ serviceId: SERVICE_B, topicArn: TOPIC_ARN });
    h.model.addNotification({ serviceId: SERVICE_C, topicArn: OTHER_TOPIC });

    await h.run(scheduledEvent());

    expect(h.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionNotificationsCommand, {
      Filters: [{ Name: 'connection-notification-arn', Values: [TOPIC_ARN] }],
    });
    expect(
      h.ec2
        .commandCalls(CreateVpcEndpointConnectionNotificationCommand)
        .map((c) => c.args[0].input),
    ).toEqual(
      [SERVICE_A, SERVICE_C].map((serviceId) => ({
        ServiceId: serviceId,
        ConnectionNotificationArn: TOPIC_ARN,
        ConnectionEvents: ['Connect'],
        ClientToken: wiringToken(serviceId, TOPIC_ARN, h.clock.now()),
      })),
    );
    expect(
      toTopic(h)
        .map((n) => n.ServiceId)
        .sort(),
    ).toEqual([SERVICE_A, SERVICE_B, SERVICE_C].sort());
    expect(metricValues('NotificationsCreated')).toEqual([2]);
    expect(logInfo).toHaveBeenCalledWith(
      'Connection notification created',
      expect.objectContaining({ serviceId: SERVICE_A, topicArn: TOPIC_ARN }),
    );

    jest.clearAllMocks();
    h.ec2.resetHistory();
    await h.run(scheduledEvent());
    expect(h.ec2).not.toHaveReceivedCommand(CreateVpcEndpointConnectionNotificationCommand);
    expect(toTopic(h)).toHaveLength(3);
  });

  test('two containers that race in the same window create one notification: the token is the same', async () => {
    const first = protectingAll({ ownedServices: [SERVICE_A] });
    await Promise.all([first.run(scheduledEvent()), first.run(scheduledEvent())]);
    expect(first.ec2).toHaveReceivedCommandTimes(CreateVpcEndpointConnectionNotificationCommand, 2);
    expect(toTopic(first)).toHaveLength(1);
  });

  test('a surplus notification (two created across a window) is deleted, keeping the first by ID', async () => {
    const h = protectingAll({ ownedServices: [SERVICE_A] });
    const ids = [
      h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN }),
      h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN }),
    ].sort();
    await h.run(scheduledEvent());
    expect(h.ec2).toHaveReceivedCommandWith(DeleteVpcEndpointConnectionNotificationsCommand, {
      ConnectionNotificationIds: [ids[1]],
    });
    expect(toTopic(h).map((n) => n.ConnectionNotificationId)).toEqual([ids[0]]);
  });

  test('a surplus notification another sweep deleted first is as good as deleted: no wiring failure', async () => {
    const h = protectingAll({ ownedServices: [SERVICE_A] });
    const [, second] = [
      h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN }),
      h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN }),
    ].sort();
    // Another container's sweep deletes the surplus between this one's read and its Delete.
    h.ec2.on(DescribeVpcEndpointConnectionNotificationsCommand).callsFake((input) => {
      const answer = h.model.describeNotifications(input);
      h.model.deleteNotifications({ ConnectionNotificationIds: [second!] });
      return answer;
    });

    await h.run(scheduledEvent());

    expect(h.ec2).toHaveReceivedCommandWith(DeleteVpcEndpointConnectionNotificationsCommand, {
      ConnectionNotificationIds: [second],
    });
    expect(metricValues('NotificationWiringFailed')).toEqual([]);
    expect(logError).not.toHaveBeenCalledWith(
      'Could not wire the connection notifications; the next sweep tries again',
      expect.anything(),
    );
    expect(logInfo).toHaveBeenCalledWith('Duplicate connection notifications removed', {
      notificationIds: [second],
    });
  });

  test('each Delete call waits for a token of its own: 30 surplus notifications, two calls, two tokens', async () => {
    const h = protectingAll({ ownedServices: [SERVICE_A] });
    for (let i = 0; i < 31; i++) {
      h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN });
    }
    const take = jest.spyOn(h.deps.wiringLimiter, 'take');

    await h.run(scheduledEvent());

    expect(h.ec2).toHaveReceivedCommandTimes(DeleteVpcEndpointConnectionNotificationsCommand, 2);
    expect(take).toHaveBeenCalledTimes(2);
    expect(toTopic(h)).toHaveLength(1);
  });

  test('services the stack wires keep theirs: the guard fills a gap, never deletes one of theirs', async () => {
    const h = harness({
      config: { protectedServiceIds: [SERVICE_A, SERVICE_B], notificationTopicArn: TOPIC_ARN },
    });
    h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN });
    h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN });
    await h.run(scheduledEvent());
    expect(h.ec2).not.toHaveReceivedCommand(DeleteVpcEndpointConnectionNotificationsCommand);
    expect(h.ec2).toHaveReceivedCommandTimes(CreateVpcEndpointConnectionNotificationCommand, 1);
    expect(h.ec2).toHaveReceivedCommandWith(CreateVpcEndpointConnectionNotificationCommand, {
      ServiceId: SERVICE_B,
    });
    expect(logWarn).toHaveBeenCalledWith(
      'Services with more than one connection notification to the topic',
      { serviceIds: [SERVICE_A] },
    );
  });

  test('happens in dry run too: wiring is infrastructure, not a decision', async () => {
    const h = protectingAll({ policy: { ...POLICY, mode: 'dryRun' } });
    await h.run(scheduledEvent());
    expect(toTopic(h)).toHaveLength(3);
  });

  test('a service that cannot be wired is logged, counted, and blocks no decision', async () => {
    const denied = connection(DENIED);
    const h = protectingAll({ connections: [denied] });
    h.ec2.on(CreateVpcEndpointConnectionNotificationCommand).rejects(
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
      }),
    );
    await expect(h.run(scheduledEvent())).resolves.toMatchObject({ rejected: 1 });
    expect(h.stateOf(denied.VpcEndpointId)).toBe('rejected');
    expect(logError).toHaveBeenCalledWith(
      'Could not wire the connection notifications; the next sweep tries again',
      expect.objectContaining({
        step: 'create',
        serviceId: SERVICE_A,
        errorCode: 'UnauthorizedOperation',
      }),
    );
    expect(metricValues('NotificationWiringFailed')).toEqual([3]);
  });

  test('comes after the decisions: a sweep out of time decides, queues, and leaves the wiring', async () => {
    const h = protectingAll();
    // The wiring bucket is empty and refills too slowly for this invocation.
    for (let i = 0; i < 50; i++) await h.deps.wiringLimiter.take();
    await h.runBy(scheduledEvent(), h.clock.now() + 100);
    expect(h.ec2).not.toHaveReceivedCommand(CreateVpcEndpointConnectionNotificationCommand);
    expect(logInfo).toHaveBeenCalledWith(
      'Not wired yet: left for the next sweep (no time left, or over its share)',
      { serviceIds: [SERVICE_A, SERVICE_B, SERVICE_C] },
    );
  });

  test('creates at most 100 notifications a sweep, leaving the rest for the next', async () => {
    const services = Array.from(
      { length: 130 },
      (_, i) => `vpce-svc-${i.toString(16).padStart(17, '0')}`,
    );
    const h = protectingAll({ ownedServices: services });
    await h.run(scheduledEvent());
    expect(toTopic(h)).toHaveLength(100);
    h.clock.time += 5 * 60_000;
    await h.run(scheduledEvent());
    expect(toTopic(h)).toHaveLength(130);
  });

  test('a call the deadline cuts short is no failure: the rest waits for the next sweep', async () => {
    const h = protectingAll();
    h.ec2.on(CreateVpcEndpointConnectionNotificationCommand).rejects(
      Object.assign(new Error("the call would end after the invocation's deadline"), {
        name: 'DeadlineReached',
      }),
    );
    await h.run(scheduledEvent());
    expect(h.ec2).toHaveReceivedCommandTimes(CreateVpcEndpointConnectionNotificationCommand, 1);
    expect(metricValues('NotificationWiringFailed')).toEqual([]);
    expect(logInfo).toHaveBeenCalledWith(
      'Not wired yet: left for the next sweep (no time left, or over its share)',
      { serviceIds: [SERVICE_A, SERVICE_B, SERVICE_C] },
    );
    expect(logInfo).toHaveBeenCalledWith(
      "Wiring and posture stopped at the invocation's deadline; the next sweep goes on",
    );
  });

  test('past the deadline, a sweep starts no wiring at all', async () => {
    const h = harness({
      connections: [connection(DENIED)],
      config: { protectedServiceIds: [SERVICE_A], notificationTopicArn: TOPIC_ARN },
    });
    await h.runBy(scheduledEvent(), h.clock.now());
    expect(h.ec2).not.toHaveReceivedCommand(DescribeVpcEndpointConnectionNotificationsCommand);
    expect(metricValues('NotificationWiringFailed')).toEqual([]);
  });

  test('a disabled notification is reported and counted, not duplicated', async () => {
    const h = protectingAll({ ownedServices: [SERVICE_A] });
    h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN, state: 'Disabled' });
    await h.run(scheduledEvent());
    expect(h.ec2).not.toHaveReceivedCommand(CreateVpcEndpointConnectionNotificationCommand);
    expect(metricValues('NotificationWiringFailed')).toEqual([1]);
  });

  test('hints that name services do no wiring: only sweeps and new services do', async () => {
    const h = protectingAll();
    await h.run(sqsEvent([JSON.stringify({ Type: 'Notification', Message: SERVICE_A })]));
    expect(h.ec2).not.toHaveReceivedCommand(DescribeVpcEndpointConnectionNotificationsCommand);
  });
});

describe('a new service', () => {
  test('is wired and reconciled at once, from the CloudTrail record of its creation', async () => {
    const NEW = 'vpce-svc-0bbbbbbbbbbbbbbb2';
    const h = protectingAll({ ownedServices: [SERVICE_A, NEW] });
    const early = connection(DENIED, { ServiceId: NEW });
    h.addConnection(early);

    await h.run(sqsEvent([JSON.stringify(serviceCreatedEvent({ serviceId: NEW }))]));

    expect(h.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionsCommand, {
      Filters: expect.arrayContaining([{ Name: 'service-id', Values: [NEW] }]),
    });
    expect(h.stateOf(early.VpcEndpointId)).toBe('rejected');
    expect(toTopic(h).map((n) => n.ServiceId)).toEqual([NEW]);
    expect(h.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionNotificationsCommand, {
      Filters: [
        { Name: 'connection-notification-arn', Values: [TOPIC_ARN] },
        { Name: 'service-id', Values: [NEW] },
      ],
    });
    expect(h.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointServicePermissionsCommand, {
      ServiceId: NEW,
    });
  });

  test("emits no posture gauges: they are the account's levels, which only a sweep measures", async () => {
    const NEW = 'vpce-svc-0bbbbbbbbbbbbbbb2';
    const h = protectingAll({ ownedServices: [SERVICE_A, SERVICE_B] });
    h.model.addService(NEW, { acceptanceRequired: false });

    await h.run(sqsEvent([JSON.stringify(serviceCreatedEvent({ serviceId: NEW }))]));

    // Graphed and alarmed as a Maximum: one service's "1" would read as the account's level.
    expect(metricValues('ServicesProtected')).toEqual([]);
    expect(metricValues('ServicesAcceptingAutomatically')).toEqual([]);
    expect(metricValues('ServicesOpenToEveryone')).toEqual([]);
    // Its own posture is still said at once.
    expect(logWarn).toHaveBeenCalledWith(
      'Service accepts connection requests itself: the guard cannot reject them',
      { serviceId: NEW, acceptanceRequired: false },
    );
  });

  test('is not protected when protectedServiceIds does not list it: logged, not touched', async () => {
    const NEW = 'vpce-svc-0bbbbbbbbbbbbbbb2';
    const h = harness({
      ownedServices: [SERVICE_A, NEW],
      config: { protectedServiceIds: [SERVICE_A], notificationTopicArn: TOPIC_ARN },
    });
    await h.run(serviceCreatedEvent({ serviceId: NEW }));
    expect(h.ec2).not.toHaveReceivedAnyCommand();
    expect(logInfo).toHaveBeenCalledWith(
      'New endpoint services are not protected: protectedServiceIds does not list them',
      { serviceIds: [NEW] },
    );
  });

  test('is wired though the same batch names a service EC2 does not know (deleted, or not ours)', async () => {
    const NEW = 'vpce-svc-0bbbbbbbbbbbbbbb2';
    const UNKNOWN = 'vpce-svc-0ccccccccccccccc3';
    const h = protectingAll({ ownedServices: [SERVICE_A, NEW] });

    await h.run(
      sqsEvent([
        JSON.stringify(serviceCreatedEvent({ serviceId: NEW })),
        JSON.stringify(serviceCreatedEvent({ serviceId: UNKNOWN })),
      ]),
    );

    // The filtered list fails on the unknown ID; the guard lists every service and keeps NEW.
    expect(toTopic(h).map((n) => n.ServiceId)).toEqual([NEW]);
    expect(metricValues('NotificationWiringFailed')).toEqual([]);
  });

  test('a record that does not name it sweeps every protected service, and wires them', async () => {
    const h = protectingAll();
    await expect(h.run(serviceCreatedEvent({}))).resolves.toMatchObject({
      trigger: 'serviceCreated',
      services: 3,
    });
    expect(toTopic(h)).toHaveLength(3);
  });
});

describe('posture', () => {
  test('each sweep reports services that accept automatically or allow everyone, and counts them', async () => {
    const h = harness({ ownedServices: [], config: { protectedServiceIds: undefined } });
    h.model.addService(SERVICE_A, { acceptanceRequired: false });
    h.model.addService(SERVICE_B, { allowedPrincipals: ['*'] });
    h.model.addService(SERVICE_C, { allowedPrincipals: ['arn:aws:iam::111122223333:root'] });

    await h.run(scheduledEvent());

    expect(logWarn).toHaveBeenCalledWith(
      'Service accepts connection requests itself: the guard cannot reject them',
      { serviceId: SERVICE_A, acceptanceRequired: false },
    );
    expect(logWarn).toHaveBeenCalledWith(
      'Service allows every principal (*) to request a connection',
      { serviceId: SERVICE_B },
    );
    expect(logInfo).toHaveBeenCalledWith('Service posture', {
      services: 3,
      acceptingAutomatically: [SERVICE_A],
      openToEveryone: [SERVICE_B],
      permissionsNotReadYet: 0,
    });
    expect(metricValues('ServicesProtected')).toEqual([3]);
    expect(metricValues('ServicesAcceptingAutomatically')).toEqual([1]);
    expect(metricValues('ServicesOpenToEveryone')).toEqual([1]);
  });

  test('reports 0 as 0: the alarm and the dashboard see a healthy sweep', async () => {
    const h = harness({ config: { protectedServiceIds: undefined } });
    await h.run(scheduledEvent());
    expect(metricValues('ServicesAcceptingAutomatically')).toEqual([0]);
  });

  test("reads at most 20 services' permissions a sweep, keeps them 30 minutes, then reads again", async () => {
    const services = Array.from(
      { length: 30 },
      (_, i) => `vpce-svc-${i.toString(16).padStart(17, '0')}`,
    );
    const h = harness({ ownedServices: services, config: { protectedServiceIds: undefined } });
    const reads = () => h.ec2.commandCalls(DescribeVpcEndpointServicePermissionsCommand).length;

    await h.run(scheduledEvent());
    expect(reads()).toBe(20);
    expect(logInfo).toHaveBeenCalledWith(
      'Service posture',
      expect.objectContaining({ services: 30, permissionsNotReadYet: 10 }),
    );
    h.clock.time += 5 * 60_000;
    await h.run(scheduledEvent());
    expect(reads()).toBe(30); // the 10 never read; the others are fresh
    h.clock.time += 5 * 60_000;
    await h.run(scheduledEvent());
    expect(reads()).toBe(30);
    h.clock.time += 25 * 60_000;
    await h.run(scheduledEvent());
    expect(reads()).toBe(50); // 20 of those read 35 minutes ago, oldest first
  });

  test('forgets what it read of a service that is gone, and only then', async () => {
    const h = protectingAll();
    await h.run(scheduledEvent());
    expect(h.deps.permissions.openToEveryone(SERVICE_C)).toBe(false);

    // A new service's own upkeep reads that one service: the others are not forgotten.
    const NEW = 'vpce-svc-0bbbbbbbbbbbbbbb2';
    h.model.addService(NEW);
    await h.run(sqsEvent([JSON.stringify(serviceCreatedEvent({ serviceId: NEW }))]));
    expect(h.deps.permissions.openToEveryone(SERVICE_C)).toBe(false);

    // Service C is deleted: the next sweep no longer lists it.
    h.ec2.on(DescribeVpcEndpointServiceConfigurationsCommand).callsFake((input) => {
      const answer = h.model.describeServices(input);
      const ServiceConfigurations = answer.ServiceConfigurations?.filter(
        (c) => c.ServiceId !== SERVICE_C,
      );
      return { ...answer, ServiceConfigurations };
    });
    await h.run(scheduledEvent());
    expect(h.deps.permissions.openToEveryone(SERVICE_C)).toBeUndefined();
    expect(h.deps.permissions.openToEveryone(SERVICE_A)).toBe(false);
    expect(h.deps.permissions.openToEveryone(NEW)).toBe(false);
  });

  test('with protectedServiceIds, only the listed services are reported; a missing one is named', async () => {
    const h = harness({
      ownedServices: [SERVICE_A, SERVICE_C],
      config: { protectedServiceIds: [SERVICE_A, SERVICE_B] },
    });
    await h.run(scheduledEvent());
    expect(logWarn).toHaveBeenCalledWith(
      'Protected services not found in this account and Region',
      {
        serviceIds: [SERVICE_B],
      },
    );
    expect(metricValues('ServicesProtected')).toEqual([1]);
  });
});

describe("the stack's deletion", () => {
  test('removes the notifications to the guard topic of the services it protects, and only those', async () => {
    const h = protectingAll();
    await h.run(scheduledEvent());
    const others = h.model.addNotification({ serviceId: SERVICE_A, topicArn: OTHER_TOPIC });
    expect(toTopic(h)).toHaveLength(3);

    await expect(h.run(stackEvent('Delete'))).resolves.toEqual({
      PhysicalResourceId: CLEANUP_PHYSICAL_ID,
    });

    expect(toTopic(h)).toEqual([]);
    expect(h.model.notifications().map((n) => n.ConnectionNotificationId)).toEqual([others]);
  });

  test('with protectedServiceIds, removes every notification to its topic, of services no longer listed too', async () => {
    // B's was wired while the guard protected every service: the list no longer names it, but
    // its notification points at the topic deleted with the stack, and would deliver nothing.
    const h = harness({
      config: { protectedServiceIds: [SERVICE_A], notificationTopicArn: TOPIC_ARN },
    });
    h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN });
    h.model.addNotification({ serviceId: SERVICE_B, topicArn: TOPIC_ARN });
    const others = h.model.addNotification({ serviceId: SERVICE_B, topicArn: OTHER_TOPIC });
    await h.run(stackEvent('Delete'));
    expect(h.model.notifications().map((n) => n.ConnectionNotificationId)).toEqual([others]);
  });

  test('a removal EC2 refuses fails the deletion, naming the reason', async () => {
    const h = protectingAll();
    h.model.addNotification({ serviceId: SERVICE_A, topicArn: TOPIC_ARN });
    h.ec2.on(DeleteVpcEndpointConnectionNotificationsCommand).rejects(
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
      }),
    );
    await expect(h.run(stackEvent('Delete'))).rejects.toThrow(
      `could not remove the connection notifications to ${TOPIC_ARN}: UnauthorizedOperation`,
    );
  });

  test.each([
    ['another stack', 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Other/9f8e7d6c'],
    ['a forged invocation with no stack', ''],
  ])('a Delete from %s removes nothing: counted as an unknown trigger', async (_from, stackId) => {
    const h = protectingAll();
    await h.run(scheduledEvent());
    expect(toTopic(h)).toHaveLength(3);

    await h.run(stackEvent('Delete', undefined, stackId));

    expect(toTopic(h)).toHaveLength(3);
    expect(h.ec2).not.toHaveReceivedCommand(DeleteVpcEndpointConnectionNotificationsCommand);
    expect(metricValues('UnknownTrigger')).toEqual([1]);
  });

  test('without STACK_ID, the guard answers no stack event: it cannot tell its own', async () => {
    const h = protectingAll({ config: { stackId: undefined } });
    await h.run(scheduledEvent());

    await h.run(stackEvent('Delete'));

    expect(toTopic(h)).toHaveLength(3);
    expect(metricValues('UnknownTrigger')).toEqual([1]);
  });

  test('Create and Update touch nothing and keep the physical ID', async () => {
    const h = protectingAll();
    await expect(h.run(stackEvent('Create'))).resolves.toEqual({
      PhysicalResourceId: CLEANUP_PHYSICAL_ID,
    });
    await expect(h.run(stackEvent('Update'))).resolves.toEqual({
      PhysicalResourceId: CLEANUP_PHYSICAL_ID,
    });
    expect(h.ec2).not.toHaveReceivedAnyCommand();
  });
});
