import * as fs from 'fs';
import * as path from 'path';
import { Match } from 'aws-cdk-lib/assertions';
import { RUNBOOK, runbookLink } from '../../lib/alarms';
import { ROOT, guardQueues, synthStack, type Json } from './helpers';

const alarmsOf = (template: ReturnType<typeof synthStack>['template']) =>
  Object.values<Json>(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties);

describe('the alarms', () => {
  const { stack, guard, template } = synthStack();
  const alarms = alarmsOf(template);
  const resolve = (value: unknown) => stack.resolve(value);
  const guardDimension = [{ Name: 'service', Value: 'vpce-guard' }];

  const isAge = (alarm: Json) => alarm.MetricName === 'ApproximateAgeOfOldestMessage';

  test('are eleven, each acting on the alarm topic and quiet when there is no data', () => {
    expect(alarms).toHaveLength(11);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([resolve(guard.alarmTopic.topicArn)]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
    // All but the age of the retry queue's oldest message fire on the first occurrence.
    for (const alarm of alarms.filter((a) => !isAge(a))) {
      expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(alarm.Threshold).toBe(1);
    }
  });

  test.each([
    ['hint dead-letter queue', 'hintDeadLetterQueue'],
    ['retry dead-letter queue', 'deadLetterQueue'],
    ['events dead-letter queue', 'eventsDeadLetterQueue'],
    ['invocation-failure queue', 'invocationFailureQueue'],
    ['subscription dead-letter queue', 'subscriptionDeadLetterQueue'],
  ] as const)('fire when the %s holds a message', (_, queue) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: resolve(guard[queue].queueName) }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
    });
  });

  test('fire on any function error', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: resolve(guard.guardFunction.functionName) }],
      Statistic: 'Sum',
      EvaluationPeriods: 1,
    });
  });

  test("fire when the retry queue's oldest record is over an hour old (each is delayed 15 minutes at most)", () => {
    expect(alarms.filter(isAge)).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: resolve(guard.retryQueue.queueName) }],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 3600,
        AlarmActions: [resolve(guard.alarmTopic.topicArn)],
      }),
    ]);
  });

  test.each(['PolicyInvalid', 'PolicyUnreadable', 'PermissionDenied'])(
    'fire on any %s, by the name and dimension the guard emits',
    (metricName) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'VpceGuard',
        MetricName: metricName,
        Dimensions: guardDimension,
        Statistic: 'Sum',
        EvaluationPeriods: 1,
      });
    },
  );

  test('fire when RejectUnsuccessful + AcceptUnsuccessful persists three periods of 5 minutes', () => {
    const stat = (metricName: string) => ({
      Metric: { Namespace: 'VpceGuard', MetricName: metricName, Dimensions: guardDimension },
      Period: 300,
      Stat: 'Sum',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 3,
      Metrics: [
        Match.objectLike({ Expression: 'FILL(reject, 0) + FILL(accept, 0)', ReturnData: true }),
        { Id: 'reject', MetricStat: stat('RejectUnsuccessful'), ReturnData: false },
        { Id: 'accept', MetricStat: stat('AcceptUnsuccessful'), ReturnData: false },
      ],
    });
  });

  test('say what to do and point to a runbook section that the README has', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const descriptions = alarms.map((a) => JSON.stringify(resolve(a.AlarmDescription)));
    for (const heading of Object.values(RUNBOOK)) {
      expect(readme).toContain(`\n### ${heading}\n`);
      const link = `Runbook: ${runbookLink(heading)}`;
      expect(descriptions.filter((d) => d.includes(link))).toHaveLength(1);
    }
  });

  test("fit CloudWatch's 1024 characters even with the longest names AWS generates", () => {
    // A queue URL or ARN with an 80-character queue name, a 64-character function name.
    const longest = 'x'.repeat(135);
    for (const alarm of alarms) {
      const parts: unknown[] = alarm.AlarmDescription['Fn::Join']?.[1] ?? [alarm.AlarmDescription];
      const length = parts
        .map((part) => (typeof part === 'string' ? part : longest))
        .join('').length;
      expect(length).toBeLessThanOrEqual(1024);
    }
  });

  /** The description of the alarm on `queue`'s depth, as JSON text. */
  const descriptionFor = (queue: typeof guard.retryQueue) => {
    const queueId = stack.getLogicalId(queue.node.defaultChild as never);
    const alarm = alarms.find((a) => JSON.stringify(a.Dimensions ?? '').includes(queueId));
    return JSON.stringify(alarm.AlarmDescription);
  };

  /** The description of the alarm on the guard's metric `metricName`, as JSON text. */
  const descriptionOf = (metricName: string) =>
    JSON.stringify(alarms.find((a) => a.MetricName === metricName).AlarmDescription);

  test('tell a policy whose content is invalid from one the guard could not read', () => {
    const invalid = descriptionOf('PolicyInvalid');
    expect(invalid).toContain(
      'The content of the policy in SSM parameter /vpce-guard/policy is invalid',
    );
    expect(invalid).not.toMatch(/missing|access|throttl/i);
    const unreadable = descriptionOf('PolicyUnreadable');
    expect(unreadable).toContain(
      'could not read SSM parameter /vpce-guard/policy (missing, access denied, or throttled)',
    );
    for (const check of [
      'aws ssm get-parameter --name /vpce-guard/policy',
      'ssm:GetParameter',
      'kms:Decrypt',
      'throttles',
    ]) {
      expect(unreadable).toContain(check);
    }
  });

  test("tell how to check the retry queue's event source", () => {
    expect(descriptionOf('ApproximateAgeOfOldestMessage')).toContain(
      'aws lambda list-event-source-mappings --function-name ',
    );
  });

  test('tell how to read a dead-letter queue and redrive the retry records', () => {
    const text = descriptionFor(guard.deadLetterQueue);
    expect(text).toContain('aws sqs receive-message --queue-url ');
    expect(text).toContain('aws sqs start-message-move-task --source-arn ');
  });

  test('tell how to sweep once the cause of undelivered events is fixed', () => {
    for (const queue of [
      guard.hintDeadLetterQueue,
      guard.eventsDeadLetterQueue,
      guard.invocationFailureQueue,
      guard.subscriptionDeadLetterQueue,
    ]) {
      const text = descriptionFor(queue);
      expect(text).toContain('aws sqs receive-message --queue-url ');
      expect(text).toContain(`--payload '{\\"reconcile\\":\\"all\\"}'`);
    }
  });

  test('e-mail nobody unless alarmEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 1); // the hint queue's
    const withEmail = synthStack({ 'vpce-guard:alarmEmail': 'netops@example.com' });
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'netops@example.com',
      TopicArn: withEmail.stack.resolve(withEmail.guard.alarmTopic.topicArn),
    });
  });
});

describe('the dashboard', () => {
  const { stack, guard, template } = synthStack();
  const body = JSON.stringify(
    stack.resolve(
      Object.values<Json>(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties
        .DashboardBody,
    ),
  );

  test.each([
    'ConnectionsEvaluated',
    'ConnectionsRejected',
    'ConnectionsAccepted',
    'DryRunRejects',
    'DryRunAccepts',
    'RejectUnsuccessful',
    'AcceptUnsuccessful',
    'PolicyInvalid',
    'PolicyUnreadable',
    'Errors',
    'Throttles',
    'Duration',
  ])('graphs %s', (metricName) => {
    expect(body).toContain(`\\"${metricName}\\"`);
  });

  const queueName = (queue: typeof guard.retryQueue) =>
    stack.getLogicalId(queue.node.defaultChild as never);

  test('graphs the depth of the hint and retry queues and of every dead-letter queue', () => {
    for (const queue of Object.values(guardQueues(guard))) {
      expect(body).toMatch(
        new RegExp(`ApproximateNumberOfMessagesVisible.{0,80}${queueName(queue)}`),
      );
    }
  });

  test('graphs the age of the oldest message of the hint and retry queues', () => {
    for (const queue of [guard.hintQueue, guard.retryQueue]) {
      expect(body).toMatch(new RegExp(`ApproximateAgeOfOldestMessage.{0,80}${queueName(queue)}`));
    }
  });

  test('shows every alarm', () => {
    for (const id of Object.keys(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(body).toContain(`"${id}"`);
    }
  });
});
