/**
 * The app's stacks (bin/vpce-guard.ts): one environment-agnostic `VpceGuard` stack, or, with
 * `vpce-guard:environments`, one stack per environment of the fleet (docs/fleet.md), so that
 * `npx cdk deploy --all` deploys the fleet. With `vpce-guard:stackSetsAssetBucket`, the lone
 * stack's template is made for CloudFormation StackSets: its assets are read from that bucket
 * in each target Region, and it needs no CDK bootstrap.
 */
import { type App, CliCredentialsStackSynthesizer } from 'aws-cdk-lib';
import { fleetFromContext, stackSetsAssetsFromContext } from './context';
import { VpceGuardStack } from './vpce-guard-stack';

/** The stack of a lone guard. */
export const LONE_STACK_ID = 'VpceGuard';

export function addGuardStacks(app: App): VpceGuardStack[] {
  const fleet = fleetFromContext(app);
  const stackSets = stackSetsAssetsFromContext(app);
  if (!fleet) {
    return [
      new VpceGuardStack(
        app,
        LONE_STACK_ID,
        stackSets
          ? {
              // No bootstrap roles, no bootstrap version check: StackSets deploys the template
              // itself, into accounts that need not be bootstrapped.
              synthesizer: new CliCredentialsStackSynthesizer({
                fileAssetsBucketName: stackSets.bucketName,
                ...(stackSets.prefix ? { bucketPrefix: stackSets.prefix } : {}),
              }),
            }
          : {},
      ),
    ];
  }
  if (stackSets) {
    throw new Error(
      'vpce-guard:stackSetsAssetBucket: StackSets deploy one environment-agnostic template; leave vpce-guard:environments unset',
    );
  }
  const membership = {
    environments: fleet.environments.map(({ account, region }) => ({ account, region })),
    policyHome: { account: fleet.home.account, region: fleet.home.region },
  };
  const stacks = fleet.environments.map(
    ({ account, region, stackName }) =>
      new VpceGuardStack(app, stackName, { env: { account, region }, fleet: membership }),
  );
  // `cdk deploy --all` deploys the home first: the others read its policy (shared by then)
  // from their first sweep on.
  const home = stacks[fleet.environments.indexOf(fleet.home)]!;
  for (const stack of stacks) {
    if (stack !== home) stack.addStackDependency(home, 'reads the policy the home stack shares');
  }
  return stacks;
}
