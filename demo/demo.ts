/**
 * `npm run demo`: vpce-guard at work with no AWS account. Local fakes of EC2, SSM, SQS,
 * EventBridge and DynamoDB speak the real wire protocols; the guard runs as deployed (its
 * esbuild bundle, in a child process like a Lambda container) and is driven through its real
 * triggers: a connection notification, a policy edit pushed with the CLI, and a scheduled
 * sweep. After each step the demo shows the decision events the guard put on the bus.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderGuardEnvironment } from '../core/contract';
import { ANNOUNCEMENT_TABLE, type DecisionEventDetail } from '../core/decision-event';
import type { GuardSummary, SqsResponse } from '../lambda/guard';
import { styleFor, type Style } from '../cli/style';
import type { Output } from '../cli/io';
import { type AwsFakes, startAwsFakes } from '../local-aws/fakes';
import { buildGuardBundle } from '../local-aws/bundle';
import { runCli } from '../local-aws/cli';
import { LocalLambda } from '../local-aws/local-lambda';
import { connectNotification, parameterStoreChange, scheduledEvent } from './events';
import { type DecisionRow, decisionRows, decisionTable, eventsTable, summaryLine } from './report';
import {
  CONSUMERS,
  editedPolicy,
  FIRST_REQUESTS,
  initialPolicy,
  POLICY_PARAMETER,
  PROVIDER_ACCOUNT,
  REGION,
  type Request,
  UNNOTIFIED_REQUESTS,
} from './scenario';

export interface DemoStep {
  readonly title: string;
  readonly rows: readonly DecisionRow[];
  /** The guard's answer: a summary, or the SQS batch response for the hint queue. */
  readonly summary: GuardSummary | SqsResponse;
  /** The decision events the guard put on the default bus during the step. */
  readonly events: readonly DecisionEventDetail[];
}

/** The table that remembers which one-time events (kept pending) were announced. */
const ANNOUNCEMENT_TABLE_NAME = 'vpce-guard-announcements';

/** What every step of one run works with. */
interface Stage {
  readonly fakes: AwsFakes;
  readonly guard: LocalLambda;
  readonly serviceId: string;
  readonly workDir: string;
  readonly out: Output;
  readonly style: Style;
}

export async function runDemo(
  out: Output,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DemoStep[]> {
  const style = styleFor(out, env);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpce-guard-demo-'));
  const fakes = await startAwsFakes({ region: REGION, accountId: PROVIDER_ACCOUNT });
  let guard: LocalLambda | undefined;
  try {
    out.write(style.dim('Building the guard bundle and starting local AWS fakes…\n'));
    const serviceId = fakes.ec2.addService();
    fakes.ssm.setParameter(POLICY_PARAMETER, policyText(initialPolicy(serviceId)));
    fakes.dynamoDb.createTable(ANNOUNCEMENT_TABLE_NAME, ANNOUNCEMENT_TABLE.partitionKey);
    guard = await LocalLambda.start(await buildGuardBundle(workDir), {
      // As the stack deploys it (core/contract.ts), pointed at the fakes.
      ...renderGuardEnvironment({
        policyParameterName: POLICY_PARAMETER,
        retryQueueUrl: fakes.sqs.createQueue('vpce-guard-retry'),
        protectedServiceIds: [serviceId],
        announcementTableName: ANNOUNCEMENT_TABLE_NAME,
      }),
      ...fakes.env(),
      // No CloudWatch here: the demo reads the guard's log lines, not its metrics.
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const stage: Stage = { fakes, guard, serviceId, workDir, out, style };
    out.write(
      `\nEndpoint service ${style.bold(serviceId)} in ${REGION}, policy in SSM ${POLICY_PARAMETER}: ` +
        'acme is accepted, globex waits for a human, mallory is denied, anyone else waits.\n',
    );
    const steps = [
      await notificationStep(stage),
      await policyEditStep(stage),
      await sweepStep(stage),
    ];
    out.write(
      style.dim(
        '\nEvery row above is the guard’s own log line of its decision and the fake EC2’s state after it.\n' +
          'Next: npm run cli -- --help\n',
      ),
    );
    return steps;
  } finally {
    await guard?.close();
    await fakes.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

async function notificationStep(stage: Stage): Promise<DemoStep> {
  const [mallory] = seed(stage, FIRST_REQUESTS).filter((r) => r.consumer === 'mallory');
  heading(
    stage,
    1,
    'A consumer asks to connect: SNS notification (Connect), through the hint queue',
  );
  stage.out.write(
    `Four accounts have asked to connect. The notification names mallory's endpoint ${mallory!.endpointId};\n` +
      'the guard re-reads every pending connection of the service from EC2 and settles them all.\n',
  );
  return invoke(stage, 'notification', connectNotification(stage.serviceId, mallory!.endpointId));
}

async function policyEditStep(stage: Stage): Promise<DemoStep> {
  heading(
    stage,
    2,
    'An operator edits the policy: vpce-guard policy push, then Parameter Store Change',
  );
  const file = path.join(stage.workDir, 'policy.json');
  fs.writeFileSync(file, policyText(editedPolicy(stage.serviceId)));
  const argv = ['policy', 'push', file, '--yes'];
  const push = await runCli(argv, stage.fakes);
  if (push.code !== 0) throw new Error(`policy push failed: ${push.stderr}`);
  stage.out.write(`${stage.style.dim(`$ vpce-guard ${argv.join(' ')}`)}\n${indent(push.stdout)}\n`);
  stage.out.write(
    'SSM emits Parameter Store Change; the guard drops its cached policy and sweeps at once.\n',
  );
  return invoke(stage, 'policy edit', parameterStoreChange());
}

async function sweepStep(stage: Stage): Promise<DemoStep> {
  seed(stage, UNNOTIFIED_REQUESTS);
  heading(stage, 3, 'Notifications were lost: the scheduled sweep');
  stage.out.write(
    'Three more requests arrived with no notification (umbrella; acme from a Region its rule does not\n' +
      'allow; globex again). The schedule fires and the sweep finds them.\n',
  );
  return invoke(stage, 'sweep', scheduledEvent());
}

/** Adds the requests as pending connections; returns each with its new endpoint ID. */
function seed(stage: Stage, requests: readonly Request[]) {
  return requests.map((request) => ({
    ...request,
    endpointId: stage.fakes.ec2.addConnection({
      serviceId: stage.serviceId,
      owner: CONSUMERS[request.consumer],
      ...(request.region ? { region: request.region } : {}),
    }),
  }));
}

/** One invocation of the bundled guard, and its table from the guard's logs of it. */
async function invoke(stage: Stage, title: string, event: unknown): Promise<DemoStep> {
  const firstLog = stage.guard.logs.length;
  const firstEvent = stage.fakes.eventBridge.allEvents.length;
  const invocation = await stage.guard.invoke(event);
  if (invocation.error) {
    throw new Error(`the guard failed: ${invocation.error.name}: ${invocation.error.message}`);
  }
  const summary = invocation.result as GuardSummary | SqsResponse;
  const rows = decisionRows(stage.guard.logs.slice(firstLog), stage.fakes.ec2);
  const events = stage.fakes.eventBridge.allEvents
    .slice(firstEvent)
    .map((e) => e.detail as DecisionEventDetail);
  stage.out.write(`\n${decisionTable(rows)}${stage.style.dim(summaryLine(summary))}\n`);
  stage.out.write(`\n${eventsTable(events)}`);
  return { title, rows, summary, events };
}

function heading(stage: Stage, step: number, text: string): void {
  stage.out.write(`\n${stage.style.bold(stage.style.cyan(`Step ${step} · ${text}`))}\n`);
}

function policyText(policy: object): string {
  return `${JSON.stringify(policy, null, 2)}\n`;
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}
