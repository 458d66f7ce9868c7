/**
 * The guard's environment contract, read once at start-up.
 *
 * A missing or malformed variable fails the function before it handles any event, with an
 * error that names the variable: a misconfigured deployment must not half-work.
 */
import { isServiceId } from './ids';

export interface GuardConfig {
  /** SSM parameter that holds the policy (String or SecureString). */
  readonly policyParameterName: string;
  /** SQS queue for work that could not be done now. */
  readonly retryQueueUrl: string;
  /** Where exhausted or unreadable retry records go; absent: the retry queue's redrive policy. */
  readonly deadLetterQueueUrl?: string;
  /** The services to guard; absent: every endpoint service the account owns in the Region. */
  readonly protectedServiceIds?: readonly string[];
  /** How long a loaded policy is used before SSM is asked again. */
  readonly policyCacheSeconds: number;
  /** Endpoint IDs per Reject/Accept call (AWS does not document a maximum). */
  readonly rejectBatchSize: number;
  /** Attempts of a retry record before it goes to the dead-letter queue. */
  readonly maxAttempts: number;
  /** The Region the guard runs in: a connection without `VpcEndpointRegion` is from here. */
  readonly region: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULTS = {
  policyCacheSeconds: 60,
  rejectBatchSize: 50,
  maxAttempts: 5,
} as const;

const PARAMETER_NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;

export function loadConfig(env: NodeJS.ProcessEnv): GuardConfig {
  const policyParameterName = required(env, 'POLICY_PARAMETER_NAME');
  if (!PARAMETER_NAME.test(policyParameterName)) {
    throw new ConfigError(
      `POLICY_PARAMETER_NAME: "${policyParameterName}" is not an SSM parameter name`,
    );
  }
  const deadLetterQueueUrl = optional(env, 'DEAD_LETTER_QUEUE_URL');
  const protectedServiceIds = serviceIds(env, 'PROTECTED_SERVICE_IDS');
  return {
    policyParameterName,
    retryQueueUrl: queueUrl('RETRY_QUEUE_URL', required(env, 'RETRY_QUEUE_URL')),
    ...(deadLetterQueueUrl
      ? { deadLetterQueueUrl: queueUrl('DEAD_LETTER_QUEUE_URL', deadLetterQueueUrl) }
      : {}),
    ...(protectedServiceIds ? { protectedServiceIds } : {}),
    policyCacheSeconds: integer(env, 'POLICY_CACHE_SECONDS', DEFAULTS.policyCacheSeconds, 0, 3600),
    rejectBatchSize: integer(env, 'REJECT_BATCH_SIZE', DEFAULTS.rejectBatchSize, 1, 1000),
    maxAttempts: integer(env, 'MAX_ATTEMPTS', DEFAULTS.maxAttempts, 1, 100),
    region: required(env, 'AWS_REGION'),
  };
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = optional(env, name);
  if (!value) throw new ConfigError(`${name} is required but not set`);
  return value;
}

function queueUrl(name: string, value: string): string {
  if (!/^https?:\/\/\S+$/.test(value)) {
    throw new ConfigError(`${name}: "${value}" is not a queue URL (https://sqs.…/account/name)`);
  }
  return value;
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = optional(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ConfigError(`${name}: "${text}" is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function serviceIds(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const text = optional(env, name);
  if (text === undefined) return undefined;
  const ids = text
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const bad = ids.find((id) => !isServiceId(id));
  if (bad !== undefined) {
    throw new ConfigError(`${name}: "${bad}" is not an endpoint service ID (vpce-svc-…)`);
  }
  return ids.length > 0 ? [...new Set(ids)] : undefined;
}
