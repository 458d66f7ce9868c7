import { SERVICE_A, SERVICE_B, synthStack } from './helpers';

describe('configuration through cdk.json context', () => {
  test('accepts the strings that `cdk -c key=value` passes', () => {
    const { guard, template } = synthStack({
      'vpce-guard:protectedServiceIds': `${SERVICE_A}, ${SERVICE_B}`,
      'vpce-guard:reconcileSchedule': '10',
      'vpce-guard:tracing': 'true',
      'vpce-guard:alarmEmail': 'netops@example.com',
    });
    template.resourceCountIs('AWS::EC2::VPCEndpointConnectionNotification', 2);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email' });
    expect(guard.policyParameterName).toBe('/vpce-guard/policy');
  });

  test('reads an existing parameter and its key', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { guard, template } = synthStack({
      'vpce-guard:initialPolicyFile': null,
      'vpce-guard:useExistingPolicyParameter': true,
      'vpce-guard:policyParameterName': '/platform/vpce-policy',
      'vpce-guard:policyParameterKeyArn': keyArn,
    });
    expect(guard.policyParameterName).toBe('/platform/vpce-policy');
    expect(JSON.stringify(template.toJSON())).toContain(keyArn);
  });

  test.each([
    [
      'vpce-guard:rejectBatchSize',
      'ten',
      'vpce-guard:rejectBatchSize: "ten" is not a whole number',
    ],
    ['vpce-guard:maxAttempts', 2.5, 'vpce-guard:maxAttempts: 2.5 is not a whole number'],
    ['vpce-guard:tracing', 'yes', 'vpce-guard:tracing: "yes" is not true or false'],
    [
      'vpce-guard:protectedServiceIds',
      [1],
      'vpce-guard:protectedServiceIds: [1] is not a list of strings',
    ],
    ['vpce-guard:alarmEmail', 42, 'vpce-guard:alarmEmail: 42 is not a string'],
    ['vpce-guard:runbookBaseUrl', 42, 'vpce-guard:runbookBaseUrl: 42 is not a string'],
    [
      'vpce-guard:logRetentionDays',
      10,
      'vpce-guard:logRetentionDays: 10 is not a retention CloudWatch Logs offers',
    ],
  ])('refuses %s = %p, naming the key', (key, value, message) => {
    expect(() => synthStack({ [key]: value })).toThrow(message);
  });

  test('refuses an unknown key, so a typo cannot silently leave a default in place', () => {
    expect(() => synthStack({ 'vpce-guard:maxAttempt': 3 })).toThrow(
      /^Unknown context key vpce-guard:maxAttempt; the keys are vpce-guard:protectedServiceIds, /,
    );
  });

  test('reports a value out of range under the option’s name', () => {
    expect(() => synthStack({ 'vpce-guard:rejectBatchSize': 0 })).toThrow(
      'rejectBatchSize: 0 is not a whole number from 1 to 1000',
    );
    expect(() =>
      synthStack({ 'vpce-guard:runbookBaseUrl': 'http://wiki.example.com/runbook' }),
    ).toThrow('runbookBaseUrl: "http://wiki.example.com/runbook" is not an https URL');
  });

  test('links the alarms to the runbook at runbookBaseUrl', () => {
    const { template } = synthStack({
      'vpce-guard:runbookBaseUrl': 'https://wiki.example.com/netops/vpce-guard-runbook',
    });
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
      (r) => r.Properties.AlarmName === 'VpceGuard-Guard-PolicyInvalid',
    );
    expect(JSON.stringify(alarm?.Properties.AlarmDescription)).toMatch(
      / Runbook: https:\/\/wiki\.example\.com\/netops\/vpce-guard-runbook#policy-invalid"/,
    );
  });
});
