/**
 * The events that reach the guard, built as AWS writes them: an SNS notification as Lambda
 * receives it and as SNS puts it on a subscribed queue, the records of Lambda's SQS event
 * source, and EventBridge events (the schedule, Parameter Store, CloudTrail).
 *
 * Tests fix the origin (Region, account, time, IDs) to stay deterministic; the demo and the
 * benchmark take the defaults: now, and a random UUID for every ID.
 */
import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent, SNSEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { md5OfBody } from './fakes/sqs-md5';

/** Where and when an event happens. */
export interface EventOrigin {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** The account of the topic, queue, rule or API call. @default '123456789012' */
  readonly accountId?: string;
  /** @default now */
  readonly time?: Date;
  /** Makes each ID AWS gives a message, event or subscription. @default a random UUID */
  readonly newId?: () => string;
}

type Origin = Required<EventOrigin>;

function resolve(origin: EventOrigin = {}): Origin {
  return {
    region: origin.region ?? 'us-east-1',
    accountId: origin.accountId ?? '123456789012',
    time: origin.time ?? new Date(),
    newId: origin.newId ?? randomUUID,
  };
}

const arn = (service: string, o: Origin, resource: string) =>
  `arn:aws:${service}:${o.region}:${o.accountId}:${resource}`;

/** EventBridge and CloudTrail write times in whole seconds. */
const wholeSeconds = (time: Date) => time.toISOString().replace(/\.\d{3}Z$/, 'Z');

// ------------------------------------------------------------------ SNS

/** Stands in for SNS's signature (RSA, 256 bytes): nothing local verifies it. */
const UNSIGNED = Buffer.alloc(256).toString('base64');

/** One published notification, in the fields both of its deliveries carry. */
function publish(message: string, topicName: string, origin?: EventOrigin) {
  const o = resolve(origin);
  const topicArn = arn('sns', o, topicName);
  const subscriptionArn = `${topicArn}:${o.newId()}`;
  return {
    subscriptionArn,
    notification: {
      Type: 'Notification',
      MessageId: o.newId(),
      TopicArn: topicArn,
      Message: message,
      Timestamp: o.time.toISOString(),
      SignatureVersion: '1',
      Signature: UNSIGNED,
    },
    signingCertUrl: `https://sns.${o.region}.amazonaws.com/SimpleNotificationService.pem`,
    unsubscribeUrl: `https://sns.${o.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
  };
}

/**
 * A notification as Lambda receives it from a topic it subscribes to. The body of an endpoint
 * connection notification is not documented by AWS: `message` is whatever the caller makes it.
 */
export function snsEvent(message: string, topicName: string, origin?: EventOrigin): SNSEvent {
  const published = publish(message, topicName, origin);
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: published.subscriptionArn,
        Sns: {
          ...published.notification,
          // Lambda's record spells these two `Url`; the envelope below spells them `URL`.
          SigningCertUrl: published.signingCertUrl,
          UnsubscribeUrl: published.unsubscribeUrl,
          MessageAttributes: {},
        },
      },
    ],
  };
}

/** A notification as SNS writes it, as the body, to a subscribed queue without raw delivery. */
export function snsEnvelope(message: string, topicName: string, origin?: EventOrigin): string {
  const published = publish(message, topicName, origin);
  return JSON.stringify({
    ...published.notification,
    SigningCertURL: published.signingCertUrl,
    UnsubscribeURL: published.unsubscribeUrl,
  });
}

// ------------------------------------------------------------------ SQS

/** The sender of the messages `sqsEvent` makes up: an IAM user ID, as SQS reports one. */
const SENDER_ID = 'AIDAIENQZJOLO23YVJ4VO';

/**
 * A batch of messages on a queue, as Lambda's event source hands it to the function: each
 * received once, sent at `origin.time`.
 */
export function sqsEvent(
  bodies: readonly string[],
  queueName: string,
  origin?: EventOrigin,
): SQSEvent {
  const o = resolve(origin);
  const queueArn = arn('sqs', o, queueName);
  const sentAt = String(o.time.getTime());
  const received = (body: string): Message => {
    const messageId = o.newId();
    return {
      MessageId: messageId,
      ReceiptHandle: Buffer.from(`${queueArn}/${messageId}`).toString('base64'),
      Body: body,
      MD5OfBody: md5OfBody(body),
      Attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: sentAt,
        SenderId: SENDER_ID,
        ApproximateFirstReceiveTimestamp: sentAt,
      },
    };
  };
  return { Records: bodies.map((body) => sqsRecord(received(body), queueArn)) };
}

/**
 * The record Lambda's event source makes of a message it received from `queueArn` (with every
 * system and message attribute asked for).
 */
export function sqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          stringValue: value.StringValue,
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    // arn:aws:sqs:<region>:<account>:<name>
    awsRegion: queueArn.split(':')[3] ?? '',
  };
}

// ------------------------------------------------------------------ EventBridge

export interface EventBridgeInput<Detail> {
  readonly detailType: string;
  readonly source: string;
  readonly detail: Detail;
  /** The ARNs of the resources the event concerns. @default [] */
  readonly resources?: readonly string[];
}

/** An event on the default bus, as EventBridge delivers it to a target. */
export function eventBridgeEvent<Detail>(
  input: EventBridgeInput<Detail>,
  origin?: EventOrigin,
): EventBridgeEvent<string, Detail> {
  const o = resolve(origin);
  return {
    version: '0',
    id: o.newId(),
    'detail-type': input.detailType,
    source: input.source,
    account: o.accountId,
    time: wholeSeconds(o.time),
    region: o.region,
    resources: [...(input.resources ?? [])],
    detail: input.detail,
  };
}

/** What a schedule rule sends its targets when it fires. */
export function scheduledEvent(ruleName: string, origin?: EventOrigin) {
  const o = resolve(origin);
  return eventBridgeEvent(
    {
      detailType: 'Scheduled Event',
      source: 'aws.events',
      detail: {},
      resources: [arn('events', o, `rule/${ruleName}`)],
    },
    o,
  );
}

export interface ParameterChange {
  readonly name: string;
  /** @default 'Update' */
  readonly operation?: 'Create' | 'Update' | 'Delete' | 'LabelParameterVersion';
  /** @default 'String' */
  readonly type?: 'String' | 'StringList' | 'SecureString';
  /** The parameter's description, when it has one. */
  readonly description?: string;
}

/** What SSM puts on the default bus when a parameter changes. */
export function parameterStoreChange(change: ParameterChange, origin?: EventOrigin) {
  const o = resolve(origin);
  // A parameter's ARN has exactly one slash before its name, whether the name starts with one.
  const resource = `parameter/${change.name.replace(/^\//, '')}`;
  return eventBridgeEvent(
    {
      detailType: 'Parameter Store Change',
      source: 'aws.ssm',
      detail: {
        operation: change.operation ?? 'Update',
        name: change.name,
        type: change.type ?? 'String',
        ...(change.description === undefined ? {} : { description: change.description }),
      },
      resources: [arn('ssm', o, resource)],
    },
    o,
  );
}

export interface CreateVpcEndpointCall {
  /** The requested service; absent, the record carries no request parameters (null). */
  readonly serviceName?: string;
  /** The endpoint created; absent, the record carries no response (null), as for a failed call. */
  readonly endpointId?: string;
  /** @default 'vpc-0123456789abcdef0' */
  readonly vpcId?: string;
}

/**
 * CloudTrail's record of a `CreateVpcEndpoint` call, as EventBridge delivers it (`AWS API Call
 * via CloudTrail`): EC2 records the request wrapped in `CreateVpcEndpointRequest` and the
 * response in `CreateVpcEndpointResponse`.
 */
export function createVpcEndpointCall(call: CreateVpcEndpointCall, origin?: EventOrigin) {
  const o = resolve(origin);
  const vpcId = call.vpcId ?? 'vpc-0123456789abcdef0';
  const requestId = o.newId();
  return ec2ApiCall(o, 'CreateVpcEndpoint', requestId, {
    requestParameters: call.serviceName
      ? {
          CreateVpcEndpointRequest: {
            VpcId: vpcId,
            VpcEndpointType: 'Interface',
            ServiceName: call.serviceName,
          },
        }
      : null,
    responseElements: call.endpointId
      ? {
          CreateVpcEndpointResponse: {
            requestId,
            vpcEndpoint: {
              vpcEndpointId: call.endpointId,
              vpcEndpointType: 'Interface',
              vpcId,
              serviceName: call.serviceName,
              state: 'pendingAcceptance',
              ownerId: o.accountId,
            },
            xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/',
          },
        }
      : null,
  });
}

export interface CreateServiceCall {
  /** The service created; absent, the record carries no response (null), as a trimmed record. */
  readonly serviceId?: string;
  /** @default true */
  readonly acceptanceRequired?: boolean;
  /** The call failed with this code: CloudTrail records it, with no response. */
  readonly errorCode?: string;
}

/**
 * CloudTrail's record of the provider's own `CreateVpcEndpointServiceConfiguration` call, as
 * EventBridge delivers it. AWS does not document the record's request and response shapes; as
 * for `CreateVpcEndpoint`, EC2's request is wrapped in `…Request` and its XML answer in
 * `…Response`, whose `serviceConfiguration` holds the new `serviceId`. Lists (the load
 * balancers, the service type) are left out: how CloudTrail renders EC2's XML lists here is
 * not known, and the guard reads none of them.
 */
export function createVpcEndpointServiceConfigurationCall(
  call: CreateServiceCall,
  origin?: EventOrigin,
) {
  const o = resolve(origin);
  const requestId = o.newId();
  const acceptanceRequired = call.acceptanceRequired ?? true;
  return ec2ApiCall(o, 'CreateVpcEndpointServiceConfiguration', requestId, {
    requestParameters: {
      CreateVpcEndpointServiceConfigurationRequest: { AcceptanceRequired: acceptanceRequired },
    },
    responseElements:
      call.serviceId && !call.errorCode
        ? {
            CreateVpcEndpointServiceConfigurationResponse: {
              requestId,
              serviceConfiguration: {
                serviceId: call.serviceId,
                serviceName: `com.amazonaws.vpce.${o.region}.${call.serviceId}`,
                serviceState: 'Available',
                acceptanceRequired,
                managesVpcEndpoints: false,
              },
              xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/',
            },
          }
        : null,
    ...(call.errorCode
      ? { errorCode: call.errorCode, errorMessage: 'The request could not be completed.' }
      : {}),
  });
}

/**
 * CloudTrail's record of an EC2 API call (`AWS API Call via CloudTrail`), around `fields`:
 * the call's request parameters, response elements and, for a failed call, its error.
 */
function ec2ApiCall(
  o: Origin,
  eventName: string,
  requestId: string,
  fields: Record<string, unknown>,
) {
  return eventBridgeEvent(
    {
      detailType: 'AWS API Call via CloudTrail',
      source: 'aws.ec2',
      detail: {
        eventVersion: '1.09',
        userIdentity: { type: 'AssumedRole', accountId: o.accountId },
        eventTime: wholeSeconds(o.time),
        eventSource: 'ec2.amazonaws.com',
        eventName,
        awsRegion: o.region,
        ...fields,
        requestID: requestId,
        eventID: o.newId(),
        readOnly: false,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: o.accountId,
        eventCategory: 'Management',
      },
    },
    o,
  );
}

// ------------------------------------------------------------------ CloudFormation

export interface CustomResourceRequest {
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly resourceType: string;
  /** @default 'NotificationCleanup' */
  readonly logicalResourceId?: string;
  /** Absent on Create. */
  readonly physicalResourceId?: string;
  /** @default 'VpceGuard' */
  readonly stackName?: string;
  /** The stack's ID (its ARN). @default a new one, of `stackName` */
  readonly stackId?: string;
}

/**
 * CloudFormation's custom resource request as the CDK Provider framework hands it to its
 * onEvent function: the request itself (`ResponseURL` included; the framework answers
 * CloudFormation with what the function returns).
 */
export function customResourceRequest(request: CustomResourceRequest, origin?: EventOrigin) {
  const o = resolve(origin);
  const stackName = request.stackName ?? 'VpceGuard';
  return {
    RequestType: request.requestType,
    ServiceToken: arn('lambda', o, `function:${stackName}-ProviderframeworkonEvent`),
    ResponseURL: `https://cloudformation-custom-resource-response-${o.region}.s3.amazonaws.com/${o.newId()}`,
    StackId: request.stackId ?? arn('cloudformation', o, `stack/${stackName}/${o.newId()}`),
    RequestId: o.newId(),
    LogicalResourceId: request.logicalResourceId ?? 'NotificationCleanup',
    ResourceType: request.resourceType,
    ...(request.physicalResourceId === undefined
      ? {}
      : { PhysicalResourceId: request.physicalResourceId }),
    ResourceProperties: {
      ServiceToken: arn('lambda', o, `function:${stackName}-ProviderframeworkonEvent`),
    },
  };
}
