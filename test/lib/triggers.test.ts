import { aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { GuardTriggers } from '../../lib/triggers';
import {
  EXAMPLE_POLICY,
  SERVICE_A,
  SERVICE_B,
  guardInStack,
  propertiesOf,
  synthStack,
} from './helpers';

const { stack, guard, template } = synthStack();
const triggers = guard.node.findChild('Triggers') as GuardTriggers;
const resolve = (value: unknown) => stack.resolve(value);
const functionArn = resolve(guard.guardFunction.functionArn);
const hintQueueArn = resolve(guard.hintQueue.queueArn);
const eventsDlqArn = resolve(guard.eventsDeadLetterQueue.queueArn);
const targetsOf = (rule: GuardTriggers['scheduleRule']) =>
  propertiesOf(stack, template, rule.node.defaultChild).Targets;
/**
 * Every rule's one target: retried for an hour, then kept in the events dead-letter queue,
 * and given the event itself (no Input, InputPath or InputTransformer).
 */
const target = (arn: unknown) => [
  {
    Id: 'Target0',
    Arn: arn,
    RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
    DeadLetterConfig: { Arn: eventsDlqArn },
  },
];

describe('the EventBridge rules', () => {
  test('CloudTrail CreateVpcEndpoint events on the default bus go to the hint queue, as they are', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ec2.amazonaws.com'], eventName: ['CreateVpcEndpoint'] },
      },
      EventBusName: Match.absent(),
    });
    expect(targetsOf(triggers.endpointCreatedRule)).toEqual(target(hintQueueArn));
  });

  test("the provider's own CreateVpcEndpointServiceConfiguration calls that succeeded go to the hint queue, as they are", () => {
    expect(propertiesOf(stack, template, triggers.serviceCreatedRule.node.defaultChild)).toEqual(
      expect.objectContaining({
        EventPattern: {
          // Another account's call, forwarded by an organization, created no service of ours.
          account: [resolve(stack.account)],
          source: ['aws.ec2'],
          'detail-type': ['AWS API Call via CloudTrail'],
          detail: {
            eventSource: ['ec2.amazonaws.com'],
            eventName: ['CreateVpcEndpointServiceConfiguration'],
            errorCode: [{ exists: false }],
          },
        },
        Targets: target(hintQueueArn),
      }),
    );
  });

  test('a schedule invokes the guard every 5 minutes with the Scheduled Event itself', () => {
    expect(
      propertiesOf(stack, template, triggers.scheduleRule.node.defaultChild).ScheduleExpression,
    ).toBe('rate(5 minutes)');
    expect(targetsOf(triggers.scheduleRule)).toEqual(target(functionArn));
  });

  test('a Parameter Store Change of the policy parameter or a set manifest (not a part) invokes the guard', () => {
    expect(propertiesOf(stack, template, triggers.policyChangedRule.node.defaultChild)).toEqual(
      expect.objectContaining({
        EventPattern: {
          source: ['aws.ssm'],
          'detail-type': ['Parameter Store Change'],
          detail: { name: ['/vpce-guard/policy', { prefix: '/vpce-guard/policy/sets/' }] },
        },
        Targets: target(functionArn),
      }),
    );
  });

  test('are exactly these four; only the schedule and the policy change may invoke the guard', () => {
    template.resourceCountIs('AWS::Events::Rule', 4);
    template.resourceCountIs('AWS::Lambda::Permission', 2);
    for (const rule of [triggers.scheduleRule, triggers.policyChangedRule]) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: functionArn,
        SourceArn: resolve(rule.ruleArn),
      });
    }
  });

  test('the events dead-letter queue admits EventBridge only for these rules', () => {
    const rules = Object.keys(template.findResources('AWS::Events::Rule'));
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [resolve(guard.eventsDeadLetterQueue.queueUrl)],
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
    const two = synthStack({ 'vpce-guard:protectedServiceIds': [SERVICE_A, SERVICE_B] });
    two.template.resourceCountIs('AWS::EC2::VPCEndpointConnectionNotification', 2);
    for (const serviceId of [SERVICE_A, SERVICE_B]) {
      two.template.hasResourceProperties('AWS::EC2::VPCEndpointConnectionNotification', {
        ServiceId: serviceId,
        ConnectionEvents: ['Connect'],
        ConnectionNotificationArn: two.stack.resolve(two.guard.notificationTopic.topicArn),
      });
    }
    // Created after the topic policy that lets EC2 publish.
    const [topicPolicy] = Object.keys(
      two.template.findResources('AWS::SNS::TopicPolicy', {
        Properties: {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Principal: { Service: 'vpce.amazonaws.com' } }),
            ]),
          },
        },
      }),
    );
    two.template.hasResource('AWS::EC2::VPCEndpointConnectionNotification', {
      DependsOn: Match.arrayWith([topicPolicy]),
    });
  });

  test('one for a service made in the same app, whose ID is a token until deploy', () => {
    const made = guardInStack((stack) => ({
      initialPolicyFile: EXAMPLE_POLICY,
      protectedServiceIds: [
        new ec2.CfnVPCEndpointService(stack, 'Service', { networkLoadBalancerArns: ['nlb'] }).ref,
        SERVICE_A,
      ],
    }));
    made.template.resourceCountIs('AWS::EC2::VPCEndpointConnectionNotification', 2);
    for (const serviceId of [{ Ref: 'Service' }, SERVICE_A]) {
      made.template.hasResourceProperties('AWS::EC2::VPCEndpointConnectionNotification', {
        ServiceId: serviceId,
      });
    }
    // The function learns the ID at deploy, with the literal one.
    made.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PROTECTED_SERVICE_IDS: { 'Fn::Join': ['', [{ Ref: 'Service' }, `,${SERVICE_A}`]] },
        }),
      },
    });
  });

  test('none when protecting every service of the account: the schedule finds the requests', () => {
    template.resourceCountIs('AWS::EC2::VPCEndpointConnectionNotification', 0);
  });

  test('reach the hint queue as SNS envelopes (not raw), through a subscription with a dead-letter queue', () => {
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription'));
    expect(subscriptions.map((s) => s.Properties)).toEqual([
      {
        Protocol: 'sqs',
        Endpoint: hintQueueArn,
        TopicArn: resolve(guard.notificationTopic.topicArn),
        RawMessageDelivery: false,
        RedrivePolicy: { deadLetterTargetArn: resolve(guard.subscriptionDeadLetterQueue.queueArn) },
      },
    ]);
  });
});

describe('the hint queue', () => {
  test('admits, over TLS only, SNS for the notification topic and EventBridge for the CloudTrail rules, nothing else', () => {
    const policy = propertiesOf(
      stack,
      template,
      guard.hintQueue.node.findChild('Policy').node.defaultChild,
    );
    expect(policy.Queues).toEqual([resolve(guard.hintQueue.queueUrl)]);
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:*',
        Resource: hintQueueArn,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: hintQueueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': resolve(guard.notificationTopic.topicArn) } },
      },
      ...[triggers.endpointCreatedRule, triggers.serviceCreatedRule].map((rule) => ({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Resource: hintQueueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': resolve(rule.ruleArn) } },
      })),
    ]);
  });
});

describe('the SQS event sources', () => {
  const mappings = template.findResources('AWS::Lambda::EventSourceMapping');
  const mappingOf = (queue: typeof guard.retryQueue) =>
    Object.values(mappings).find(
      (m) =>
        JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify(resolve(queue.queueArn)),
    )?.Properties;

  test('are exactly two: the hint queue and the retry queue', () => {
    expect(Object.keys(mappings)).toHaveLength(2);
  });

  test('the hint queue: batches of up to 100 gathered for 5 s, at most 2 at a time, reporting batch item failures', () => {
    expect(mappingOf(guard.hintQueue)).toEqual({
      EventSourceArn: hintQueueArn,
      FunctionName: resolve(guard.guardFunction.functionName),
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('the retry queue: small batches, at most 2 at a time, reporting batch item failures', () => {
    expect(mappingOf(guard.retryQueue)).toEqual({
      EventSourceArn: resolve(guard.retryQueue.queueArn),
      FunctionName: resolve(guard.guardFunction.functionName),
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});
