import { classifyEvent, intakeSettings } from '../../lambda/intake';
import {
  createVpcEndpointEvent,
  hintQueueEvent,
  POLICY_PARAMETER,
  parameterChange,
  retryBody,
  RETRY_QUEUE_URL,
  serviceCreatedEvent,
  snsEnvelope,
  snsEvent,
  sqsEvent,
  STACK_ID,
  stackEvent,
} from './harness';

const settings = (policyParameterName = POLICY_PARAMETER) =>
  intakeSettings({ policyParameterName, retryQueueUrl: RETRY_QUEUE_URL, stackId: STACK_ID });
const parse = (event: unknown) => classifyEvent(event, settings());

describe('classifyEvent', () => {
  test('takes every service and endpoint ID out of a notification body, whatever its format', () => {
    const body = JSON.stringify({
      ServiceId: 'vpce-svc-0123456789abcdef0',
      nested: { endpoint: 'vpce-0aaaaaaaaaaaaaaaa', again: 'vpce-0aaaaaaaaaaaaaaaa' },
      text: 'and vpce-svc-01234567 with vpce-12345678',
    });
    expect(parse(snsEvent(body))).toEqual({
      kind: 'hint',
      source: 'notification',
      serviceIds: ['vpce-svc-0123456789abcdef0', 'vpce-svc-01234567'],
      endpointIds: ['vpce-0aaaaaaaaaaaaaaaa', 'vpce-12345678'],
      message: body,
    });
  });

  test('does not mistake the prefix of a service ID for an endpoint ID', () => {
    expect(parse(snsEvent('vpce-svc-0123456789abcdef0'))).toMatchObject({ endpointIds: [] });
  });

  test('reads the service from a PrivateLink service name and the endpoint from the response', () => {
    expect(
      parse(
        createVpcEndpointEvent(
          'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0',
          'vpce-0bbbbbbbbbbbbbbbb',
        ),
      ),
    ).toEqual({
      kind: 'hint',
      source: 'cloudtrail',
      serviceIds: ['vpce-svc-0123456789abcdef0'],
      endpointIds: ['vpce-0bbbbbbbbbbbbbbbb'],
    });
  });

  test('also reads the flattened request parameters of older CloudTrail records', () => {
    const event = {
      ...createVpcEndpointEvent(undefined),
      detail: {
        eventName: 'CreateVpcEndpoint',
        requestParameters: { serviceName: 'com.amazonaws.vpce.us-east-1.vpce-svc-01234567' },
      },
    };
    expect(parse(event)).toMatchObject({ kind: 'hint', serviceIds: ['vpce-svc-01234567'] });
  });

  test('takes CloudTrail records of EC2 only: another source is unknown', () => {
    for (const event of [
      createVpcEndpointEvent('com.amazonaws.vpce.eu-west-1.vpce-svc-01234567'),
      serviceCreatedEvent({ serviceId: 'vpce-svc-01234567' }),
    ]) {
      expect(parse({ ...event, source: 'custom.app' })).toMatchObject({ kind: 'unknown' });
      expect(parse(event)).not.toMatchObject({ kind: 'unknown' });
    }
  });

  test('tolerates a CloudTrail record whose detail is missing', () => {
    expect(
      parse({ 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2' }),
    ).toMatchObject({ kind: 'unknown' });
  });

  test("parses each body on the guard's queues once, into hints, retry records or problems", () => {
    const envelope = JSON.stringify({
      Type: 'Notification',
      Message: '{"serviceId":"vpce-svc-0123456789abcdef0"}',
    });
    const change = JSON.stringify(parameterChange());
    const retry = retryBody();
    expect(parse(sqsEvent([envelope, change, retry, 'not json', '{}']))).toEqual({
      kind: 'queue',
      messages: [
        {
          messageId: 'msg-0',
          body: envelope,
          kind: 'work',
          work: expect.objectContaining({
            kind: 'hint',
            source: 'notification',
            serviceIds: ['vpce-svc-0123456789abcdef0'],
          }),
        },
        { messageId: 'msg-1', body: change, kind: 'work', work: { kind: 'policyChanged' } },
        { messageId: 'msg-2', body: retry, kind: 'retry', record: JSON.parse(retry) },
        {
          messageId: 'msg-3',
          body: 'not json',
          kind: 'unreadable',
          problem: 'the message body is not JSON',
          fromRetryQueue: true,
        },
        {
          messageId: 'msg-4',
          body: '{}',
          kind: 'unreadable',
          problem: 'type is undefined, expected "vpce-guard/retry"',
          fromRetryQueue: true,
        },
      ],
    });
  });

  test('an unreadable body is the retry queue’s only when its event source ARN names that queue', () => {
    const from = (queueArn: string) => {
      const event = sqsEvent(['not json']);
      const records = event.Records.map((r) => ({ ...r, eventSourceARN: queueArn }));
      return parse({ Records: records });
    };
    const unreadable = (fromRetryQueue: boolean) => ({
      messages: [expect.objectContaining({ kind: 'unreadable', fromRetryQueue })],
    });
    expect(from('arn:aws:sqs:eu-west-1:123456789012:vpce-guard-retry')).toMatchObject(
      unreadable(true),
    );
    expect(parse(hintQueueEvent(['not json']))).toMatchObject(unreadable(false));
    // Another account's queue of the same name, or no ARN at all, is not the guard's.
    expect(from('arn:aws:sqs:eu-west-1:999988887777:vpce-guard-retry')).toMatchObject(
      unreadable(false),
    );
    expect(from('vpce-guard-retry')).toMatchObject(unreadable(false));
  });

  test('a mix of SQS and other records is unknown, not half-processed', () => {
    const mixed = { Records: [...sqsEvent(['{}']).Records, { EventSource: 'aws:sns' }] };
    expect(parse(mixed)).toMatchObject({ kind: 'unknown' });
  });

  test("reads a new service's ID from CloudTrail's record of CreateVpcEndpointServiceConfiguration", () => {
    expect(parse(serviceCreatedEvent({ serviceId: 'vpce-svc-0123456789abcdef0' }))).toEqual({
      kind: 'serviceCreated',
      serviceIds: ['vpce-svc-0123456789abcdef0'],
    });
  });

  test('takes any service ID in the response when its shape is not the expected one', () => {
    const event = serviceCreatedEvent({});
    const odd = {
      ...event,
      detail: { ...event.detail, responseElements: { other: { id: 'vpce-svc-01234567' } } },
    };
    expect(parse(odd)).toEqual({ kind: 'serviceCreated', serviceIds: ['vpce-svc-01234567'] });
  });

  test('a record without the new service sweeps every service; a failed call is ignored', () => {
    expect(parse(serviceCreatedEvent({}))).toEqual({ kind: 'serviceCreated', serviceIds: [] });
    expect(
      parse(serviceCreatedEvent({ serviceId: 'vpce-svc-01234567', errorCode: 'InvalidParameter' })),
    ).toMatchObject({ kind: 'ignored' });
  });

  test("takes only the request type of the stack's cleanup resource, and ignores other resources", () => {
    expect(parse(stackEvent('Create'))).toEqual({ kind: 'stackEvent', requestType: 'Create' });
    expect(parse(stackEvent('Delete'))).toEqual({
      kind: 'stackEvent',
      requestType: 'Delete',
      physicalResourceId: 'vpce-guard-notification-cleanup',
    });
    expect(parse(stackEvent('Delete', 'Custom::Other'))).toMatchObject({ kind: 'ignored' });
  });

  test("answers only its own stack's events: another stack's, or a forged one, is unknown", () => {
    const other = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Other/9f8e7d6c';
    expect(parse(stackEvent('Delete', undefined, other))).toEqual({
      kind: 'unknown',
      seen: `a stack event of stack "${other}", not the guard's own (STACK_ID ${STACK_ID})`,
    });
    const noStackId = intakeSettings({
      policyParameterName: POLICY_PARAMETER,
      retryQueueUrl: RETRY_QUEUE_URL,
    });
    expect(classifyEvent(stackEvent('Delete'), noStackId)).toMatchObject({ kind: 'unknown' });
  });

  test('a stack event on a queue is not one: it is unreadable as a retry record', () => {
    const body = JSON.stringify(stackEvent('Delete'));
    expect(parse(sqsEvent([body, snsEnvelope('x')]))).toMatchObject({
      messages: [{ kind: 'unreadable' }, { kind: 'work' }],
    });
  });

  test('describes an unknown event by its keys and source, not its values', () => {
    const trigger = parse({ source: 'custom.app', 'detail-type': 'Thing', secret: 'do-not-log' });
    expect(trigger).toEqual({
      kind: 'unknown',
      seen: 'object with keys [source, detail-type, secret] (source=custom.app, detail-type=Thing)',
    });
  });
});

describe('a Parameter Store Change is the policy’s when it names the policy or a set manifest', () => {
  const POLICY_ARN = 'arn:aws:ssm:us-west-2:111122223333:parameter/vpce-guard/policy';

  test.each([
    ['the policy', POLICY_PARAMETER, POLICY_PARAMETER, 'policyChanged'],
    ['a set manifest', POLICY_PARAMETER, '/vpce-guard/policy/sets/gold', 'policyChanged'],
    ['the policy, configured by ARN', POLICY_ARN, POLICY_PARAMETER, 'policyChanged'],
    [
      'a set manifest, configured by ARN',
      POLICY_ARN,
      '/vpce-guard/policy/sets/gold',
      'policyChanged',
    ],
    [
      'a set part (written before its manifest commits it)',
      POLICY_PARAMETER,
      '/vpce-guard/policy/set-parts/gold/v1/1',
      'ignored',
    ],
    [
      'a parameter that only starts like the policy',
      POLICY_PARAMETER,
      '/vpce-guard/policy-old',
      'ignored',
    ],
    ['another policy’s set', POLICY_PARAMETER, '/other/policy/sets/gold', 'ignored'],
  ])('%s', (_case, configured, changed, kind) => {
    expect(classifyEvent(parameterChange(changed), settings(configured))).toMatchObject({ kind });
  });
});
