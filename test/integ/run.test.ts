/**
 * The integration run's steps, offline: a scripted `cdk` in place of the project's own, and the
 * run's own calls (the recorders, the Reject probe) through the real SDK clients against the
 * local SQS and EC2 fakes. What is checked is the order of the steps, that the stacks are
 * destroyed whatever happened, and what the reports hold.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ReceiveMessageCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createVpcEndpointCall, snsEnvelope } from '../../local-aws/events';
import { FakeEc2 } from '../../local-aws/fakes/ec2';
import { FakeSqs } from '../../local-aws/fakes/sqs';
import { type CdkRunner, type StackOutputs, runIntegration } from '../../integ/run';

const ACCOUNT = '210987654321';
const REGION = 'eu-west-1';
const ASSERTIONS = 'VpceGuardIntegTest/DefaultTest/DeployAssert';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

let ec2: FakeEc2;
let sqs: FakeSqs;
let workDir: string;
let assemblyDir: string;
let outputs: StackOutputs;

beforeEach(async () => {
  [ec2, sqs] = await Promise.all([
    FakeEc2.start({ region: REGION }),
    FakeSqs.start({ region: REGION, accountId: ACCOUNT }),
  ]);
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpce-guard-integ-run-'));
  // The run reads only the integ manifest of the assembly: which stack holds the assertions.
  assemblyDir = path.join(workDir, 'cdk.out');
  fs.mkdirSync(assemblyDir);
  fs.writeFileSync(
    path.join(assemblyDir, 'integ.json'),
    JSON.stringify({
      testCases: { 'VpceGuardIntegTest/DefaultTest': { assertionStack: ASSERTIONS } },
    }),
  );

  const rejectedService = ec2.addService();
  const acceptedService = ec2.addService();
  const rejectedEndpoint = ec2.addConnection({
    serviceId: rejectedService,
    owner: ACCOUNT,
    state: 'rejected',
  });
  const acceptedEndpoint = ec2.addConnection({
    serviceId: acceptedService,
    owner: ACCOUNT,
    state: 'rejected',
  });
  outputs = {
    Account: ACCOUNT,
    Region: REGION,
    VpcId: 'vpc-0aaaabbbbccccdddd',
    RejectedServiceId: rejectedService,
    AcceptedServiceId: acceptedService,
    RejectedEndpointId: rejectedEndpoint,
    AcceptedEndpointId: acceptedEndpoint,
    NotificationRecorderUrl: sqs.createQueue('notifications'),
    CloudTrailRecorderUrl: sqs.createQueue('cloudtrail'),
    AlarmRecorderUrl: sqs.createQueue('alarms'),
    GuardFunctionName: 'VpceGuardInteg-GuardFunctionHandler',
    GuardLogGroupName: 'VpceGuardInteg-GuardFunctionLogs',
    PolicyParameterName: '/vpce-guard-integ/policy',
  };
  const origin = { accountId: ACCOUNT, region: REGION };
  // One Connect notification per consumer endpoint, as EC2 sends them.
  for (const endpoint of [rejectedEndpoint, acceptedEndpoint]) {
    await sqsSend(
      outputs.NotificationRecorderUrl,
      snsEnvelope(`{"endpoint":"${endpoint}"}`, 'n', origin),
    );
  }
  await sqsSend(
    outputs.AlarmRecorderUrl,
    snsEnvelope(
      JSON.stringify({ AlarmName: 'VpceGuardInteg-Guard-FunctionErrors', NewStateValue: 'ALARM' }),
      'a',
      origin,
    ),
  );
  await sqsSend(
    outputs.CloudTrailRecorderUrl,
    JSON.stringify(
      createVpcEndpointCall(
        { serviceName: `com.amazonaws.vpce.${REGION}.${acceptedService}`, vpcId: outputs.VpcId },
        origin,
      ),
    ),
  );
  await sqsSend(
    outputs.CloudTrailRecorderUrl,
    JSON.stringify(
      createVpcEndpointCall(
        { serviceName: `com.amazonaws.vpce.${REGION}.vpce-svc-0000000000000000f` },
        origin,
      ),
    ),
  );
});

afterEach(async () => {
  await Promise.all([ec2.close(), sqs.close()]);
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function sqsSend(queueUrl: string, body: string): Promise<void> {
  const client = new SQSClient({ endpoint: sqs.url, region: REGION, credentials });
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  client.destroy();
}

/** A cdk that answers each command as scripted, writes the outputs a deploy would, and logs. */
function scriptedCdk(outcomes: {
  testStack: 'passed' | 'failed';
  assertions?: 'passed' | 'failed';
}) {
  const commands: string[] = [];
  const cdk: CdkRunner = async (args) => {
    commands.push(args.slice(0, 2).join(' '));
    if (args[0] === 'deploy' && args[1] === 'VpceGuardInteg') {
      if (outcomes.testStack === 'passed') {
        const file = args[args.indexOf('--outputs-file') + 1]!;
        fs.writeFileSync(file, JSON.stringify({ VpceGuardInteg: outputs }));
      }
      return outcomes.testStack;
    }
    if (args[0] === 'deploy') return outcomes.assertions ?? 'failed';
    return 'passed';
  };
  return { cdk, commands };
}

const run = (cdk: CdkRunner, keep = false) =>
  runIntegration({
    assemblyDir,
    workDir,
    cdk,
    keep,
    recordWaitMs: 0,
    recordPollSeconds: 0,
    clients: () => ({
      sqs: new SQSClient({ endpoint: sqs.url, region: REGION, credentials }),
      ec2: new EC2Client({ endpoint: ec2.url, region: REGION, credentials }),
    }),
    probe: { ceiling: 1000, pause: async () => {} },
  });

beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => {});
  jest.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => jest.restoreAllMocks());

describe('an integration run', () => {
  test('passes when the assertions pass: deploys, records, probes, destroys, reports', async () => {
    const { cdk, commands } = scriptedCdk({ testStack: 'passed', assertions: 'passed' });
    const result = await run(cdk);

    expect(commands).toEqual(['deploy VpceGuardInteg', `deploy ${ASSERTIONS}`, 'destroy --all']);
    expect(result).toMatchObject({
      testStack: 'passed',
      assertions: 'passed',
      destroy: 'passed',
      passed: true,
    });

    const shared = fs.readFileSync(path.join(workDir, 'recorded.json'), 'utf8');
    const report = JSON.parse(shared);
    expect(shared).not.toContain(ACCOUNT);
    expect(report.run).toMatchObject({
      testStack: 'passed',
      assertions: 'passed',
      notifications: 'passed',
      destroy: 'passed',
    });
    expect(report.notifications).toHaveLength(2);
    expect(
      report.notifications.map(
        (n: { body: Record<string, unknown> }) => n.body['Message (parsed)'],
      ),
    ).toEqual(
      expect.arrayContaining([
        { endpoint: outputs.RejectedEndpointId },
        { endpoint: outputs.AcceptedEndpointId },
      ]),
    );
    expect(report.alarms).toHaveLength(1);
    expect(report.alarms[0].body['Message (parsed)']).toMatchObject({
      AlarmName: 'VpceGuardInteg-Guard-FunctionErrors',
    });
    // The run's own CloudTrail event is kept; the other resource's is counted.
    expect(report.cloudTrailEvents).toHaveLength(1);
    expect(report.otherCloudTrailEvents).toBe(1);
    expect(report.rejectLimitProbe.conclusion).toBe(
      'EC2 answered 1000 IDs in one call, the most the probe tries: whatever its limit, it is higher.',
    );
    // The raw report keeps the account; it stays on the machine.
    expect(fs.readFileSync(path.join(workDir, 'recorded.raw.json'), 'utf8')).toContain(ACCOUNT);
  });

  test('fails when the notifications did not arrive: the acceptance alone does not prove their path', async () => {
    // A trail's CloudTrail event could have made the acceptance: only one notification came.
    const client = new SQSClient({ endpoint: sqs.url, region: REGION, credentials });
    await client.send(
      new ReceiveMessageCommand({
        QueueUrl: outputs.NotificationRecorderUrl,
        VisibilityTimeout: 3600,
      }),
    );
    client.destroy();
    const { cdk, commands } = scriptedCdk({ testStack: 'passed', assertions: 'passed' });
    const result = await run(cdk);
    expect(commands).toEqual(['deploy VpceGuardInteg', `deploy ${ASSERTIONS}`, 'destroy --all']);
    expect(result).toMatchObject({
      assertions: 'passed',
      notifications: 'failed',
      destroy: 'passed',
      passed: false,
    });
    const report = JSON.parse(fs.readFileSync(path.join(workDir, 'recorded.json'), 'utf8'));
    expect(report.notifications).toHaveLength(1);
  });

  test('fails, still records and destroys, when an assertion fails', async () => {
    const { cdk, commands } = scriptedCdk({ testStack: 'passed', assertions: 'failed' });
    const result = await run(cdk);
    expect(commands).toEqual(['deploy VpceGuardInteg', `deploy ${ASSERTIONS}`, 'destroy --all']);
    expect(result).toMatchObject({ assertions: 'failed', destroy: 'passed', passed: false });
    expect(fs.existsSync(path.join(workDir, 'recorded.json'))).toBe(true);
  });

  test('destroys without deploying the assertions when the test stack fails', async () => {
    const { cdk, commands } = scriptedCdk({ testStack: 'failed' });
    const result = await run(cdk);
    expect(commands).toEqual(['deploy VpceGuardInteg', 'destroy --all']);
    expect(result).toMatchObject({ testStack: 'failed', destroy: 'passed', passed: false });
    expect(result.assertions).toBeUndefined();
    expect(fs.existsSync(path.join(workDir, 'recorded.json'))).toBe(false);
  });

  test('never reads the outputs of an earlier run', async () => {
    fs.writeFileSync(
      path.join(workDir, 'outputs.json'),
      JSON.stringify({ VpceGuardInteg: outputs }),
    );
    const { cdk } = scriptedCdk({ testStack: 'failed' });
    await run(cdk);
    expect(fs.existsSync(path.join(workDir, 'recorded.json'))).toBe(false);
  });

  test('leaves the stacks up with keep', async () => {
    const { cdk, commands } = scriptedCdk({ testStack: 'passed', assertions: 'passed' });
    const result = await run(cdk, true);
    expect(commands).toEqual(['deploy VpceGuardInteg', `deploy ${ASSERTIONS}`]);
    expect(result.destroy).toBeUndefined();
  });
});
