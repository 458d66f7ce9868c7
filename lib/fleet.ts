/**
 * One guard's props in a fleet (docs/fleet.md): the app's configuration, which applies to every
 * stack, turned into the home's guard or into a guard that reads the home's policy.
 */
import type { Environment } from 'aws-cdk-lib';
import {
  environmentLabel,
  type GuardEnvironment,
  parameterArnIn,
  sameEnvironment,
} from '../core/fleet';
import { isAccountId, isRegion } from '../core/ids';
import { DEFAULT_POLICY_PARAMETER_NAME, type VpceGuardProps } from './vpce-guard-props';

export interface FleetMembership {
  readonly environments: readonly GuardEnvironment[];
  readonly policyHome: GuardEnvironment;
}

/**
 * The props of the guard in `env`: the home keeps the configured policy (created from
 * `initialPolicyFile`), shares it and forwards its changes to the others; each other guard reads
 * the home's parameter by its ARN and never creates one.
 */
export function fleetGuardProps(
  configured: VpceGuardProps,
  fleet: FleetMembership,
  env: Environment | undefined,
): VpceGuardProps {
  const self = fleetEnvironment(env, fleet);
  const name = configured.policyParameterName ?? DEFAULT_POLICY_PARAMETER_NAME;
  if (name.startsWith('arn:')) {
    throw new Error(
      'vpce-guard:policyParameterName: in a fleet, name the policy by its name; the fleet reads it from vpce-guard:policyHome',
    );
  }
  if (configured.forwardPolicyChangesTo !== undefined) {
    throw new Error(
      'vpce-guard:forwardPolicyChangesTo: in a fleet, the home forwards the policy’s changes to every other environment of vpce-guard:environments',
    );
  }
  const others = fleet.environments.filter((e) => !sameEnvironment(e, fleet.policyHome));
  if (sameEnvironment(self, fleet.policyHome)) {
    const otherAccounts = [
      ...new Set(others.map((e) => e.account).filter((a) => a !== fleet.policyHome.account)),
    ];
    const shareWith = configured.sharePolicyWith ?? otherAccounts;
    return {
      ...configured,
      ...(shareWith.length > 0 ? { sharePolicyWith: shareWith } : {}),
      forwardPolicyChangesTo: others.map(({ account, region }) => ({ account, region })),
    };
  }
  return {
    ...configured,
    // The home creates and shares the policy; this guard only reads it.
    initialPolicyFile: undefined,
    sharePolicyWith: undefined,
    policyParameterName: parameterArnIn(fleet.policyHome, name),
    useExistingPolicyParameter: true,
  };
}

/** The stack's own environment, which must be one of the fleet's. */
function fleetEnvironment(env: Environment | undefined, fleet: FleetMembership): GuardEnvironment {
  const { account, region } = env ?? {};
  if (!isAccountId(account) || !isRegion(region)) {
    throw new Error(
      'fleet: a fleet’s stack needs a concrete env (account and Region), one of fleet.environments',
    );
  }
  const self = { account, region };
  if (!fleet.environments.some((e) => sameEnvironment(e, self))) {
    throw new Error(`fleet: ${environmentLabel(self)} is not one of fleet.environments`);
  }
  if (!fleet.environments.some((e) => sameEnvironment(e, fleet.policyHome))) {
    throw new Error(
      `fleet.policyHome: ${environmentLabel(fleet.policyHome)} is not one of fleet.environments`,
    );
  }
  return self;
}
