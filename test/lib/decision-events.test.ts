import {
  Stack,
  aws_events as events,
  aws_sqs as sqs,
  aws_events_targets as targets,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { VpceGuard } from '../../lib';
import {
  EXAMPLE_POLICY,
  arnOf,
  guardInStack,
  propertiesOf,
  synthStack,
  testApp,
  type Json,
} from './helpers';

const environmentOf = (template: ReturnType<typeof synthStack>['template']) =>
  Object.values<Json>(template.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.POLICY_PARAMETER_NAME,
  ).Properties.Environment.Variables;

const ownStatements = (stack: Json, guard: VpceGuard, template: Json): Json[] =>
  propertiesOf(
    stack,
    template,
    guard.node.findChild('Function').node.findChild('Permissions').node.defaultChild,
  ).PolicyDocument.Statement;

describe('by default, decision events', () => {
  const { stack, guard, template } = synthStack();
  const resolve = (value: unknown) => stack.resolve(value);

  test('go to the default bus: the function gets its ARN, and may put events on it only', () => {
    expect(environmentOf(template).EVENT_BUS_NAME).toEqual(arnOf('events', 'event-bus/default'));
    expect(ownStatements(stack, guard, template)).toContainEqual({
      Sid: 'PublishDecisionEvents',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: arnOf('events', 'event-bus/default'),
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"events:\*"|event-bus\/\*/);
  });

  test('are announced once through a table: on demand, TTL, point-in-time recovery, deleted with the stack', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // No SSESpecification: DynamoDB's default encryption, under an AWS owned key.
        SSESpecification: Match.absent(),
      },
    });
    expect(environmentOf(template).ANNOUNCEMENT_TABLE_NAME).toEqual(
      resolve(guard.announcementTable.tableName),
    );
  });

  test('the function may only PutItem, and only on that table', () => {
    expect(ownStatements(stack, guard, template)).toContainEqual({
      Sid: 'RememberAnnouncements',
      Effect: 'Allow',
      Action: 'dynamodb:PutItem',
      Resource: resolve(guard.announcementTable.tableArn),
    });
    expect(JSON.stringify(template.toJSON()).match(/"dynamodb:[A-Za-z*]+"/g)).toEqual([
      '"dynamodb:PutItem"',
    ]);
  });
});

describe('with decisionEventBus', () => {
  test('the events go to that bus, by ARN, and the function may put events on it only', () => {
    const { stack, guard, template } = guardInStack((scope) => ({
      initialPolicyFile: EXAMPLE_POLICY,
      decisionEventBus: new events.EventBus(scope, 'SecurityBus'),
    }));
    const busArn = stack.resolve(guard.decisionEventBus.eventBusArn);
    expect(busArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^SecurityBus/), 'Arn'] });
    expect(environmentOf(template).EVENT_BUS_NAME).toEqual(busArn);
    expect(ownStatements(stack, guard, template)).toContainEqual({
      Sid: 'PublishDecisionEvents',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: busArn,
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('event-bus/default');
  });

  test('from cdk.json context, by ARN; a value that is not a bus ARN fails the synth, naming the key', () => {
    const arn = 'arn:aws:events:eu-west-1:111122223333:event-bus/security';
    const { template } = synthStack({ 'vpce-guard:decisionEventBusArn': arn });
    expect(environmentOf(template).EVENT_BUS_NAME).toBe(arn);
    expect(() => synthStack({ 'vpce-guard:decisionEventBusArn': 'security' })).toThrow(
      /vpce-guard:decisionEventBusArn: "security" is not an event bus ARN/,
    );
  });
});

describe('onDecision', () => {
  /** A guard in a stack not yet synthesized: the test adds to it first. */
  function unsynthesized(props: ConstructorParameters<typeof VpceGuard>[2] = {}) {
    const stack = new Stack(testApp(), 'Test');
    const guard = new VpceGuard(stack, 'Guard', { initialPolicyFile: EXAMPLE_POLICY, ...props });
    return { stack, guard };
  }

  test("makes a rule on the decision bus that matches the guard's events, narrowed by eventPattern, with the target", () => {
    const stack = new Stack(testApp(), 'Test');
    const guard = new VpceGuard(stack, 'Guard', {
      initialPolicyFile: EXAMPLE_POLICY,
      decisionEventBus: new events.EventBus(stack, 'SecurityBus'),
    });
    const queue = new sqs.Queue(stack, 'Rejections', { enforceSSL: true });

    const rule = guard.onDecision('Rejections', {
      description: 'rejections',
      eventPattern: { detail: { decision: ['reject'], outcome: ['done', 'dryRun'] } },
      target: new targets.SqsQueue(queue),
    });

    const resolve = (value: unknown) => stack.resolve(value);
    const properties = propertiesOf(stack, Template.fromStack(stack), rule.node.defaultChild);
    expect(properties).toEqual({
      Description: 'rejections',
      EventBusName: resolve(guard.decisionEventBus.eventBusName),
      EventPattern: {
        source: ['vpce-guard'],
        'detail-type': ['VPC Endpoint Connection Decision'],
        detail: { decision: ['reject'], outcome: ['done', 'dryRun'] },
      },
      State: 'ENABLED',
      Targets: [expect.objectContaining({ Arn: resolve(queue.queueArn) })],
    });
    expect(VpceGuard.DECISION_EVENT_SOURCE).toBe('vpce-guard');
    expect(VpceGuard.DECISION_EVENT_DETAIL_TYPE).toBe('VPC Endpoint Connection Decision');
  });

  test("refuses onDecision on another account's bus: the rule would land on a same-named bus of this one", () => {
    const arn = 'arn:aws:events:eu-west-1:999999999999:event-bus/central';
    const stack = new Stack(testApp(), 'Test', {
      env: { account: '111111111111', region: 'eu-west-1' },
    });
    // Publishing to it is fine (PutEvents takes another account's bus of the same Region).
    const guard = new VpceGuard(stack, 'Guard', {
      initialPolicyFile: EXAMPLE_POLICY,
      decisionEventBus: events.EventBus.fromEventBusArn(stack, 'Central', arn),
    });
    expect(() => guard.onDecision('Rejections')).toThrow(
      `onDecision: decisionEventBus ${arn} is in account 999999999999, this stack in account 111111111111: a rule can be made only on a bus of its own account and Region; make the rule in a stack there`,
    );
  });

  test('refuses a decision bus of another Region: the guard could not put events on it', () => {
    const arn = 'arn:aws:events:us-east-1:111111111111:event-bus/central';
    const stack = new Stack(testApp(), 'Test', {
      env: { account: '111111111111', region: 'eu-west-1' },
    });
    expect(
      () =>
        new VpceGuard(stack, 'Guard', {
          initialPolicyFile: EXAMPLE_POLICY,
          decisionEventBus: events.EventBus.fromEventBusArn(stack, 'Central', arn),
        }),
    ).toThrow(
      `decisionEventBus ${arn} is in Region us-east-1, this guard in eu-west-1: the guard puts its decision events on a bus of its own Region (EventBridge reaches another Region through rules only); give each Region's guard a bus there, or leave it unset for the default bus`,
    );
  });

  test('takes a decision bus of its own account and Region by ARN', () => {
    const stack = new Stack(testApp(), 'Test', {
      env: { account: '111111111111', region: 'eu-west-1' },
    });
    const guard = new VpceGuard(stack, 'Guard', {
      initialPolicyFile: EXAMPLE_POLICY,
      decisionEventBus: events.EventBus.fromEventBusArn(
        stack,
        'Security',
        'arn:aws:events:eu-west-1:111111111111:event-bus/security',
      ),
    });
    const rule = guard.onDecision('All');
    const properties = propertiesOf(stack, Template.fromStack(stack), rule.node.defaultChild);
    expect(properties.EventBusName).toBe('security');
  });

  test('without options, matches every decision event on the default bus', () => {
    const { stack, guard } = unsynthesized();
    const rule = guard.onDecision('All');
    const properties = propertiesOf(stack, Template.fromStack(stack), rule.node.defaultChild);
    expect(properties.EventBusName).toBe('default');
    expect(properties.EventPattern).toEqual({
      source: ['vpce-guard'],
      'detail-type': ['VPC Endpoint Connection Decision'],
    });
  });
});
