/**
 * The three policies of the integration test (docs/integration-test.md), in the guard's own
 * format (docs/policy.md), in the order the test applies them. test/integ/policies.test.ts
 * checks each with the guard's own validator and `decide`.
 */

/** What the deployed policy names: the service it accepts on, and the test's own account. */
export interface PolicySubjects {
  readonly acceptedServiceId: string;
  /** The test's own account: provider and consumer at once. */
  readonly account: string;
}

/**
 * Deployed with the stack: the account is accepted on one service; its request to the other
 * waits (`keep`). A rejection while CloudFormation still creates that endpoint could fail the
 * stack (AWS does not document whether a `rejected` endpoint counts as created), so the
 * rejection waits for the first edit.
 */
export function deployedPolicy(subjects: PolicySubjects) {
  return {
    version: 1,
    description: 'vpce-guard integration test: accept on one service, keep the rest pending',
    mode: 'enforce',
    defaultAction: 'keep',
    revoke: false,
    rules: [
      {
        id: 'integ-accept',
        services: [subjects.acceptedServiceId],
        principals: [subjects.account],
        accept: true,
      },
    ],
  };
}

/**
 * The first edit: no rule allows the account any more, so its pending request is rejected;
 * without `revoke`, the connection already accepted stays. It names no ID, so the assertion
 * that writes it needs no reference to the test stack.
 */
export const DENYING_POLICY = {
  version: 1,
  description: 'vpce-guard integration test: reject what is pending',
  mode: 'enforce',
  defaultAction: 'reject',
  revoke: false,
  rules: [],
};

/** The second edit: `revoke`, so the connection accepted earlier is rejected too. */
export const REVOKING_POLICY = {
  ...DENYING_POLICY,
  description: 'vpce-guard integration test: revoke',
  revoke: true,
};
