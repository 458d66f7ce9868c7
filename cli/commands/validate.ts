import { principalSetNames } from '../../core/policy';
import { type Command, parseCommandArgs } from '../command';
import { EXIT_OK } from '../errors';
import { describePolicy, readPolicyFile } from '../policy-file';
import { readSetFiles, SET_FILES_HELP, setFilesOption } from '../set-files';
import { policySizeLine, setSizeLine } from '../sizes';

export const validate: Command = {
  path: ['policy', 'validate'],
  usage: 'policy validate <file> [--set <name>=<file>]…',
  summary: 'Check a policy file with the guard’s own validator, and its size against SSM’s tiers.',
  help: `Prints a summary and exits 0 when the policy is valid and an SSM parameter can hold it;
lists every error with its JSON path, or says how far over SSM's limits the policy is, and
exits 1 when not. The size is checked as SSM checks it: the Standard tier holds 4,096 bytes,
the Advanced tier 8,192. For each principal set given with --set, prints its accounts and the
parts it takes in each tier. Needs no AWS access.

Options:
${SET_FILES_HELP}

Example:
  vpce-guard policy validate policy.json --set gold-customers=gold.txt`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      { set: { type: 'string', multiple: true } },
      ['file'],
    );
    const files = setFilesOption(values.set);
    const file = await readPolicyFile(positionals[0]!);
    const sizes = [policySizeLine(file.path, file.text)]; // throws when no tier holds it
    const sets = await readSetFiles(files, file.policy);
    for (const name of principalSetNames(file.policy)) {
      const accounts = sets.get(name);
      sizes.push(
        accounts
          ? setSizeLine(name, accounts, io.now())
          : `set ${name}: not checked (give --set ${name}=<file>; vpce-guard sets list shows the live sets)`,
      );
    }
    io.stdout.write(
      `${file.path}: valid policy (${describePolicy(file.policy)})\n${sizes.map((s) => `  ${s}`).join('\n')}\n`,
    );
    return EXIT_OK;
  },
};
