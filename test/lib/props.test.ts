import { Duration, type Stack, aws_ec2 as ec2, aws_kms as kms } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { VpceGuard, type VpceGuardProps } from '../../lib';
import { EXAMPLE_POLICY, SERVICE_A, guardInStack } from './helpers';

const created = { initialPolicyFile: EXAMPLE_POLICY };
/** Reserved concurrency must cover both event sources' maximum concurrency and the direct triggers. */
const reservedConcurrencyError = (value: number) =>
  `reservedConcurrency: ${value} is not a whole number of at least 5: the hint and retry queues' maximum concurrency (2 + 2) plus 1 for the schedule and policy-change invocations (less would throttle hints and retries toward their dead-letter queues)`;

describe('VpceGuard props', () => {
  test.each<[string, VpceGuardProps, string]>([
    [
      'an initial policy with an existing parameter',
      { useExistingPolicyParameter: true, initialPolicyFile: EXAMPLE_POLICY },
      'initialPolicyFile cannot be used with useExistingPolicyParameter: the stack never writes an existing parameter, so the initial policy would be ignored',
    ],
    [
      'neither an initial policy nor an existing parameter',
      {},
      'initialPolicyFile is required unless useExistingPolicyParameter is true: the stack creates the policy parameter from it',
    ],
    [
      'a policy key for a parameter the stack creates',
      { ...created, policyParameterKey: 'key' as unknown as kms.IKey },
      'policyParameterKey requires useExistingPolicyParameter: the parameter the stack creates is a String',
    ],
    [
      'a malformed service ID',
      { ...created, protectedServiceIds: ['vpce-svc-XYZ'] },
      'protectedServiceIds: "vpce-svc-XYZ" is not an endpoint service ID (vpce-svc- and 8 to 17 hex digits)',
    ],
    [
      'a service listed twice',
      { ...created, protectedServiceIds: [SERVICE_A, SERVICE_A] },
      `protectedServiceIds: "${SERVICE_A}" is listed twice`,
    ],
    [
      'a parameter name that is not a path',
      { ...created, policyParameterName: 'vpce-guard/policy' },
      'policyParameterName: "vpce-guard/policy" is not an SSM parameter name (letters, digits, "_", ".", "-"; a path such as /vpce-guard/policy starts with "/")',
    ],
    [
      'a parameter name SSM reserves',
      { ...created, policyParameterName: '/aws/policy' },
      'policyParameterName: "/aws/policy" starts with "aws" or "ssm", which SSM reserves',
    ],
    [
      'a schedule of part of a minute',
      { ...created, reconcileSchedule: Duration.seconds(90) },
      'reconcileSchedule: 1 minute 30 seconds is not a whole number of minutes from 1 to 1440',
    ],
    [
      'a schedule over a day',
      { ...created, reconcileSchedule: Duration.days(2) },
      'reconcileSchedule: 2 days is not a whole number of minutes from 1 to 1440',
    ],
    [
      'a batch size of 0',
      { ...created, rejectBatchSize: 0 },
      'rejectBatchSize: 0 is not a whole number from 1 to 1000',
    ],
    [
      'a fractional maximum of attempts',
      { ...created, maxAttempts: 2.5 },
      'maxAttempts: 2.5 is not a whole number from 1 to 100',
    ],
    [
      'a cache of over an hour',
      { ...created, policyCacheSeconds: 3601 },
      'policyCacheSeconds: 3601 is not a whole number from 0 to 3600',
    ],
    [
      'a reserved concurrency below what the event sources and the direct triggers may use at once',
      { ...created, reservedConcurrency: 4 },
      reservedConcurrencyError(4),
    ],
    [
      'a fractional reserved concurrency',
      { ...created, reservedConcurrency: 5.5 },
      reservedConcurrencyError(5.5),
    ],
    [
      'an alarm address that is not one',
      { ...created, alarmEmail: 'netops' },
      'alarmEmail: "netops" is not an e-mail address',
    ],
  ])('refuse %s', (_, props, message) => {
    expect(() => guardInStack(props)).toThrow(message);
  });

  test('check the literal service IDs next to a token, which is known only at deploy', () => {
    const made = (stack: Stack) =>
      new ec2.CfnVPCEndpointService(stack, 'Service', { networkLoadBalancerArns: ['nlb'] }).ref;
    expect(() =>
      guardInStack((stack) => ({ ...created, protectedServiceIds: [made(stack), SERVICE_A] })),
    ).not.toThrow();
    expect(() =>
      guardInStack((stack) => ({ ...created, protectedServiceIds: [made(stack), 'vpce-svc-XYZ'] })),
    ).toThrow('protectedServiceIds: "vpce-svc-XYZ" is not an endpoint service ID');
  });

  test('accept the bounds of every range', () => {
    expect(() =>
      guardInStack({
        ...created,
        reconcileSchedule: Duration.minutes(1),
        rejectBatchSize: 1000,
        maxAttempts: 1,
        policyCacheSeconds: 0,
        reservedConcurrency: 5,
      }),
    ).not.toThrow();
  });

  test('default to every service, /vpce-guard/policy, a 5-minute sweep and the guard’s own defaults', () => {
    const { guard, template } = guardInStack();
    expect(guard.policyParameterName).toBe('/vpce-guard/policy');
    // For every jsii language: free constants are TypeScript-only.
    expect(VpceGuard.DEFAULT_POLICY_PARAMETER_NAME).toBe('/vpce-guard/policy');
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PROTECTED_SERVICE_IDS: Match.absent(),
          POLICY_CACHE_SECONDS: '60',
          REJECT_BATCH_SIZE: '50',
          MAX_ATTEMPTS: '5',
        }),
      },
    });
  });
});
