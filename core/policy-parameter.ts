/**
 * Where the policy lives in SSM Parameter Store, shared by the function, the stack and the
 * CLI: the default name, the one rule a name (or a full ARN) must follow, where the policy's
 * principal sets live beside it, and the size each tier holds.
 */
export const DEFAULT_POLICY_PARAMETER_NAME = '/vpce-guard/policy';

/**
 * Parameter Store's change events, as EventBridge delivers them: the guard's rule matches
 * them, a fleet's home forwards them, the receiving bus admits them, the function takes them.
 */
export const PARAMETER_CHANGE_SOURCE = 'aws.ssm';
export const PARAMETER_CHANGE_DETAIL_TYPE = 'Parameter Store Change';

/** Letters, digits and `_ . - /`; a name with a `/` is a path and starts with one. */
const PARAMETER_NAME = /^(?:\/[a-zA-Z0-9_.-]+)+$|^[a-zA-Z0-9_.-]+$/;
/** SSM reserves names that start with these, in any case, with or without the leading `/`. */
const RESERVED_PREFIX = /^\/?(?:aws|ssm)/i;
/**
 * The longest name SSM lets you create: its API allows 2,048 characters, of which it keeps
 * 1,037, and the 1,011 left count the ARN before the name too
 * (`arn:aws:ssm:us-east-2:111122223333:parameter/`, 45 characters, in the PutParameter
 * reference). The partition and Region are not known everywhere a name is checked (an
 * environment-agnostic stack), so the longest prefix is set aside: `arn:aws-us-gov:ssm:`, a
 * Region of up to 16 characters, `:`, the account and `:parameter/`, 59 characters.
 */
const MAX_PARAMETER_NAME_LENGTH = 1011 - 59;
/** SSM's deepest hierarchy. */
const MAX_HIERARCHY_LEVELS = 15;

/** Why `name` is not an SSM parameter name, or undefined when it is one. */
function parameterNameProblem(name: string): string | undefined {
  if (!PARAMETER_NAME.test(name)) {
    return 'is not an SSM parameter name (letters, digits, "_", ".", "-"; a path such as /vpce-guard/policy starts with "/")';
  }
  if (name.length > MAX_PARAMETER_NAME_LENGTH) {
    return `is not an SSM parameter name: it is ${name.length} characters long, and SSM allows ${MAX_PARAMETER_NAME_LENGTH} (1,011 with the ARN before it)`;
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

/** Where a parameter named by its full ARN lives. */
export interface ParameterLocation {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/**
 * The policy parameter, named by its name or by its full ARN. SSM does not route a request by
 * the Region in an ARN, so a parameter of another Region is read with a client in that Region;
 * a parameter shared from another account (AWS RAM) can be read only by its full ARN.
 */
export interface PolicyParameter {
  /** The name as given, or as the ARN spells it: `/vpce-guard/policy`. */
  readonly name: string;
  /**
   * The name without its leading `/`, as it appears in the ARN: SSM's events and answers may
   * spell a one-level name with or without the slash, so names are compared by this key.
   */
  readonly key: string;
  /** What the SSM API is given as `Name`: the ARN when named by one, else the name. */
  readonly id: string;
  /** Present when named by ARN: the partition, Region and account the parameter lives in. */
  readonly location?: ParameterLocation;
}

const PARAMETER_ARN =
  /^arn:(aws(?:-[a-z]+)*):ssm:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):parameter\/(.*)$/;

/**
 * The one rule for "a parameter name or its full ARN" (the function's environment, the
 * construct's props and the CLI's --name all use it): the parameter, or why the value is not
 * one.
 */
export function parsePolicyParameter(
  value: string,
): { readonly parameter: PolicyParameter } | { readonly problem: string } {
  if (!value.startsWith('arn:')) {
    const problem = parameterNameProblem(value);
    return problem ? { problem } : { parameter: { name: value, key: keyOf(value), id: value } };
  }
  const arn = PARAMETER_ARN.exec(value);
  if (!arn) {
    return {
      problem:
        'is not an SSM parameter ARN (arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>)',
    };
  }
  const [, partition = '', region = '', accountId = '', resource = ''] = arn;
  // A hierarchical name loses its leading "/" in the ARN: parameter/vpce-guard/policy.
  const name = resource.includes('/') ? `/${resource}` : resource;
  const problem = parameterNameProblem(name);
  if (problem) return { problem: `names a parameter that ${problem}` };
  return {
    parameter: { name, key: keyOf(name), id: value, location: { partition, region, accountId } },
  };
}

/** Why `value` is neither a parameter name nor a parameter ARN, or undefined when it is one. */
export function policyParameterProblem(value: string): string | undefined {
  const parsed = parsePolicyParameter(value);
  return 'problem' in parsed ? parsed.problem : undefined;
}

/** The parameter `value` names; throws when it names none (check with policyParameterProblem). */
export function policyParameter(value: string): PolicyParameter {
  const parsed = parsePolicyParameter(value);
  if ('problem' in parsed) throw new Error(`"${value}" ${parsed.problem}`);
  return parsed.parameter;
}

/**
 * The Region an SSM client must call to read the parameter `nameOrArn` names: an ARN's (SSM
 * does not route a request by the Region in an ARN); none for a name, which the client's own
 * Region holds. Spread into the client's configuration.
 */
export function parameterRegion(nameOrArn: string): { readonly region?: string } {
  const parsed = parsePolicyParameter(nameOrArn);
  const region = 'parameter' in parsed ? parsed.parameter.location?.region : undefined;
  return region ? { region } : {};
}

/** True when an SSM event's parameter name is `parameter`'s (with or without a leading "/"). */
function sameParameterName(parameter: PolicyParameter, name: string): boolean {
  return keyOf(name) === parameter.key;
}

/**
 * Whether a Parameter Store Change of the parameter `name` concerns the policy `parameter`:
 * the policy itself, or a set's manifest (each set's commit point). Its parts are written
 * before the manifest names them, so their changes do not count.
 */
export function isPolicyChange(parameter: PolicyParameter, name: string): boolean {
  return (
    sameParameterName(parameter, name) || `/${keyOf(name)}`.startsWith(setManifestPrefix(parameter))
  );
}

const keyOf = (name: string): string => name.replace(/^\//, '');

// ---------------------------------------------------------------------------------------
// Principal sets: beside the policy, under its path
// ---------------------------------------------------------------------------------------

/**
 * The path segments of a set's two kinds of parameter under the policy's path. A set's
 * manifest (`<policy>/sets/<set>`) is its commit point, and the only set parameter whose
 * change concerns the guard; its parts (`<policy>/set-parts/<set>/<version>/<n>`) are written
 * before the manifest names them, so they live apart and their writes match no rule.
 */
export const SET_MANIFESTS_PATH = 'sets';
export const SET_PARTS_PATH = 'set-parts';
/** Levels a part's name adds to the policy's: set-parts, the set, the version, the part. */
const PART_LEVELS = 4;
/** The longest part name suffix: /set-parts/<64-character set>/<version>/<part number>. */
const PART_SUFFIX_MAX_LENGTH = '/set-parts/'.length + 64 + 1 + 32 + 1 + 5;

/** The prefix every set manifest's name starts with: `/vpce-guard/policy/sets/`. */
export function setManifestPrefix(parameter: PolicyParameter): string {
  return `/${parameter.key}/${SET_MANIFESTS_PATH}/`;
}

/** The prefix of a set's parts, every version: `/vpce-guard/policy/set-parts/<set>/`. */
export function setPartsPrefix(parameter: PolicyParameter, set: string): string {
  return `/${parameter.key}/${SET_PARTS_PATH}/${set}/`;
}

/** The name of a set's manifest: `/vpce-guard/policy/sets/<set>`. */
export function setManifestName(parameter: PolicyParameter, set: string): string {
  return `${setManifestPrefix(parameter)}${set}`;
}

/** The name of part `part` (from 1) of `version` of a set. */
export function setPartName(
  parameter: PolicyParameter,
  set: string,
  version: string,
  part: number,
): string {
  return `${setPartsPrefix(parameter, set)}${version}/${part}`;
}

/** What a reader asks SSM for a set's manifest: its name, or its ARN beside the policy's ARN. */
export function setManifestId(parameter: PolicyParameter, set: string): string {
  return idFor(parameter, setManifestName(parameter, set));
}

/** What a reader asks SSM for a part: its name, or its ARN beside the policy's ARN. */
export function setPartId(
  parameter: PolicyParameter,
  set: string,
  version: string,
  part: number,
): string {
  return idFor(parameter, setPartName(parameter, set, version, part));
}

/**
 * Why the policy's name leaves no room for its sets' parameters (SSM's 15 levels and name
 * length), or undefined when it does.
 */
export function setStorageProblem(parameter: PolicyParameter): string | undefined {
  const levels = parameter.key.split('/').length;
  if (levels + PART_LEVELS > MAX_HIERARCHY_LEVELS) {
    return `the policy parameter ${parameter.name} has ${levels} levels; its principal sets need ${PART_LEVELS} more and SSM allows ${MAX_HIERARCHY_LEVELS}: use a shorter path`;
  }
  if (parameter.key.length + 1 + PART_SUFFIX_MAX_LENGTH > MAX_PARAMETER_NAME_LENGTH) {
    return `the policy parameter's name is too long to hold principal sets under it (SSM allows ${MAX_PARAMETER_NAME_LENGTH} characters)`;
  }
  return undefined;
}

function idFor(parameter: PolicyParameter, name: string): string {
  const l = parameter.location;
  return l ? `arn:${l.partition}:ssm:${l.region}:${l.accountId}:parameter${name}` : name;
}
