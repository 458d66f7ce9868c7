import { DEFAULTS } from '../../core/contract';
import type { Policy } from '../../core/policy';
import { mutatingLimiters } from '../../core/rate-limiter';
import {
  reconcileService,
  type ServiceReport,
  summarise,
  sweepServices,
} from '../../core/reconcile';
import type { AwsClients } from '../aws';
import { type Command, parseCommandArgs } from '../command';
import { CliError, describeError, EXIT_FAILURE, EXIT_OK, formatProblem } from '../errors';
import {
  type EnvironmentLabel,
  environmentFailures,
  FLEET_OPTIONS,
  FLEET_OPTIONS_HELP,
  fleetTargets,
  inEveryEnvironment,
  withPolicyClients,
} from '../fleet';
import type { CliIo, Output } from '../io';
import { describePolicy } from '../policy-file';
import { readLivePolicy } from '../policy-parameter';
import { SweepProgress } from '../progress';
import {
  failureLines,
  fleetOutcomeTable,
  fleetSummaryTable,
  outcomeTable,
  summaryTable,
} from '../reconcile-report';
import { resolveTargets, serviceIdsOption } from '../services';

export const reconcile: Command = {
  path: ['reconcile'],
  usage:
    'reconcile [--service <id>]… [--dry-run] [--name <parameter>] [--region <r>]… [--profile <p>]… [--fleet <cdk.json>]',
  summary: 'Run the guard’s reconcile from your machine: decide and act on pending connections.',
  help: `Reads the live policy (an invalid one stops here, exit 1), then reads every pending
connection from EC2 (one read for all services, or one per --service), decides, and rejects
or accepts in batches, exactly as the guard's Lambda does. Failures are reported (exit 1),
not queued for retry.

Several environments (several --region or --profile, or --fleet) are reconciled one after
the other with the policy read once (the fleet's home's), into one table of outcomes and one
summary, with ACCOUNT and REGION columns; an environment that fails is reported (exit 1) and
the others still run.

Options:
  --dry-run             call EC2 with DryRun=true: proves the permissions, changes nothing
${FLEET_OPTIONS_HELP}

Example:
  vpce-guard reconcile --dry-run --profile prod
  vpce-guard reconcile --dry-run --region eu-west-1,us-east-1 --profile prod`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      ...FLEET_OPTIONS,
      'dry-run': { type: 'boolean', default: false },
    });
    const named = serviceIdsOption(values.service);
    const plan = fleetTargets(values);
    // Read once, in the policy's environment, and printed; --dry-run decides without acting.
    const readPolicy = async (aws: AwsClients): Promise<Policy> => {
      const live = await readLivePolicy(aws.ssm, plan.policy.name);
      const policy: Policy = values['dry-run'] ? { ...live.policy, mode: 'dryRun' } : live.policy;
      io.stdout.write(`Policy: ${live.label} (${describePolicy(policy)})\n`);
      return policy;
    };
    if (plan.fleet) {
      const policy = await withPolicyClients(io, plan.policy, readPolicy);
      const results = await inEveryEnvironment(io, plan.targets, (aws) =>
        reconcileAll(io, aws, policy, named, { write: () => true }),
      );
      return fleetReport(io, results, policy.mode === 'dryRun');
    }
    return withPolicyClients(io, plan.policy, async (aws) => {
      const policy = await readPolicy(aws);
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
  notes: Output = io.stdout,
): Promise<ServiceReport[]> {
  const { serviceIds, homeRegion } = await resolveTargets(aws, named, notes);
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

/** Several environments: one table of outcomes, a summary row each, and every failure. */
function fleetReport(
  io: CliIo,
  results: readonly (EnvironmentLabel &
    ({ readonly result: readonly ServiceReport[] } | { readonly error: string }))[],
  dryRun: boolean,
): number {
  const done = results.flatMap((r) => ('result' in r ? [{ ...r, reports: r.result }] : []));
  const outcomes = done.flatMap((r) =>
    r.reports.flatMap((report) =>
      report.outcomes
        .filter((o) => o.decision.action !== 'skip')
        .map((outcome) => ({ at: r as EnvironmentLabel, serviceId: report.serviceId, outcome })),
    ),
  );
  io.stdout.write(
    outcomes.length > 0 ? `\n${fleetOutcomeTable(outcomes)}` : '\nNo pending connections.\n',
  );
  io.stdout.write(`\nSummary${dryRun ? ' (dry run: nothing was changed)' : ''}\n`);
  io.stdout.write(
    fleetSummaryTable(
      done.map((r) => ({ at: r as EnvironmentLabel, summary: summarise(r.reports) })),
    ),
  );

  const failures = [
    ...environmentFailures(results),
    ...done.flatMap((r) =>
      failureLines(r.reports.flatMap((report) => report.failures)).map(
        (line) => `${r.account} ${r.region}: ${line}`,
      ),
    ),
  ];
  if (failures.length === 0) return EXIT_OK;
  const count = failures.length === 1 ? '1 failure' : `${failures.length} failures`;
  io.stderr.write(
    formatProblem('error', `${count} (not retried; the guards' next sweeps try again):`, failures),
  );
  return EXIT_FAILURE;
}
