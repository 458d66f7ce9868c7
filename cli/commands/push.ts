import { withAwsClients, type AwsClients } from '../aws';
import {
  type Command,
  LIVE_POLICY_OPTIONS,
  LIVE_POLICY_OPTIONS_HELP,
  parseCommandArgs,
  policyParameterOption,
} from '../command';
import { confirmed } from '../confirm';
import { unifiedDiff } from '../diff';
import { CliError, EXIT_FAILURE, EXIT_OK } from '../errors';
import type { CliIo } from '../io';
import { type PolicyFile, readPolicyFile } from '../policy-file';
import {
  chooseTier,
  ensureWritable,
  type LiveParameter,
  type ParameterWrite,
  type ParameterStorage,
  readParameterStorage,
  readPolicyParameter,
  resolvePrincipalSets,
  writePolicyParameter,
} from '../policy-parameter';
import { styleFor } from '../style';
import type { PolicyParameter } from '../../core/policy-parameter';

export const push: Command = {
  path: ['policy', 'push'],
  usage: 'policy push <file> [--name <parameter>] [--yes] [--region <r>] [--profile <p>]',
  summary: 'Validate a policy file, show its diff against the live policy, and write it to SSM.',
  help: `An invalid policy is never pushed: its errors are listed with their JSON paths (exit 1); nor
is one that names a principal set missing or invalid in Parameter Store (push the set first).
Otherwise the unified diff against the live policy is shown and, on a terminal, you are
asked to confirm; without a terminal, pass --yes (else exit 2). The parameter is overwritten in the
smallest tier that holds the file (Standard up to 4096 bytes, Advanced up to 8192; an
Advanced parameter stays Advanced), keeping its type and KMS key. The guard applies the
new policy within seconds (Parameter Store Change).

Options:
  -y, --yes             push without asking (for scripts and CI)
${LIVE_POLICY_OPTIONS_HELP}

Example:
  vpce-guard policy push policy.json --profile prod`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        ...LIVE_POLICY_OPTIONS,
        yes: { type: 'boolean', short: 'y', default: false },
      },
      ['file'],
    );
    // Everything that needs no AWS call comes first: an invalid or oversized file stops here.
    const parameter = policyParameterOption(values.name);
    const file = await readPolicyFile(positionals[0]!);
    chooseTier(Buffer.byteLength(file.text)); // throws when no tier holds it
    return withAwsClients(io.aws, values, (aws) =>
      pushPolicy(io, aws, file, parameter, values.yes),
    );
  },
};

/**
 * Reads by the parameter's name or ARN; writes by name, in the client's Region (the ARN's):
 * SSM writes a parameter only in its own account, never through an ARN, so an ARN must be
 * this account's own (ensureWritable), before any diff is shown.
 */
async function pushPolicy(
  io: CliIo,
  aws: AwsClients,
  file: PolicyFile,
  parameter: PolicyParameter,
  yes: boolean,
): Promise<number> {
  const { name } = parameter;
  const checked = await ensureWritable(aws.ssm, parameter);
  const live = await readPolicyParameter(aws.ssm, parameter.id);
  if (live?.text === file.text) {
    io.stdout.write(`No change: ${name} (version ${live.version}) already holds ${file.path}.\n`);
    return EXIT_OK;
  }
  // The guard would not use a policy whose sets it cannot load: refuse it here.
  await resolvePrincipalSets(aws.ssm, parameter, file.policy, file.path);
  // The tier and key, read already when the policy is named by its ARN.
  const storage = checked ?? (live ? await readParameterStorage(aws.ssm, name) : undefined);
  const write = plannedWrite(file, name, live, storage);
  const region = await aws.ssm.config.region(); // the parameter's: an ARN's may differ from EC2's

  io.stdout.write(
    `${unifiedDiff(
      {
        label: live ? `${name} (live, version ${live.version})` : `${name} (does not exist yet)`,
        text: live?.text ?? '',
      },
      { label: file.path, text: file.text },
      styleFor(io.stdout, io.env),
    )}\n`,
  );
  const plan = `${live ? 'Overwrite' : 'Create'} ${name} in ${region}: ${write.type}, ${write.tier} tier, ${Buffer.byteLength(write.text)} bytes`;
  io.stdout.write(`${plan}.\n`);

  if (!yes) {
    if (!(await confirmed(io, yes, 'Push this policy?', 'push'))) return EXIT_FAILURE;
    // Someone may have pushed while the diff was read: the diff would then be a lie.
    const now = await readPolicyParameter(aws.ssm, parameter.id);
    if (now?.version !== live?.version) {
      throw new CliError(
        `not pushed: ${name} changed while you were reviewing (version ${live?.version ?? 'none'} → ${now?.version ?? 'deleted'}); run push again to see the new diff`,
      );
    }
  }
  const written = await writePolicyParameter(aws.ssm, write);
  io.stdout.write(
    `Pushed ${file.path} to ${name}: version ${written.version}, ${written.tier} tier. The guard applies it within seconds.\n`,
  );
  return EXIT_OK;
}

/** Type, tier and key: the live parameter's own, except a tier too small for the new text. */
function plannedWrite(
  file: PolicyFile,
  name: string,
  live: LiveParameter | undefined,
  storage: ParameterStorage | undefined,
): ParameterWrite {
  return {
    name,
    text: file.text,
    type: live?.type ?? 'String',
    tier: chooseTier(Buffer.byteLength(file.text), storage?.tier),
    ...(storage?.keyId ? { keyId: storage.keyId } : {}),
  };
}
