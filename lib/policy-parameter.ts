/**
 * The SSM parameter that holds the guard's policy: created from an initial policy file when it
 * does not exist yet, or an existing parameter referenced by name.
 *
 * A deploy must never overwrite a policy that an operator edited in SSM. A CloudFormation
 * `AWS::SSM::Parameter` would be rewritten whenever the template's value changed, so the
 * stack instead makes one SSM call, `PutParameter` with `Overwrite: false`, through a custom
 * resource:
 * - on Create and on Update alike, so that renaming the parameter creates the new one; an
 *   existing parameter answers `ParameterAlreadyExists`, which the resource ignores;
 * - with no call on Delete, so the policy outlives the stack;
 * - with a role that may not overwrite: an explicit Deny on `ssm:PutParameter` when
 *   `ssm:Overwrite` is true, so even a mistaken call cannot replace the policy.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  Stack,
  Validations,
  aws_iam as iam,
  aws_logs as logs,
  aws_ssm as ssm,
  custom_resources as cr,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { formatPolicyErrors, parsePolicy } from '../core/policy';
import { smallestTier, TIER_MAX_BYTES } from '../core/policy-parameter';
import { stripByteOrderMark } from '../core/text';

export interface PolicyParameterProps {
  /** The parameter's name, or its full ARN (another Region's or account's, never created). */
  readonly parameterName: string;
  /** Create the parameter from this policy file when it is missing; absent: it exists. */
  readonly initialPolicyFile?: string;
  /** Create it in the Advanced tier whatever its size: it is shared (AWS RAM shares no other). */
  readonly advancedTier?: boolean;
  /**
   * Retention of the logs of the function that creates the parameter: CDK's one provider
   * function per stack, whose log group the stack's first PolicyParameter makes.
   */
  readonly logRetention: logs.RetentionDays;
}

export class PolicyParameter extends Construct {
  /** The parameter, when it is of this stack's account and Region (named by name). */
  readonly parameter?: ssm.IStringParameter;
  /** The parameter's ARN: of this stack's account and Region, or as the ARN named it. */
  readonly parameterArn: string;
  /** The custom resource that creates the parameter when missing; absent for an existing one. */
  readonly creation?: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: PolicyParameterProps) {
    super(scope, id);
    if (props.parameterName.startsWith('arn:')) {
      // Another Region's or account's (CDK imports a parameter of the stack's Region only).
      this.parameterArn = props.parameterName;
      return;
    }
    const parameter = ssm.StringParameter.fromStringParameterName(
      this,
      'Parameter',
      props.parameterName,
    );
    this.parameter = parameter;
    this.parameterArn = parameter.parameterArn;
    if (props.initialPolicyFile !== undefined) {
      const initial = readInitialPolicy(props.initialPolicyFile);
      const tier = props.advancedTier ? ssm.ParameterTier.ADVANCED : initial.tier;
      this.creation = this.createIfMissing(parameter, { ...initial, tier }, props.logRetention);
    }
  }

  private createIfMissing(
    parameter: ssm.IStringParameter,
    initial: InitialPolicy,
    logRetention: logs.RetentionDays,
  ) {
    const name = parameter.parameterName;
    // The provider function is one per stack, and logs where the first guard's resource said:
    // a second guard in the stack makes no log group of its own, which would stay empty.
    const providerExists = Stack.of(this).node.tryFindChild(PROVIDER_ID) !== undefined;
    const putIfMissing: cr.AwsSdkCall = {
      service: 'SSM',
      action: 'putParameter',
      parameters: {
        Name: name,
        Value: initial.text,
        Type: 'String',
        Tier: initial.tier,
        Overwrite: false,
        Description: 'vpce-guard allowlist policy. Edit it here; deploys never overwrite it.',
      },
      physicalResourceId: cr.PhysicalResourceId.of(name),
      ignoreErrorCodesMatching: '^ParameterAlreadyExists$',
    };
    const resource = new cr.AwsCustomResource(this, 'CreateIfMissing', {
      resourceType: 'Custom::VpceGuardPolicyParameter',
      onCreate: putIfMissing,
      onUpdate: putIfMissing,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['ssm:PutParameter'],
          resources: [parameter.parameterArn],
        }),
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: ['ssm:PutParameter'],
          resources: [parameter.parameterArn],
          conditions: { StringEquals: { 'ssm:Overwrite': 'true' } },
        }),
      ]),
      // The SDK bundled with the provider has PutParameter; fetching a newer one at deploy
      // time would need internet access from the provider function.
      installLatestAwsSdk: false,
      logGroup: providerExists
        ? undefined
        : new logs.LogGroup(this, 'CreateIfMissingLogs', { retention: logRetention }),
    });
    acknowledgeProviderManagedPolicy(this);
    return resource;
  }
}

/** The construct ID of AwsCustomResource's provider function in its stack (a singleton). */
const PROVIDER_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;

/**
 * AwsCustomResource's provider is one function per stack, created by CDK with the managed
 * policy AWSLambdaBasicExecutionRole; the acknowledgement is scoped to that function's role.
 */
function acknowledgeProviderManagedPolicy(scope: Construct): void {
  const provider = Stack.of(scope).node.findChild(PROVIDER_ID);
  Validations.of(provider.node.findChild('ServiceRole')).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "CDK's AwsCustomResource provider gets only log-writing rights from this managed policy; it runs during deployments only, and its SSM rights are a separate policy scoped to the policy parameter.",
  });
}

interface InitialPolicy {
  readonly text: string;
  readonly tier: ssm.ParameterTier;
}

/** Reads and validates the initial policy with the guard's own validator; picks the tier. */
function readInitialPolicy(file: string): InitialPolicy {
  const resolved = path.resolve(file);
  let text: string;
  try {
    // Without the byte-order mark some editors write first (trim() would drop it too).
    text = stripByteOrderMark(fs.readFileSync(resolved, 'utf8')).trim();
  } catch (error) {
    throw new Error(`initialPolicyFile: cannot read ${resolved}: ${(error as Error).message}`);
  }
  const parsed = parsePolicy(text);
  if (!parsed.ok) {
    throw new Error(
      `initialPolicyFile: ${resolved} is not a valid vpce-guard policy:\n${formatPolicyErrors(parsed.errors)}`,
    );
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  const tier = smallestTier(bytes);
  if (!tier) {
    throw new Error(
      `initialPolicyFile: ${resolved} is ${bytes} bytes; an SSM parameter holds at most ${TIER_MAX_BYTES.Advanced} (Advanced tier)`,
    );
  }
  return {
    text,
    tier: tier === 'Advanced' ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
  };
}
