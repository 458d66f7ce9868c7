/**
 * The integration test, offline: its app synthesizes, matches the committed snapshot
 * (integ/integ.vpce-guard.ts.snapshot/, rewritten by `npm run integ:update`), and its
 * assertions run in the order and within the bound the docs state. No AWS account, no network.
 */
import * as fs from 'fs';
import * as path from 'path';
import { dryListing } from '../../integ/run';
import {
  compareWithSnapshot,
  mismatchReport,
  synthIntegApp,
  tempOutdir,
} from '../../integ/snapshot';

let assembly: string;
beforeAll(() => {
  assembly = synthIntegApp(tempOutdir(), { bundle: false });
});
afterAll(() => fs.rmSync(assembly, { recursive: true, force: true }));

/** A copy of the synthesized assembly, `edit` applied to each of its templates. */
function editedCopy(edit: (template: Json, file: string) => void): string {
  const copy = tempOutdir();
  fs.cpSync(assembly, copy, { recursive: true });
  for (const file of fs.readdirSync(copy).filter((f) => f.endsWith('.template.json'))) {
    const target = path.join(copy, file);
    const template = JSON.parse(fs.readFileSync(target, 'utf8'));
    edit(template, file);
    fs.writeFileSync(target, JSON.stringify(template, null, 1));
  }
  return copy;
}

const json = (file: string) => JSON.parse(fs.readFileSync(path.join(assembly, file), 'utf8'));
const integManifest = () => json('integ.json');
const assertionTemplate = () =>
  json(
    `${integManifest().testCases['VpceGuardIntegTest/DefaultTest'].assertionStackName}.template.json`,
  );
const TEST_STACK_TEMPLATE = 'VpceGuardInteg.template.json';

describe('the integ app and its snapshot', () => {
  test('the app matches the committed snapshot', () => {
    const mismatches = compareWithSnapshot(assembly);
    if (mismatches.length > 0) throw new Error(mismatchReport(mismatches));
  });

  test('a change shows as a diff of the normalised template, with the command that updates it', () => {
    const snapshot = editedCopy((template, file) => {
      if (file !== TEST_STACK_TEMPLATE) return;
      const schedule = Object.values(template.Resources as Record<string, Resource>).find(
        (r) => r.Properties?.ScheduleExpression,
      );
      schedule!.Properties.ScheduleExpression = 'rate(10 minutes)';
    });
    const mismatches = compareWithSnapshot(assembly, snapshot);
    expect(mismatches.map((m) => m.file)).toEqual([TEST_STACK_TEMPLATE]);
    expect(mismatches[0]?.diff).toContain('-        "ScheduleExpression": "rate(10 minutes)"');
    expect(mismatches[0]?.diff).toContain('+        "ScheduleExpression": "rate(1 hour)"');
    expect(mismatchReport(mismatches)).toContain('run `npm run integ:update`');
    fs.rmSync(snapshot, { recursive: true, force: true });
  });

  test('asset hashes, the bootstrap check, CDK metadata and the assertions’ salt are not changes', () => {
    const snapshot = editedCopy((template) => {
      const text = JSON.stringify(template.Resources)
        .replace(/[0-9a-f]{64}/g, 'f'.repeat(64))
        .replace(/"salt":"\d+"/g, '"salt":"1"');
      template.Resources = JSON.parse(text);
      template.Resources.CDKMetadata = {
        Type: 'AWS::CDK::Metadata',
        Properties: { Analytics: 'v2:x' },
      };
      delete template.Parameters;
      delete template.Rules;
    });
    expect(compareWithSnapshot(assembly, snapshot)).toEqual([]);
    fs.rmSync(snapshot, { recursive: true, force: true });
  });

  test('a missing snapshot fails every file', () => {
    const empty = tempOutdir();
    expect(compareWithSnapshot(assembly, path.join(empty, 'none')).map((m) => m.file)).toEqual(
      fs
        .readdirSync(assembly)
        .filter((f) => f.endsWith('.template.json') || f === 'integ.json')
        .sort(),
    );
    fs.rmSync(empty, { recursive: true, force: true });
  });
});

describe('the assertions', () => {
  test('wait, each for at most 5 minutes, polling every 15 seconds', () => {
    const machines = Object.values(
      assertionTemplate().Resources as Record<string, Resource>,
    ).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    // Five connection states, the notification gone and back, the alarm's message.
    expect(machines).toHaveLength(8);
    for (const machine of machines) {
      const definition = JSON.stringify(machine.Properties.DefinitionString);
      expect(definition).toContain('\\"IntervalSeconds\\":15');
      expect(definition).toContain('\\"MaxAttempts\\":20');
    }
  });

  test('run one after the other: accept, deny, revoke, each edit once the state before it is seen; then wiring and an alarm', () => {
    const resources = assertionTemplate().Resources as Record<string, Resource>;
    const calls = Object.keys(resources).filter((id) =>
      resources[id]!.Type.startsWith('Custom::DeployAssert@SdkCall'),
    );
    const after = (id: string) => calls.find((c) => resources[c]!.DependsOn?.includes(id));
    const order = [calls.find((c) => !calls.some((d) => resources[c]!.DependsOn?.includes(d)))!];
    for (let next = after(order[0]!); next; next = after(next)) order.push(next);

    /** The test stack's outputs a value reads, by the construct path CDK names them after. */
    const outputs = (value: unknown) =>
      [...JSON.stringify(value).matchAll(/"OutputName":"PublishOutputRef(\w+?)[0-9A-F]{16}"/g)]
        .map((m) => m[1])
        .join(',');
    const step = (id: string) => {
      const { api, expected, parameters } = resources[id]!.Properties;
      const side = JSON.stringify(parameters.Filters ?? '').includes('AcceptedService')
        ? 'accepted'
        : 'rejected';
      switch (api) {
        case 'putParameter':
          return `policy: ${JSON.parse(JSON.parse(parameters.Value)).description}`;
        case 'describeVpcEndpointConnections':
          return `${side} ${JSON.parse(expected).$StringLike}`;
        case 'deleteVpcEndpointConnectionNotifications':
          return `delete ${outputs(parameters.ConnectionNotificationIds)}: ${expected}`;
        case 'describeVpcEndpointConnectionNotifications':
          return `notifications of ${outputs(parameters.Filters)}: ${expected}`;
        case 'invoke':
          return `invoke ${outputs(parameters.FunctionName)} ${parameters.InvocationType} ${JSON.parse(parameters.Payload)}`;
        case 'setAlarmState':
          return `alarm ${JSON.parse(parameters.AlarmName)} ${JSON.parse(parameters.StateValue)}`;
        case 'receiveMessage':
          return `alarm recorder ${expected}`;
        default:
          return `unexpected ${api}`;
      }
    };
    expect(order.map(step)).toEqual([
      'accepted ^[aA]vailable$',
      'rejected ^[pP]endingAcceptance$',
      'policy: vpce-guard integration test: reject what is pending',
      'rejected ^[rR]ejected$',
      'accepted ^[aA]vailable$',
      'policy: vpce-guard integration test: revoke',
      'accepted ^[rR]ejected$',
      'delete GuardTriggersConnectionNotification0: {"$ObjectLike":{"Unsuccessful":[]}}',
      'notifications of RejectedService,GuardTopicsNotificationTopic: {"$ObjectLike":{"ConnectionNotificationSet":[]}}',
      'invoke GuardFunctionHandler "Event" {"reconcile":"all"}',
      'notifications of RejectedService,GuardTopicsNotificationTopic: {"$StringLike":"^Connect$"}',
      'alarm VpceGuardInteg-Guard-FunctionErrors ALARM',
      'alarm recorder {"$StringLike":"VpceGuardInteg-Guard-FunctionErrors"}',
    ]);
  });

  test('run after the test stack, in a stack of their own that integ-runner would not pre-deploy', () => {
    expect(integManifest().testCases['VpceGuardIntegTest/DefaultTest']).toMatchObject({
      stacks: ['VpceGuardInteg'],
      stackUpdateWorkflow: false,
    });
  });
});

describe('the dry run', () => {
  test('lists what the run would create, the billed resources marked, and calls nothing', () => {
    const listing = dryListing(assembly);
    expect(listing).toMatch(/^Stack VpceGuardInteg: \d+ resources$/m);
    expect(listing).toMatch(
      /^ +2 {2}AWS::ElasticLoadBalancingV2::LoadBalancer +billed per load-balancer-hour/m,
    );
    expect(listing).toMatch(/^ +2 {2}AWS::EC2::VPCEndpoint +billed per endpoint-hour/m);
    expect(listing).not.toMatch(/NatGateway/);
    expect(listing).toContain('cdk destroy --all --force');
    expect(listing).toContain('Dry run: nothing was deployed, and no AWS API was called.');
  });
});

describe('the test stack', () => {
  test('creates the consumer endpoints after the guard’s notifications and the recorders', () => {
    const resources = json(TEST_STACK_TEMPLATE).Resources as Record<string, Resource>;
    const idsOf = (type: string) =>
      Object.keys(resources).filter((id) => resources[id]!.Type === type);
    const endpoints = idsOf('AWS::EC2::VPCEndpoint');
    expect(endpoints).toHaveLength(2);
    for (const endpoint of endpoints) {
      const dependsOn = resources[endpoint]!.DependsOn ?? [];
      expect(dependsOn).toEqual(
        expect.arrayContaining([
          ...idsOf('AWS::EC2::VPCEndpointConnectionNotification'),
          ...idsOf('AWS::SNS::Subscription'),
          ...idsOf('AWS::Lambda::EventSourceMapping'),
        ]),
      );
    }
  });

  test('has the rejected service’s notification, the one the assertions delete, and an alarm recorder', () => {
    const resources = json(TEST_STACK_TEMPLATE).Resources as Record<string, Resource>;
    const [id, notification] = Object.entries(resources).find(([key]) =>
      key.startsWith('GuardTriggersConnectionNotification0'),
    )!;
    expect(notification.Properties.ServiceId).toEqual({
      Ref: expect.stringMatching(/^RejectedService[0-9A-F]{8}$/),
    });
    expect(id).toMatch(/^GuardTriggersConnectionNotification0[0-9A-F]{8}$/);
    const subscriptions = Object.values(resources).filter(
      (r) => r.Type === 'AWS::SNS::Subscription',
    );
    expect(
      subscriptions.map((r) => JSON.stringify([r.Properties.TopicArn, r.Properties.Endpoint])),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/GuardTopicsAlarmTopic.*AlarmRecorder/),
        expect.stringMatching(/GuardTopicsNotificationTopic.*NotificationRecorder/),
      ]),
    );
  });

  test('leaves nothing behind: every resource is deleted with the stack', () => {
    for (const file of [TEST_STACK_TEMPLATE, `${assertionTemplateName()}.template.json`]) {
      const kept = Object.entries(json(file).Resources as Record<string, Resource>).filter(
        ([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate',
      );
      expect(kept.map(([id]) => `${file}: ${id}`)).toEqual([]);
    }
  });
});

function assertionTemplateName(): string {
  return integManifest().testCases['VpceGuardIntegTest/DefaultTest'].assertionStackName;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Resource {
  readonly Type: string;
  readonly DependsOn?: string[];
  readonly DeletionPolicy?: string;
  readonly Properties: Record<string, Json>;
}
