/**
 * The examples in examples/ synthesize, and do what docs/events.md says they do: they are
 * copied from, so they must not rot.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { DecisionNotificationsStack } from '../../examples/decision-notifications';
import { arnOf, testApp, type Json } from './helpers';

describe('examples/decision-notifications.ts', () => {
  const stack = new DecisionNotificationsStack(testApp(), 'Notifications', {
    email: 'netops@example.com',
    slackWorkspaceId: 'T0123ABCD',
    slackChannelId: 'C0123ABCD',
  });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Json>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const rules = Object.fromEntries(
    ofType('AWS::Events::Rule').map(([id, r]) => [id, r.Properties]),
  );
  const ruleId = (prefix: string) => Object.keys(rules).find((id) => id.includes(prefix))!;

  test("sends the guard's rejections from the default bus to an encrypted topic that e-mails them", () => {
    const rule = rules[ruleId('RejectionsByEmail')];
    expect(rule.EventBusName).toBe('default');
    expect(rule.EventPattern).toEqual({
      source: ['vpce-guard'],
      'detail-type': ['VPC Endpoint Connection Decision'],
      detail: { decision: ['reject'] },
    });
    const [target] = rule.Targets;
    expect(target.Arn).toEqual({ Ref: expect.stringMatching(/^Rejections/) });
    expect(target.InputTransformer.InputPathsMap).toMatchObject({
      'detail-decision': '$.detail.decision',
      'detail-endpointId': '$.detail.endpointId',
      'detail-reason': '$.detail.reason',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'netops@example.com',
      TopicArn: target.Arn,
    });
    expect(resources[target.Arn.Ref].Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^NotificationKey/), 'Arn'],
    });
  });

  test('sends requests kept for review, and retries given up, to Slack as AWS Chatbot custom notifications', () => {
    const rule = rules[ruleId('NeedsReviewInSlack')];
    expect(rule.EventPattern.detail).toEqual({
      $or: [{ decision: ['keep'] }, { outcome: ['gaveUp'] }],
    });
    const [target] = rule.Targets;
    const message = JSON.stringify(target.InputTransformer.InputTemplate);
    expect(message).toContain('\\"version\\":\\"1.0\\"');
    expect(message).toContain('\\"source\\":\\"custom\\"');
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: 'T0123ABCD',
      SlackChannelId: 'C0123ABCD',
      SnsTopicArns: [target.Arn],
    });
  });

  test('keeps what EventBridge could not deliver in an encrypted queue only these rules may fill', () => {
    const queueId = ofType('AWS::SQS::Queue')
      .map(([id]) => id)
      .find((id) => id.startsWith('Undelivered'))!;
    for (const id of [ruleId('RejectionsByEmail'), ruleId('NeedsReviewInSlack')]) {
      expect(rules[id].Targets[0].DeadLetterConfig).toEqual({
        Arn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      });
    }
    expect(resources[queueId].Properties.SqsManagedSseEnabled).toBe(true);
    const [policy] = ofType('AWS::SQS::QueuePolicy').filter(([, r]) =>
      JSON.stringify(r.Properties.Queues).includes(queueId),
    );
    expect(JSON.stringify(policy![1].Properties.PolicyDocument)).toContain('aws:SourceArn');
  });

  test('lets only these two rules of this account publish to the topics and use their key', () => {
    const ruleArns = ['vpce-guard-rejections-by-email', 'vpce-guard-needs-review-in-slack'].map(
      (name) => arnOf('events', `rule/${name}`),
    );
    expect(Object.values(rules).map((r) => r.Name)).toEqual(
      expect.arrayContaining([
        'vpce-guard-rejections-by-email',
        'vpce-guard-needs-review-in-slack',
      ]),
    );
    const conditions = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnEquals: { 'aws:SourceArn': ruleArns },
    };
    const statementsFor = (documents: Json[]) =>
      documents
        .flatMap((d) => d.Statement)
        .filter((s: Json) => JSON.stringify(s.Principal ?? {}).includes('events.amazonaws.com'));

    const topicStatements = statementsFor(
      ofType('AWS::SNS::TopicPolicy').map(([, r]) => r.Properties.PolicyDocument),
    );
    expect(topicStatements).toHaveLength(2);
    for (const s of topicStatements)
      expect(s).toMatchObject({ Action: 'sns:Publish', Condition: conditions });

    const keyStatements = statementsFor(
      ofType('AWS::KMS::Key').map(([, r]) => r.Properties.KeyPolicy),
    );
    expect(keyStatements).toEqual([
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Condition: conditions,
      }),
    ]);
  });
});
