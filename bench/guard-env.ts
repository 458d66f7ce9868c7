/**
 * The guard's environment as the stack deploys it (core/contract.ts), with local endpoints:
 * every benchmark runs the bundle under the same settings.
 */
import { type GuardDeploymentSettings, renderGuardEnvironment } from '../core/contract';
import { DEFAULT_POLICY_PARAMETER_NAME } from '../core/policy-parameter';
import { GUARD_TIMEOUT } from '../lib/delivery';

export const POLICY_PARAMETER = DEFAULT_POLICY_PARAMETER_NAME;

/** The deployed function's timeout: what each invocation's deadline starts from. */
export const INVOCATION_TIMEOUT_MS = GUARD_TIMEOUT.toMilliseconds();

/**
 * The deployed environment for `settings` (the policy parameter defaults to the stack's),
 * then `local`: the fakes' endpoints and Region, or a variable a measurement varies.
 */
export function guardEnvironment(
  settings: Omit<GuardDeploymentSettings, 'policyParameterName'>,
  local: Record<string, string> = {},
): Record<string, string> {
  return {
    ...renderGuardEnvironment({ policyParameterName: POLICY_PARAMETER, ...settings }),
    // Node 20 here: the SDK would warn that it soon needs Node 22. The Lambda runs Node 24.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...local,
  };
}
