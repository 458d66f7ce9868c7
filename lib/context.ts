/**
 * The app's configuration: cdk.json context (or `cdk -c key=value`), one key per option, each
 * prefixed `vpce-guard:`. Reads the values and checks their types, naming the key; the
 * construct checks ranges and combinations. An unset, null or empty value means the default.
 */
import { Duration, aws_events as events, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { isEventBusArn } from '../core/contract';
import { FLEET_KEYS, type Fleet, isUnsetValue, parseFleet } from '../core/fleet';
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
  'sharePolicyWith',
  'forwardPolicyChangesTo',
  // The app's, not the construct's (docs/fleet.md): read by fleetFromContext and the synthesizer.
  'environments',
  'policyHome',
  'stackSetsAssetBucket',
  'stackSetsAssetPrefix',
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
    sharePolicyWith: stringList(read('sharePolicyWith'), 'sharePolicyWith'),
    forwardPolicyChangesTo: forwardTargets(read('forwardPolicyChangesTo')),
  };
}

/** The fleet of `vpce-guard:environments` and `vpce-guard:policyHome`; undefined: none. */
export function fleetFromContext(scope: Construct): Fleet | undefined {
  rejectUnknownKeys(scope);
  return parseFleet(value(scope, 'environments'), value(scope, 'policyHome'));
}

/** Where a StackSets template's assets are (docs/fleet.md#stacksets); undefined: not asked. */
export function stackSetsAssetsFromContext(
  scope: Construct,
): { readonly bucketName: string; readonly prefix?: string } | undefined {
  const bucketName = string(value(scope, 'stackSetsAssetBucket'), 'stackSetsAssetBucket');
  const prefix = string(value(scope, 'stackSetsAssetPrefix'), 'stackSetsAssetPrefix');
  if (bucketName === undefined) {
    if (prefix !== undefined) {
      throw new Error(
        `${CONTEXT_PREFIX}stackSetsAssetPrefix: only with ${CONTEXT_PREFIX}stackSetsAssetBucket`,
      );
    }
    return undefined;
  }
  // S3 bucket names, with the ${AWS::Region} and ${AWS::AccountId} placeholders CDK replaces.
  const shape = bucketName.replace(/\$\{AWS::(?:Region|AccountId)\}/g, 'x');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(shape)) {
    fail(
      'stackSetsAssetBucket',
      bucketName,
      'an S3 bucket name (lower-case letters, digits, "." and "-"; ${AWS::Region} may stand for the Region)',
    );
  }
  return { bucketName, ...(prefix ? { prefix } : {}) };
}

/**
 * `vpce-guard:forwardPolicyChangesTo`: environments as `vpce-guard:environments` takes them
 * (a JSON list, or "account/region,…" from -c), checked by the same rules.
 */
function forwardTargets(raw: unknown): { account: string; region: string }[] | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseFleet(raw, undefined)!.environments.map(({ account, region }) => ({
      account,
      region,
    }));
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(
      message.split(FLEET_KEYS.environments).join(`${CONTEXT_PREFIX}forwardPolicyChangesTo`),
    );
  }
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
  return isUnsetValue(raw) ? undefined : raw;
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
  const items = list.map((item: string) => item.trim()).filter(Boolean);
  // A list of blanks ("" from -c, [" "]) is empty too: the default, as for every key.
  return items.length > 0 ? items : undefined;
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
