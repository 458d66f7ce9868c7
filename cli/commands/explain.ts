import { decide } from '../../core/policy';
import { isAccountId } from '../../core/ids';
import { type Command, parseCommandArgs } from '../command';
import { EXIT_OK, UsageError } from '../errors';
import { readPolicyFile } from '../policy-file';
import { checkServiceId } from '../services';

const STATES = ['pendingAcceptance', 'available'];

export const explain: Command = {
  path: ['policy', 'explain'],
  usage:
    'policy explain <file> --account <id> --service <vpce-svc-…> [--region <r>] [--state <s>] [--json]',
  summary: 'Show what a policy decides for one account’s connection request, and why.',
  help: `The same decision the guard makes (decide() of the Lambda), with its reason and the rule
that matched. Needs no AWS access.

Options:
  --account <id>        the consumer's 12-digit account ID (required)
  --service <id>        the endpoint service, vpce-svc-… (required)
  --region <region>     the consumer's Region (default: AWS_REGION or AWS_DEFAULT_REGION,
                        that is a consumer in your own Region)
  --state <state>       pendingAcceptance (default) or available (matters with "revoke")
  --json                one JSON object, for scripts

Example:
  vpce-guard policy explain policy.json --account 111122223333 --service vpce-svc-0123456789abcdef0`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        account: { type: 'string' },
        service: { type: 'string' },
        region: { type: 'string' },
        state: { type: 'string', default: 'pendingAcceptance' },
        json: { type: 'boolean', default: false },
      },
      ['file'],
    );
    const request = requestFrom(values, io.env);
    const { policy } = await readPolicyFile(positionals[0]!);
    const decision = decide(
      policy,
      {
        serviceId: request.service,
        endpointId: '(any)', // decide() never reads it
        owner: request.account,
        state: request.state,
        region: request.region,
      },
      io.now(),
    );

    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ...decision, mode: policy.mode, ...request })}\n`);
      return EXIT_OK;
    }
    const dryRun = policy.mode === 'dryRun' ? ' (mode dryRun: the guard only logs it)' : '';
    io.stdout.write(
      [
        `Decision: ${decision.action}${dryRun}`,
        `Rule:     ${decision.rule}`,
        `Reason:   ${decision.reason}`,
        `For:      a ${request.state} connection from ${request.account} in ${request.region} to ${request.service}`,
      ].join('\n') + '\n',
    );
    return EXIT_OK;
  },
};

interface Request {
  readonly account: string;
  readonly service: string;
  readonly region: string;
  readonly state: string;
}

/** The request to explain, checked: every problem is a usage error, found before the file is read. */
function requestFrom(
  values: { account?: string; service?: string; region?: string; state: string },
  env: NodeJS.ProcessEnv,
): Request {
  const account = required(values.account, '--account');
  if (!isAccountId(account)) {
    throw new UsageError(`--account: "${account}" is not a 12-digit account ID`);
  }
  const service = checkServiceId(required(values.service, '--service'));
  if (!STATES.includes(values.state)) {
    throw new UsageError(`--state: "${values.state}" is not one of ${STATES.join(', ')}`);
  }
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new UsageError('--region is required when AWS_REGION is not set (the consumer’s Region)');
  }
  return { account, service, region, state: values.state };
}

function required(value: string | undefined, option: string): string {
  if (value === undefined) throw new UsageError(`${option} is required`);
  return value;
}
