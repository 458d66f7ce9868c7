/**
 * `vpce-guard sets …`: the principal sets beside the policy (docs/policy.md#principal-sets).
 * Every change (push, add, remove) validates, shows the accounts added and removed, asks (or
 * --yes), and writes a whole new version that one manifest overwrite commits
 * (cli/principal-sets.ts): a set is never half-written. When other accounts read the policy
 * through an AWS RAM share, the new version goes into that share before the commit
 * (cli/set-share.ts).
 */
import { realClock } from '../../core/clock';
import { isAccountId } from '../../core/ids';
import { parsePolicy, principalSetNames } from '../../core/policy';
import { readPrincipalSet } from '../../core/policy-load';
import {
  type PolicyParameter,
  setManifestName,
  setPartName,
  setStorageProblem,
  type Tier,
} from '../../core/policy-parameter';
import { isPrincipalSetName, SET_NAME_SHAPE, sortedAccounts } from '../../core/principal-set';
import { type AwsClients, withAwsClients } from '../aws';
import {
  type Command,
  LIVE_POLICY_OPTIONS,
  LIVE_POLICY_OPTIONS_HELP,
  parseCommandArgs,
  policyParameterOption,
} from '../command';
import { confirmed } from '../confirm';
import { CliError, EXIT_FAILURE, EXIT_OK, formatProblem, UsageError } from '../errors';
import type { CliIo } from '../io';
import { count, plural, readSetFile } from '../policy-file';
import {
  ensureWritable,
  type LiveParameter,
  type ParameterStorage,
  readParameterStorage,
  readPolicyParameter,
} from '../policy-parameter';
import {
  listPrincipalSets,
  pushPrincipalSet,
  type SetSharing,
  type SetStorage,
} from '../principal-sets';
import {
  DEFAULT_SHARE_WAIT_SECONDS,
  findPolicyShares,
  namedShare,
  type PolicyShare,
  setSharing,
  shareArnProblem,
  shareLocation,
} from '../set-share';
import { formatTable } from '../table';

/** Accounts listed per side of a diff; the rest are counted. */
const MAX_LISTED = 20;
const TIERS: readonly Tier[] = ['Advanced', 'Standard'];

const CHANGE_OPTIONS = {
  ...LIVE_POLICY_OPTIONS,
  yes: { type: 'boolean', short: 'y', default: false },
  tier: { type: 'string', default: 'Advanced' },
  share: { type: 'string' },
  'share-wait': { type: 'string', default: String(DEFAULT_SHARE_WAIT_SECONDS) },
} as const;
/** `--share none`: the policy is read in this account only; no RAM call. */
const NO_SHARE = 'none';

const CHANGE_OPTIONS_HELP = `  --tier <tier>         Advanced (default: 8 KB parts, can be shared with other accounts)
                        or Standard (4 KB parts, free, twice as many)
  --share <arn|none>    the AWS RAM share through which other accounts read the policy;
                        default: every share of this account that holds the policy (none
                        for a Standard policy). none: share nothing (one account)
  --share-wait <s>      how long to wait for RAM to share the new version before the commit
                        (default: ${DEFAULT_SHARE_WAIT_SECONDS}); past it, nothing is committed
  -y, --yes             change without asking (for scripts and CI)
${LIVE_POLICY_OPTIONS_HELP}`;

const HOW_IT_IS_WRITTEN = `The set is written as a new version: its parts first, under a path of their own, then
its manifest, whose overwrite is the commit; then the parts of older versions are deleted.
A push that stops half-way leaves the old version in force. The guard applies the new
version within seconds (Parameter Store Change of the manifest).

When guards in other accounts read the policy through an AWS RAM share, the new parts (and
a new set's manifest) are added to that share, and the push waits until RAM has shared them
before it commits; if RAM fails, nothing is committed and the new parts are deleted. Old
parts leave the share before they are deleted.`;

export const setsList: Command = {
  path: ['sets', 'list'],
  usage: 'sets list [--name <parameter>] [--region <r>] [--profile <p>]',
  summary: 'List the principal sets beside the policy: accounts, parts, version.',
  help: `Reads each set's manifest (GetParametersByPath, in this account and the Region of the
policy parameter).

Options:
${LIVE_POLICY_OPTIONS_HELP}

Example:
  vpce-guard sets list --profile prod`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, LIVE_POLICY_OPTIONS);
    const parameter = policyParameterOption(values.name);
    const sets = await withAwsClients(io.aws, values, ({ ssm }) =>
      listPrincipalSets(ssm, parameter),
    );
    if (sets.length === 0) {
      io.stdout.write(`No principal set beside ${parameter.name}.\n`);
      return EXIT_OK;
    }
    io.stdout.write(
      formatTable(
        [
          { header: 'set', value: (s) => s.name },
          { header: 'accounts', value: (s) => count(s.manifest?.accounts ?? 0), align: 'right' },
          { header: 'parts', value: (s) => String(s.manifest?.parts ?? 0), align: 'right' },
          { header: 'version', value: (s) => s.manifest?.version ?? `(${s.problem})` },
          { header: 'updated', value: (s) => s.lastModified?.toISOString() ?? '' },
        ],
        sets,
      ),
    );
    return EXIT_OK;
  },
};

export const setsPull: Command = {
  path: ['sets', 'pull'],
  usage: 'sets pull <set> [--name <parameter>] [--region <r>] [--profile <p>]',
  summary: 'Print a principal set’s accounts, one per line.',
  help: `Reads the set as the guard does (every part, checked against the manifest) and prints
its accounts in order, so that "sets pull gold > gold.txt", an edit and a "sets push gold
gold.txt" round-trip.

Options:
${LIVE_POLICY_OPTIONS_HELP}

Example:
  vpce-guard sets pull gold-customers > gold.txt`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, LIVE_POLICY_OPTIONS, ['set']);
    const set = setNameArgument(positionals[0]!);
    const parameter = policyParameterOption(values.name);
    const live = await withAwsClients(io.aws, values, ({ ssm }) =>
      readPrincipalSet(ssm, parameter, set),
    );
    if ('missing' in live) throw missingSet(parameter, set);
    if ('failure' in live) throw new CliError(`set ${set} cannot be read: ${live.failure}`);
    const accounts = [...live.set.accounts];
    io.stdout.write(accounts.length ? `${accounts.join('\n')}\n` : '');
    return EXIT_OK;
  },
};

export const setsPush: Command = {
  path: ['sets', 'push'],
  usage:
    'sets push <set> <file> [--tier <t>] [--share <arn|none>] [--yes] [--name <parameter>] [--region <r>] [--profile <p>]',
  summary: 'Replace a principal set with the accounts of a file (one per line).',
  help: `The file holds one 12-digit account ID (or account root ARN) per line; blank lines and
lines starting with "#" are skipped. Every other line must be an account (exit 1, naming
the lines). Shows the accounts added and removed against the live set and, on a terminal,
asks; without a terminal, pass --yes (else exit 2).

${HOW_IT_IS_WRITTEN}

Options:
${CHANGE_OPTIONS_HELP}

Example:
  vpce-guard sets push gold-customers gold.txt --profile prod`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, CHANGE_OPTIONS, ['set', 'file']);
    const change = changeFrom(positionals[0]!, values);
    const file = await readSetFile(positionals[1]!);
    if (file.repeats > 0) {
      io.stderr.write(`note: ${plural(file.repeats, 'line')} repeat an account listed before\n`);
    }
    return withAwsClients(io.aws, values, (aws) =>
      applyChange(io, aws, change, positionals[1]!, () => file.accounts, { replaces: true }),
    );
  },
};

export const setsAdd: Command = {
  path: ['sets', 'add'],
  usage:
    'sets add <set> <account>… [--tier <t>] [--share <arn|none>] [--yes] [--name <parameter>] [--region <r>] [--profile <p>]',
  summary: 'Add accounts to a principal set (creating it if needed).',
  help: `Reads the live set, adds the accounts, shows the change and writes the new version.

${HOW_IT_IS_WRITTEN}

Options:
${CHANGE_OPTIONS_HELP}

Example:
  vpce-guard sets add gold-customers 111122223333 444455556666`,
  async run(args, io) {
    const { values, change, accounts } = changeWithAccounts(args);
    return withAwsClients(io.aws, values, (aws) =>
      applyChange(io, aws, change, 'the command line', (live) => [...live, ...accounts], {
        replaces: false,
      }),
    );
  },
};

export const setsRemove: Command = {
  path: ['sets', 'remove'],
  usage:
    'sets remove <set> <account>… [--tier <t>] [--share <arn|none>] [--yes] [--name <parameter>] [--region <r>] [--profile <p>]',
  summary: 'Remove accounts from a principal set.',
  help: `Reads the live set, removes the accounts (an account not in the set is an error), shows
the change and writes the new version. A set emptied this way stays, with no accounts.

${HOW_IT_IS_WRITTEN}

Options:
${CHANGE_OPTIONS_HELP}

Example:
  vpce-guard sets remove gold-customers 111122223333`,
  async run(args, io) {
    const { values, change, accounts } = changeWithAccounts(args);
    return withAwsClients(io.aws, values, (aws) =>
      applyChange(
        io,
        aws,
        change,
        'the command line',
        (live, exists) => {
          const absent = accounts.filter((a) => !live.includes(a));
          if (!exists) throw missingSet(change.parameter, change.set);
          if (absent.length > 0) {
            throw new CliError(`not in set ${change.set}: ${absent.join(', ')}`);
          }
          return live.filter((a) => !accounts.includes(a));
        },
        { replaces: false },
      ),
    );
  },
};

export const SETS_COMMANDS: readonly Command[] = [
  setsList,
  setsPull,
  setsPush,
  setsAdd,
  setsRemove,
];

interface Change {
  readonly parameter: PolicyParameter;
  readonly set: string;
  readonly tier: Tier;
  readonly yes: boolean;
  /** A share's ARN, `none`, or absent: the shares that hold the policy. */
  readonly share?: string;
  readonly shareWaitMs: number;
}

/** The change's set, parameter and options, checked before any AWS call or file read. */
function changeFrom(
  set: string,
  values: { name: string; tier: string; yes: boolean; share?: string; 'share-wait': string },
): Change {
  const parameter = policyParameterOption(values.name);
  const name = setNameArgument(set);
  if (!(TIERS as readonly string[]).includes(values.tier)) {
    throw new UsageError(`--tier: "${values.tier}" is not one of ${TIERS.join(', ')}`);
  }
  const { share } = values;
  const shareProblem =
    share === undefined || share === NO_SHARE ? undefined : shareArnProblem(share);
  if (shareProblem) throw new UsageError(`--share: "${share}" ${shareProblem}, nor none`);
  const location = parameter.location;
  if (share && share !== NO_SHARE && location) {
    const where = shareLocation(share);
    if (where.region !== location.region || where.account !== location.accountId) {
      throw new UsageError(
        `--share: the share is in ${where.account}/${where.region} and the policy in ${location.accountId}/${location.region}: a RAM share holds its own account's resources of its own Region`,
      );
    }
  }
  const wait = values['share-wait'];
  if (!/^\d+$/.test(wait)) {
    throw new UsageError(`--share-wait: "${wait}" is not a whole number of seconds`);
  }
  const storage = setStorageProblem(parameter);
  if (storage) throw new CliError(storage);
  return {
    parameter,
    set: name,
    tier: values.tier as Tier,
    yes: values.yes,
    ...(share ? { share } : {}),
    shareWaitMs: Number(wait) * 1000,
  };
}

function setNameArgument(value: string): string {
  if (!isPrincipalSetName(value)) {
    throw new UsageError(`<set>: "${value}" is not a principal set name (${SET_NAME_SHAPE})`);
  }
  return value;
}

/** `sets add|remove <set> <account>…` and their options, checked before any AWS call. */
function changeWithAccounts(args: readonly string[]) {
  const { values, positionals } = parseCommandArgs(args, CHANGE_OPTIONS, ['set', 'account'], {
    variadic: true,
  });
  return {
    values,
    change: changeFrom(positionals[0]!, values),
    accounts: accountArguments(positionals.slice(1)),
  };
}

function accountArguments(values: readonly string[]): readonly string[] {
  const bad = values.find((v) => !isAccountId(v));
  if (bad !== undefined) throw new UsageError(`<account>: "${bad}" is not a 12-digit account ID`);
  return values;
}

/**
 * Reads the live set, computes the new one with `next`, shows the difference, asks, and
 * pushes it. `replaces`: a live set that cannot be read is replaced (push) rather than an
 * error (add, remove: they build on it).
 */
async function applyChange(
  io: CliIo,
  aws: AwsClients,
  change: Change,
  source: string,
  next: (live: readonly string[], exists: boolean) => readonly string[],
  { replaces }: { readonly replaces: boolean },
): Promise<number> {
  const { parameter, set } = change;
  // The set's parameters are written by name, in this account: beside this account's policy only.
  const checked = await ensureWritable(aws.ssm, parameter);
  const policy = await readPolicyParameter(aws.ssm, parameter.id);
  // DescribeParameters, by name: the tier and key GetParameter does not tell (read already
  // when the policy is named by its ARN).
  const policyStorage =
    checked ?? (policy ? await readParameterStorage(aws.ssm, parameter.name) : undefined);
  const sharing = await policySharing(io, aws, change, policy, policyStorage);
  if (sharing && change.tier !== 'Advanced') {
    throw new CliError(
      `--tier ${change.tier}: other accounts read the policy through ${sharing.label}, and RAM shares only Advanced parameters: push with --tier Advanced (the default), or with --share none to keep the set to this account`,
    );
  }
  const live = await readPrincipalSet(aws.ssm, parameter, set);
  let current: readonly string[] = [];
  let liveVersion: string | undefined;
  let expectedManifestVersion: number | undefined;
  if ('failure' in live) {
    if (!replaces) throw new CliError(`set ${set} cannot be read: ${live.failure}`);
    io.stderr.write(
      formatProblem('warning', `the live set ${set} cannot be read; this push replaces it`, [
        live.failure,
      ]),
    );
    expectedManifestVersion = live.manifestVersion;
  } else if ('set' in live) {
    current = [...live.set.accounts];
    liveVersion = live.set.version;
    expectedManifestVersion = live.manifestVersion;
  }
  const exists = !('missing' in live);
  const manifestName = setManifestName(parameter, set);
  // DescribeParameters: SSM does not move a manifest from Advanced back to Standard, and RAM
  // shares only Advanced ones.
  const liveManifestTier = exists
    ? (await readParameterStorage(aws.ssm, manifestName)).tier
    : undefined;
  const accounts = sortedAccounts(next(current, exists));
  const before = new Set(current);
  const after = new Set(accounts);
  const added = accounts.filter((a) => !before.has(a));
  const removed = current.filter((a) => !after.has(a));
  const partNames =
    'set' in live
      ? Array.from({ length: live.set.parts }, (_, i) =>
          setPartName(parameter, set, live.set.version, i + 1),
        )
      : [];
  // A Standard set cannot be shared as it stands: it is written again, Advanced. A manifest
  // once Advanced stays so, while a later push with --tier Standard wrote Standard parts: the
  // first part tells (a version's parts are written with one tier).
  const unshareable =
    sharing !== undefined &&
    (liveManifestTier !== 'Advanced' ||
      (partNames[0] !== undefined &&
        (await readParameterStorage(aws.ssm, partNames[0])).tier !== 'Advanced'));
  if (exists && added.length === 0 && removed.length === 0 && 'set' in live && !unshareable) {
    io.stdout.write(
      `No change: set ${set} (version ${liveVersion}) already holds the ${plural(accounts.length, 'account')} of ${source}.\n`,
    );
    if (!sharing) return EXIT_OK;
    // A set pushed before it was shared (or with --share none) is shared as it stands: that
    // lets other accounts read it, a change to confirm like any other.
    const toShare = await sharing.unshared([manifestName, ...partNames]);
    if (toShare.length === 0) return EXIT_OK;
    io.stdout.write(`Share its ${plural(toShare.length, 'parameter')} through ${sharing.label}.\n`);
    if (!(await confirmed(io, change.yes, `Share set ${set}?`, 'share'))) return EXIT_FAILURE;
    const shared = await sharing.share(toShare);
    io.stdout.write(`Added its ${plural(shared, 'parameter')} to ${sharing.label}.\n`);
    return EXIT_OK;
  }

  const storage = setStorage(change.tier, policy, policyStorage);
  const region = await aws.ssm.config.region();
  io.stdout.write(
    [
      `Set ${set} (${manifestName}) in ${region}, from ${source}:`,
      ...('failure' in live
        ? // What it held is unknown: a diff against nothing would claim every account added.
          [`  unreadable → ${plural(accounts.length, 'account')}: the push replaces the set whole`]
        : [
            `  ${exists ? count(current.length) : 'new set'} → ${plural(accounts.length, 'account')}: +${count(added.length)} added, −${count(removed.length)} removed`,
            ...listed('+', added),
            ...listed('−', removed),
          ]),
      ...(exists && unshareable
        ? [
            `  The set is in the Standard tier, which ${sharing.label} cannot hold: it is written again, Advanced.`,
          ]
        : []),
      `Write a new version: ${storage.tier} tier, ${storage.type}; ${sharing ? `add it to ${sharing.label}; ` : ''}then commit it${exists ? ' and delete the older versions’ parts' : ''}.`,
    ].join('\n') + '\n',
  );

  if (!(await confirmed(io, change.yes, `Push set ${set}?`, 'push'))) return EXIT_FAILURE;
  const result = await pushPrincipalSet(aws.ssm, {
    parameter,
    set,
    accounts,
    storage,
    now: io.now(),
    expectedManifestVersion,
    ...(liveManifestTier ? { liveManifestTier } : {}),
    ...(sharing ? { sharing } : {}),
    onPart: (written, total) => {
      if (total > 1 && (written % 10 === 0 || written === total)) {
        io.stderr.write(`[${written}/${total}] parts of set ${set} written\n`);
      }
    },
  });
  const { manifest } = result;
  if (result.overtakenBy) {
    // The other push read the set before this commit: its list lacks this push's change.
    throw new CliError(
      `not in force: another push committed set ${set} version ${result.overtakenBy} after this one (version ${manifest.version}), from a list read before it; run this one again to see the new diff`,
    );
  }
  io.stdout.write(
    `Pushed set ${set}: version ${manifest.version}, ${plural(manifest.accounts, 'account')} in ${plural(manifest.parts, 'part')}${sharing ? `, shared through ${sharing.label}` : ''}${result.deletedParts ? `; deleted ${plural(result.deletedParts, 'part')} of older versions` : ''}. The guard applies it within seconds.\n`,
  );
  if (result.cleanupProblem) io.stderr.write(formatProblem('warning', result.cleanupProblem));
  noteIfUnused(io, policy, parameter, set);
  return EXIT_OK;
}

/** `+ 111122223333` lines, at most MAX_LISTED, then how many more. */
function listed(sign: string, accounts: readonly string[]): string[] {
  const lines = accounts.slice(0, MAX_LISTED).map((a) => `  ${sign} ${a}`);
  if (accounts.length > MAX_LISTED) {
    lines.push(`  ${sign} … and ${count(accounts.length - MAX_LISTED)} more`);
  }
  return lines;
}

/**
 * Where other accounts read the set, or undefined when only this account does: the share
 * `--share` names, else every share of this account that holds the policy parameter (only an
 * Advanced parameter can be in one: a Standard policy costs no RAM call).
 */
async function policySharing(
  io: CliIo,
  aws: AwsClients,
  change: Change,
  policy: LiveParameter | undefined,
  policyStorage: ParameterStorage | undefined,
): Promise<SetSharing | undefined> {
  if (change.share === NO_SHARE) return undefined;
  const policyArn = policy?.arn;
  if (!policyArn) {
    if (change.share) {
      throw new CliError(
        `--share: the policy parameter ${change.parameter.name} does not exist in this account and Region: the set is shared beside it (deploy the stack first)`,
      );
    }
    return undefined;
  }
  let shares: PolicyShare[];
  if (change.share) {
    shares = [await namedShare(aws.ram, change.share)];
  } else {
    if (policyStorage?.tier !== 'Advanced') return undefined;
    shares = await findPolicyShares(aws.ram, policyArn);
    if (shares.length === 0) return undefined;
  }
  return setSharing(
    aws.ram,
    shares,
    { arn: policyArn, key: change.parameter.key },
    {
      timeoutMs: change.shareWaitMs,
      clock: realClock,
      onWait: (note) => io.stderr.write(`${note}\n`),
    },
  );
}

/**
 * The set's parameters are stored as the policy's own (a SecureString policy's sets are
 * SecureStrings under its key), in the tier asked for.
 */
function setStorage(
  tier: Tier,
  policy: LiveParameter | undefined,
  policyStorage: ParameterStorage | undefined,
): SetStorage {
  const type = policy?.type === 'SecureString' ? 'SecureString' : 'String';
  const keyId = policyStorage?.keyId;
  return {
    tier,
    type,
    ...(type === 'SecureString' && keyId ? { keyId } : {}),
  };
}

/** Says so when the live policy names no such set: the push changes nothing the guard does yet. */
function noteIfUnused(
  io: CliIo,
  live: LiveParameter | undefined,
  parameter: PolicyParameter,
  set: string,
): void {
  // The policy as this push read it: a set only this push creates is named by no rule yet.
  const parsed = live && parsePolicy(live.text);
  if (parsed?.ok && !principalSetNames(parsed.policy).includes(set)) {
    io.stdout.write(
      `Note: the live policy (${parameter.name}) names no principal set ${set} yet: name it in a rule's "principalSets" (or in "denySets") and push the policy.\n`,
    );
  }
}

function missingSet(parameter: PolicyParameter, set: string): CliError {
  return new CliError(
    `set ${set} does not exist: ${setManifestName(parameter, set)} is not in this account and Region (vpce-guard sets list shows the sets)`,
  );
}
