/**
 * The principal sets' parameters as the CLI writes and lists them (docs/policy.md#principal-sets).
 *
 * A push never leaves a set half-written: the new version's parts go under a path of their
 * own (`<policy>/set-parts/<set>/<version>/<n>`, created, never overwritten), and only then
 * does the manifest (`<policy>/sets/<set>`) name the version: that one overwrite is the
 * commit. Readers that read the old manifest still find the old parts until the push deletes
 * them after the commit, and a reader that then finds a part gone reads the manifest again.
 * An interrupted push leaves the old version in force and parts no manifest names, which the
 * next push deletes.
 *
 * In a fleet whose guards in other accounts read the policy through an AWS RAM share, the
 * push shares what they must read (`SetWrite.sharing`, cli/set-share.ts) before the commit
 * makes them read it, and unshares old parts before it deletes them.
 */
import {
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParametersByPathCommand,
  type Parameter,
  type ParameterType,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { getParameters } from '../core/policy-load';
import {
  type PolicyParameter,
  setManifestName,
  setManifestPrefix,
  setPartName,
  setPartsPrefix,
  type Tier,
  TIER_MAX_BYTES,
} from '../core/policy-parameter';
import {
  encodePrincipalSet,
  newSetVersion,
  parseSetManifest,
  type SetManifest,
} from '../core/principal-set';
import { CliError, describeError } from './errors';
import { plural } from './policy-file';

/** How a set's parameters are stored: as the policy's own, and in the tier asked for. */
export interface SetStorage {
  /** The parts' tier: their size (4 or 8 KB), and whether they can be shared (Advanced). */
  readonly tier: Tier;
  readonly type: ParameterType;
  /** A SecureString's KMS key (the policy's), absent: SSM's default key. */
  readonly keyId?: string;
}

export interface SetWrite {
  readonly parameter: PolicyParameter;
  readonly set: string;
  readonly accounts: Iterable<string>;
  readonly storage: SetStorage;
  readonly now: Date;
  /**
   * The manifest's SSM version the diff was made against; undefined: the set did not exist.
   * The push commits nothing if it changed meanwhile.
   */
  readonly expectedManifestVersion: number | undefined;
  /**
   * The manifest's tier before this push. Only an Advanced manifest can join a share before
   * the commit; a Standard one does right after it, once the commit made it Advanced.
   */
  readonly liveManifestTier?: Tier;
  /**
   * Where else the set must be readable: the policy's RAM share, for guards in other accounts
   * (docs/fleet.md#principal-sets-across-accounts). Absent: this account only.
   */
  readonly sharing?: SetSharing;
  /** Told of each part written. */
  readonly onPart?: (written: number, total: number) => void;
}

/**
 * Shares a set's parameters with the readers of the policy. Each method throws a CliError
 * that says what failed and what to do.
 */
export interface SetSharing {
  /** What shares them: `RAM share VpceGuard-policy (arn:…)`. */
  readonly label: string;
  /**
   * Shares the parameters `names` (those not shared yet) and waits until they are readable;
   * resolves to how many it added.
   */
  share(names: readonly string[]): Promise<number>;
  /** Stops sharing the parameters `names` (those shared) and waits until that is done. */
  unshare(names: readonly string[]): Promise<void>;
  /** The names of the shared parameters that start with `prefix`, in any of the shares. */
  sharedUnder(prefix: string): Promise<string[]>;
  /** Those of the parameters `names` that one of the shares or more does not hold yet. */
  unshared(names: readonly string[]): Promise<string[]>;
}

export interface SetPushResult {
  readonly manifest: SetManifest;
  /** Parts of other versions deleted after the commit. */
  readonly deletedParts: number;
  /**
   * Why the other versions' parts were kept after the commit: they could not be unshared
   * first. The next push removes them.
   */
  readonly cleanupProblem?: string;
  /**
   * The version in force when another push committed after this one: this push's list is not
   * in force, and its changes are lost unless it is run again.
   */
  readonly overtakenBy?: string;
}

/** DeleteParameters takes at most 10 names; DescribeParameters returns at most 50. */
const DELETE_BATCH = 10;
const DESCRIBE_PAGE = 50;

/**
 * Writes a new version of a set, shares it (`write.sharing`), commits it, and unshares and
 * deletes every other version's parts.
 */
export async function pushPrincipalSet(ssm: SSMClient, write: SetWrite): Promise<SetPushResult> {
  const { parameter, set, storage, sharing } = write;
  const manifestName = setManifestName(parameter, set);
  const isNew = write.expectedManifestVersion === undefined;
  const version = newSetVersion(write.now);
  const encoded = encodePrincipalSet(set, version, write.accounts, TIER_MAX_BYTES[storage.tier]);
  const partNames = encoded.parts.map((_, i) => setPartName(parameter, set, version, i + 1));
  const put = (
    name: string,
    value: string,
    { overwrite, tier, description }: { overwrite: boolean; tier: Tier; description: string },
  ) =>
    ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: value,
        Type: storage.type,
        Tier: tier,
        Overwrite: overwrite,
        Description: description,
        ...(storage.keyId ? { KeyId: storage.keyId } : {}),
      }),
    );

  for (const [i, name] of partNames.entries()) {
    // Created, never overwritten: a version's parts never change once written.
    await put(name, encoded.parts[i]!, {
      overwrite: false,
      tier: storage.tier,
      description: `vpce-guard principal set ${set}: part ${i + 1} of ${partNames.length} of version ${version}`,
    });
    write.onPart?.(i + 1, partNames.length);
  }
  const untouched = isNew ? `set ${set} still does not exist` : 'the old version stays in force';
  // An existing manifest that an earlier push left unshared is shared now too, if it can be.
  const manifestFirst = !isNew && write.liveManifestTier === 'Advanced';
  if (sharing) {
    try {
      await sharing.share(manifestFirst ? [...partNames, manifestName] : partNames);
    } catch (error) {
      const removal = await removeWritten(ssm, sharing, partNames);
      throw new CliError(
        `not pushed: ${reason(error)}. Nothing was committed: ${untouched}, and ${removal.done}`,
        removal.problems,
      );
    }
  }

  const now = (await readManifest(ssm, parameter, set))?.Version;
  if (now !== write.expectedManifestVersion) {
    const removal = await removeWritten(ssm, sharing, partNames);
    throw new CliError(
      `not pushed: set ${set} changed while this push was under way (manifest version ${write.expectedManifestVersion ?? 'none'} → ${now ?? 'deleted'}), and ${removal.done}; run it again to see the new diff`,
      removal.problems,
    );
  }
  await put(manifestName, encoded.manifestText, {
    overwrite: true,
    // SSM does not move a parameter from Advanced back to Standard.
    tier: write.liveManifestTier === 'Advanced' ? 'Advanced' : storage.tier,
    description: `vpce-guard principal set ${set}: edit it with vpce-guard sets; deploys never write it`,
  });
  if (sharing && !manifestFirst) {
    // A new set's manifest can be shared only once it exists, and writing it is the commit.
    // No policy names the set yet (policy push refuses one that names a missing set), so no
    // guard reads it before it is shared; if it cannot be, the set is removed again. A
    // Standard manifest could not be shared before, so no other account read it either.
    try {
      await sharing.share([manifestName]);
    } catch (error) {
      if (!isNew) {
        throw new CliError(
          `pushed set ${set} version ${version} in this account, but ${reason(error)}. Guards in other accounts still cannot read the set (its manifest was Standard until this push): once that is fixed, push the same list again, which shares the set as it stands; the older versions' parts are deleted by the next push`,
        );
      }
      const removal = await removeWritten(ssm, sharing, [manifestName, ...partNames]);
      throw new CliError(
        `not pushed: ${reason(error)}. The new set ${set} was removed again: ${removal.done}`,
        removal.problems,
      );
    }
  }

  // Two pushes can both pass the check before either commits: the later commit stands. So the
  // manifest, read again, says which version is in force, and its parts are never deleted.
  // (Left open: a push that passed its check but has not committed when another one cleans up
  // loses its parts and then commits; the guard finds a part missing, reports the set invalid
  // and keeps acting on the version it had, until the next push.)
  const inForce = await manifestVersionName(ssm, parameter, set);
  if (!inForce) {
    return {
      manifest: encoded.manifest,
      deletedParts: 0,
      cleanupProblem: `the manifest of set ${set} could not be read after the commit, so no parts of other versions were deleted; the next push removes them`,
    };
  }
  const lost =
    inForce === version
      ? {}
      : {
          cleanupProblem: `another push committed set ${set} version ${inForce} after this one: it is in force`,
          overtakenBy: inForce,
        };
  const partsPrefix = setPartsPrefix(parameter, set);
  const removable = (name: string) => name.slice(partsPrefix.length).split('/')[0] !== inForce;
  const stale = (await listParameterNames(ssm, partsPrefix)).filter(removable);
  if (sharing) {
    // RAM asks that a resource leave its shares before it is deleted. Shared parts whose
    // parameter is gone already (a push interrupted in between) are unshared too.
    try {
      const shared = (await sharing.sharedUnder(partsPrefix)).filter(removable);
      await sharing.unshare([...new Set([...stale, ...shared])]);
    } catch (error) {
      return {
        manifest: encoded.manifest,
        deletedParts: 0,
        cleanupProblem: `${plural(stale.length, 'part')} of older versions kept: they could not be removed from ${sharing.label} first (${reason(error)}); the next push removes them`,
      };
    }
  }
  await deleteParameters(ssm, stale);
  return { manifest: encoded.manifest, deletedParts: stale.length, ...lost };
}

/** A CliError's own words; an AWS error's code and message. */
const reason = (error: unknown): string =>
  error instanceof CliError ? error.message : describeError(error);

/**
 * Removes parameters a push wrote but did not commit (or a new set's manifest): out of the
 * share first, then deleted. Says what it did, and what failed, for the error that follows;
 * never throws.
 */
async function removeWritten(
  ssm: SSMClient,
  sharing: SetSharing | undefined,
  names: readonly string[],
): Promise<{ readonly done: string; readonly problems: string[] }> {
  const problems: string[] = [];
  if (sharing) {
    try {
      await sharing.unshare(names);
    } catch (error) {
      // Deleted anyway: nothing reads them, and the next push unshares what stays shared.
      problems.push(
        `taking them out of the share first failed (the next push does): ${reason(error)}`,
      );
    }
  }
  const these = `this push's ${plural(names.length, 'parameter')}`;
  try {
    await deleteParameters(ssm, names);
    return { done: `${these} ${names.length === 1 ? 'was' : 'were'} deleted`, problems };
  } catch (error) {
    problems.push(`deleting them failed (the next push does): ${reason(error)}`);
    return { done: `${these} could not be deleted`, problems };
  }
}

/** A set's manifest parameter as SSM holds it now, or undefined when the set does not exist. */
async function readManifest(
  ssm: SSMClient,
  parameter: PolicyParameter,
  set: string,
): Promise<Parameter | undefined> {
  const name = setManifestName(parameter, set);
  return (await getParameters(ssm, [name])).get(name);
}

/** The version a set's manifest names now; undefined when it is missing or unreadable. */
async function manifestVersionName(
  ssm: SSMClient,
  parameter: PolicyParameter,
  set: string,
): Promise<string | undefined> {
  const manifest = await readManifest(ssm, parameter, set);
  const parsed = parseSetManifest(manifest?.Value ?? '', set);
  return 'manifest' in parsed ? parsed.manifest.version : undefined;
}

/** A live set's summary, from its manifest. */
export interface SetSummary {
  readonly manifest?: SetManifest;
  readonly name: string;
  /** Set when the manifest is not one. */
  readonly problem?: string;
  readonly lastModified?: Date;
}

/**
 * The sets beside the policy, from their manifests (GetParametersByPath: in this account and
 * the client's Region only, which is where the CLI writes sets).
 */
export async function listPrincipalSets(
  ssm: SSMClient,
  parameter: PolicyParameter,
): Promise<SetSummary[]> {
  const prefix = setManifestPrefix(parameter);
  const summaries: SetSummary[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({
        Path: prefix.slice(0, -1),
        Recursive: false,
        WithDecryption: true,
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    for (const p of page.Parameters ?? []) {
      const name = (p.Name ?? '').slice(prefix.length);
      const parsed = parseSetManifest(p.Value ?? '', name);
      summaries.push({
        name,
        ...('manifest' in parsed ? { manifest: parsed.manifest } : { problem: parsed.problem }),
        ...(p.LastModifiedDate ? { lastModified: p.LastModifiedDate } : {}),
      });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return summaries.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The names of this account's parameters that start with `prefix` (metadata only). */
async function listParameterNames(ssm: SSMClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: [prefix] }],
        MaxResults: DESCRIBE_PAGE,
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    for (const p of page.Parameters ?? []) if (p.Name) names.push(p.Name);
    NextToken = page.NextToken;
  } while (NextToken);
  return names;
}

async function deleteParameters(ssm: SSMClient, names: readonly string[]): Promise<void> {
  for (let i = 0; i < names.length; i += DELETE_BATCH) {
    await ssm.send(new DeleteParametersCommand({ Names: names.slice(i, i + DELETE_BATCH) }));
  }
}
