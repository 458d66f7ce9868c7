/**
 * A protected service's posture: what its own configuration lets in without the guard.
 *
 * - `AcceptanceRequired` false: EC2 accepts every connection request itself, so the guard
 *   can never reject a request in time; only `revoke` cuts such connections, later.
 * - Allowed principals that include `*`: anyone may request a connection (the guard still
 *   decides each request, but a typo in the policy now matters to the whole world).
 *
 * Changing either stays the operator's choice: the guard reports, it never modifies a service.
 */
import { DescribeVpcEndpointServicePermissionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { forEachPage } from './pages';

/** What a service's allowed principals say. */
export interface AllowedPrincipals {
  /** How many principals are allowed. */
  readonly count: number;
  /** Whether `*` is one of them: every principal may request a connection. */
  readonly everyone: boolean;
}

/**
 * The principals allowed to connect to `serviceId`
 * (`DescribeVpcEndpointServicePermissions`, every page). A failed call throws.
 */
export async function describeAllowedPrincipals(
  ec2: EC2Client,
  serviceId: string,
): Promise<AllowedPrincipals> {
  let count = 0;
  let everyone = false;
  // No MaxResults: a service allows few principals, and EC2's own page size serves them.
  const read = (nextToken: string | undefined) =>
    ec2.send(
      new DescribeVpcEndpointServicePermissionsCommand({
        ServiceId: serviceId,
        NextToken: nextToken,
      }),
    );
  await forEachPage(read, (page) => {
    for (const allowed of page.AllowedPrincipals ?? []) {
      count += 1;
      // `*` is how a grant to everyone is written; EC2 types it `All`. Either is enough.
      everyone ||= allowed.Principal === '*' || allowed.PrincipalType === 'All';
    }
  });
  return { count, everyone };
}
