/**
 * A fleet (docs/fleet.md): one app, one stack per environment of `vpce-guard:environments`;
 * the home shares its policy through AWS RAM and forwards its changes, bus to bus, to every
 * other guard, which reads the home's policy by its ARN and admits the forwarded events.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GUARD_ENV } from '../../core/contract';
import { VpceGuard } from '../../lib';
import { addGuardStacks } from '../../lib/fleet-app';
import { type Json, testApp } from './helpers';

const A = '111111111111';
const B = '222222222222';
const HOME = `${A}/eu-west-1`;
const FLEET = `${HOME},${A}/us-east-1,${B}/eu-west-1`;
const POLICY_ARN = `arn:aws:ssm:eu-west-1:${A}:parameter/vpce-guard/policy`;
const PATTERN = {
  source: ['aws.ssm'],
  'detail-type': ['Parameter Store Change'],
  detail: { name: ['/vpce-guard/policy', { prefix: '/vpce-guard/policy/sets/' }] },
};

function fleet(context: Record<string, unknown> = {}) {
  const stacks = addGuardStacks(testApp({ 'vpce-guard:environments': FLEET, ...context }));
  const byName = new Map(stacks.map((s) => [s.stackName, s]));
  const template = (name: string) => Template.fromStack(byName.get(name)!);
  return { stacks, byName, template };
}

/** The guard function's environment variables. */
function guardEnvironment(template: Template): Record<string, Json> {
  const [guard] = Object.values<Json>(template.findResources('AWS::Lambda::Function')).filter(
    (r) => r.Properties.Environment?.Variables?.RETRY_QUEUE_URL,
  );
  return guard.Properties.Environment.Variables;
}

/** The statement of the guard's own policy with this Sid. */
function guardStatement(template: Template, sid: string): Json {
  const policies = Object.values<Json>(template.findResources('AWS::IAM::Policy'));
  return policies
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .find((s: Json) => s.Sid === sid);
}

describe('one app, one stack per environment', () => {
  test('names each stack after its Region and account, in the order listed', () => {
    const { stacks } = fleet();
    expect(stacks.map((s) => [s.stackName, s.account, s.region])).toEqual([
      [`VpceGuard-eu-west-1-${A}`, A, 'eu-west-1'],
      [`VpceGuard-us-east-1-${A}`, A, 'us-east-1'],
      [`VpceGuard-eu-west-1-${B}`, B, 'eu-west-1'],
    ]);
  });

  test('deploys the home first: the others depend on it', () => {
    const { stacks } = fleet({ 'vpce-guard:policyHome': `${B}/eu-west-1` });
    expect(stacks.map((s) => [s.stackName, s.dependencies.map((d) => d.stackName)])).toEqual([
      [`VpceGuard-eu-west-1-${A}`, [`VpceGuard-eu-west-1-${B}`]],
      [`VpceGuard-us-east-1-${A}`, [`VpceGuard-eu-west-1-${B}`]],
      [`VpceGuard-eu-west-1-${B}`, []],
    ]);
  });

  test('takes a JSON list with names of your own', () => {
    const { stacks } = fleet({
      'vpce-guard:environments': [
        { account: A, region: 'eu-west-1', stackName: 'Guard-Prod-Ireland' },
        { account: B, region: 'ap-southeast-2' },
      ],
    });
    expect(stacks.map((s) => s.stackName)).toEqual([
      'Guard-Prod-Ireland',
      `VpceGuard-ap-southeast-2-${B}`,
    ]);
  });

  test('without a list, is the one environment-agnostic stack it always was', () => {
    const stacks = addGuardStacks(testApp());
    expect(stacks.map((s) => s.stackName)).toEqual(['VpceGuard']);
    expect(stacks[0]!.environment).toBe('aws://unknown-account/unknown-region');
    expect(Template.fromStack(stacks[0]!).findResources('AWS::RAM::ResourceShare')).toEqual({});
  });

  test.each([
    [
      'a bad account',
      { 'vpce-guard:environments': '11111111111/eu-west-1' },
      'vpce-guard:environments[0].account: "11111111111" is not a 12-digit account ID',
    ],
    [
      'an unknown-looking Region',
      { 'vpce-guard:environments': `${A}/ireland` },
      'vpce-guard:environments[0].region: "ireland" is not a Region name, such as eu-west-1',
    ],
    [
      'an environment listed twice',
      { 'vpce-guard:environments': `${HOME},${A}/us-east-1,${HOME}` },
      `vpce-guard:environments[2]: ${HOME} is listed twice (first at vpce-guard:environments[0])`,
    ],
    [
      'an entry that is not account/region',
      { 'vpce-guard:environments': `${A}` },
      `vpce-guard:environments[0]: "${A}" is not account/region, such as 111122223333/eu-west-1`,
    ],
    [
      'an unknown field',
      { 'vpce-guard:environments': [{ account: A, region: 'eu-west-1', name: 'x' }] },
      'vpce-guard:environments[0]: unknown field name (the fields are account, region, stackName)',
    ],
    [
      'a stack name CloudFormation refuses',
      { 'vpce-guard:environments': [{ account: A, region: 'eu-west-1', stackName: '1st_guard' }] },
      'vpce-guard:environments[0].stackName: "1st_guard" is not a CloudFormation stack name',
    ],
    [
      'environments in two partitions',
      { 'vpce-guard:environments': `${HOME},${B}/cn-north-1` },
      'vpce-guard:environments: the environments span partitions (aws, aws-cn)',
    ],
    [
      'a home that is not in the list',
      { 'vpce-guard:policyHome': `${B}/us-east-1` },
      `vpce-guard:policyHome: ${B}/us-east-1 is not one of vpce-guard:environments`,
    ],
    [
      'a home without a list',
      { 'vpce-guard:environments': null, 'vpce-guard:policyHome': HOME },
      'vpce-guard:policyHome: there is no vpce-guard:environments to choose the home from',
    ],
    [
      'a policy named by ARN',
      { 'vpce-guard:policyParameterName': POLICY_ARN },
      'vpce-guard:policyParameterName: in a fleet, name the policy by its name',
    ],
    [
      'a forwarding list of its own',
      { 'vpce-guard:forwardPolicyChangesTo': `${B}/us-east-1` },
      'vpce-guard:forwardPolicyChangesTo: in a fleet, the home forwards',
    ],
  ])('refuses %s, naming the key', (_, context, message) => {
    expect(() => fleet(context)).toThrow(message);
  });

  test('passes cdk-nag’s AwsSolutions checks in every stack', () => {
    for (const stack of fleet().stacks) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect([stack.stackName, report.violations]).toEqual([stack.stackName, []]);
    }
  });
});

describe('the home', () => {
  const home = () => fleet().template(`VpceGuard-eu-west-1-${A}`);

  test('creates the policy in the Advanced tier and shares it with the other account', () => {
    const template = home();
    const [create] = Object.values<Json>(
      template.findResources('Custom::VpceGuardPolicyParameter'),
    );
    expect(JSON.stringify(create.Properties.Create)).toContain('\\"Tier\\":\\"Advanced\\"');
    template.resourceCountIs('AWS::RAM::ResourceShare', 1);
    template.hasResourceProperties('AWS::RAM::ResourceShare', {
      Name: `VpceGuard-eu-west-1-${A}-policy`,
      ResourceArns: [POLICY_ARN],
      Principals: [B],
      AllowExternalPrincipals: true,
    });
    expect(guardEnvironment(template)[GUARD_ENV.policyParameterName]).toBe('/vpce-guard/policy');
  });

  test.each([[[]], ['']])(
    'shares with the other accounts when sharePolicyWith is empty (%j): an empty value is the default',
    (empty) => {
      const template = fleet({ 'vpce-guard:sharePolicyWith': empty }).template(
        `VpceGuard-eu-west-1-${A}`,
      );
      template.hasResourceProperties('AWS::RAM::ResourceShare', { Principals: [B] });
    },
  );

  test('an empty forwardPolicyChangesTo or environments list is unset too', () => {
    const { byName } = fleet({ 'vpce-guard:forwardPolicyChangesTo': [] });
    expect(byName.get(`VpceGuard-eu-west-1-${A}`)!.guard.policyForwardingRules).toHaveLength(2);
    const lone = addGuardStacks(testApp({ 'vpce-guard:environments': [] }));
    expect(lone.map((s) => s.stackName)).toEqual(['VpceGuard']);
  });

  test('shares with an organization instead, and then with no one outside it', () => {
    const org = `arn:aws:organizations::${A}:organization/o-a1b2c3d4e5`;
    const template = fleet({ 'vpce-guard:sharePolicyWith': org }).template(
      `VpceGuard-eu-west-1-${A}`,
    );
    template.hasResourceProperties('AWS::RAM::ResourceShare', {
      Principals: [org],
      AllowExternalPrincipals: false,
    });
  });

  test('forwards the policy’s changes to each other guard’s default bus, with a role and the events dead-letter queue', () => {
    const { byName, template } = fleet();
    const stack = byName.get(`VpceGuard-eu-west-1-${A}`)!;
    const t = template(`VpceGuard-eu-west-1-${A}`);
    const forwarding = stack.guard.policyForwardingRules;
    expect(forwarding).toHaveLength(2);
    const dlq = stack.resolve(stack.guard.eventsDeadLetterQueue.queueArn);
    const busArns = [
      `arn:aws:events:us-east-1:${A}:event-bus/default`,
      `arn:aws:events:eu-west-1:${B}:event-bus/default`,
    ];
    forwarding.forEach((rule, i) => {
      const properties =
        t.toJSON().Resources[stack.getLogicalId(rule.node.defaultChild as never)].Properties;
      expect(properties.EventPattern).toEqual(PATTERN);
      expect(properties.Targets).toEqual([
        {
          Id: 'Target0',
          Arn: busArns[i],
          RoleArn: expect.anything(),
          DeadLetterConfig: { Arn: dlq },
        },
      ]);
      // The role may put events on that one bus.
      const roleId = properties.Targets[0].RoleArn['Fn::GetAtt'][0];
      const policies = Object.values<Json>(t.findResources('AWS::IAM::Policy')).filter((p) =>
        p.Properties.Roles.some((r: Json) => r.Ref === roleId),
      );
      expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
        { Effect: 'Allow', Action: 'events:PutEvents', Resource: busArns[i] },
      ]);
    });
    // The same pattern as the home guard's own rule.
    expect(
      t.toJSON().Resources[
        stack.getLogicalId(
          stack.guard.node
            .findAll()
            .find((c) => c.node.id === 'PolicyChangedRule')!
            .node.findChild('Resource') as never,
        )
      ].Properties.EventPattern,
    ).toEqual(PATTERN);
    // EventBridge may send the undeliverable ones to the events dead-letter queue.
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith(
          forwarding.map((rule) =>
            Match.objectLike({
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': stack.resolve(rule.ruleArn) } },
            }),
          ),
        ),
      },
    });
    t.resourceCountIs('AWS::Events::EventBusPolicy', 0);
  });
});

describe('every other guard', () => {
  test.each([
    [`VpceGuard-us-east-1-${A}`, 'in another Region of the home account'],
    [`VpceGuard-eu-west-1-${B}`, 'in another account'],
  ])('%s (%s) reads the home policy by its ARN and creates none', (name) => {
    const template = fleet().template(name);
    expect(guardEnvironment(template)[GUARD_ENV.policyParameterName]).toBe(POLICY_ARN);
    template.resourceCountIs('Custom::VpceGuardPolicyParameter', 0);
    template.resourceCountIs('AWS::RAM::ResourceShare', 0);
    expect(guardStatement(template, 'ReadPolicy')).toEqual({
      Sid: 'ReadPolicy',
      Effect: 'Allow',
      Action: ['ssm:GetParameter', 'ssm:GetParameters'],
      // In IAM's order (minimized policies are sorted).
      Resource: [POLICY_ARN, `${POLICY_ARN}/set-parts/*`, `${POLICY_ARN}/sets/*`],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: PATTERN,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } })],
    });
    const outputs = template.toJSON().Outputs;
    expect(outputs.PolicyParameterName.Value).toBe(POLICY_ARN);
  });

  test('of another account admits the home account’s Parameter Store events on its default bus, and nothing else', () => {
    const { template } = fleet();
    template(`VpceGuard-us-east-1-${A}`).resourceCountIs('AWS::Events::EventBusPolicy', 0);
    const other = template(`VpceGuard-eu-west-1-${B}`);
    other.resourceCountIs('AWS::Events::EventBusPolicy', 1);
    other.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: 'default',
      StatementId: `VpceGuard-eu-west-1-${B}-policy-changes`,
      Statement: {
        Sid: `VpceGuard-eu-west-1-${B}-policy-changes`,
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${A}:root` },
        Action: 'events:PutEvents',
        Resource: `arn:aws:events:eu-west-1:${B}:event-bus/default`,
        Condition: {
          'ForAllValues:StringEquals': { 'events:source': ['aws.ssm'] },
          StringEquals: { 'events:detail-type': 'Parameter Store Change' },
        },
      },
    });
  });
});

test('two guards of one stack that read another account’s policy fail the synth, not the deploy', () => {
  const stack = new Stack(testApp(), 'Reader', { env: { account: B, region: 'eu-west-1' } });
  const reader = (id: string) =>
    new VpceGuard(stack, id, {
      policyParameterName: POLICY_ARN,
      useExistingPolicyParameter: true,
      forwardPolicyChangesTo: [],
    });
  reader('First');
  expect(() => reader('Second')).toThrow(
    'Reader/Second: stack Reader already admits another account’s policy changes (Reader/First/AdmitPolicyChanges): one guard per stack may read a policy of another account',
  );
});

describe('StackSets', () => {
  test('a lone stack’s template reads its assets from the bucket named, in each Region, with no bootstrap check', () => {
    const [stack] = addGuardStacks(
      testApp({
        'vpce-guard:stackSetsAssetBucket': 'acme-vpce-guard-${AWS::Region}',
        'vpce-guard:stackSetsAssetPrefix': 'v1/',
      }),
    );
    const template = Template.fromStack(stack!).toJSON();
    expect(template.Parameters?.BootstrapVersion).toBeUndefined();
    expect(template.Rules).toBeUndefined();
    const functions = Object.values<Json>(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions.filter((f) => f.Properties.Code.S3Bucket)) {
      expect(fn.Properties.Code.S3Bucket).toEqual({ 'Fn::Sub': 'acme-vpce-guard-${AWS::Region}' });
      expect(fn.Properties.Code.S3Key).toMatch(/^v1\/[0-9a-f]{64}\.zip$/);
    }
  });

  test.each([
    [
      { 'vpce-guard:stackSetsAssetBucket': 'Acme_Assets' },
      'vpce-guard:stackSetsAssetBucket: "Acme_Assets" is not an S3 bucket name',
    ],
    [
      { 'vpce-guard:stackSetsAssetPrefix': 'v1/' },
      'vpce-guard:stackSetsAssetPrefix: only with vpce-guard:stackSetsAssetBucket',
    ],
    [
      { 'vpce-guard:stackSetsAssetBucket': 'acme', 'vpce-guard:environments': HOME },
      'vpce-guard:stackSetsAssetBucket: StackSets deploy one environment-agnostic template',
    ],
  ])('refuses %p, naming the key', (context, message) => {
    expect(() => addGuardStacks(testApp(context))).toThrow(message);
  });
});
