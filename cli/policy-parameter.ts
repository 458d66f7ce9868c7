/**
 * The policy's SSM parameter, as the CLI reads and writes it: the value, and the metadata a
 * safe overwrite must keep (type, tier, KMS key).
 */
import {
  DescribeParametersCommand,
  type ParameterMetadata,
  GetParameterCommand,
  type ParameterTier,
  type ParameterType,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { formatPolicyErrors, parsePolicy, type Policy } from '../core/policy';
import { type LoadedSet, loadPrincipalSets } from '../core/policy-load';
import {
  type PolicyParameter,
  smallestTier,
  type Tier,
  TIER_MAX_BYTES,
} from '../core/policy-parameter';
import { policyParameterOption } from './command';
import { CliError, UsageError } from './errors';
import { invalidPolicy } from './policy-file';

export interface LiveParameter {
  readonly name: string;
  readonly text: string;
  readonly version: number;
  readonly type: ParameterType;
  /** Its full ARN, as SSM answers it (a RAM share names the parameter by it). */
  readonly arn?: string;
}

/** What an overwrite must keep that GetParameter does not tell. */
export interface ParameterStorage {
  readonly tier: Tier;
  /** A SecureString's KMS key: an overwrite that names none would switch to the default key. */
  readonly keyId?: string;
}

/** The parameter (by name or full ARN) as it is now, or undefined when it does not exist. */
export async function readPolicyParameter(
  ssm: SSMClient,
  name: string,
): Promise<LiveParameter | undefined> {
  try {
    const { Parameter } = await ssm.send(
      new GetParameterCommand({ Name: name, WithDecryption: true }),
    );
    return {
      name,
      text: Parameter?.Value ?? '',
      version: Parameter?.Version ?? 0,
      type: (Parameter?.Type ?? 'String') as ParameterType,
      ...(Parameter?.ARN ? { arn: Parameter.ARN } : {}),
    };
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

/**
 * The tier and key of an existing parameter of this account (DescribeParameters, which takes
 * a name, not an ARN: GetParameter tells neither).
 */
export async function readParameterStorage(
  ssm: SSMClient,
  name: string,
): Promise<ParameterStorage> {
  return storageOf(await describeOwn(ssm, name));
}

/** This account's parameter of that name, as DescribeParameters lists it (its own only). */
async function describeOwn(ssm: SSMClient, name: string): Promise<ParameterMetadata | undefined> {
  const { Parameters = [] } = await ssm.send(
    new DescribeParametersCommand({
      ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [name] }],
    }),
  );
  return Parameters.find((p) => p.Name === name);
}

function storageOf(found: ParameterMetadata | undefined): ParameterStorage {
  return {
    tier: found?.Tier === 'Advanced' ? 'Advanced' : 'Standard',
    ...(found?.KeyId ? { keyId: found.KeyId } : {}),
  };
}

/**
 * Refuses a write through `parameter` unless it is the caller's own. For an ARN, returns the
 * parameter's tier and key, read by the same DescribeParameters call; a name needs no check,
 * and gets undefined, nothing read. SSM writes a parameter only by name, in the caller's account and
 * the client's Region: a write "to" another account's ARN (a parameter shared through AWS RAM,
 * which is read-only to the accounts it is shared with) would create or overwrite a
 * same-named parameter of the caller's own account and report success. A name is always the
 * caller's own. An ARN is written only when this account's parameter of that name
 * (DescribeParameters lists the caller's own only, in the client's Region: the ARN's) has
 * exactly that ARN; a parameter that does not exist yet is created by name. The error is a
 * usage error: the command line names the wrong parameter.
 */
export async function ensureWritable(
  ssm: SSMClient,
  parameter: PolicyParameter,
): Promise<ParameterStorage | undefined> {
  const { location } = parameter;
  if (!location) return undefined;
  const own = await describeOwn(ssm, parameter.name);
  if (own?.ARN === parameter.id) return storageOf(own);
  const found = own?.ARN
    ? `its ${parameter.name} is ${own.ARN}`
    : `it has none with that ARN in ${location.region}`;
  throw new UsageError(
    `--name: ${parameter.id} is no parameter of the account these credentials are in (${found}): a parameter another account shares through AWS RAM is read-only from here, so run the push with the credentials of account ${location.accountId} (its --profile), naming the parameter by name; a new parameter is created by name, with --region`,
  );
}

/**
 * The live policy (--name: a name or full ARN), parsed, with its principal sets: a CliError
 * when the parameter is missing or invalid, or a set cannot be used.
 */
export async function readLivePolicy(
  ssm: SSMClient,
  name: string,
): Promise<{ readonly policy: Policy; readonly label: string }> {
  const parameter = policyParameterOption(name);
  const live = await readPolicyParameter(ssm, parameter.id);
  if (!live) throw missingParameter(name);
  const label = `${name} version ${live.version}`;
  const parsed = parsePolicy(live.text);
  if (!parsed.ok) throw invalidPolicy(`the live policy in ${label}`, parsed.errors);
  const { policy, sets } = await resolvePrincipalSets(
    ssm,
    parameter,
    parsed.policy,
    `the live policy in ${label}`,
  );
  return { policy, label: `${label}${describeSets(sets)}` };
}

/** The policy with its principal sets, read from beside `parameter`; a CliError if one fails. */
export async function resolvePrincipalSets(
  ssm: SSMClient,
  parameter: PolicyParameter,
  policy: Policy,
  what: string,
): Promise<{ readonly policy: Policy; readonly sets: readonly LoadedSet[] }> {
  const load = await loadPrincipalSets(ssm, parameter, policy);
  if ('problem' in load) {
    const { errors } = load.problem;
    throw new CliError(
      `${what} cannot be used: ${errors.length === 1 ? 'a principal set is' : 'principal sets are'} missing or invalid`,
      formatPolicyErrors(errors).split('\n'),
    );
  }
  return load;
}

/** `, set gold version 20261125T120000Z-3f9a1c`, one per set, for a label. */
function describeSets(sets: readonly LoadedSet[]): string {
  return sets.map((s) => `, set ${s.name} version ${s.version}`).join('');
}

export function missingParameter(name: string): CliError {
  return new CliError(
    `SSM parameter ${name} does not exist in this account and Region (deploy the stack, or run vpce-guard policy push)`,
  );
}

/**
 * The smallest tier that holds `bytes`, but never below the live one: SSM refuses to move a
 * parameter back from Advanced to Standard.
 */
export function chooseTier(bytes: number, liveTier?: Tier): Tier {
  const tier = smallestTier(bytes);
  if (!tier) {
    throw new CliError(
      `the policy is ${bytes} bytes; an SSM parameter holds at most ${TIER_MAX_BYTES.Advanced} (Advanced tier): shorten it (descriptions, rules that could be merged)`,
    );
  }
  return liveTier === 'Advanced' ? 'Advanced' : tier;
}

/** What a push writes: a new parameter is a String, as the stack creates it. */
export interface ParameterWrite {
  readonly name: string;
  readonly text: string;
  readonly tier: Tier;
  readonly type: ParameterType;
  readonly keyId?: string;
}

/** Overwrites (or creates) the parameter. */
export async function writePolicyParameter(
  ssm: SSMClient,
  write: ParameterWrite,
): Promise<{ readonly version: number; readonly tier: ParameterTier }> {
  const output = await ssm.send(
    new PutParameterCommand({
      Name: write.name,
      Value: write.text,
      Type: write.type,
      Tier: write.tier,
      Overwrite: true,
      ...(write.keyId ? { KeyId: write.keyId } : {}),
    }),
  );
  return { version: output.Version ?? 0, tier: output.Tier ?? write.tier };
}
