/**
 * The policy parameter, shared read-only with a fleet's other accounts through AWS RAM
 * (docs/fleet.md): they read it by its full ARN, as Parameter Store documents for shared
 * parameters. RAM shares only Advanced parameters; the stack creates the parameter Advanced
 * when it shares it.
 */
import { Stack, aws_ram as ram } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface PolicyShareProps {
  readonly parameterArn: string;
  /** Account IDs, or organization and OU ARNs. */
  readonly principals: readonly string[];
}

export class PolicyShare extends Construct {
  readonly resourceShare: ram.CfnResourceShare;

  constructor(scope: Construct, id: string, props: PolicyShareProps) {
    super(scope, id);
    // Within an organization (an organization or OU ARN), no invitation is needed and no
    // account outside it can be added; a list of accounts may hold accounts outside it, which
    // accept an invitation first.
    const withinOrganization = props.principals.every((p) => p.startsWith('arn:'));
    this.resourceShare = new ram.CfnResourceShare(this, 'Resource', {
      // A stable name, so the share can be found (aws ram get-resource-shares --name …).
      name: `${Stack.of(this).stackName}-policy`,
      resourceArns: [props.parameterArn],
      principals: [...props.principals],
      allowExternalPrincipals: !withinOrganization,
      // No permissionArns: RAM's default for parameters, AWSRAMDefaultPermissionSSMParameterReadOnly
      // (DescribeParameters, GetParameter, GetParameters).
    });
  }
}
