import { createHash } from 'node:crypto';
import {
  createVpcEndpointCall,
  eventBridgeEvent,
  parameterStoreChange,
  scheduledEvent,
  snsEnvelope,
  snsEvent,
  sqsEvent,
  type EventOrigin,
} from '../../local-aws/events';

/** A fixed origin whose IDs count up from 0 in each event. */
const origin = (): EventOrigin => {
  let n = 0;
  return {
    region: 'eu-west-1',
    accountId: '111122223333',
    time: new Date('2026-11-25T12:00:00.250Z'),
    newId: () => `id-${n++}`,
  };
};
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:111122223333:topic';
/** What both deliveries of one notification carry, the subscription's ID being `id-0`. */
const NOTIFICATION = {
  Type: 'Notification',
  MessageId: 'id-1',
  TopicArn: TOPIC_ARN,
  Message: 'hello',
  Timestamp: '2026-11-25T12:00:00.250Z',
  SignatureVersion: '1',
  Signature: expect.stringMatching(/^[A-Za-z0-9+/]{342}==$/),
};
const SIGNING_CERT = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService.pem';
const UNSUBSCRIBE = `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC_ARN}:id-0`;

describe('SNS', () => {
  test('a notification reaches Lambda as an aws:sns record, its URLs spelled Url', () => {
    expect(snsEvent('hello', 'topic', origin())).toEqual({
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: `${TOPIC_ARN}:id-0`,
          Sns: {
            ...NOTIFICATION,
            SigningCertUrl: SIGNING_CERT,
            UnsubscribeUrl: UNSUBSCRIBE,
            MessageAttributes: {},
          },
        },
      ],
    });
  });

  test('a notification reaches a queue without raw delivery as its JSON envelope, URLs spelled URL', () => {
    const envelope = JSON.parse(snsEnvelope('hello', 'topic', origin()));
    expect(envelope).toEqual({
      ...NOTIFICATION,
      SigningCertURL: SIGNING_CERT,
      UnsubscribeURL: UNSUBSCRIBE,
    });
  });
});

test('SQS messages reach Lambda as aws:sqs records with the attributes the event source asks for', () => {
  const { Records } = sqsEvent(['one', 'two'], 'hints', origin());
  expect(Records.map((r) => r.messageId)).toEqual(['id-0', 'id-1']);
  expect(Records[0]).toEqual({
    messageId: 'id-0',
    receiptHandle: expect.any(String),
    body: 'one',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.parse('2026-11-25T12:00:00.250Z')),
      SenderId: expect.stringMatching(/^AIDA[A-Z0-9]{17}$/),
      ApproximateFirstReceiveTimestamp: String(Date.parse('2026-11-25T12:00:00.250Z')),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update('one').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:hints',
    awsRegion: 'eu-west-1',
  });
  expect(new Set(Records.map((r) => r.receiptHandle)).size).toBe(2);
});

describe('EventBridge', () => {
  test('an event carries the envelope fields, its time in whole seconds', () => {
    const detail = { state: 'running' };
    expect(
      eventBridgeEvent(
        { detailType: 'EC2 Instance State-change Notification', source: 'aws.ec2', detail },
        origin(),
      ),
    ).toEqual({
      version: '0',
      id: 'id-0',
      'detail-type': 'EC2 Instance State-change Notification',
      source: 'aws.ec2',
      account: '111122223333',
      time: '2026-11-25T12:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail,
    });
  });

  test('a schedule names its rule', () => {
    expect(scheduledEvent('sweep', origin())).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      resources: ['arn:aws:events:eu-west-1:111122223333:rule/sweep'],
      detail: {},
    });
  });

  test.each([
    ['/vpce-guard/policy', 'parameter/vpce-guard/policy'],
    ['plain', 'parameter/plain'],
  ])('a Parameter Store Change of %s names the parameter by its ARN', (name, resource) => {
    expect(parameterStoreChange({ name }, origin())).toMatchObject({
      'detail-type': 'Parameter Store Change',
      source: 'aws.ssm',
      resources: [`arn:aws:ssm:eu-west-1:111122223333:${resource}`],
      detail: { operation: 'Update', name, type: 'String' },
    });
  });

  test('a Parameter Store Change carries the description only when the parameter has one', () => {
    const described = parameterStoreChange({ name: '/p', description: '' }, origin());
    expect(described.detail).toEqual({
      operation: 'Update',
      name: '/p',
      type: 'String',
      description: '',
    });
    expect(parameterStoreChange({ name: '/p' }, origin()).detail).not.toHaveProperty('description');
  });

  test('CloudTrail records CreateVpcEndpoint with its request and response wrapped', () => {
    const serviceName = 'com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0';
    const event = createVpcEndpointCall(
      { serviceName, endpointId: 'vpce-0aaaaaaaaaaaaaaaa' },
      origin(),
    );
    expect(event).toMatchObject({
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.ec2',
      detail: {
        eventSource: 'ec2.amazonaws.com',
        eventName: 'CreateVpcEndpoint',
        awsRegion: 'eu-west-1',
        eventTime: '2026-11-25T12:00:00Z',
        requestParameters: {
          CreateVpcEndpointRequest: {
            ServiceName: serviceName,
            VpcId: 'vpc-0123456789abcdef0',
            VpcEndpointType: 'Interface',
          },
        },
        responseElements: {
          CreateVpcEndpointResponse: {
            vpcEndpoint: { vpcEndpointId: 'vpce-0aaaaaaaaaaaaaaaa', serviceName },
          },
        },
      },
    });
  });

  test('a CreateVpcEndpoint record without a request or a response carries nulls', () => {
    expect(createVpcEndpointCall({}, origin()).detail).toMatchObject({
      requestParameters: null,
      responseElements: null,
    });
  });
});

test('without an origin, events happen now, in us-east-1, with random UUIDs', () => {
  const before = Date.now();
  const [a, b] = [scheduledEvent('r'), scheduledEvent('r')];
  expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(a.id).not.toBe(b.id);
  expect(a.region).toBe('us-east-1');
  expect(Date.parse(a.time)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
});
