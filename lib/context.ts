/**
 * The app's configuration: cdk.json context (or `cdk -c key=value`), one key per option, each
 * prefixed `vpce-guard:`. Reads the values and checks their types, naming the key; the
 * construct checks ranges and combinations. An unset, null or empty value means the default.
 */
import { Duration, aws_events as events, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { isEventBusArn } from '../core/contract';
import type { VpceGuardProps } from './vpce-guard-props';

const CONTEXT_PREFIX = 'vpce-guard:';

const KEYS = [
  'protectedServiceIds',
  'policyParameterName',
  'initialPolicyFile',
  'useExistingPolicyParameter',
  'policyParameterKeyArn',
  'reconcileSchedule',
  'rejectBatchSize',
  'maxAttempts',
  'policyCacheSeconds',
  'alarmEmail',
  'logRetentionDays',
  'reservedConcurrency',
  'tracing',
  'runbookBaseUrl',
  'decisionEventBusArn',
] as const;
type Key = (typeof KEYS)[number];

const RETENTION_DAYS = new Set<number>(
  Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'),
);

/** VpceGuard props from the context of `scope`'s app. */
export function guardPropsFromContext(scope: Construct): VpceGuardProps {
  rejectUnknownKeys(scope);
  const read = (key: Key) => value(scope, key);

  const keyArn = string(read('policyParameterKeyArn'), 'policyParameterKeyArn');
  const busArn = string(read('decisionEventBusArn'), 'decisionEventBusArn');
  if (busArn !== undefined && !isEventBusArn(busArn)) {
    fail(
      'decisionEventBusArn',
      busArn,
      'an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)',
    );
  }
  const minutes = integer(read('reconcileSchedule'), 'reconcileSchedule');
  const retention = integer(read('logRetentionDays'), 'logRetentionDays');
  if (retention !== undefined && !RETENTION_DAYS.has(retention)) {
    throw new Error(
      `${CONTEXT_PREFIX}logRetentionDays: ${retention} is not a retention CloudWatch Logs offers (${[...RETENTION_DAYS].join(', ')})`,
    );
  }
  return {
    protectedServiceIds: stringList(read('protectedServiceIds'), 'protectedServiceIds'),
    policyParameterName: string(read('policyParameterName'), 'policyParameterName'),
    initialPolicyFile: string(read('initialPolicyFile'), 'initialPolicyFile'),
    useExistingPolicyParameter: boolean(
      read('useExistingPolicyParameter'),
      'useExistingPolicyParameter',
    ),
    policyParameterKey: keyArn
      ? kms.Key.fromKeyArn(scope, 'PolicyParameterKey', keyArn)
      : undefined,
    reconcileSchedule: minutes === undefined ? undefined : Duration.minutes(minutes),
    rejectBatchSize: integer(read('rejectBatchSize'), 'rejectBatchSize'),
    maxAttempts: integer(read('maxAttempts'), 'maxAttempts'),
    policyCacheSeconds: integer(read('policyCacheSeconds'), 'policyCacheSeconds'),
    alarmEmail: string(read('alarmEmail'), 'alarmEmail'),
    logRetention: retention as logs.RetentionDays | undefined,
    reservedConcurrency: integer(read('reservedConcurrency'), 'reservedConcurrency'),
    tracing: boolean(read('tracing'), 'tracing'),
    runbookBaseUrl: string(read('runbookBaseUrl'), 'runbookBaseUrl'),
    decisionEventBus: busArn
      ? events.EventBus.fromEventBusArn(scope, 'DecisionEventBus', busArn)
      : undefined,
  };
}

/** A typo in a key would silently leave the default in place: refuse it. */
function rejectUnknownKeys(scope: Construct): void {
  const known = new Set<string>(KEYS.map((key) => CONTEXT_PREFIX + key));
  const unknown = Object.keys(scope.node.getAllContext()).filter(
    (key) => key.startsWith(CONTEXT_PREFIX) && !known.has(key),
  );
  if (unknown.length > 0) {
    throw new Error(
      `Unknown context key ${unknown.join(', ')}; the keys are ${[...known].join(', ')}`,
    );
  }
}

function value(scope: Construct, key: Key): unknown {
  const raw: unknown = scope.node.tryGetContext(CONTEXT_PREFIX + key);
  return raw === null || raw === '' ? undefined : raw;
}

function fail(key: Key, raw: unknown, expected: string): never {
  throw new Error(`${CONTEXT_PREFIX}${key}: ${JSON.stringify(raw)} is not ${expected}`);
}

function string(raw: unknown, key: Key): string | undefined {
  if (raw === undefined || typeof raw === 'string') return raw;
  return fail(key, raw, 'a string');
}

/** A JSON array of strings, or (from `-c`) a comma-separated string. */
function stringList(raw: unknown, key: Key): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    return fail(key, raw, 'a list of strings');
  }
  return list.map((item: string) => item.trim()).filter(Boolean);
}

/** A JSON number, or (from `-c`) its digits. */
function integer(raw: unknown, key: Key): number | undefined {
  if (raw === undefined) return undefined;
  const number = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    return fail(key, raw, 'a whole number');
  }
  return number;
}

/** A JSON boolean, or (from `-c`) "true" / "false". */
function boolean(raw: unknown, key: Key): boolean | undefined {
  if (raw === undefined || typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return fail(key, raw, 'true or false');
}
