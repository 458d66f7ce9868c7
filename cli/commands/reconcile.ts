import { DEFAULTS } from '../../core/contract';
import type { Policy } from '../../core/policy';
import { mutatingLimiters } from '../../core/rate-limiter';
import {
  reconcileService,
  type ServiceReport,
  summarise,
  sweepServices,
} from '../../core/reconcile';
import { type AwsClients, withAwsClients } from '../aws';
import { type Command, parseCommandArgs } from '../command';
import { CliError, describeError, EXIT_FAILURE, EXIT_OK, formatProblem } from '../errors';
import type { CliIo } from '../io';
import { describePolicy } from '../policy-file';
import { readLivePolicy } from '../policy-parameter';
import { SweepProgress } from '../progress';
import { failureLines, outcomeTable, summaryTable } from '../reconcile-report';
import {
  resolveTargets,
  SERVICES_OPTIONS,
  SERVICES_OPTIONS_HELP,
  serviceIdsOption,
} from '../services';

export const reconcile: Command = {
  path: ['reconcile'],
  usage:
    'reconcile [--service <id>]… [--dry-run] [--name <parameter>] [--region <r>] [--profile <p>]',
  summary: 'Run the guard’s reconcile from your machine: decide and act on pending connections.',
  help: `Reads the live policy (an invalid one stops here, exit 1), then reads every pending
connection from EC2 (one read for all services, or one per --service), decides, and rejects
or accepts in batches, exactly as the guard's Lambda does. Failures are reported (exit 1),
not queued for retry.

Options:
  --dry-run             call EC2 with DryRun=true: proves the permissions, changes nothing
${SERVICES_OPTIONS_HELP}

Example:
  vpce-guard reconcile --dry-run --profile prod`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      ...SERVICES_OPTIONS,
      'dry-run': { type: 'boolean', default: false },
    });
    const named = serviceIdsOption(values.service);
    return withAwsClients(io.aws, values, async (aws) => {
      const live = await readLivePolicy(aws.ssm, values.name);
      const policy: Policy = values['dry-run'] ? { ...live.policy, mode: 'dryRun' } : live.policy;
      io.stdout.write(`Policy: ${live.label} (${describePolicy(policy)})\n`);
      const reports = await reconcileAll(io, aws, policy, named);
      return report(io, reports, policy.mode === 'dryRun');
    });
  },
};

async function reconcileAll(
  io: CliIo,
  aws: AwsClients,
  policy: Policy,
  named: readonly string[],
): Promise<ServiceReport[]> {
  const { serviceIds, homeRegion } = await resolveTargets(aws, named, io.stdout);
  const progress = new SweepProgress(io.stderr, serviceIds.length);
  const context = {
    ec2: aws.ec2,
    policy,
    homeRegion,
    batchSize: DEFAULTS.rejectBatchSize,
    now: io.now,
    // The guard's own limiters: EC2's buckets are per account and Region, shared with it.
    limiters: mutatingLimiters(),
    onPage: () => progress.pageRead(),
  };
  if (named.length === 0) {
    // Every service: one read of the account, as the guard's sweep does.
    progress.startSweep();
    let reports: ServiceReport[];
    try {
      reports = await sweepServices(context, serviceIds);
    } catch (error) {
      throw new CliError('could not read the connections: nothing was decided', [
        describeError(error),
      ]);
    }
    return serviceIds.map(
      (serviceId) =>
        reports.find((r) => r.serviceId === serviceId) ?? {
          serviceId,
          mode: policy.mode,
          outcomes: [],
          failures: [],
        },
    );
  }
  const reports: ServiceReport[] = [];
  for (const serviceId of serviceIds) {
    progress.startService(serviceId);
    reports.push(await reconcileService(context, { serviceId }));
  }
  return reports;
}

function report(io: CliIo, reports: readonly ServiceReport[], dryRun: boolean): number {
  for (const { serviceId, outcomes } of reports) {
    const acted = outcomes.filter((o) => o.decision.action !== 'skip');
    if (acted.length === 0) {
      io.stdout.write(`\n${serviceId}: no pending connections\n`);
      continue;
    }
    io.stdout.write(`\n${serviceId}: ${acted.length} evaluated\n${outcomeTable(acted)}`);
  }
  io.stdout.write(`\nSummary${dryRun ? ' (dry run: nothing was changed)' : ''}\n`);
  io.stdout.write(summaryTable(summarise(reports)));

  const failures = failureLines(reports.flatMap((r) => r.failures));
  if (failures.length === 0) return EXIT_OK;
  const count = failures.length === 1 ? '1 failure' : `${failures.length} failures`;
  io.stderr.write(
    formatProblem('error', `${count} (not retried; the guard's next sweep tries again):`, failures),
  );
  return EXIT_FAILURE;
}
