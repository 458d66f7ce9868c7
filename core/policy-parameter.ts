/**
 * Where the policy lives in SSM Parameter Store, shared by the function, the stack and the
 * CLI: the default name, the one rule a name must follow, and the size each tier holds.
 */
export const DEFAULT_POLICY_PARAMETER_NAME = '/vpce-guard/policy';

/** Letters, digits and `_ . - /`; a name with a `/` is a path and starts with one. */
const PARAMETER_NAME = /^(?:\/[a-zA-Z0-9_.-]+)+$|^[a-zA-Z0-9_.-]+$/;
/** SSM reserves names that start with these, in any case, with or without the leading `/`. */
const RESERVED_PREFIX = /^\/?(?:aws|ssm)/i;
/** The longest name SSM lets you create (its API allows 2,048, of which 1,037 it keeps). */
const MAX_PARAMETER_NAME_LENGTH = 1011;
/** SSM's deepest hierarchy. */
const MAX_HIERARCHY_LEVELS = 15;

/** Why `name` is not an SSM parameter name, or undefined when it is one. */
export function parameterNameProblem(name: string): string | undefined {
  if (!PARAMETER_NAME.test(name)) {
    return 'is not an SSM parameter name (letters, digits, "_", ".", "-"; a path such as /vpce-guard/policy starts with "/")';
  }
  if (name.length > MAX_PARAMETER_NAME_LENGTH) {
    return `is not an SSM parameter name: it is ${name.length} characters long, and SSM allows ${MAX_PARAMETER_NAME_LENGTH}`;
  }
  if (name.split('/').filter(Boolean).length > MAX_HIERARCHY_LEVELS) {
    return `is not an SSM parameter name: SSM allows at most ${MAX_HIERARCHY_LEVELS} levels of hierarchy`;
  }
  if (RESERVED_PREFIX.test(name)) return 'starts with "aws" or "ssm", which SSM reserves';
  return undefined;
}

/** SSM's size limits of a value, in bytes, per tier (Standard 4 KB, Advanced 8 KB). */
export const TIER_MAX_BYTES = { Standard: 4096, Advanced: 8192 } as const;
export type Tier = keyof typeof TIER_MAX_BYTES;

/** The smallest tier that holds a value of `bytes` bytes; undefined when none does. */
export function smallestTier(bytes: number): Tier | undefined {
  if (bytes <= TIER_MAX_BYTES.Standard) return 'Standard';
  if (bytes <= TIER_MAX_BYTES.Advanced) return 'Advanced';
  return undefined;
}
