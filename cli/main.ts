/**
 * The `vpce-guard` operator CLI: finds the command in argv, answers --help, runs it, and
 * turns every error into one line on stderr and an exit code (0 ok, 1 failure, 2 usage).
 */
import { type Command, helpText, wantsHelp } from './command';
import { explain } from './commands/explain';
import { pull } from './commands/pull';
import { push } from './commands/push';
import { reconcile } from './commands/reconcile';
import { SETS_COMMANDS } from './commands/sets';
import { status } from './commands/status';
import { validate } from './commands/validate';
import {
  CliError,
  describeError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  formatProblem,
  UsageError,
} from './errors';
import type { CliIo } from './io';

export const COMMANDS: readonly Command[] = [
  validate,
  explain,
  pull,
  push,
  ...SETS_COMMANDS,
  status,
  reconcile,
];

/** The words that group commands: `vpce-guard policy …`, `vpce-guard sets …`. */
const GROUPS = ['policy', 'sets'];

/** Runs one command line (the arguments after `vpce-guard`); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const command = COMMANDS.find((c) => c.path.every((word, i) => argv[i] === word));
  if (!command) return answerWithoutCommand(argv, io);
  const args = argv.slice(command.path.length);
  if (wantsHelp(args)) {
    io.stdout.write(helpText(command));
    return EXIT_OK;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    return reportError(error, command, io);
  }
}

/** No command matched: help for the whole CLI or for a group, or a usage error. */
function answerWithoutCommand(argv: readonly string[], io: CliIo): number {
  const group = GROUPS.find((g) => g === argv[0]);
  const rest = group ? argv.slice(1) : argv;
  const listed = COMMANDS.filter((c) => !group || c.path[0] === group);
  if (rest.length > 0 && wantsHelp([rest[0]!])) {
    io.stdout.write(overview(listed));
    return EXIT_OK;
  }
  const problem =
    rest.length === 0
      ? `${group ? `${group} needs` : 'missing'} a command`
      : `unknown command "${[group, rest[0]].filter(Boolean).join(' ')}"`;
  io.stderr.write(`error: ${problem} (see vpce-guard ${group ? `${group} ` : ''}--help)\n`);
  return EXIT_USAGE;
}

function overview(commands: readonly Command[]): string {
  const lines = commands.map((c) => `  vpce-guard ${c.usage}\n      ${c.summary}`);
  return `Usage: vpce-guard <command> [options]

Operate vpce-guard: check and explain policies, push them to SSM Parameter Store, see and
reconcile the endpoint connections of your services. AWS credentials and Region come from
the standard chain, or --profile and --region.

Commands:
${lines.join('\n')}

Run "vpce-guard <command> --help" for a command's options.
Exit codes: 0 ok, 1 invalid policy or failure, 2 usage error.
`;
}

function reportError(error: unknown, command: Command, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr.write(`error: ${error.message} (see vpce-guard ${command.path.join(' ')} --help)\n`);
    return EXIT_USAGE;
  }
  if (error instanceof CliError) {
    io.stderr.write(formatProblem('error', error.message, error.details));
    return EXIT_FAILURE;
  }
  io.stderr.write(formatProblem('error', describeError(error)));
  return EXIT_FAILURE;
}
