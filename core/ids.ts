/**
 * The shapes of the AWS IDs the guard handles (account, Region, endpoint service, endpoint): the one place they are defined, since an ID
 * is all the guard takes from an event.
 */

/** An endpoint service ID as it appears inside text: `vpce-svc-` and 8 or 17 hex digits. */
export const SERVICE_ID_SOURCE = 'vpce-svc-[0-9a-f]{8,17}';
/** The shape of a service ID in words, for error messages. */
export const SERVICE_ID_SHAPE = 'vpce-svc- and 8 to 17 hex digits';
/** An endpoint ID inside text, and not the `vpce-svc` prefix of a service ID. */
export const ENDPOINT_ID_SOURCE = 'vpce-(?!svc-)[0-9a-f]{8,17}';

const EXACT_SERVICE_ID = new RegExp(`^${SERVICE_ID_SOURCE}$`);
const EXACT_ENDPOINT_ID = new RegExp(`^${ENDPOINT_ID_SOURCE}$`);

export function isServiceId(value: unknown): value is string {
  return typeof value === 'string' && EXACT_SERVICE_ID.test(value);
}

export function isEndpointId(value: unknown): value is string {
  return typeof value === 'string' && EXACT_ENDPOINT_ID.test(value);
}

/** The Region shape AWS uses: `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`. */
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

export function isRegion(value: unknown): value is string {
  return typeof value === 'string' && REGION.test(value);
}

export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && /^\d{12}$/.test(value);
}

/** An account's root principal, in any partition: `arn:aws:iam::123456789012:root`. */
const ACCOUNT_ROOT_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):root$/;

/**
 * The 12-digit account `value` names, as an account ID or its root ARN; undefined when it
 * names none (a user, a role, anything else).
 */
export function accountIdOf(value: unknown): string | undefined {
  if (isAccountId(value)) return value;
  return typeof value === 'string' ? ACCOUNT_ROOT_ARN.exec(value)?.[1] : undefined;
}
