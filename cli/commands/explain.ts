import type { SSMClient } from '@aws-sdk/client-ssm';
import { isAccountId } from '../../core/ids';
import {
  decide,
  formatPolicyErrors,
  type Policy,
  principalSetReferences,
  withPrincipalSets,
} from '../../core/policy';
import { loadNamedSets } from '../../core/policy-load';
import { DEFAULT_POLICY_PARAMETER_NAME } from '../../core/policy-parameter';
import { withAwsClients } from '../aws';
import { type Command, parseCommandArgs, policyParameterOption } from '../command';
import {
  AWS_DEFAULT_REGION_IGNORED,
  CliError,
  EXIT_OK,
  REGION_MISSING,
  UsageError,
} from '../errors';
import type { CliIo } from '../io';
import { readPolicyFile } from '../policy-file';
import { readSetFiles, SET_FILES_HELP, setFilesOption } from '../set-files';
import { checkServiceId } from '../services';

const STATES = ['pendingAcceptance', 'available'];

export const explain: Command = {
  path: ['policy', 'explain'],
  usage:
    'policy explain <file> --account <id> --service <vpce-svc-…> [--region <r>] [--state <s>] [--set <name>=<file>]… [--json]',
  summary: 'Show what a policy decides for one account’s connection request, and why.',
  help: `The same decision the guard makes (decide() of the Lambda), with its reason and the rule
that matched. Needs no AWS access, unless the policy names principal sets not given with
--set: those are read from Parameter Store, beside --name (the SDK's Region, or the ARN's).

Options:
  --account <id>        the consumer's 12-digit account ID (required)
  --service <id>        the endpoint service, vpce-svc-… (required)
  --region <region>     the consumer's Region (default: AWS_REGION or AWS_DEFAULT_REGION,
                        that is a consumer in your own Region)
  --state <state>       pendingAcceptance (default) or available (matters with "revoke")
${SET_FILES_HELP}
  --name <parameter>    the policy parameter whose sets to read (default: ${DEFAULT_POLICY_PARAMETER_NAME}),
                        or its full ARN
  --profile <name>      the AWS profile to read the sets with
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
        set: { type: 'string', multiple: true },
        name: { type: 'string', default: DEFAULT_POLICY_PARAMETER_NAME },
        profile: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      ['file'],
    );
    const request = requestFrom(values, io.env);
    const files = setFilesOption(values.set);
    policyParameterOption(values.name); // a usage error, found before the file is read
    const file = await readPolicyFile(positionals[0]!);
    const policy = await withSets(io, file.policy, files, values);
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

/**
 * The policy with its principal sets: those given with --set from their files, the others
 * from Parameter Store beside --name.
 */
async function withSets(
  io: CliIo,
  policy: Policy,
  files: ReadonlyMap<string, string>,
  options: { readonly name: string; readonly profile?: string },
): Promise<Policy> {
  // First, so that a --set the policy does not name is refused, as policy validate refuses it.
  const fromFiles = await readSetFiles(files, policy);
  const references = principalSetReferences(policy);
  if (references.size === 0) return policy;
  const sets = new Map<string, ReadonlySet<string>>(
    [...fromFiles].map(([name, accounts]) => [name, new Set(accounts)]),
  );
  const live = new Map([...references].filter(([name]) => !sets.has(name)));
  if (live.size > 0) {
    const parameter = policyParameterOption(options.name);
    // Not --region: that is the consumer's Region here.
    const load = await withAwsClients(
      io.aws,
      { ...(options.profile ? { profile: options.profile } : {}), name: options.name },
      async ({ ssm }) => {
        await setsRegion(ssm);
        return loadNamedSets(ssm, parameter, live);
      },
    );
    if ('problem' in load) {
      throw new CliError(
        `the principal sets of the policy cannot be read from ${parameter.name} (give them with --set <name>=<file>)`,
        formatPolicyErrors(load.problem.errors).split('\n'),
      );
    }
    for (const set of load.sets) sets.set(set.name, set.accounts);
  }
  return withPrincipalSets(policy, sets);
}

/**
 * The SSM client's Region, before the sets are read: the SDK's own error would send the user
 * to --region, which here is the consumer's Region and never reaches the SDK.
 */
async function setsRegion(ssm: SSMClient): Promise<void> {
  try {
    await ssm.config.region();
  } catch (error) {
    if ((error as Error).message !== REGION_MISSING) throw error;
    throw new CliError(
      `no AWS Region to read the principal sets from Parameter Store (--region is the consumer’s here): set AWS_REGION (${AWS_DEFAULT_REGION_IGNORED}) or a region in your AWS profile, name the policy by its ARN with --name, or give the sets with --set <name>=<file>`,
    );
  }
}
