/**
 * The environments that `status` and `reconcile` look at (docs/cli.md#a-fleet): the app's list
 * (`--fleet cdk.json`, with a profile per account), or every `--profile` in every `--region`.
 * One environment is today's single report; several make one table with account and Region
 * columns, and one environment's failure does not stop the others.
 */
import * as fs from 'node:fs';
import type { ParseArgsOptionsConfig } from 'node:util';
import { DEFAULT_POLICY_PARAMETER_NAME } from '../core/policy-parameter';
import { type GuardEnvironment, parameterArnIn, parseFleet } from '../core/fleet';
import { isAccountId, isRegion } from '../core/ids';
import { type AwsClients, type AwsOptions, withAwsClients } from './aws';
import { CliError, describeError, UsageError } from './errors';
import type { CliIo } from './io';
import { SERVICES_OPTIONS } from './services';

/** status's and reconcile's options: --service, --name, and a Region and profile each or many. */
export const FLEET_OPTIONS = {
  ...SERVICES_OPTIONS,
  name: { type: 'string' },
  region: { type: 'string', multiple: true },
  profile: { type: 'string', multiple: true },
  fleet: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const FLEET_OPTIONS_HELP = `  --service <id>        only this endpoint service (repeat for more; default: every
                        service the account owns in the Region)
  --name <parameter>    SSM parameter of the policy (default: ${DEFAULT_POLICY_PARAMETER_NAME}; with
                        --fleet, the home's), or its full ARN: read in the ARN's Region
  --region <region>     AWS Region; repeat it, or separate with commas, for several
                        (default: the SDK's chain: AWS_REGION, your profile)
  --profile <name>      profile of ~/.aws/config; repeat it for several accounts, each in
                        every --region; with --fleet, <account>=<profile> for each of
                        its accounts (one profile, or none, for a fleet of one account)
  --fleet <cdk.json>    every environment of the app's vpce-guard:environments, the
                        policy read from vpce-guard:policyHome (docs/fleet.md)`;

export interface FleetValues {
  readonly name?: string;
  readonly region?: readonly string[];
  readonly profile?: readonly string[];
  readonly fleet?: string;
}

/** One environment to look at: the options its clients are made with, and how to name it. */
export interface Target {
  readonly region?: string;
  readonly profile?: string;
  /** Known from --fleet; otherwise what the credentials tell, if anything. */
  readonly account?: string;
}

export interface Targets {
  readonly targets: readonly Target[];
  /**
   * The policy parameter (name or ARN) and the clients' options to read it with; with
   * --fleet, the home's account, which those credentials must be for.
   */
  readonly policy: {
    readonly name: string;
    readonly options: AwsOptions;
    readonly account?: string;
  };
  /** Several environments (or --fleet): one table with account and Region columns. */
  readonly fleet: boolean;
}

/** The environments the options name; checked before any AWS call. */
export function fleetTargets(values: FleetValues, read = readCdkJson): Targets {
  const regions = commaList(values.region ?? []);
  for (const region of regions) {
    if (!isRegion(region)) throw new UsageError(`--region: "${region}" is not a Region name`);
  }
  if (values.fleet !== undefined) return appFleet(values, regions, read(values.fleet));

  const profiles = values.profile ?? [];
  const paired = profiles.find((p) => p.includes('='));
  if (paired) throw new UsageError(`--profile: "${paired}": <account>=<profile> is for --fleet`);
  const targets: Target[] = [];
  for (const profile of profiles.length > 0 ? profiles : [undefined]) {
    for (const region of regions.length > 0 ? regions : [undefined]) {
      targets.push({ ...(region ? { region } : {}), ...(profile ? { profile } : {}) });
    }
  }
  const name = values.name ?? DEFAULT_POLICY_PARAMETER_NAME;
  return {
    targets,
    policy: { name, options: clientOptions(targets[0]!) },
    fleet: targets.length > 1,
  };
}

function appFleet(values: FleetValues, regions: readonly string[], file: CdkJson): Targets {
  if (regions.length > 0) {
    throw new UsageError('--region: --fleet takes the Regions of vpce-guard:environments');
  }
  let parsed;
  try {
    parsed = parseFleet(
      file.context['vpce-guard:environments'],
      file.context['vpce-guard:policyHome'],
    );
  } catch (error) {
    throw new CliError(`${file.path}: ${(error as Error).message}`);
  }
  if (!parsed) throw new CliError(`${file.path}: vpce-guard:environments is not set`);
  const profileOf = profilesByAccount(values.profile ?? [], parsed.environments);
  const targets = parsed.environments.map(({ account, region }) => ({
    account,
    region,
    ...(profileOf(account) ? { profile: profileOf(account) } : {}),
  }));
  const configured = file.context['vpce-guard:policyParameterName'];
  const name =
    values.name ??
    parameterArnIn(
      parsed.home,
      typeof configured === 'string' && configured !== ''
        ? configured
        : DEFAULT_POLICY_PARAMETER_NAME,
    );
  const home = targets.find(
    (t) => t.account === parsed.home.account && t.region === parsed.home.region,
  )!;
  return {
    targets,
    policy: { name, options: clientOptions(home), account: home.account },
    fleet: true,
  };
}

/**
 * --profile with --fleet: `<account>=<profile>` pairs, one for each of the fleet's accounts; a
 * fleet of one account may instead take one profile, or none (the default credentials). One
 * set of credentials reads one account, so a second account without its own profile would be
 * read with another account's credentials and shown under its own name.
 */
function profilesByAccount(
  values: readonly string[],
  environments: readonly GuardEnvironment[],
): (account: string) => string | undefined {
  const byAccount = new Map<string, string>();
  const accounts = [...new Set(environments.map((e) => e.account))];
  const plain = values.filter((v) => !v.includes('='));
  if (plain.length > 1 || (plain.length === 1 && (values.length > 1 || accounts.length > 1))) {
    throw new UsageError(
      `--profile: one profile reads one account, and this fleet has ${accounts.length}; give <account>=<profile> for each of its accounts (${accounts.join(', ')})`,
    );
  }
  for (const value of values.filter((v) => v.includes('='))) {
    const [account = '', profile = ''] = value.split('=');
    if (!isAccountId(account) || profile === '') {
      throw new UsageError(`--profile: "${value}" is not <12-digit account>=<profile>`);
    }
    if (!environments.some((e) => e.account === account)) {
      throw new UsageError(`--profile: account ${account} is not in the fleet`);
    }
    byAccount.set(account, profile);
  }
  const missing = accounts.filter((account) => !byAccount.has(account));
  if (accounts.length > 1 && missing.length > 0) {
    throw new UsageError(
      `--profile: no profile for account ${missing.join(', ')} of the fleet; give <account>=<profile> for each of its accounts (${accounts.join(', ')})`,
    );
  }
  return (account) => byAccount.get(account) ?? plain[0];
}

/** `--region a,b --region c` → a, b, c (without repeats). */
function commaList(values: readonly string[]): string[] {
  const items = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  return [...new Set(items.filter(Boolean))];
}

export function clientOptions(target: Target): AwsOptions {
  return {
    ...(target.region ? { region: target.region } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
  };
}

interface CdkJson {
  readonly path: string;
  readonly context: Record<string, unknown>;
}

function readCdkJson(file: string): CdkJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`--fleet: cannot read ${file}: ${(error as Error).message}`);
  }
  const context = (parsed as { context?: unknown } | null)?.context;
  if (typeof context !== 'object' || context === null) {
    throw new CliError(`--fleet: ${file} has no "context" object`);
  }
  return { path: file, context: context as Record<string, unknown> };
}

/** An environment as the table shows it: its account (or profile) and its Region. */
export interface EnvironmentLabel {
  readonly account: string;
  readonly region: string;
}

/** What one environment gave: its result, or why it could not. */
export type EnvironmentResult<T> = EnvironmentLabel &
  ({ readonly result: T } | { readonly error: string });

/**
 * Runs `work` in every environment, one after the other (EC2's buckets are per account and
 * Region, so they do not compete), with its own clients; a failure is kept, not thrown.
 */
export async function inEveryEnvironment<T>(
  io: CliIo,
  targets: readonly Target[],
  work: (aws: AwsClients, label: EnvironmentLabel) => Promise<T>,
): Promise<EnvironmentResult<T>[]> {
  const results: EnvironmentResult<T>[] = [];
  for (const target of targets) {
    let label: EnvironmentLabel = {
      account: target.account ?? (target.profile ? `(profile ${target.profile})` : '(default)'),
      region: target.region ?? '(default)',
    };
    try {
      const result = await withAwsClients(io.aws, clientOptions(target), async (aws) => {
        label = await labelOf(aws, target);
        return work(aws, label);
      });
      results.push({ ...label, result });
    } catch (error) {
      // A CliError says itself what failed, and its details why (AWS's error).
      const message =
        error instanceof CliError
          ? [error.message, ...error.details].join(': ')
          : describeError(error);
      results.push({ ...label, error: message });
    }
  }
  return results;
}

/**
 * The account and Region the clients call: the fleet's, or the credentials' and the SDK's. A
 * fleet environment whose credentials name another account fails here, before anything is
 * read: its rows would show that account's services under this one's name.
 */
async function labelOf(aws: AwsClients, target: Target): Promise<EnvironmentLabel> {
  const region = target.region ?? (await aws.ec2.config.region());
  if (target.account) {
    await checkAccount(aws, target.account, target.profile);
    return { account: target.account, region };
  }
  // Some credential sources name their account (SSO, assumed roles, AWS_ACCOUNT_ID).
  const { accountId } = await aws.ec2.config.credentials();
  return {
    account: accountId ?? (target.profile ? `(profile ${target.profile})` : '(default)'),
    region,
  };
}

/**
 * Throws when the credentials name an account (SSO, assumed roles, `AWS_ACCOUNT_ID` do; plain
 * access keys do not) other than `account`: what they read would be shown, or used, as
 * `account`'s.
 */
async function checkAccount(aws: AwsClients, account: string, profile?: string): Promise<void> {
  const { accountId } = await aws.ec2.config.credentials();
  if (accountId && accountId !== account) {
    const whose = profile ? `profile ${profile}` : 'the default credentials';
    throw new CliError(
      `${whose} signs in to account ${accountId}, not ${account}: nothing was read there (give --profile ${account}=<profile>)`,
    );
  }
}

/**
 * Runs `read` with the clients of the policy's environment; with --fleet, only once its
 * credentials are known not to be another account's than the home's.
 */
export function withPolicyClients<T>(
  io: CliIo,
  policy: Targets['policy'],
  read: (aws: AwsClients) => Promise<T>,
): Promise<T> {
  return withAwsClients(io.aws, { ...policy.options, name: policy.name }, async (aws) => {
    if (policy.account) await checkAccount(aws, policy.account, policy.options.profile);
    return read(aws);
  });
}

/** The failed environments' lines for stderr. */
export function environmentFailures<T>(results: readonly EnvironmentResult<T>[]): string[] {
  return results.flatMap((r) => ('error' in r ? [`${r.account} ${r.region}: ${r.error}`] : []));
}
