/**
 * The endpoint services the guard protects, as IDs and as the ARNs that IAM statements and
 * the `aws:SourceArn` conditions of the key and topic policies name.
 */
import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * `arn:…:ec2:<Region>:<account>:vpc-endpoint-service/<id>` for each service, or one
 * `vpc-endpoint-service/*` of this account and Region when the list is empty (protect all).
 */
export function endpointServiceArns(scope: Construct, serviceIds: readonly string[]): string[] {
  const stack = Stack.of(scope);
  const names = serviceIds.length > 0 ? serviceIds : ['*'];
  return names.map((resourceName) =>
    stack.formatArn({ service: 'ec2', resource: 'vpc-endpoint-service', resourceName }),
  );
}
