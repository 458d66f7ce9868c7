import { Stack, Validations, aws_iam as iam } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { SERVICE_A, SERVICE_B, synthStack } from './helpers';

/** Every unacknowledged cdk-nag AwsSolutions finding, as "rule at path". */
function findings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

/** Every acknowledgement in the tree, as "path: rule". */
function acknowledgements(root: IConstruct): string[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => {
          expect(reason.length).toBeGreaterThan(40);
          return `${c.node.path}: ${id.replace(/^annotation::/i, '')}`;
        }),
      ),
  );
}

describe('cdk-nag AwsSolutions checks', () => {
  test.each([
    ['protecting every service (the default app)', {}],
    [
      'protecting two services, traced, with reserved concurrency and an alarm e-mail',
      {
        'vpce-guard:protectedServiceIds': [SERVICE_A, SERVICE_B],
        'vpce-guard:tracing': true,
        'vpce-guard:reservedConcurrency': 5,
        'vpce-guard:alarmEmail': 'netops@example.com',
      },
    ],
    [
      'using an existing SecureString parameter',
      {
        'vpce-guard:initialPolicyFile': null,
        'vpce-guard:useExistingPolicyParameter': true,
        'vpce-guard:policyParameterKeyArn':
          'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    ],
  ])('report no unacknowledged error or warning %s', (_, context) => {
    expect(findings(synthStack(context).stack)).toEqual([]);
  });

  test.each([
    ['', {}],
    [', tracing on too', { 'vpce-guard:tracing': true }],
  ])(
    'do find what they should: an unacknowledged wildcard added to the guard is reported%s',
    (_, context) => {
      const { stack, guard } = synthStack({
        'vpce-guard:protectedServiceIds': [SERVICE_A],
        ...context,
      });
      guard.guardFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ec2:RejectVpcEndpointConnections'],
          resources: ['*'],
        }),
      );
      expect(findings(stack)).toEqual([
        'AwsSolutions-IAM5[Resource::*] at VpceGuard/Guard/Function/Role/DefaultPolicy/Resource',
      ]);
    },
  );

  test.each([
    ['protecting every service', {}],
    ['protecting one service', { 'vpce-guard:protectedServiceIds': [SERVICE_A] }],
  ])("do find a wildcard statement added to the guard's scoped permissions (%s)", (_, context) => {
    const { stack, guard } = synthStack(context);
    const scoped = guard.node.findChild('Function').node.findChild('Permissions') as iam.Policy;
    scoped.addStatements(
      new iam.PolicyStatement({ actions: ['ec2:ModifyVpcEndpoint'], resources: ['*'] }),
    );
    expect(findings(stack)).toEqual([
      'AwsSolutions-IAM5[Resource::*] at VpceGuard/Guard/Function/Permissions/Resource',
    ]);
  });

  test('are acknowledged only for these findings, each on one resource, with a reason', () => {
    const { stack } = synthStack();
    expect(acknowledgements(stack).sort()).toEqual([
      'VpceGuard/AWS679f53fac002430cb0da5b7982bd2287/ServiceRole: AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'VpceGuard/Guard/Function/Permissions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:vpc-endpoint-service/*]',
      'VpceGuard/Guard/Function/Permissions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/vpce-guard/policy/set-parts/*]',
      'VpceGuard/Guard/Function/Permissions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/vpce-guard/policy/sets/*]',
      'VpceGuard/Guard/Function/UnscopedPermissions: AwsSolutions-IAM5[Resource::*]',
      'VpceGuard/Guard/InvocationFailureQueue: AwsSolutions-SQS3',
      'VpceGuard/Guard/NotificationCleanup/Provider/framework-onEvent/ServiceRole/DefaultPolicy: AwsSolutions-IAM5[Resource::<GuardFunctionHandler5CD0AA38.Arn>:*]',
      'VpceGuard/Guard/NotificationCleanup/Provider/framework-onEvent/ServiceRole: AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'VpceGuard/Guard/Triggers/EventsDeadLetterQueue: AwsSolutions-SQS3',
      'VpceGuard/Guard/Triggers/SubscriptionDeadLetterQueue: AwsSolutions-SQS3',
    ]);
  });

  test('acknowledge X-Ray on its own policy only, when tracing', () => {
    const { stack } = synthStack({ 'vpce-guard:tracing': true });
    expect(
      acknowledgements(stack)
        .filter((a) => a.includes('/Function/'))
        .sort(),
    ).toEqual([
      'VpceGuard/Guard/Function/Permissions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:vpc-endpoint-service/*]',
      'VpceGuard/Guard/Function/Permissions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/vpce-guard/policy/set-parts/*]',
      'VpceGuard/Guard/Function/Permissions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/vpce-guard/policy/sets/*]',
      'VpceGuard/Guard/Function/Tracing: AwsSolutions-IAM5[Resource::*]',
      'VpceGuard/Guard/Function/UnscopedPermissions: AwsSolutions-IAM5[Resource::*]',
    ]);
  });

  test('do not acknowledge the all-services wildcard when the services are named', () => {
    const { stack } = synthStack({ 'vpce-guard:protectedServiceIds': [SERVICE_A] });
    expect(acknowledgements(stack).filter((a) => a.includes('vpc-endpoint-service'))).toEqual([]);
  });
});
