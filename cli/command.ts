/**
 * What every command is, and the argument parsing they share (Node's `util.parseArgs`,
 * strict: an unknown option is a usage error, never silently ignored).
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './errors';
import type { CliIo } from './io';
import {
  DEFAULT_POLICY_PARAMETER_NAME,
  parsePolicyParameter,
  type PolicyParameter,
} from '../core/policy-parameter';

export interface Command {
  /** The words after `vpce-guard`: `['policy', 'push']`. */
  readonly path: readonly string[];
  /** The synopsis, e.g. `policy push <file> [--name <parameter>] [--yes]`. */
  readonly usage: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** The rest of the --help text: what it does, its options, an example. */
  readonly help: string;
  /** Runs with the arguments after the command's words; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** --name, --region, --profile: the options of every command that reads the live policy. */
export const LIVE_POLICY_OPTIONS = {
  name: { type: 'string', default: DEFAULT_POLICY_PARAMETER_NAME },
  region: { type: 'string' },
  profile: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const LIVE_POLICY_OPTIONS_HELP = `  --name <parameter>    SSM parameter of the policy (default: ${DEFAULT_POLICY_PARAMETER_NAME}),
                        or its full ARN: read in the ARN's Region (another account's
                        parameter, shared through AWS RAM, is read-only)
  --region <region>     AWS Region (default: the SDK's chain: AWS_REGION, your profile)
  --profile <name>      profile of ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE)`;

/**
 * Parses a command's arguments; `positionals` names the ones it requires, in order (with
 * `variadic`, the last may repeat). The caller has already answered --help.
 */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: O,
  positionals: readonly string[] = [],
  { variadic = false }: { readonly variadic?: boolean } = {},
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's messages go on with advice on "--" that does not fit here: keep the first sentence.
    throw new UsageError((error as Error).message.split('. ')[0] ?? String(error));
  }
  const given = parsed.positionals;
  if (given.length < positionals.length) {
    throw new UsageError(
      `missing ${positionals
        .slice(given.length)
        .map((p) => `<${p}>`)
        .join(' ')}`,
    );
  }
  if (given.length > positionals.length && !variadic) {
    throw new UsageError(`unexpected argument "${given[positionals.length]}"`);
  }
  return parsed;
}

/** The --name value as a parameter (name or full ARN), checked before any AWS call. */
export function policyParameterOption(value: string): PolicyParameter {
  const parsed = parsePolicyParameter(value);
  if ('problem' in parsed) throw new UsageError(`--name: "${value}" ${parsed.problem}`);
  return parsed.parameter;
}

/** True when `--help` or `-h` comes before any `--` terminator. */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** The whole --help text of a command. */
export function helpText(command: Command): string {
  return `Usage: vpce-guard ${command.usage}\n\n${command.summary}\n\n${command.help.trimEnd()}\n`;
}
