/**
 * A test harness for the guard's core: aws-sdk-client-mock clients backed by a small
 * in-memory model of one account's endpoint connections, a manual clock, and the real
 * PolicyStore, TokenBuckets and guard.
 */
import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  EC2Client,
  RejectVpcEndpointConnectionsCommand,
  type VpcEndpointConnection,
} from '@aws-sdk/client-ec2';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { SQSRecord } from 'aws-lambda';
import type { Clock } from '../../core/clock';
import type { GuardConfig } from '../../core/contract';
import { type GuardDeps, handleEvent, reportPolicyProblem } from '../../lambda/guard';
import { PolicyStore } from '../../lambda/policy-store';
import { TokenBucket } from '../../core/rate-limiter';

export const REGION = 'eu-west-1';
export const SERVICE_A = 'vpce-svc-0123456789abcdef0';
export const SERVICE_B = 'vpce-svc-0fedcba9876543210';
export const ALLOWED = '111122223333';
export const ACCEPTED = '444455556666';
export const DENIED = '999988887777';
export const STRANGER = '123412341234';
export const POLICY_PARAMETER = '/vpce-guard/policy';
export const RETRY_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/vpce-guard-retry';
export const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/vpce-guard-retry-dlq';

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

export class ManualClock implements Clock {
  constructor(public time = Date.parse('2026-11-25T12:00:00Z')) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
  }
}

/**
 * A connection as EC2 sends it. The SDK types the state as its PascalCase enum, but EC2's
 * documentation shows camelCase on the wire: the harness keeps it a plain string.
 */
export type WireConnection = Omit<VpcEndpointConnection, 'VpcEndpointState'> & {
  VpcEndpointState?: string;
};

let endpointCounter = 0;
export function connection(owner: string, overrides: Partial<WireConnection> = {}): WireConnection {
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
  readonly connections?: WireConnection[];
  readonly config?: Partial<GuardConfig>;
  /** Connections per Describe page, whatever MaxResults asks (to exercise pagination). */
  readonly pageSize?: number;
  readonly ownedServices?: string[];
}

export function harness(options: HarnessOptions = {}) {
  const ec2 = mockClient(EC2Client);
  const sqs = mockClient(SQSClient);
  const ssm = mockClient(SSMClient);
  const connections = options.connections ?? [];
  const pageSize = options.pageSize ?? 1000;
  const clock = new ManualClock();

  const policyText =
    typeof options.policy === 'string' ? options.policy : JSON.stringify(options.policy ?? POLICY);
  ssm
    .on(GetParameterCommand)
    .resolves({ Parameter: { Name: POLICY_PARAMETER, Value: policyText } });

  ec2.on(DescribeVpcEndpointConnectionsCommand).callsFake((input) => {
    const value = (name: string) =>
      input.Filters?.find((f: { Name: string }) => f.Name === name)?.Values;
    const [services, ids, states] = [
      value('service-id'),
      value('vpc-endpoint-id'),
      value('vpc-endpoint-state'),
    ];
    const matching = connections.filter(
      (c) =>
        (!services || services.includes(c.ServiceId)) &&
        (!ids || ids.includes(c.VpcEndpointId)) &&
        (!states || states.includes(c.VpcEndpointState)),
    );
    const start = Number(input.NextToken ?? 0);
    const end = start + pageSize;
    return {
      VpcEndpointConnections: matching
        .slice(start, end)
        .map((c) => ({ ...c }) as VpcEndpointConnection),
      NextToken: end < matching.length ? String(end) : undefined,
    };
  });
  ec2.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({
    ServiceConfigurations: (options.ownedServices ?? [SERVICE_A]).map((id) => ({ ServiceId: id })),
  });
  const change = (newState: string) => (input: { VpcEndpointIds: string[]; DryRun?: boolean }) => {
    if (!input.DryRun) {
      for (const c of connections)
        if (input.VpcEndpointIds.includes(c.VpcEndpointId!)) c.VpcEndpointState = newState;
    }
    return { Unsuccessful: [] };
  };
  ec2.on(RejectVpcEndpointConnectionsCommand).callsFake(change('rejected'));
  ec2.on(AcceptVpcEndpointConnectionsCommand).callsFake(change('available'));
  sqs.on(SendMessageBatchCommand).callsFake((input) => ({
    Successful: input.Entries.map((e: { Id: string }) => ({
      Id: e.Id,
      MessageId: `m-${e.Id}`,
      MD5OfMessageBody: 'x',
    })),
    Failed: [],
  }));

  const config: GuardConfig = {
    policyParameterName: POLICY_PARAMETER,
    retryQueueUrl: RETRY_QUEUE_URL,
    deadLetterQueueUrl: DLQ_URL,
    protectedServiceIds: [SERVICE_A],
    policyCacheSeconds: 60,
    rejectBatchSize: 50,
    maxAttempts: 3,
    region: REGION,
    ...options.config,
  };
  const deps: GuardDeps = {
    config,
    ec2: new EC2Client({ region: REGION }),
    sqs: new SQSClient({ region: REGION }),
    policies: new PolicyStore(
      new SSMClient({ region: REGION }),
      config.policyParameterName,
      config.policyCacheSeconds,
      clock,
      reportPolicyProblem,
    ),
    limiters: { reject: new TokenBucket(10, 1, clock), accept: new TokenBucket(10, 1, clock) },
    clock,
    random: () => 0.5,
  };

  return {
    ec2,
    sqs,
    ssm,
    clock,
    deps,
    connections,
    run: (event: unknown) => handleEvent(event, deps),
    stateOf: (endpointId: string | undefined) =>
      connections.find((c) => c.VpcEndpointId === endpointId)?.VpcEndpointState,
    /** Bodies of every message sent to a queue, parsed. */
    sent: (queueUrl = RETRY_QUEUE_URL) =>
      sqs
        .commandCalls(SendMessageBatchCommand)
        .filter((call) => call.args[0].input.QueueUrl === queueUrl)
        .flatMap((call) => call.args[0].input.Entries ?? [])
        .map((entry) => ({ ...entry, record: JSON.parse(entry.MessageBody!) })),
  };
}

export type Harness = ReturnType<typeof harness>;

// ------------------------------------------------------------------ events

export function snsEvent(message: string) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:eu-west-1:123456789012:vpce-guard-notifications:1',
        Sns: {
          Type: 'Notification',
          MessageId: 'n-1',
          TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t',
          Message: message,
          Timestamp: '2026-11-25T12:00:00.000Z',
        },
      },
    ],
  };
}

export function eventBridgeEvent(detailType: string, source: string, detail: unknown) {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: '2026-11-25T12:00:00Z',
    region: REGION,
    resources: [],
    detail,
  };
}

export const scheduledEvent = () => eventBridgeEvent('Scheduled Event', 'aws.events', {});

export const parameterChange = (name = POLICY_PARAMETER) =>
  eventBridgeEvent('Parameter Store Change', 'aws.ssm', {
    operation: 'Update',
    name,
    type: 'String',
  });

/** A CloudTrail record of CreateVpcEndpoint as EventBridge delivers it (the request wrapped, as EC2 records it). */
export function createVpcEndpointEvent(serviceName: string | undefined, endpointId?: string) {
  return eventBridgeEvent('AWS API Call via CloudTrail', 'aws.ec2', {
    eventSource: 'ec2.amazonaws.com',
    eventName: 'CreateVpcEndpoint',
    requestParameters: serviceName
      ? {
          CreateVpcEndpointRequest: {
            VpcId: 'vpc-01234567890abcdef',
            VpcEndpointType: 'Interface',
            ServiceName: serviceName,
          },
        }
      : undefined,
    responseElements: endpointId
      ? { CreateVpcEndpointResponse: { vpcEndpoint: { vpcEndpointId: endpointId, serviceName } } }
      : null,
  });
}

export function sqsEvent(bodies: string[]): { Records: SQSRecord[] } {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `msg-${i}`,
      receiptHandle: `rh-${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:vpce-guard-retry',
      awsRegion: REGION,
    })),
  };
}

export function retryBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'vpce-guard/retry',
    serviceId: SERVICE_A,
    endpointIds: [],
    action: 'reject',
    attempt: 1,
    lastError: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
    firstFailedAt: '2026-11-25T11:59:00.000Z',
    ...overrides,
  });
}
