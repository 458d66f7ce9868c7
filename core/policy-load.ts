/**
 * The policy's SSM edge: reads the policy parameter and the principal sets it names, as one
 * consistent version, for the function and the CLI alike.
 *
 * Calls: one GetParameter for the policy; then, when it names sets, one GetParameters per 10
 * manifests and one per 10 parts (GetParameters takes at most 10 names). Parts are read by
 * exact name, never by path: GetParametersByPath cannot read a parameter shared from another
 * account (it takes a path, not an ARN) and may return fewer results than asked. A set whose
 * manifest names the same version as one already loaded (`reuse`) is not read again, so a
 * reload of an unchanged policy costs two calls.
 *
 * A set is used only when every part belongs to the version its manifest names and the
 * decoded list matches the manifest's count and digest. A part of another version means that
 * a push committed while this read was under way: the manifest is read once more, and its new
 * version loaded, before the set is reported incomplete.
 */
import {
  GetParameterCommand,
  GetParametersCommand,
  type Parameter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { chunk, inPool } from './batches';
import { isOutOfTime } from './deadline';
import {
  type Policy,
  type PolicyError,
  parsePolicy,
  principalSetReferences,
  withPrincipalSets,
} from './policy';
import {
  type PolicyParameter,
  policyParameter,
  setManifestId,
  setPartId,
  setStorageProblem,
} from './policy-parameter';
import { decodeSetPart, parseSetManifest, type SetManifest, setListProblem } from './principal-set';

/** A policy that cannot be used, and exactly why. */
export interface PolicyProblem {
  /** `unreadable`: SSM did not give a value (missing, denied, throttled); `invalid`: its content. */
  readonly kind: 'unreadable' | 'invalid';
  /** Where the problem is: the parameter, and the JSON path inside the policy. */
  readonly parameter: string;
  readonly errors: readonly PolicyError[];
  /**
   * SSM was not asked, or was cut short, because the caller's deadline came
   * (core/deadline.ts): nothing is known to be wrong with the parameter.
   */
  readonly outOfTime?: true;
}

/** A principal set as loaded: one version, whole. */
export interface LoadedSet {
  readonly name: string;
  readonly version: string;
  readonly parts: number;
  readonly accounts: ReadonlySet<string>;
}

export interface LoadedPolicy {
  /** The policy with the accounts of its sets, ready for `decide`. */
  readonly policy: Policy;
  readonly sets: readonly LoadedSet[];
}

export type PolicyLoad = { readonly loaded: LoadedPolicy } | { readonly problem: PolicyProblem };

export type SetsLoad =
  | { readonly policy: Policy; readonly sets: readonly LoadedSet[] }
  | { readonly problem: PolicyProblem };

/** GetParameters takes at most 10 names. */
const NAMES_PER_CALL = 10;

/** The GetParameters calls that read `names` parameters by name. */
export function getParametersCalls(names: number): number {
  return Math.ceil(names / NAMES_PER_CALL);
}
/** GetParameters calls in flight at once: Parameter Store's throughput is shared account-wide. */
const CONCURRENT_CALLS = 4;

/**
 * Reads the policy and its sets. `ssm` must call the parameter's Region (an ARN's, else the
 * client's own). `reuse`: the sets of the last load, kept when their version is unchanged.
 */
export async function loadPolicy(
  ssm: SSMClient,
  parameterNameOrArn: string,
  reuse: readonly LoadedSet[] = [],
): Promise<PolicyLoad> {
  const parameter = policyParameter(parameterNameOrArn);
  const unreadable = (message: string, error?: unknown): PolicyLoad => ({
    problem: {
      kind: 'unreadable',
      parameter: parameter.id,
      errors: [{ path: '(parameter)', message }],
      ...(isOutOfTime(error) ? { outOfTime: true as const } : {}),
    },
  });
  let found: Parameter | undefined;
  try {
    const output = await ssm.send(
      new GetParameterCommand({ Name: parameter.id, WithDecryption: true }),
    );
    found = output.Parameter;
  } catch (error) {
    return unreadable(`could not be read: ${describeSsmError(error)}`, error);
  }
  if (found?.Value === undefined) return unreadable('has no value');
  const parsed = parsePolicy(found.Value);
  if (!parsed.ok) {
    return { problem: { kind: 'invalid', parameter: parameter.id, errors: parsed.errors } };
  }
  const sets = await loadPrincipalSets(ssm, parameter, parsed.policy, reuse);
  if ('problem' in sets) return sets;
  return { loaded: { policy: sets.policy, sets: sets.sets } };
}

/**
 * Loads the principal sets `policy` names from beside `parameter` (the CLI uses it for a
 * policy file), and returns the policy with their accounts.
 */
export async function loadPrincipalSets(
  ssm: SSMClient,
  parameter: PolicyParameter,
  policy: Policy,
  reuse: readonly LoadedSet[] = [],
): Promise<SetsLoad> {
  const load = await loadNamedSets(ssm, parameter, principalSetReferences(policy), reuse);
  if ('problem' in load) return load;
  return {
    policy: withPrincipalSets(policy, new Map(load.sets.map((s) => [s.name, s.accounts]))),
    sets: load.sets,
  };
}

/**
 * Loads the sets `references` names (set → where the policy names it, for errors) from
 * beside `parameter`.
 */
export async function loadNamedSets(
  ssm: SSMClient,
  parameter: PolicyParameter,
  references: ReadonlyMap<string, string>,
  reuse: readonly LoadedSet[] = [],
): Promise<{ readonly sets: readonly LoadedSet[] } | { readonly problem: PolicyProblem }> {
  if (references.size === 0) return { sets: [] };
  const invalid = (where: string, errors: PolicyError[]) => ({
    problem: { kind: 'invalid' as const, parameter: where, errors },
  });
  const storage = setStorageProblem(parameter);
  if (storage) {
    return invalid(parameter.id, [{ path: references.values().next().value!, message: storage }]);
  }

  const names = [...references.keys()];
  let manifests: Map<string, Parameter>;
  try {
    manifests = await getParameters(
      ssm,
      names.map((set) => setManifestId(parameter, set)),
    );
  } catch (error) {
    return unreadableSet(parameter, names[0]!, error);
  }

  const loaded: LoadedSet[] = [];
  const errors: PolicyError[] = [];
  let firstBad: string | undefined;
  for (const set of names) {
    const path = references.get(set)!;
    const manifestId = setManifestId(parameter, set);
    let result: LoadedSet | SetFailure;
    try {
      result = await loadSet(ssm, parameter, set, manifests.get(manifestId), reuse);
    } catch (error) {
      return unreadableSet(parameter, set, error);
    }
    if ('failure' in result) {
      errors.push({ path, message: `principal set ${set}: ${result.failure}` });
      firstBad ??= result.parameter;
    } else loaded.push(result);
  }
  if (errors.length > 0) return invalid(firstBad!, errors);
  return { sets: loaded };
}

export interface SetFailure {
  readonly failure: string;
  /** The parameter at fault. */
  readonly parameter: string;
}

/**
 * One set as it is live (the CLI reads it before a push): its version, whole, or why it cannot
 * be used, with the SSM version of its manifest either way (a push commits only if it is
 * unchanged); `missing` when it has no manifest.
 */
export async function readPrincipalSet(
  ssm: SSMClient,
  parameter: PolicyParameter,
  set: string,
): Promise<
  | { readonly set: LoadedSet; readonly manifestVersion: number }
  | { readonly missing: true }
  | (SetFailure & { readonly manifestVersion: number })
> {
  const manifestId = setManifestId(parameter, set);
  const manifest = (await getParameters(ssm, [manifestId])).get(manifestId);
  if (!manifest) return { missing: true };
  const loaded = await loadSet(ssm, parameter, set, manifest, []);
  const manifestVersion = manifest.Version ?? 0;
  return 'failure' in loaded ? { ...loaded, manifestVersion } : { set: loaded, manifestVersion };
}

/** One set: its version as the manifest names it; once more if a push overtook the read. */
async function loadSet(
  ssm: SSMClient,
  parameter: PolicyParameter,
  set: string,
  manifestParameter: Parameter | undefined,
  reuse: readonly LoadedSet[],
): Promise<LoadedSet | SetFailure> {
  const manifestId = setManifestId(parameter, set);
  let attempt = await loadVersion(ssm, parameter, set, manifestParameter, reuse);
  if ('stale' in attempt) {
    const again = (await getParameters(ssm, [manifestId])).get(manifestId);
    // Only a new version is worth reading: the same one would be as incomplete again.
    if (again?.Value !== manifestParameter?.Value) {
      attempt = await loadVersion(ssm, parameter, set, again, reuse);
    }
  }
  if ('stale' in attempt) {
    return {
      failure: `${attempt.failure} (a push may be under way; the guard tries again)`,
      parameter: attempt.parameter,
    };
  }
  return attempt;
}

type VersionAttempt = LoadedSet | SetFailure | (SetFailure & { readonly stale: true });

async function loadVersion(
  ssm: SSMClient,
  parameter: PolicyParameter,
  set: string,
  manifestParameter: Parameter | undefined,
  reuse: readonly LoadedSet[],
): Promise<VersionAttempt> {
  const manifestId = setManifestId(parameter, set);
  if (manifestParameter?.Value === undefined) {
    return {
      failure: `its manifest ${manifestId} does not exist (vpce-guard sets push ${set} <file> creates it)`,
      parameter: manifestId,
    };
  }
  const parsed = parseSetManifest(manifestParameter.Value, set);
  if ('problem' in parsed) {
    return { failure: `its manifest ${manifestId} ${parsed.problem}`, parameter: manifestId };
  }
  const { manifest } = parsed;
  const known = reuse.find((s) => s.name === set && s.version === manifest.version);
  if (known) return known;

  const partIds = Array.from({ length: manifest.parts }, (_, i) =>
    setPartId(parameter, set, manifest.version, i + 1),
  );
  const parts = await getParameters(ssm, partIds);
  const accounts: string[] = [];
  for (const [i, id] of partIds.entries()) {
    const place = `part ${i + 1} of ${manifest.parts} of version ${manifest.version} (${id})`;
    const value = parts.get(id)?.Value;
    // Missing: a newer push committed and deleted this version's parts after we read the manifest.
    if (value === undefined) return { failure: `${place} is missing`, parameter: id, stale: true };
    const decoded = decodeSetPart(value, {
      set,
      version: manifest.version,
      part: i + 1,
      of: manifest.parts,
    });
    if ('problem' in decoded) {
      return decoded.stale
        ? { failure: `${place} ${decoded.problem}`, parameter: id, stale: true }
        : { failure: `${place} ${decoded.problem}`, parameter: id };
    }
    for (const account of decoded.accounts) accounts.push(account);
  }
  const listProblem = setListProblem(accounts, manifest);
  if (listProblem) {
    return { failure: `version ${manifest.version}: ${listProblem}`, parameter: manifestId };
  }
  return toLoadedSet(manifest, accounts);
}

function toLoadedSet(manifest: SetManifest, accounts: readonly string[]): LoadedSet {
  return {
    name: manifest.set,
    version: manifest.version,
    parts: manifest.parts,
    accounts: new Set(accounts),
  };
}

function unreadableSet(
  parameter: PolicyParameter,
  set: string,
  error: unknown,
): { readonly problem: PolicyProblem } {
  const manifestId = setManifestId(parameter, set);
  return {
    problem: {
      kind: 'unreadable',
      parameter: manifestId,
      errors: [
        {
          path: '(parameter)',
          message: `principal set ${set} could not be read: ${describeSsmError(error)}`,
        },
      ],
      ...(isOutOfTime(error) ? { outOfTime: true as const } : {}),
    },
  };
}

/**
 * The parameters of `ids` (names or ARNs) that exist, by the id asked for; at most
 * CONCURRENT_CALLS calls of 10 names at a time. Throws what SSM throws.
 */
export async function getParameters(
  ssm: SSMClient,
  ids: readonly string[],
): Promise<Map<string, Parameter>> {
  const found = new Map<string, Parameter>();
  await inPool(chunk(ids, NAMES_PER_CALL), CONCURRENT_CALLS, async (names) => {
    const { Parameters = [] } = await ssm.send(
      new GetParametersCommand({ Names: names, WithDecryption: true }),
    );
    for (const id of names) {
      const match = Parameters.find((p) => answers(p, id));
      if (match) found.set(id, match);
    }
  });
  return found;
}

/**
 * Whether `p` answers the request for `id`. AWS does not document whether a parameter read by
 * ARN comes back with its name or its ARN in `Name`, so both are compared, by key.
 */
function answers(p: Parameter, id: string): boolean {
  if (p.Name === id || p.ARN === id) return true;
  const resource = ':parameter/';
  const key = (name: string) =>
    name.startsWith('arn:')
      ? name.slice(name.indexOf(resource) + resource.length)
      : name.replace(/^\//, '');
  return p.Name !== undefined && key(p.Name) === key(id);
}

/** `Name: message`, or just the name when AWS sent no message (ParameterNotFound). */
function describeSsmError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message && error.message !== 'UnknownError'
    ? `${error.name}: ${error.message}`
    : error.name;
}
