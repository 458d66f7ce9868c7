import { Match } from 'aws-cdk-lib/assertions';
import {
  ACCOUNT,
  SERVICE_A,
  SERVICE_B,
  arnOf,
  guardQueues,
  propertiesOf,
  serviceArn,
  synthStack,
  type Json,
} from './helpers';

const ALARM_ARNS = arnOf('cloudwatch', 'alarm:*');

/** Admitted only on behalf of this account and of the named resources. */
const confusedDeputyConditions = (sourceArns: unknown[]) => ({
  StringEquals: { 'aws:SourceAccount': ACCOUNT },
  ArnLike: { 'aws:SourceArn': sourceArns },
});

const { stack, guard, template } = synthStack({
  'vpce-guard:protectedServiceIds': [SERVICE_A, SERVICE_B],
});

/** Each topic, the service that publishes to it, and on behalf of what. */
const PUBLISHERS = [
  [
    'Notification',
    'vpce.amazonaws.com',
    'the protected services',
    [serviceArn(SERVICE_A), serviceArn(SERVICE_B)],
  ],
  ['Alarm', 'cloudwatch.amazonaws.com', 'the alarms', [ALARM_ARNS]],
] as const;
const topicOf = (name: (typeof PUBLISHERS)[number][0]) =>
  name === 'Notification' ? guard.notificationTopic : guard.alarmTopic;

describe('the KMS key of the topics', () => {
  const key = propertiesOf(stack, template, guard.encryptionKey.node.defaultChild);

  test('rotates', () => {
    expect(key.EnableKeyRotation).toBe(true);
  });

  test.each(PUBLISHERS)(
    'lets the %s topic publisher %s use it only for %s of this account',
    (topic, service, _, sourceArns) => {
      expect(key.KeyPolicy.Statement).toContainEqual({
        Sid: `Allow${topic}TopicPublishersToUseKey`,
        Effect: 'Allow',
        Principal: { Service: service },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: confusedDeputyConditions([...sourceArns]),
      });
    },
  );

  test('admits no other service', () => {
    const services = key.KeyPolicy.Statement.flatMap((s: Json) => s.Principal?.Service ?? []);
    expect(services.sort()).toEqual(['cloudwatch.amazonaws.com', 'vpce.amazonaws.com']);
  });

  test('encrypts both topics', () => {
    const keyArn = stack.resolve(guard.encryptionKey.keyArn);
    template.resourcePropertiesCountIs('AWS::SNS::Topic', { KmsMasterKeyId: keyArn }, 2);
    template.resourceCountIs('AWS::SNS::Topic', 2);
  });
});

describe('the topic policies', () => {
  const statementsOf = (topic: typeof guard.notificationTopic) =>
    propertiesOf(stack, template, topic.node.findChild('Policy').node.defaultChild).PolicyDocument
      .Statement;

  test.each(PUBLISHERS)(
    'the %s topic: %s may publish for %s of this account, over TLS only',
    (name, service, _, sourceArns) => {
      const topic = topicOf(name);
      expect(statementsOf(topic)).toEqual([
        {
          Sid: 'AllowPublishThroughSSLOnly',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sns:Publish',
          Resource: stack.resolve(topic.topicArn),
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        {
          Sid: `Allow${name}TopicPublishers`,
          Effect: 'Allow',
          Principal: { Service: service },
          Action: 'sns:Publish',
          Resource: stack.resolve(topic.topicArn),
          Condition: confusedDeputyConditions([...sourceArns]),
        },
      ]);
    },
  );

  test('when protecting every service, name vpc-endpoint-service/* of this account and Region', () => {
    const all = synthStack();
    const statements = propertiesOf(
      all.stack,
      all.template,
      all.guard.notificationTopic.node.findChild('Policy').node.defaultChild,
    ).PolicyDocument.Statement;
    expect(statements[1].Condition).toEqual(confusedDeputyConditions([serviceArn('*')]));
  });
});

describe('the queues', () => {
  const queues = guardQueues(guard);
  const properties = (queue: typeof guard.retryQueue) =>
    propertiesOf(stack, template, queue.node.defaultChild);

  test('are these seven, each encrypted with SQS-managed keys and refusing non-TLS access', () => {
    template.resourceCountIs('AWS::SQS::Queue', 7);
    for (const queue of Object.values(queues)) {
      expect(properties(queue).SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [stack.resolve(queue.queueUrl)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:*',
              Resource: stack.resolve(queue.queueArn),
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ]),
        },
      });
    }
  });

  const timeout = propertiesOf(stack, template, guard.guardFunction.node.defaultChild).Timeout;
  const DAY = 24 * 3600;

  test.each([
    ['retry', 14, 'retryDeadLetter'],
    ['hint', 4, 'hintDeadLetter'],
  ] as const)(
    'the %s queue hides a message for six times the function timeout, keeps it %i days, and redrives it after 10 receives',
    (queue, days, deadLetter) => {
      expect(properties(queues[queue])).toEqual({
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 6 * timeout,
        MessageRetentionPeriod: days * DAY,
        RedrivePolicy: {
          deadLetterTargetArn: stack.resolve(queues[deadLetter].queueArn),
          maxReceiveCount: 10,
        },
      });
    },
  );

  test("maxAttempts does not set the retry queue's redrive: the guard counts attempts itself", () => {
    const eight = synthStack({ 'vpce-guard:maxAttempts': 8 });
    const retry = propertiesOf(
      eight.stack,
      eight.template,
      eight.guard.retryQueue.node.defaultChild,
    );
    expect(retry.RedrivePolicy.maxReceiveCount).toBe(10);
  });

  test('every dead-letter queue keeps its messages 14 days', () => {
    const deadLetterQueues = Object.values(queues).filter(
      (queue) => queue !== queues.retry && queue !== queues.hint,
    );
    expect(deadLetterQueues).toHaveLength(5);
    for (const queue of deadLetterQueues) {
      expect(properties(queue).MessageRetentionPeriod).toBe(14 * DAY);
    }
  });
});
