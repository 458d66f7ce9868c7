import { parseTrigger } from '../../lambda/intake';
import { createVpcEndpointEvent, POLICY_PARAMETER, snsEvent, sqsEvent } from './harness';

const parse = (event: unknown) => parseTrigger(event, POLICY_PARAMETER);

describe('parseTrigger', () => {
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

  test('tolerates a CloudTrail record whose detail is missing', () => {
    expect(
      parse({ 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2' }),
    ).toMatchObject({ kind: 'unknown' });
  });

  test("passes the records of the guard's queues through", () => {
    expect(parse(sqsEvent(['{}']))).toMatchObject({
      kind: 'queue',
      records: [expect.objectContaining({ body: '{}' })],
    });
  });

  test('a mix of SQS and other records is unknown, not half-processed', () => {
    const mixed = { Records: [...sqsEvent(['{}']).Records, { EventSource: 'aws:sns' }] };
    expect(parse(mixed)).toMatchObject({ kind: 'unknown' });
  });

  test('describes an unknown event by its keys and source, not its values', () => {
    const trigger = parse({ source: 'custom.app', 'detail-type': 'Thing', secret: 'do-not-log' });
    expect(trigger).toEqual({
      kind: 'unknown',
      seen: 'object with keys [source, detail-type, secret] (source=custom.app, detail-type=Thing)',
    });
  });
});
