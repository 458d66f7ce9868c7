import { Match } from 'aws-cdk-lib/assertions';
import { SERVICE_A, SERVICE_B, synthStack } from './helpers';

describe('the EventBridge rules', () => {
  const { stack, guard, template } = synthStack();
  const functionArn = stack.resolve(guard.guardFunction.functionArn);
  const eventsDlqArn = stack.resolve(guard.eventsDeadLetterQueue.queueArn);
  /** Every target: the guard, retried for an hour, then kept in the events dead-letter queue. */
  const guardTarget = (extra: Record<string, unknown> = {}) => ({
    Id: Match.anyValue(),
    Arn: functionArn,
    RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
    DeadLetterConfig: { Arn: eventsDlqArn },
    ...extra,
  });

  test('CloudTrail CreateVpcEndpoint events on the default bus invoke the guard', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ec2.amazonaws.com'], eventName: ['CreateVpcEndpoint'] },
      },
      EventBusName: Match.absent(),
      Targets: [guardTarget()],
    });
  });

  test('a schedule invokes the guard every 5 minutes with {"reconcile":"all"}', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [guardTarget({ Input: '{"reconcile":"all"}' })],
    });
  });

  test('a Parameter Store Change of the policy parameter invokes the guard', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['Parameter Store Change'],
        detail: { name: ['/vpce-guard/policy'] },
      },
      Targets: [guardTarget()],
    });
  });

  test('are exactly these three, and each may invoke the guard', () => {
    template.resourceCountIs('AWS::Events::Rule', 3);
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Permission',
      { Principal: 'events.amazonaws.com', FunctionName: functionArn },
      3,
    );
  });

  test('the events dead-letter queue admits EventBridge only for these rules', () => {
    const rules = Object.keys(template.findResources('AWS::Events::Rule'));
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [stack.resolve(guard.eventsDeadLetterQueue.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith(
          rules.map((rule) => ({
            Sid: Match.anyValue(),
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: eventsDlqArn,
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [rule, 'Arn'] } } },
          })),
        ),
      },
    });
  });

  test('the sweep interval follows reconcileSchedule (minutes)', () => {
    synthStack({ 'vpce-guard:reconcileSchedule': 15 }).template.hasResourceProperties(
      'AWS::Events::Rule',
      { ScheduleExpression: 'rate(15 minutes)' },
    );
  });
});

describe('endpoint connection notifications', () => {
  test('one per protected service, event Connect, to the notification topic', () => {
    const { stack, guard, template } = synthStack({
      'vpce-guard:protectedServiceIds': [SERVICE_A, SERVICE_B],
    });
    template.resourceCountIs('AWS::EC2::VPCEndpointConnectionNotification', 2);
    for (const serviceId of [SERVICE_A, SERVICE_B]) {
      template.hasResourceProperties('AWS::EC2::VPCEndpointConnectionNotification', {
        ServiceId: serviceId,
        ConnectionEvents: ['Connect'],
        ConnectionNotificationArn: stack.resolve(guard.notificationTopic.topicArn),
      });
    }
  });

  test('are created after the topic policy that lets EC2 publish', () => {
    const { template } = synthStack({ 'vpce-guard:protectedServiceIds': [SERVICE_A] });
    const [topicPolicy] = Object.keys(
      template.findResources('AWS::SNS::TopicPolicy', {
        Properties: {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Principal: { Service: 'vpce.amazonaws.com' } }),
            ]),
          },
        },
      }),
    );
    template.hasResource('AWS::EC2::VPCEndpointConnectionNotification', {
      DependsOn: Match.arrayWith([topicPolicy]),
    });
  });

  test('none when protecting every service of the account: the schedule finds the requests', () => {
    synthStack().template.resourceCountIs('AWS::EC2::VPCEndpointConnectionNotification', 0);
  });

  test('reach the guard through a subscription with a dead-letter queue', () => {
    const { stack, guard, template } = synthStack();
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: stack.resolve(guard.guardFunction.functionArn),
      TopicArn: stack.resolve(guard.notificationTopic.topicArn),
      RedrivePolicy: {
        deadLetterTargetArn: stack.resolve(guard.subscriptionDeadLetterQueue.queueArn),
      },
    });
  });
});

describe('the retry queue event source', () => {
  const { stack, guard, template } = synthStack();

  test('reports batch item failures, with a small batch and a maximum concurrency of 2', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: stack.resolve(guard.retryQueue.queueArn),
      FunctionName: stack.resolve(guard.guardFunction.functionName),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });
});
