/**
 * The sweep's one read, the wiring of every service, a new service and the stack's deletion,
 * as deployed: the guard's bundle in its own process, the real AWS SDK over HTTP to the EC2
 * fake, whose notification calls speak EC2's Query protocol and XML.
 */
import {
  createVpcEndpointServiceConfigurationCall,
  customResourceRequest,
  scheduledEvent,
  sqsEvent,
  type EventOrigin,
} from '../../local-aws/events';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';
import { buildGuardBundle } from '../../local-aws/bundle';
import { LocalLambda } from '../../local-aws/local-lambda';
import { NOTIFICATION_CLEANUP_RESOURCE_TYPE } from '../../core/contract';

const DENIED = '999988887777';
const PARAMETER = '/vpce-guard/policy';
const ORIGIN: EventOrigin = { region: 'eu-west-1', accountId: '123456789012' };
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:vpce-guard-notifications';
const STACK_ID =
  'arn:aws:cloudformation:eu-west-1:123456789012:stack/VpceGuard/1e2f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6b';

let bundle: string;
let fakes: AwsFakes;
let guard: LocalLambda;

beforeAll(async () => {
  bundle = await buildGuardBundle();
});

beforeEach(async () => {
  fakes = await startAwsFakes({ region: 'eu-west-1', accountId: '123456789012' });
  fakes.ssm.setParameter(
    PARAMETER,
    JSON.stringify({ version: 1, mode: 'enforce', defaultAction: 'reject', rules: [] }),
  );
  guard = await LocalLambda.start(bundle, {
    ...fakes.env(),
    POLICY_PARAMETER_NAME: PARAMETER,
    RETRY_QUEUE_URL: fakes.sqs.createQueue('vpce-guard-retry'),
    NOTIFICATION_TOPIC_ARN: TOPIC_ARN,
    STACK_ID,
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
});

afterEach(async () => {
  await guard.close();
  await fakes.close();
});

const toTopic = () =>
  fakes.ec2.notifications().filter((n) => n.ConnectionNotificationArn === TOPIC_ARN);

test('a sweep of every service reads their connections once, settles each, then wires each', async () => {
  const services = [fakes.ec2.addService(), fakes.ec2.addService(), fakes.ec2.addService()];
  const denied = services.map((serviceId) => fakes.ec2.addConnection({ serviceId, owner: DENIED }));

  const invocation = await guard.invoke(scheduledEvent('vpce-guard-schedule', ORIGIN), 60_000);

  expect(invocation.error).toBeUndefined();
  expect(invocation.result).toMatchObject({ trigger: 'sweep', services: 3, rejected: 3 });
  expect(fakes.ec2.count('DescribeVpcEndpointConnections')).toBe(1);
  expect(denied.map((id) => fakes.ec2.connection(id)?.VpcEndpointState)).toEqual([
    'rejected',
    'rejected',
    'rejected',
  ]);
  expect(toTopic().map((n) => [n.ServiceId, n.ConnectionEvents])).toEqual(
    services.map((serviceId) => [serviceId, ['Connect']]),
  );
  // The next sweep finds them all and creates nothing.
  await guard.invoke(scheduledEvent('vpce-guard-schedule', ORIGIN), 60_000);
  expect(fakes.ec2.count('CreateVpcEndpointConnectionNotification')).toBe(3);
});

test("a new service's CloudTrail record, queued, wires and reconciles it at once", async () => {
  const serviceId = fakes.ec2.addService();
  const early = fakes.ec2.addConnection({ serviceId, owner: DENIED });
  const record = createVpcEndpointServiceConfigurationCall({ serviceId }, ORIGIN);

  const invocation = await guard.invoke(
    sqsEvent([JSON.stringify(record)], 'vpce-guard-hints', ORIGIN),
    60_000,
  );

  expect(invocation.result).toEqual({ batchItemFailures: [] });
  expect(fakes.ec2.connection(early)?.VpcEndpointState).toBe('rejected');
  expect(toTopic().map((n) => n.ServiceId)).toEqual([serviceId]);
});

test("the stack's deletion removes the notifications the guard created, and answers the Provider framework", async () => {
  fakes.ec2.addService();
  fakes.ec2.addService();
  await guard.invoke(scheduledEvent('vpce-guard-schedule', ORIGIN), 60_000);
  expect(toTopic()).toHaveLength(2);

  const deletion = (stackId: string) =>
    customResourceRequest(
      {
        requestType: 'Delete',
        resourceType: NOTIFICATION_CLEANUP_RESOURCE_TYPE,
        physicalResourceId: 'vpce-guard-notification-cleanup',
        stackId,
      },
      ORIGIN,
    );

  // Anyone allowed to invoke the function could send a Delete: another stack's does nothing.
  const forged = await guard.invoke(
    deletion('arn:aws:cloudformation:eu-west-1:123456789012:stack/Other/9f8e7d6c'),
    60_000,
  );
  expect(forged.error).toBeUndefined();
  expect(toTopic()).toHaveLength(2);
  expect(guard.logsWith('Ignoring an event of unknown shape')).toHaveLength(1);

  const invocation = await guard.invoke(deletion(STACK_ID), 60_000);

  expect(invocation.result).toEqual({ PhysicalResourceId: 'vpce-guard-notification-cleanup' });
  expect(toTopic()).toEqual([]);
});

test("a throttled read at the stack's deletion is retried within the invocation's time, not a failed deletion", async () => {
  fakes.ec2.addService();
  await guard.invoke(scheduledEvent('vpce-guard-schedule', ORIGIN), 60_000);
  expect(toTopic()).toHaveLength(1);
  fakes.ec2.failNext(
    'DescribeVpcEndpointConnectionNotifications',
    { code: 'RequestLimitExceeded', status: 503 },
    2,
  );

  const invocation = await guard.invoke(
    customResourceRequest(
      {
        requestType: 'Delete',
        resourceType: NOTIFICATION_CLEANUP_RESOURCE_TYPE,
        physicalResourceId: 'vpce-guard-notification-cleanup',
        stackId: STACK_ID,
      },
      ORIGIN,
    ),
    60_000,
  );

  expect(invocation.error).toBeUndefined();
  expect(toTopic()).toEqual([]);
  expect(
    fakes.ec2.calls.filter(
      (c) => c.action === 'DescribeVpcEndpointConnectionNotifications' && c.throttled,
    ),
  ).toHaveLength(2);
});
