/**
 * The demo's story: one endpoint service, five consumer accounts, a policy and its edit, and
 * the connection requests that arrive before each step. Data only; demo.ts runs it.
 */

import { DEFAULT_POLICY_PARAMETER_NAME } from '../core/policy-parameter';

export const REGION = 'eu-west-1';
export const PROVIDER_ACCOUNT = '123456789012';
export const POLICY_PARAMETER = DEFAULT_POLICY_PARAMETER_NAME;

/** The consumers, by the name the tables show next to their account ID. */
export const CONSUMERS = {
  acme: '111122223333',
  globex: '444455556666',
  initech: '777766665555',
  mallory: '999988887777',
  umbrella: '210987654321',
} as const;

export type ConsumerName = keyof typeof CONSUMERS;

export interface Request {
  readonly consumer: ConsumerName;
  /** The consumer's Region; absent: the service's own. */
  readonly region?: string;
}

/** acme is accepted, globex waits for a human, mallory is denied, strangers wait too. */
export function initialPolicy(serviceId: string): object {
  return {
    version: 1,
    description: 'vpce-guard demo policy',
    mode: 'enforce',
    defaultAction: 'keep',
    deny: [CONSUMERS.mallory],
    rules: [
      {
        id: 'acme-prod',
        services: [serviceId],
        principals: [CONSUMERS.acme],
        regions: ['eu-west-1', 'us-east-1'],
        accept: true,
      },
      { id: 'globex', services: [serviceId], principals: [CONSUMERS.globex] },
    ],
  };
}

/** The edit: globex is now accepted, and strangers are rejected instead of left waiting. */
export function editedPolicy(serviceId: string): object {
  const policy = initialPolicy(serviceId) as { rules: object[] };
  return {
    ...policy,
    defaultAction: 'reject',
    rules: [
      policy.rules[0],
      { id: 'globex', services: [serviceId], principals: [CONSUMERS.globex], accept: true },
    ],
  };
}

/** Pending before step 1: one request from each of the first four consumers. */
export const FIRST_REQUESTS: readonly Request[] = [
  { consumer: 'acme' },
  { consumer: 'globex', region: 'us-east-1' },
  { consumer: 'initech' },
  { consumer: 'mallory' },
];

/** Arrive between steps 2 and 3, with no notification: only the sweep will see them. */
export const UNNOTIFIED_REQUESTS: readonly Request[] = [
  { consumer: 'umbrella' },
  { consumer: 'acme', region: 'ap-southeast-2' },
  { consumer: 'globex', region: 'us-east-1' },
];

/** The name of an account in the tables: `111122223333 acme`. */
export function ownerLabel(accountId: string): string {
  const name = Object.entries(CONSUMERS).find(([, id]) => id === accountId)?.[0];
  return name ? `${accountId} ${name}` : accountId;
}
