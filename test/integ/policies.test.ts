/**
 * The integration test's policies mean what its assertions expect, by the guard's own
 * validator and decision: checked here offline, so that a failed run on an account never comes
 * from a policy the guard refuses or reads otherwise.
 */
import type { Connection } from '../../core/connection';
import { decide, formatPolicyErrors, parsePolicy, type Policy } from '../../core/policy';
import { DENYING_POLICY, REVOKING_POLICY, deployedPolicy } from '../../integ/policies';

const REJECTED_SERVICE = 'vpce-svc-0123456789abcdef0';
const ACCEPTED_SERVICE = 'vpce-svc-0fedcba9876543210';
const ACCOUNT = '123456789012';
const NOW = new Date('2026-01-01T00:00:00Z');

function parsed(policy: unknown): Policy {
  const result = parsePolicy(JSON.stringify(policy));
  if (!result.ok) throw new Error(formatPolicyErrors(result.errors));
  return result.policy;
}

const connection = (serviceId: string, state: string): Connection => ({
  serviceId,
  endpointId: 'vpce-0aaaabbbbccccdddd',
  owner: ACCOUNT,
  state,
  region: 'us-east-1',
});

describe("the integration test's policies, in the order it applies them", () => {
  const deployed = parsed(
    deployedPolicy({ acceptedServiceId: ACCEPTED_SERVICE, account: ACCOUNT }),
  );
  const denying = parsed(DENYING_POLICY);
  const revoking = parsed(REVOKING_POLICY);
  const action = (policy: Policy, serviceId: string, state: string) =>
    decide(policy, connection(serviceId, state), NOW);

  test('the deployed one accepts the account on one service and keeps its other request pending', () => {
    expect(action(deployed, ACCEPTED_SERVICE, 'pendingAcceptance')).toMatchObject({
      action: 'accept',
      rule: 'integ-accept',
    });
    expect(action(deployed, REJECTED_SERVICE, 'pendingAcceptance')).toMatchObject({
      action: 'keep',
      rule: 'defaultAction',
    });
    expect(action(deployed, ACCEPTED_SERVICE, 'available').action).toBe('skip');
  });

  test('the denying one rejects the pending request and leaves the accepted connection', () => {
    expect(action(denying, REJECTED_SERVICE, 'pendingAcceptance')).toMatchObject({
      action: 'reject',
      rule: 'defaultAction',
    });
    expect(action(denying, ACCEPTED_SERVICE, 'available').action).toBe('skip');
  });

  test('the revoking one rejects the accepted connection, and leaves the rejected one', () => {
    expect(action(revoking, ACCEPTED_SERVICE, 'available')).toMatchObject({
      action: 'reject',
      rule: 'defaultAction',
    });
    expect(action(revoking, REJECTED_SERVICE, 'rejected').action).toBe('skip');
  });
});
