import * as fs from 'fs';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { VpceGuard } from '../../lib';
import {
  EXAMPLE_POLICY,
  fixture,
  guardInStack,
  synthStack,
  tempFile,
  testApp,
  type Json,
} from './helpers';

const CUSTOM_RESOURCE = 'Custom::VpceGuardPolicyParameter';

/** The SDK calls of the policy custom resource, decoded. */
function sdkCalls(template: ReturnType<typeof synthStack>['template']) {
  const resources = template.findResources(CUSTOM_RESOURCE);
  const [properties] = Object.values(resources).map((r) => r.Properties);
  return {
    create: JSON.parse(properties.Create),
    update: properties.Update === undefined ? undefined : JSON.parse(properties.Update),
    delete: properties.Delete,
  };
}

describe('the policy parameter created from the initial policy file', () => {
  const { template } = synthStack();
  const calls = sdkCalls(template);

  test('is written by PutParameter with Overwrite false, the file as value, Standard tier', () => {
    expect(calls.create).toEqual({
      service: 'SSM',
      action: 'putParameter',
      parameters: {
        Name: '/vpce-guard/policy',
        Value: fs.readFileSync(EXAMPLE_POLICY, 'utf8').trim(),
        Type: 'String',
        Tier: 'Standard',
        Overwrite: false,
        Description: expect.stringContaining('never overwrite'),
      },
      physicalResourceId: { id: '/vpce-guard/policy' },
      ignoreErrorCodesMatching: '^ParameterAlreadyExists$',
    });
  });

  test('makes the same create-if-missing call on update, so a renamed parameter is created, and none on delete', () => {
    expect(calls.update).toEqual(calls.create);
    expect(calls.delete).toBeUndefined();
  });

  test('gives the custom resource a role that IAM forbids to overwrite: Deny PutParameter when ssm:Overwrite is true', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: 'ssm:PutParameter', Resource: Match.anyValue() },
          {
            Effect: 'Deny',
            Action: 'ssm:PutParameter',
            Resource: Match.anyValue(),
            Condition: { StringEquals: { 'ssm:Overwrite': 'true' } },
          },
        ],
      },
    });
  });

  test('is not an AWS::SSM::Parameter, which CloudFormation would rewrite when the file changes', () => {
    template.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  test('changing the file changes only the value of the create-if-missing call: nothing else could write', () => {
    const edited = synthStack({ 'vpce-guard:initialPolicyFile': fixture('policy-enforce.json') });
    const before = template.toJSON().Resources;
    const after = edited.template.toJSON().Resources;
    const changed = Object.keys(after).filter(
      (id) => JSON.stringify(after[id]) !== JSON.stringify(before[id]),
    );
    expect(changed.map((id) => after[id].Type)).toEqual([CUSTOM_RESOURCE]);

    const editedCalls = sdkCalls(edited.template);
    for (const call of [editedCalls.create, editedCalls.update]) {
      expect(call.parameters.Overwrite).toBe(false);
      expect(call.parameters.Value).toBe(
        fs.readFileSync(fixture('policy-enforce.json'), 'utf8').trim(),
      );
    }
  });

  test('is created before the guard function, so the first sweep finds a policy', () => {
    const { stack, guard, template: t } = synthStack();
    const functionId = stack.getLogicalId(guard.guardFunction.node.defaultChild as never);
    const [customResourceId] = Object.keys(t.findResources(CUSTOM_RESOURCE));
    expect(t.toJSON().Resources[functionId].DependsOn).toContain(customResourceId);
  });
});

describe('two guards in one stack', () => {
  test('make one log group for the one provider function that creates both parameters', () => {
    const stack = new Stack(testApp(), 'Shared');
    new VpceGuard(stack, 'Production', { initialPolicyFile: EXAMPLE_POLICY });
    new VpceGuard(stack, 'Partners', {
      initialPolicyFile: EXAMPLE_POLICY,
      policyParameterName: '/vpce-guard/partners',
    });
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
    const used = new Set(
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map((r) => r.Properties.LoggingConfig?.LogGroup?.Ref),
    );
    const logGroups = Object.keys(resources).filter(
      (id) => resources[id].Type === 'AWS::Logs::LogGroup',
    );
    // Every log group is some function's: none is created to stay empty.
    expect(logGroups.filter((id) => !used.has(id))).toEqual([]);
    expect(Object.values(resources).filter((r) => r.Type === CUSTOM_RESOURCE)).toHaveLength(2);
  });
});

describe('the tier of the created parameter', () => {
  /** A valid policy of exactly `bytes` bytes: JSON ignores the spaces inside the object. */
  const policyOfSize = (bytes: number) => {
    const body = '"version": 1, "defaultAction": "reject", "rules": []}';
    return '{' + ' '.repeat(bytes - body.length - 1) + body;
  };
  const tierFor = (bytes: number) =>
    sdkCalls(
      guardInStack({ initialPolicyFile: tempFile('policy.json', policyOfSize(bytes)) }).template,
    ).create.parameters.Tier;

  test('is Standard up to 4 KB and Advanced above, up to 8 KB', () => {
    expect(tierFor(4096)).toBe('Standard');
    expect(tierFor(4097)).toBe('Advanced');
    expect(tierFor(8192)).toBe('Advanced');
  });

  test('a file saved with a byte-order mark is read, and stored without the mark', () => {
    const policy = '{"version": 1, "defaultAction": "reject", "rules": []}';
    const file = tempFile('policy.json', `\uFEFF${policy}\n`);
    expect(
      sdkCalls(guardInStack({ initialPolicyFile: file }).template).create.parameters.Value,
    ).toBe(policy);
  });

  test('fails synth for a policy larger than an Advanced parameter holds', () => {
    const file = tempFile('policy.json', policyOfSize(8193));
    expect(() => guardInStack({ initialPolicyFile: file })).toThrow(
      `initialPolicyFile: ${file} is 8193 bytes; an SSM parameter holds at most 8192 (Advanced tier)`,
    );
  });
});

describe('an invalid initial policy file', () => {
  test('fails synth with the JSON path and the reason of each error', () => {
    const file = fixture('policy-invalid-principal.json');
    expect(() => synthStack({ 'vpce-guard:initialPolicyFile': file })).toThrow(
      `initialPolicyFile: ${file} is not a valid vpce-guard policy:\n` +
        'rules[0].principals[0]: "12345" is not a 12-digit account ID or account root ARN',
    );
  });

  test('that is not JSON fails synth with the line and column', () => {
    const file = tempFile('policy.json', '{\n  "version": 1,\n}');
    expect(() => guardInStack({ initialPolicyFile: file })).toThrow(
      /\(root\): not valid JSON at line 3, column 1/,
    );
  });

  test('that does not exist fails synth naming the file', () => {
    expect(() => guardInStack({ initialPolicyFile: '/nonexistent/policy.json' })).toThrow(
      /^initialPolicyFile: cannot read \/nonexistent\/policy.json: ENOENT/,
    );
  });
});

describe('an existing policy parameter', () => {
  const { template } = guardInStack({
    useExistingPolicyParameter: true,
    policyParameterName: '/platform/vpce-policy',
  });

  test('is never written: no custom resource and no PutParameter anywhere', () => {
    template.resourceCountIs(CUSTOM_RESOURCE, 0);
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/PutParameter/i);
  });

  test('is what the guard reads and what the policy-change rule watches', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ POLICY_PARAMETER_NAME: '/platform/vpce-policy' }),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { name: ['/platform/vpce-policy', { prefix: '/platform/vpce-policy/sets/' }] },
      }),
    });
  });
});
