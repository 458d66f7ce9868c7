/**
 * `npm run integ`: the integration test on the account and Region of your AWS credentials
 * (docs/integration-test.md). It synthesizes the integ app, deploys the test stack and then
 * its assertions with the project's own `cdk`, prints what AWS sent (the recorders) and what
 * the Reject probe learned, and destroys both stacks, also when the deploy fails.
 *
 *   npm run integ                 # the whole run: about half an hour
 *   npm run integ -- --dry-run    # offline: what the run would create, and nothing else
 *   npm run integ -- --keep       # leave the stacks up to look around; then:
 *   npm run integ -- --destroy    # destroy them
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { INTEG_STACK_NAME } from './integ.vpce-guard';
import { probeRejectLimit, type ProbeOptions, type ProbeReport } from './probe-reject-limit';
import { mentioningAny, readRecorder, redact, type RecordedMessage } from './recorded';
import { compareWithSnapshot, synthIntegApp } from './snapshot';
import { OUTPUTS } from './test-stack';

const ROOT = path.join(__dirname, '..');
const WORK_DIR = path.join(ROOT, '.tmp', 'integ');
const CDK = path.join(ROOT, 'node_modules', '.bin', 'cdk');

/**
 * Two connection requests, each with its Connect notification. A pass requires them: with a
 * CloudTrail trail, the acceptance could come from the CloudTrail event alone, and only the
 * notifications prove that EC2 publishes to the encrypted topic and SNS delivers.
 */
export const EXPECTED_NOTIFICATIONS = 2;
/** Two CreateVpcEndpointServiceConfiguration and two CreateVpcEndpoint events. */
const EXPECTED_CLOUDTRAIL_EVENTS = 4;
/** The alarm an assertion set to ALARM. */
const EXPECTED_ALARMS = 1;

/** Resources billed while they exist, and by what unit (prices: docs/integration-test.md). */
const BILLED: Record<string, string> = {
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 'per load-balancer-hour (and NLCU-hours)',
  'AWS::EC2::VPCEndpoint': 'per endpoint-hour in each Availability Zone',
  'AWS::KMS::Key': 'per key-month, prorated by the hour',
  'AWS::CloudWatch::Alarm': 'per alarm-month, prorated by the hour',
  'AWS::CloudWatch::Dashboard': 'per dashboard-month beyond the 3 free ones',
};

export type StackOutputs = Record<(typeof OUTPUTS)[keyof typeof OUTPUTS], string>;
type Outcome = 'passed' | 'failed';
/** Runs a cdk command on the synthesized assembly. */
export type CdkRunner = (args: string[]) => Promise<Outcome>;

/** How the run went, phase by phase; part of the report. */
export interface RunRecord {
  readonly startedAt: string;
  readonly commit?: string;
  testStack?: Outcome;
  assertions?: Outcome;
  /** Whether the recorder received EXPECTED_NOTIFICATIONS endpoint connection notifications. */
  notifications?: Outcome;
  destroy?: Outcome;
  readonly seconds: Record<string, number>;
}

export interface RunOptions {
  /** The synthesized integ app. */
  readonly assemblyDir: string;
  /** Where the stack outputs and the reports go. */
  readonly workDir: string;
  readonly cdk: CdkRunner;
  /** Leave the stacks up. */
  readonly keep: boolean;
  readonly recordWaitMs: number;
  /** Each receive's long poll. @default 5 */
  readonly recordPollSeconds?: number;
  /** The clients of the run's own calls, in the test's Region. */
  readonly clients?: (region: string) => { sqs: SQSClient; ec2: EC2Client };
  readonly probe?: Pick<ProbeOptions, 'ceiling' | 'pause'>;
  /** Whether the user interrupted the run: the steps left are skipped, but not the destroy. */
  readonly interrupted?: () => boolean;
}

/**
 * Deploys the test stack, then the assertions; reads the recorders and probes Reject when the
 * test stack is up; destroys both stacks whatever happened (unless `keep`); writes the
 * reports. Passed: the assertions passed, the notifications arrived, and the destroy (which
 * runs the guard's cleanup of its notifications) did not fail.
 */
export async function runIntegration(
  options: RunOptions,
): Promise<RunRecord & { passed: boolean }> {
  const { cdk, workDir, interrupted = () => false } = options;
  const outputsFile = path.join(workDir, 'outputs.json');
  fs.mkdirSync(workDir, { recursive: true });
  fs.rmSync(outputsFile, { force: true }); // never the outputs of an earlier run
  const assertionStack = assertionStackId(options.assemblyDir);
  const run: RunRecord = { startedAt: new Date().toISOString(), commit: gitCommit(), seconds: {} };
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      run.seconds[phase] = Math.round((Date.now() - started) / 1000);
    }
  };

  let recorded: { account: string; report: Recorded } | undefined;
  try {
    section(`Deploying the test stack ${INTEG_STACK_NAME}`);
    run.testStack = await timed('testStack', () =>
      cdk([
        'deploy',
        INTEG_STACK_NAME,
        '--require-approval',
        'never',
        '--outputs-file',
        outputsFile,
      ]),
    );
    if (run.testStack === 'passed' && !interrupted()) {
      section(`Deploying the assertions (${assertionStack}): each waits for its state`);
      run.assertions = await timed('assertions', () =>
        cdk(['deploy', assertionStack, '--exclusively', '--require-approval', 'never']),
      );
    }
    const outputs = readOutputs(outputsFile);
    if (outputs && !interrupted()) {
      section('Reading what AWS sent, and probing Reject');
      await timed('record', async () => {
        try {
          recorded = { account: outputs.Account, report: await record(outputs, options) };
          run.notifications =
            recorded.report.notifications.length >= EXPECTED_NOTIFICATIONS ? 'passed' : 'failed';
        } catch (error) {
          // What was recorded is worth less than the destroy that follows.
          console.error(`Could not read what AWS sent: ${(error as Error).message}`);
        }
      });
    }
  } finally {
    if (options.keep) {
      console.log('\n--keep: the stacks stay up. Destroy them with: npm run integ -- --destroy');
    } else {
      run.destroy = await timed('destroy', () => destroy(cdk));
    }
  }
  if (recorded) writeReports(workDir, { run, ...recorded.report }, recorded.account);
  return {
    ...run,
    passed:
      run.assertions === 'passed' && run.notifications === 'passed' && run.destroy !== 'failed',
  };
}

function section(title: string): void {
  console.log(`\n=== ${title}\n`);
}

function gitCommit(): string | undefined {
  const { stdout, status } = spawnSync('git', ['rev-parse', 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return status === 0 ? stdout.trim() : undefined;
}

/**
 * The project's own cdk on the assembly in `assemblyDir`. Not spawnSync: a blocked event loop
 * cannot take Ctrl-C, and tsx would then end this process too, before the destroy.
 */
function projectCdk(assemblyDir: string): CdkRunner {
  return (args) =>
    new Promise((resolve) => {
      spawn(CDK, [...args, '--app', assemblyDir], { cwd: ROOT, stdio: 'inherit' })
        .on('error', () => resolve('failed'))
        .on('exit', (status) => resolve(status === 0 ? 'passed' : 'failed'));
    });
}

async function destroy(cdk: CdkRunner): Promise<Outcome> {
  section('Destroying both stacks');
  const outcome = await cdk(['destroy', '--all', '--force']);
  if (outcome === 'failed') {
    console.error(
      `The destroy failed: run npm run integ -- --destroy again, or delete the stacks ${INTEG_STACK_NAME} and its assertions stack in the CloudFormation console.`,
    );
  }
  return outcome;
}

/** The assertions' stack, as the integ manifest names it. */
function assertionStackId(assemblyDir: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'integ.json'), 'utf8'));
  const [testCase] = Object.values(manifest.testCases) as Array<{ assertionStack: string }>;
  if (!testCase) throw new Error('integ.json has no test case');
  return testCase.assertionStack;
}

function readOutputs(outputsFile: string): StackOutputs | undefined {
  if (!fs.existsSync(outputsFile)) return undefined;
  const all = JSON.parse(fs.readFileSync(outputsFile, 'utf8'));
  return all[INTEG_STACK_NAME] as StackOutputs | undefined;
}

interface Recorded {
  readonly region: string;
  readonly notifications: RecordedMessage[];
  /** What CloudWatch published to the alarm topic for the alarm the assertions set. */
  readonly alarms: RecordedMessage[];
  readonly cloudTrailEvents: RecordedMessage[];
  /** Events of the same calls on other resources of the account, left out. */
  readonly otherCloudTrailEvents: number;
  readonly rejectLimitProbe: ProbeReport | { failed: string };
}

/** What the recorders kept, and what the Reject probe learned. */
async function record(outputs: StackOutputs, options: RunOptions): Promise<Recorded> {
  const region = outputs.Region;
  const { sqs, ec2 } = (options.clients ?? defaultClients)(region);
  const read = (queueUrl: string, expected: number) =>
    readRecorder(sqs, queueUrl, {
      expected,
      waitMs: options.recordWaitMs,
      pollSeconds: options.recordPollSeconds,
    });
  const notifications = await read(outputs.NotificationRecorderUrl, EXPECTED_NOTIFICATIONS);
  console.log(
    `Notifications recorded: ${notifications.length}${notifications.length < EXPECTED_NOTIFICATIONS ? `, expected ${EXPECTED_NOTIFICATIONS}: the notification path is unproven` : ''}`,
  );
  const alarms = await read(outputs.AlarmRecorderUrl, EXPECTED_ALARMS);
  console.log(`Alarm messages recorded: ${alarms.length}`);
  // CloudTrail events reach EventBridge only when the account has a trail. The rule matches
  // every such call in the account and Region: the report keeps the run's own.
  const allCloudTrailEvents = await read(outputs.CloudTrailRecorderUrl, EXPECTED_CLOUDTRAIL_EVENTS);
  const cloudTrailEvents = mentioningAny(allCloudTrailEvents, [
    outputs.VpcId,
    outputs.RejectedServiceId,
    outputs.AcceptedServiceId,
    outputs.RejectedEndpointId,
    outputs.AcceptedEndpointId,
  ]);
  const otherCloudTrailEvents = allCloudTrailEvents.length - cloudTrailEvents.length;
  console.log(
    `CloudTrail events recorded: ${cloudTrailEvents.length} (and ${otherCloudTrailEvents} of other resources, left out)`,
  );
  let rejectLimitProbe: ProbeReport | { failed: string };
  try {
    rejectLimitProbe = await probeRejectLimit(ec2, {
      serviceId: outputs.RejectedServiceId,
      knownEndpointId: outputs.RejectedEndpointId,
      ...options.probe,
    });
    console.log(`Reject probe: ${rejectLimitProbe.conclusion}`);
  } catch (error) {
    rejectLimitProbe = { failed: (error as Error).message };
  }
  return {
    region,
    notifications,
    alarms,
    cloudTrailEvents,
    otherCloudTrailEvents,
    rejectLimitProbe,
  };
}

function defaultClients(region: string) {
  return { sqs: new SQSClient({ region }), ec2: new EC2Client({ region, maxAttempts: 8 }) };
}

/** The raw report (kept here) and the redacted one (to share), printed. */
function writeReports(workDir: string, report: object, account: string): void {
  const raw = path.join(workDir, 'recorded.raw.json');
  const shared = path.join(workDir, 'recorded.json');
  fs.writeFileSync(raw, `${JSON.stringify(report, null, 2)}\n`);
  const redacted = JSON.stringify(redact(report, account), null, 2);
  fs.writeFileSync(shared, `${redacted}\n`);
  section('What AWS sent (redacted)');
  console.log(redacted);
  console.log(
    `\nWritten: ${path.relative(ROOT, shared)} (redacted: read it, then attach it to your report) and ${path.relative(ROOT, raw)} (as received: keep it to yourself).`,
  );
}

/** What the run would create, from the synthesized templates: nothing is deployed. */
export function dryListing(assemblyDir: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  const lines: string[] = [];
  const stacks = Object.entries(
    manifest.artifacts as Record<
      string,
      { type: string; displayName?: string; properties: { templateFile: string } }
    >,
  ).filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack');
  for (const [id, artifact] of stacks) {
    const template = JSON.parse(
      fs.readFileSync(path.join(assemblyDir, artifact.properties.templateFile), 'utf8'),
    );
    const resources = Object.values(template.Resources as Record<string, { Type: string }>);
    const counts = new Map<string, number>();
    for (const { Type } of resources) counts.set(Type, (counts.get(Type) ?? 0) + 1);
    const name = artifact.displayName ?? id;
    lines.push(`Stack ${name}${name === id ? '' : ` (${id})`}: ${resources.length} resources`);
    for (const [type, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
      const billed = BILLED[type];
      lines.push(
        `  ${String(count).padStart(3)}  ${billed ? `${type.padEnd(44)} billed ${billed}` : type}`,
      );
    }
    lines.push('');
  }
  const app = `--app ${path.relative(ROOT, assemblyDir)}`;
  lines.push(
    'With your credentials, the run would then:',
    `  cdk deploy ${INTEG_STACK_NAME} --require-approval never --outputs-file .tmp/integ/outputs.json ${app}`,
    `  cdk deploy ${assertionStackId(assemblyDir)} --exclusively --require-approval never ${app}`,
    '  read the recorder queues (notifications, CloudTrail events, alarms), probe RejectVpcEndpointConnections with made-up endpoint IDs',
    `  cdk destroy --all --force ${app}`,
    '',
    'Dry run: nothing was deployed, and no AWS API was called.',
  );
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'dry-run': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      destroy: { type: 'boolean', default: false },
      'record-wait-minutes': { type: 'string', default: '5' },
    },
  });
  const assemblyDir = path.join(WORK_DIR, 'cdk.out');
  fs.rmSync(assemblyDir, { recursive: true, force: true });
  section('Synthesizing the integ app');
  synthIntegApp(assemblyDir, { bundle: true });
  const cdk = projectCdk(assemblyDir);

  if (values['dry-run']) {
    console.log(dryListing(assemblyDir));
    return 0;
  }
  if (values.destroy) return (await destroy(cdk)) === 'passed' ? 0 : 1;
  if (compareWithSnapshot(assemblyDir).length > 0) {
    console.warn(
      'Note: the integ app differs from its committed snapshot (npm test shows how); this run tests the app as it is now.',
    );
  }

  // Ctrl-C stops the cdk command in progress (it gets the signal too); the destroy still
  // runs. npm may return to the prompt at once: the destroy's output follows.
  let interrupted = false;
  process.on('SIGINT', () => {
    interrupted = true;
  });
  const run = await runIntegration({
    assemblyDir,
    workDir: WORK_DIR,
    cdk,
    keep: values.keep,
    recordWaitMs: Number(values['record-wait-minutes']) * 60_000,
    interrupted: () => interrupted,
  });
  section('Result');
  console.log(
    run.passed
      ? 'PASS: EC2 notified the topic; the guard accepted on the hint, rejected after the first edit, revoked after the second, wired a service, and removed its notification with the stack; an alarm reached the alarm topic.'
      : `FAIL: see the output above.${run.notifications === 'failed' ? ` The recorder received fewer than ${EXPECTED_NOTIFICATIONS} endpoint connection notifications: the notification path is unproven.` : ''}`,
  );
  console.log(JSON.stringify(run, null, 2));
  return run.passed ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (status) => process.exit(status),
    (error: Error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
