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
 */
import {
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParametersByPathCommand,
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
import { CliError } from './errors';

/** How a set's parameters are stored: as the policy's own, and in the tier asked for. */
export interface SetStorage {
  /** The parts' tier: their size (4 or 8 KB), and whether they can be shared (Advanced). */
  readonly tier: Tier;
  /** The manifest's: the parts' own, unless it is already Advanced. @default tier */
  readonly manifestTier?: Tier;
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
   * Called with the new parts' names once written, before the commit. A fleet that reads the
   * policy from other accounts adds them to its RAM share here (docs/policy.md#a-fleet).
   */
  readonly beforeCommit?: (partNames: readonly string[]) => Promise<void>;
  /** Told of each part written. */
  readonly onPart?: (written: number, total: number) => void;
}

export interface SetPushResult {
  readonly manifest: SetManifest;
  /** Parts of other versions deleted after the commit. */
  readonly deletedParts: number;
}

/** DeleteParameters takes at most 10 names; DescribeParameters returns at most 50. */
const DELETE_BATCH = 10;
const DESCRIBE_PAGE = 50;

/** Writes a new version of a set, commits it, and deletes every other version's parts. */
export async function pushPrincipalSet(ssm: SSMClient, write: SetWrite): Promise<SetPushResult> {
  const { parameter, set, storage } = write;
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
  await write.beforeCommit?.(partNames);

  const now = await manifestVersion(ssm, parameter, set);
  if (now !== write.expectedManifestVersion) {
    await deleteParameters(ssm, partNames);
    throw new CliError(
      `not pushed: set ${set} changed while this push was under way (manifest version ${write.expectedManifestVersion ?? 'none'} → ${now ?? 'deleted'}); run it again to see the new diff`,
    );
  }
  await put(setManifestName(parameter, set), encoded.manifestText, {
    overwrite: true,
    tier: storage.manifestTier ?? storage.tier,
    description: `vpce-guard principal set ${set}: edit it with vpce-guard sets; deploys never write it`,
  });
  const stale = (await listParameterNames(ssm, setPartsPrefix(parameter, set))).filter(
    (name) => !partNames.includes(name),
  );
  await deleteParameters(ssm, stale);
  return { manifest: encoded.manifest, deletedParts: stale.length };
}

/** The SSM version of a set's manifest, or undefined when the set does not exist. */
async function manifestVersion(
  ssm: SSMClient,
  parameter: PolicyParameter,
  set: string,
): Promise<number | undefined> {
  const name = setManifestName(parameter, set);
  return (await getParameters(ssm, [name])).get(name)?.Version;
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
