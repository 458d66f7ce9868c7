/**
 * A test harness for the guard's core: aws-sdk-client-mock clients, the EC2 one answered by
 * the local AWS kit's EC2 model (local-aws/fakes/ec2-model.ts), a manual clock, and the real
 * PolicyStore, TokenBuckets and guard. Events come from the kit's builders, fixed in time and
 * place.
 */
import {
  AcceptVpcEndpointConnectionsCommand,
  CreateVpcEndpointConnectionNotificationCommand,
  DeleteVpcEndpointConnectionNotificationsCommand,
  DescribeVpcEndpointConnectionNotificationsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicePermissionsCommand,
  EC2Client,
  RejectVpcEndpointConnectionsCommand,
} from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import * as events from '../../local-aws/events';
import { Ec2Model, type VpcEndpointConnection } from '../../local-aws/fakes/ec2-model';
import type { Clock } from '../../core/clock';
import { type GuardConfig, NOTIFICATION_CLEANUP_RESOURCE_TYPE } from '../../core/contract';
import { InvocationDeadline } from '../../core/deadline';
import type { DecisionEventDetail } from '../../core/decision-event';
import { Announcements } from '../../lambda/announcements';
import { DecisionPublisher } from '../../lambda/decision-events';
import { CLEANUP_PHYSICAL_ID, type GuardDeps, handleEvent } from '../../lambda/guard';
import { intakeSettings } from '../../lambda/intake';
import { reportPolicyProblem } from '../../lambda/policy-problems';
import { PolicyStore } from '../../lambda/policy-store';
import { mutatingLimiters, wiringLimiter } from '../../core/rate-limiter';
import { RETRY_RECORD_TYPE } from '../../core/retry-record';
import { PermissionsCache } from '../../lambda/upkeep';

export const REGION = 'eu-west-1';
export const SERVICE_A = 'vpce-svc-0123456789abcdef0';
export const SERVICE_B = 'vpce-svc-0fedcba9876543210';
export const ALLOWED = '111122223333';
export const ACCEPTED = '444455556666';
export const DENIED = '999988887777';
export const STRANGER = '123412341234';
export const POLICY_PARAMETER = '/vpce-guard/policy';
export const RETRY_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/vpce-guard-retry';
export const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:vpce-guard-notifications';
export const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/vpce-guard-retry-dlq';
/** The guard's own stack, whose deletion removes the notifications it created. */
export const STACK_ID =
  'arn:aws:cloudformation:eu-west-1:123456789012:stack/VpceGuard/1e2f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6b';

/** Service A: ALLOWED is kept, ACCEPTED is accepted, DENIED is denied, anyone else rejected. */
export const POLICY = {
  version: 1,
  mode: 'enforce',
  defaultAction: 'reject',
  deny: [DENIED],
  rules: [
    { id: 'acme', services: [SERVICE_A, SERVICE_B], principals: [ALLOWED] },
    { id: 'globex', services: [SERVICE_A, SERVICE_B], principals: [ACCEPTED], accept: true },
  ],
};

/** When every test starts: the manual clock's time and the events'. */
const START = new Date('2026-11-25T12:00:00Z');
const ACCOUNT_ID = '123456789012';

export class ManualClock implements Clock {
  constructor(public time = START.getTime()) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
  }
}

/**
 * A connection to seed the EC2 model with. Its state is spelled as EC2's wire spells it
 * (camelCase), not as the SDK's PascalCase enum; the model answers it as it was given.
 */
export type SeedConnection = Pick<
  VpcEndpointConnection,
  'ServiceId' | 'VpcEndpointId' | 'VpcEndpointOwner' | 'VpcEndpointState' | 'VpcEndpointRegion'
>;

let endpointCounter = 0;
export function connection(owner: string, overrides: Partial<SeedConnection> = {}): SeedConnection {
  endpointCounter += 1;
  return {
    ServiceId: SERVICE_A,
    VpcEndpointId: `vpce-${endpointCounter.toString(16).padStart(17, '0')}`,
    VpcEndpointOwner: owner,
    VpcEndpointState: 'pendingAcceptance',
    ...overrides,
  };
}

export interface HarnessOptions {
  readonly policy?: unknown;
  readonly connections?: SeedConnection[];
  readonly config?: Partial<GuardConfig>;
  /** Connections per Describe page, whatever MaxResults asks (to exercise pagination). */
  readonly pageSize?: number;
  /** The account's endpoint services. @default both services the tests use */
  readonly ownedServices?: string[];
}

export function harness(options: HarnessOptions = {}) {
  const ec2 = mockClient(EC2Client);
  const sqs = mockClient(SQSClient);
  const ssm = mockClient(SSMClient);
  const events = mockClient(EventBridgeClient);
  const model = new Ec2Model({ region: REGION, maxPageSize: options.pageSize });
  for (const serviceId of options.ownedServices ?? [SERVICE_A, SERVICE_B]) {
    model.addService(serviceId);
  }
  const addConnection = (c: SeedConnection) =>
    model.addConnection({
      serviceId: c.ServiceId,
      endpointId: c.VpcEndpointId,
      owner: c.VpcEndpointOwner,
      state: c.VpcEndpointState,
      region: c.VpcEndpointRegion,
    });
  for (const c of options.connections ?? []) addConnection(c);
  const clock = new ManualClock();

  const policyText =
    typeof options.policy === 'string' ? options.policy : JSON.stringify(options.policy ?? POLICY);
  ssm
    .on(GetParameterCommand)
    .resolves({ Parameter: { Name: POLICY_PARAMETER, Value: policyText } });

  ec2
    .on(DescribeVpcEndpointConnectionsCommand)
    .callsFake((input) => model.describeConnections(input));
  ec2
    .on(DescribeVpcEndpointServiceConfigurationsCommand)
    .callsFake((input) => model.describeServices(input));
  ec2
    .on(DescribeVpcEndpointServicePermissionsCommand)
    .callsFake((input) => model.describeServicePermissions(input));
  ec2
    .on(DescribeVpcEndpointConnectionNotificationsCommand)
    .callsFake((input) => model.describeNotifications(input));
  ec2
    .on(CreateVpcEndpointConnectionNotificationCommand)
    .callsFake((input) => model.createNotification(input));
  ec2
    .on(DeleteVpcEndpointConnectionNotificationsCommand)
    .callsFake((input) => model.deleteNotifications(input));
  ec2.on(RejectVpcEndpointConnectionsCommand).callsFake((input) => model.rejectConnections(input));
  ec2.on(AcceptVpcEndpointConnectionsCommand).callsFake((input) => model.acceptConnections(input));
  sqs.on(SendMessageBatchCommand).callsFake((input) => ({
    Successful: input.Entries.map((e: { Id: string }) => ({
      Id: e.Id,
      MessageId: `m-${e.Id}`,
      MD5OfMessageBody: 'x',
    })),
    Failed: [],
  }));
  events.on(PutEventsCommand).callsFake((input) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `event-${i}` })),
  }));

  const config: GuardConfig = {
    policyParameterName: POLICY_PARAMETER,
    retryQueueUrl: RETRY_QUEUE_URL,
    deadLetterQueueUrl: DLQ_URL,
    protectedServiceIds: [SERVICE_A],
    policyCacheSeconds: 60,
    rejectBatchSize: 50,
    maxAttempts: 3,
    stackId: STACK_ID,
    region: REGION,
    ...options.config,
  };
  const deps: GuardDeps = {
    config,
    intake: intakeSettings(config),
    ec2: new EC2Client({ region: REGION }),
    sqs: new SQSClient({ region: REGION }),
    policies: new PolicyStore(
      new SSMClient({ region: REGION }),
      config.policyParameterName,
      config.policyCacheSeconds,
      clock,
      reportPolicyProblem,
    ),
    // The guard's own buckets, on the manual clock.
    limiters: mutatingLimiters(clock),
    wiringLimiter: wiringLimiter(clock),
    permissions: new PermissionsCache(clock),
    clock,
    // On the manual clock, as the handler's is on Lambda's: set by `runBy`.
    deadline: new InvocationDeadline(() => clock.now()),
    random: () => 0.5,
    // No announcement table: the container's own memory, as a guard deployed without one.
    decisions: new DecisionPublisher({
      events: new EventBridgeClient({ region: REGION }),
      announcements: new Announcements(undefined, clock),
      clock,
    }),
  };

  return {
    ec2,
    sqs,
    ssm,
    events,
    clock,
    deps,
    /** The EC2 model behind the mocked client: its services, notifications and calls. */
    model,
    /** Seeds another connection, as a consumer asking to connect meanwhile would. */
    addConnection,
    run: (event: unknown) => handleEvent(event, deps),
    /** Runs `event` with its EC2 and SSM calls due by `deadline` (epoch ms on the manual clock). */
    runBy: async (event: unknown, deadline: number) => {
      deps.deadline.set(deadline);
      try {
        return await handleEvent(event, deps);
      } finally {
        deps.deadline.clear();
      }
    },
    /** The connection's state in the EC2 model now. */
    stateOf: (endpointId: string) => model.connection(endpointId)?.VpcEndpointState,
    /** Bodies of every message sent to a queue, parsed. */
    sent: (queueUrl = RETRY_QUEUE_URL) =>
      sqs
        .commandCalls(SendMessageBatchCommand)
        .filter((call) => call.args[0].input.QueueUrl === queueUrl)
        .flatMap((call) => call.args[0].input.Entries ?? [])
        .map((entry) => ({ ...entry, record: JSON.parse(entry.MessageBody!) })),
    /** The detail of every decision event put on the bus, in order. */
    published: () =>
      events
        .commandCalls(PutEventsCommand)
        .flatMap((call) => call.args[0].input.Entries ?? [])
        .map((entry) => JSON.parse(entry.Detail!) as DecisionEventDetail),
  };
}

export type Harness = ReturnType<typeof harness>;

// ------------------------------------------------------------------ events

/**
 * The tests' events: the kit's builders, at START, in this Region and account, with IDs
 * counted from `<prefix>0` in each event.
 */
const at = (prefix: string): events.EventOrigin => {
  let next = 0;
  return { region: REGION, accountId: ACCOUNT_ID, time: START, newId: () => `${prefix}${next++}` };
};

export const snsEvent = (message: string) =>
  events.snsEvent(message, 'vpce-guard-notifications', at('n-'));

/** The body SNS puts on the hint queue for `message`. */
export const snsEnvelope = (message: string) =>
  events.snsEnvelope(message, 'vpce-guard-notifications', at('n-'));

export const eventBridgeEvent = (detailType: string, source: string, detail: object) =>
  events.eventBridgeEvent({ detailType, source, detail }, at('e-'));

export const scheduledEvent = () => events.scheduledEvent('vpce-guard-schedule', at('e-'));

export const parameterChange = (name = POLICY_PARAMETER) =>
  events.parameterStoreChange({ name }, at('e-'));

export const createVpcEndpointEvent = (serviceName: string | undefined, endpointId?: string) =>
  events.createVpcEndpointCall({ serviceName, endpointId }, at('e-'));

export const serviceCreatedEvent = (call: events.CreateServiceCall) =>
  events.createVpcEndpointServiceConfigurationCall(call, at('e-'));

export const stackEvent = (
  requestType: 'Create' | 'Update' | 'Delete',
  resourceType = NOTIFICATION_CLEANUP_RESOURCE_TYPE,
  stackId = STACK_ID,
) =>
  events.customResourceRequest(
    {
      requestType,
      resourceType,
      stackId,
      ...(requestType === 'Create' ? {} : { physicalResourceId: CLEANUP_PHYSICAL_ID }),
    },
    at('cfn-'),
  );

/** Messages of the retry queue, as its event source delivers them: `msg-0`, `msg-1`, … */
export const sqsEvent = (bodies: string[]) =>
  events.sqsEvent(bodies, 'vpce-guard-retry', at('msg-'));

/** Messages of the hint queue, as its event source delivers them: `hint-0`, `hint-1`, … */
export const hintQueueEvent = (bodies: string[]) =>
  events.sqsEvent(bodies, 'vpce-guard-hints', at('hint-'));

export function retryBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: RETRY_RECORD_TYPE,
    serviceId: SERVICE_A,
    endpointIds: [],
    action: 'reject',
    attempt: 1,
    lastError: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
    firstFailedAt: '2026-11-25T11:59:00.000Z',
    ...overrides,
  });
}
