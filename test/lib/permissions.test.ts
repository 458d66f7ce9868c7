import { Stack, aws_kms as kms } from 'aws-cdk-lib';
import {
  ACCOUNT,
  PARTITION,
  SERVICE_A,
  SERVICE_B,
  arnOf,
  guardInStack,
  join,
  propertiesOf,
  serviceArn,
  synthStack,
  type Json,
} from './helpers';
import type { VpceGuard } from '../../lib';

const POLICY_ARN = arnOf('ssm', 'parameter/vpce-guard/policy');
/** The policy, and the parts and manifests of its principal sets, under its path (CDK's order). */
const POLICY_AND_SET_ARNS = [
  POLICY_ARN,
  arnOf('ssm', 'parameter/vpce-guard/policy/set-parts/*'),
  arnOf('ssm', 'parameter/vpce-guard/policy/sets/*'),
];

/**
 * The guard's own policies (scoped to named resources; on `*`, only what IAM cannot scope), the
 * role's default policy (the wiring's grants), and the role, as synthesized.
 */
function guardPolicies(
  stack: Stack,
  guard: VpceGuard,
  template: ReturnType<typeof synthStack>['template'],
) {
  const fn = guard.node.findChild('Function');
  const role = fn.node.findChild('Role');
  const policy = (id: string) =>
    propertiesOf(stack, template, fn.node.findChild(id).node.defaultChild);
  return {
    own: policy('Permissions'),
    unscoped: policy('UnscopedPermissions'),
    wiring: propertiesOf(stack, template, role.node.findChild('DefaultPolicy').node.defaultChild),
    role: propertiesOf(stack, template, role.node.defaultChild),
  };
}

/**
 * Create and Delete of connection notifications: on `*` (IAM may not evaluate them against
 * the service: see guard-function.ts), in this stack's Region only.
 */
const WIRE_CONNECTION_NOTIFICATIONS = {
  Sid: 'WireConnectionNotifications',
  Effect: 'Allow',
  Action: [
    'ec2:CreateVpcEndpointConnectionNotification',
    'ec2:DeleteVpcEndpointConnectionNotifications',
  ],
  Resource: '*',
  Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } },
};
const DESCRIBE_ENDPOINT_SERVICES = {
  Sid: 'DescribeEndpointServices',
  Effect: 'Allow',
  Action: [
    'ec2:DescribeVpcEndpointConnectionNotifications',
    'ec2:DescribeVpcEndpointConnections',
    'ec2:DescribeVpcEndpointServiceConfigurations',
  ],
  Resource: '*',
};

describe("the guard's permissions, protecting two services", () => {
  const { stack, guard, template } = synthStack({
    'vpce-guard:protectedServiceIds': [SERVICE_A, SERVICE_B],
  });
  const policies = guardPolicies(stack, guard, template);
  const resolve = (value: unknown) => stack.resolve(value);

  test('on *, exactly and only: Describe, and wiring notifications in this Region (IAM cannot scope them)', () => {
    expect(policies.unscoped.PolicyDocument.Statement).toEqual([
      DESCRIBE_ENDPOINT_SERVICES,
      WIRE_CONNECTION_NOTIFICATIONS,
    ]);
  });

  test('scoped, exactly: Reject/Accept and reading permissions on the two services, GetParameter(s) on the policy and its sets, SendMessage on the retry queues, PutEvents on the decision bus, PutItem on the announcement table, its own logs', () => {
    expect(policies.own.PolicyDocument.Statement).toEqual([
      {
        Sid: 'RejectOrAcceptConnections',
        Effect: 'Allow',
        Action: ['ec2:AcceptVpcEndpointConnections', 'ec2:RejectVpcEndpointConnections'],
        Resource: [serviceArn(SERVICE_A), serviceArn(SERVICE_B)],
      },
      {
        Sid: 'ReadServicePermissions',
        Effect: 'Allow',
        Action: 'ec2:DescribeVpcEndpointServicePermissions',
        Resource: [serviceArn(SERVICE_A), serviceArn(SERVICE_B)],
      },
      {
        Sid: 'ReadPolicy',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: POLICY_AND_SET_ARNS,
      },
      {
        Sid: 'SendRetryRecords',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: expect.arrayContaining([
          resolve(guard.retryQueue.queueArn),
          resolve(guard.deadLetterQueue.queueArn),
        ]),
      },
      {
        Sid: 'PublishDecisionEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: arnOf('events', 'event-bus/default'),
      },
      {
        Sid: 'RememberAnnouncements',
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: resolve(guard.announcementTable.tableArn),
      },
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: resolve(guard.logGroup.logGroupArn),
      },
    ]);
    // Nothing scoped is on "*": a statement added there would need an acknowledgement of its own.
    expect(JSON.stringify(policies.own)).not.toContain('"Resource":"*"');
  });

  test('plus, from the wiring, exactly: consume the hint and retry queues, send to the on-failure destination', () => {
    expect(policies.wiring.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
          ],
          Resource: [resolve(guard.hintQueue.queueArn), resolve(guard.retryQueue.queueArn)],
        },
        {
          Effect: 'Allow',
          Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          Resource: resolve(guard.invocationFailureQueue.queueArn),
        },
      ]),
    );
    expect(policies.wiring.PolicyDocument.Statement).toHaveLength(2);
  });

  test('come from no managed policy and no inline policy of the role', () => {
    expect(policies.role.ManagedPolicyArns).toBeUndefined();
    expect(policies.role.Policies).toBeUndefined();
    expect(policies.role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });
});

describe("the guard's permissions, protecting every service", () => {
  const { stack, guard, template } = synthStack();

  test('allow Reject/Accept and reading permissions on vpc-endpoint-service/* of this account and Region only', () => {
    const statements = guardPolicies(stack, guard, template).own.PolicyDocument.Statement;
    expect(statements.slice(0, 2)).toEqual([
      {
        Sid: 'RejectOrAcceptConnections',
        Effect: 'Allow',
        Action: ['ec2:AcceptVpcEndpointConnections', 'ec2:RejectVpcEndpointConnections'],
        Resource: serviceArn('*'),
      },
      {
        Sid: 'ReadServicePermissions',
        Effect: 'Allow',
        Action: 'ec2:DescribeVpcEndpointServicePermissions',
        Resource: serviceArn('*'),
      },
    ]);
  });

  test('wire notifications as when the services are named: on *, in this Region only', () => {
    expect(guardPolicies(stack, guard, template).unscoped.PolicyDocument.Statement).toEqual([
      DESCRIBE_ENDPOINT_SERVICES,
      WIRE_CONNECTION_NOTIFICATIONS,
    ]);
  });

  test('admit vpce.amazonaws.com to the topic and its key for every service the guard may wire', () => {
    const topicPolicy = Object.values<Json>(template.findResources('AWS::SNS::TopicPolicy'))
      .map((r) => r.Properties.PolicyDocument.Statement)
      .flat()
      .find((st: Json) => st.Principal?.Service === 'vpce.amazonaws.com');
    expect(topicPolicy.Condition.ArnLike['aws:SourceArn']).toEqual([serviceArn('*')]);
  });
});

describe('a SecureString policy under a customer-managed key', () => {
  test('lets the guard decrypt with that key, for the policy parameter and its sets only', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { stack, guard, template } = guardInStack((scope) => ({
      useExistingPolicyParameter: true,
      policyParameterKey: kms.Key.fromKeyArn(scope, 'Key', keyArn),
    }));
    const statements = guardPolicies(stack, guard, template).own.PolicyDocument.Statement;
    expect(statements).toContainEqual({
      Sid: 'DecryptPolicy',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: keyArn,
      Condition: {
        StringLike: {
          'kms:EncryptionContext:PARAMETER_ARN': [
            POLICY_ARN,
            arnOf('ssm', 'parameter/vpce-guard/policy/sets/*'),
            arnOf('ssm', 'parameter/vpce-guard/policy/set-parts/*'),
          ],
        },
      },
    });
  });

  test('and without one the guard has no KMS permission at all', () => {
    const { stack, guard, template } = synthStack();
    const { own, wiring } = guardPolicies(stack, guard, template);
    expect(JSON.stringify([own, wiring])).not.toMatch(/kms:/);
  });
});

describe('X-Ray tracing', () => {
  test("adds CDK's two X-Ray actions, in a policy of their own, and nothing when off", () => {
    const traced = synthStack({ 'vpce-guard:tracing': true });
    const { stack, guard, template } = traced;
    const { wiring } = guardPolicies(stack, guard, template);
    const fn = guard.node.findChild('Function');
    expect(
      propertiesOf(stack, template, fn.node.findChild('Tracing').node.defaultChild).PolicyDocument
        .Statement,
    ).toEqual([
      {
        Sid: 'WriteTraces',
        Effect: 'Allow',
        Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
        Resource: '*',
      },
    ]);
    // The role's default policy holds the wiring's grants only: nothing there is acknowledged.
    expect(JSON.stringify(wiring)).not.toMatch(/xray:/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
    });
    // Lambda checks the role's X-Ray rights when it creates a traced function.
    const functionId = stack.getLogicalId(guard.guardFunction.node.defaultChild as never);
    const tracingId = stack.getLogicalId(fn.node.findChild('Tracing').node.defaultChild as never);
    expect(template.toJSON().Resources[functionId].DependsOn).toContain(tracingId);
    expect(JSON.stringify(synthStack().template.toJSON())).not.toMatch(/xray:|TracingConfig/);
  });
});

describe('no wildcard action anywhere', () => {
  /** Every policy document in the template, with where it is. */
  function policyDocuments(template: ReturnType<typeof synthStack>['template']) {
    const documents: { where: string; statements: Json[] }[] = [];
    for (const [id, resource] of Object.entries<Json>(template.toJSON().Resources)) {
      const p = resource.Properties ?? {};
      const found = [
        p.PolicyDocument,
        p.KeyPolicy,
        p.AssumeRolePolicyDocument,
        ...(p.Policies ?? []).map((inline: Json) => inline.PolicyDocument),
      ].filter(Boolean);
      for (const document of found) documents.push({ where: id, statements: document.Statement });
    }
    return documents;
  }

  test.each([
    ['protecting every service', {}],
    [
      'protecting two services with tracing',
      { 'vpce-guard:protectedServiceIds': [SERVICE_A, SERVICE_B], 'vpce-guard:tracing': true },
    ],
  ])(
    'no Allow statement names an action with "*" (%s), but for the key administrators and the topic publishers',
    (_, context) => {
      const { template } = synthStack(context);
      const wildcards = policyDocuments(template).flatMap(({ where, statements }) =>
        statements
          .filter((s) => s.Effect === 'Allow')
          .flatMap((s) => [s.Action].flat().map((action: string) => ({ where, action, s })))
          .filter(({ action }) => action.includes('*')),
      );
      const key = expect.stringMatching(/^GuardTopicsKey/);
      expect(wildcards.map(({ where, action, s }) => [where, action, s.Sid, s.Principal])).toEqual([
        // AWS's default key policy: the account's IAM decides who administers the key.
        [key, 'kms:*', undefined, { AWS: join('arn:', PARTITION, ':iam::', ACCOUNT, ':root') }],
        // `kms:GenerateDataKey*` is the action AWS documents for an AWS service that publishes
        // to an encrypted topic; each grant is held to this account and to the resources that
        // publish by its confused-deputy conditions (see encryption.test.ts).
        [
          key,
          'kms:GenerateDataKey*',
          'AllowNotificationTopicPublishersToUseKey',
          { Service: 'vpce.amazonaws.com' },
        ],
        [
          key,
          'kms:GenerateDataKey*',
          'AllowAlarmTopicPublishersToUseKey',
          { Service: 'cloudwatch.amazonaws.com' },
        ],
      ]);
    },
  );
});
