/**
 * The events that reach the guard in AWS, built as the services send them: what the demo
 * feeds the bundled guard, one trigger per step.
 */
import { randomUUID } from 'node:crypto';
import { POLICY_PARAMETER, PROVIDER_ACCOUNT, REGION } from './scenario';

/**
 * An endpoint connection notification (event `Connect`) as the stack delivers it: SNS puts
 * its envelope on the hint queue, and Lambda's event source hands the guard a batch. AWS does
 * not document the message body; the guard only takes the IDs out of it.
 */
export function connectNotification(serviceId: string, endpointId: string) {
  const envelope = {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: `arn:aws:sns:${REGION}:${PROVIDER_ACCOUNT}:vpce-guard-connections`,
    Subject: 'VPC Endpoint Connection Notification',
    Message: JSON.stringify({
      eventType: 'Connect',
      serviceId,
      endpointId,
      endpointState: 'pendingAcceptance',
    }),
    Timestamp: new Date().toISOString(),
  };
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: 'demo',
        body: JSON.stringify(envelope),
        attributes: {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${REGION}:${PROVIDER_ACCOUNT}:vpce-guard-hints`,
        awsRegion: REGION,
      },
    ],
  };
}

/** What SSM puts on the default event bus when the policy parameter is written. */
export function parameterStoreChange() {
  const arn = `arn:aws:ssm:${REGION}:${PROVIDER_ACCOUNT}:parameter${POLICY_PARAMETER}`;
  return eventBridgeEvent(
    'Parameter Store Change',
    'aws.ssm',
    { operation: 'Update', name: POLICY_PARAMETER, type: 'String', description: '' },
    [arn],
  );
}

/** The guard's reconcile schedule firing. */
export function scheduledEvent() {
  const rule = `arn:aws:events:${REGION}:${PROVIDER_ACCOUNT}:rule/vpce-guard-sweep`;
  return eventBridgeEvent('Scheduled Event', 'aws.events', {}, [rule]);
}

function eventBridgeEvent(
  detailType: string,
  source: string,
  detail: object,
  resources: readonly string[],
) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source,
    account: PROVIDER_ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources,
    detail,
  };
}
