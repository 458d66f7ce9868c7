/**
 * Where the policy lives in SSM Parameter Store, shared by the stack and the CLI: the
 * default parameter name and the size each parameter tier holds.
 */
export const DEFAULT_POLICY_PARAMETER_NAME = '/vpce-guard/policy';

/** SSM's size limits of a value, in bytes, per tier (Standard 4 KB, Advanced 8 KB). */
export const TIER_MAX_BYTES = { Standard: 4096, Advanced: 8192 } as const;
export type Tier = keyof typeof TIER_MAX_BYTES;

/** The smallest tier that holds a value of `bytes` bytes; undefined when none does. */
export function smallestTier(bytes: number): Tier | undefined {
  if (bytes <= TIER_MAX_BYTES.Standard) return 'Standard';
  if (bytes <= TIER_MAX_BYTES.Advanced) return 'Advanced';
  return undefined;
}
