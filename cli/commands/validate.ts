import { type Command, parseCommandArgs } from '../command';
import { EXIT_OK } from '../errors';
import { describePolicy, readPolicyFile } from '../policy-file';

export const validate: Command = {
  path: ['policy', 'validate'],
  usage: 'policy validate <file>',
  summary: 'Check a policy file with the guard’s own validator.',
  help: `Prints a one-line summary and exits 0 when the policy is valid; lists every error with
its JSON path and exits 1 when it is not. Needs no AWS access.

Example:
  vpce-guard policy validate policy.json`,
  async run(args, io) {
    const { positionals } = parseCommandArgs(args, {}, ['file']);
    const file = await readPolicyFile(positionals[0]!);
    io.stdout.write(`${file.path}: valid policy (${describePolicy(file.policy)})\n`);
    return EXIT_OK;
  },
};
