import { parsePolicy } from '../../core/policy';
import { withAwsClients } from '../aws';
import {
  type Command,
  LIVE_POLICY_OPTIONS,
  LIVE_POLICY_OPTIONS_HELP,
  parseCommandArgs,
  policyParameterOption,
} from '../command';
import { EXIT_OK, formatProblem } from '../errors';
import { invalidPolicy } from '../policy-file';
import { missingParameter, readPolicyParameter } from '../policy-parameter';

export const pull: Command = {
  path: ['policy', 'pull'],
  usage: 'policy pull [--name <parameter>] [--region <r>] [--profile <p>]',
  summary: 'Print the live policy from SSM Parameter Store.',
  help: `Prints the parameter's value as stored, so that "pull > policy.json", an edit and a push
round-trip. A live policy that is not valid is printed all the same, with its errors on
stderr: the guard is then acting on its last valid policy, or on nothing.

Options:
${LIVE_POLICY_OPTIONS_HELP}

Example:
  vpce-guard policy pull --profile prod > policy.json`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, LIVE_POLICY_OPTIONS);
    const parameter = policyParameterOption(values.name);
    const live = await withAwsClients(io.aws, values, ({ ssm }) =>
      readPolicyParameter(ssm, parameter.id),
    );
    if (!live) throw missingParameter(values.name);
    io.stdout.write(live.text.endsWith('\n') ? live.text : `${live.text}\n`);
    const parsed = parsePolicy(live.text);
    if (!parsed.ok) {
      const problem = invalidPolicy(`version ${live.version} of ${values.name}`, parsed.errors);
      io.stderr.write(formatProblem('warning', problem.message, problem.details));
    }
    return EXIT_OK;
  },
};
