/**
 * The guard function, its role and its log group.
 *
 * The role has no managed policy: one explicit policy lists everything the guard itself calls,
 * each statement on the narrowest resource IAM allows. CDK adds the grants of the wiring (the
 * hint and retry queues' event sources, the on-failure destination, X-Ray) to the role's
 * default policy.
 */
import {
  Duration,
  Validations,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_destinations as destinations,
  aws_lambda_nodejs as nodejs,
  aws_logs as logs,
  aws_sqs as sqs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { renderGuardEnvironment } from '../core/contract';
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
  readonly policyParameter: ssm.IStringParameter;
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
  /** Where the function's code comes from. @default locateGuardCode() */
  readonly code?: GuardCode;
}

export class GuardFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The guard's own permissions (the wiring's grants go to the role's default policy). */
  readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, props: GuardFunctionProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'vpce-guard function',
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.policy = this.guardPolicy(props);

    this.function = guardLambda(this, 'Handler', props.code ?? locateGuardCode(), {
      description:
        'vpce-guard: rejects endpoint connection requests that the policy does not allow',
      runtime: GUARD_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: GUARD_MEMORY_MB,
      timeout: GUARD_TIMEOUT,
      role: this.role,
      logGroup: this.logGroup,
      environment: guardEnvironment(props),
      tracing: props.tracing ? lambda.Tracing.ACTIVE : undefined,
      reservedConcurrentExecutions: props.reservedConcurrency,
      retryAttempts: ASYNC_RETRY_ATTEMPTS,
      maxEventAge: ASYNC_MAX_EVENT_AGE,
      onFailure: new destinations.SqsDestination(props.invocationFailureQueue),
    });
    // Not even the first invocation may run without its permissions.
    this.function.node.addDependency(this.policy);

    if (props.tracing) {
      Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource type, so CDK grants them on "*".',
      });
    }
  }

  private guardPolicy(props: GuardFunctionProps): iam.Policy {
    const serviceArns = endpointServiceArns(this, props.protectedServiceIds);
    const statements = [
      new iam.PolicyStatement({
        sid: 'DescribeEndpointServices',
        actions: [
          'ec2:DescribeVpcEndpointConnections',
          'ec2:DescribeVpcEndpointServiceConfigurations',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'RejectOrAcceptConnections',
        actions: ['ec2:RejectVpcEndpointConnections', 'ec2:AcceptVpcEndpointConnections'],
        resources: serviceArns,
      }),
      new iam.PolicyStatement({
        sid: 'ReadPolicy',
        actions: ['ssm:GetParameter'],
        resources: [props.policyParameter.parameterArn],
      }),
      ...(props.policyParameterKey
        ? [
            new iam.PolicyStatement({
              sid: 'DecryptPolicy',
              actions: ['kms:Decrypt'],
              resources: [props.policyParameterKey.keyArn],
              // Only for this parameter: Parameter Store sends its ARN as encryption context.
              conditions: {
                StringEquals: {
                  'kms:EncryptionContext:PARAMETER_ARN': props.policyParameter.parameterArn,
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
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    ];
    const policy = new iam.Policy(this, 'Permissions', { statements, roles: [this.role] });

    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ec2:DescribeVpcEndpointConnections and ec2:DescribeVpcEndpointServiceConfigurations have no resource type (Service Authorization Reference): IAM accepts only "*" for them.',
    });
    if (props.protectedServiceIds.length === 0) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${WILDCARD_SERVICE_ARN_FINDING}]`,
        reason:
          'No protectedServiceIds: the guard protects every endpoint service of this account and Region, so Reject/Accept apply to vpc-endpoint-service/* of this account and Region only.',
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

/** How cdk-nag prints the ARN of every endpoint service of this account and Region. */
const WILDCARD_SERVICE_ARN_FINDING =
  'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:vpc-endpoint-service/*';

/** The guard's environment (core/contract.ts). */
function guardEnvironment(props: GuardFunctionProps): Record<string, string> {
  return renderGuardEnvironment({
    policyParameterName: props.policyParameter.parameterName,
    retryQueueUrl: props.retryQueue.queueUrl,
    deadLetterQueueUrl: props.retryDeadLetterQueue.queueUrl,
    protectedServiceIds: props.protectedServiceIds,
    policyCacheSeconds: props.policyCacheSeconds,
    rejectBatchSize: props.rejectBatchSize,
    maxAttempts: props.maxAttempts,
  });
}
