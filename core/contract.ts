/**
 * The contract between the construct and the function: the function's environment.
 *
 * Defined once, here: each variable's name, default, range and parsing. The construct
 * renders it (`renderGuardEnvironment`) and validates its props with the same ranges and
 * rules; the function parses it at start-up (`parseGuardEnvironment`); the demo and the
 * benchmark render it too, so they run the function as it is deployed.
 */
import { isServiceId, SERVICE_ID_SHAPE } from './ids';
import { METRICS_NAMESPACE, SERVICE_NAME } from './metric-names';
import { policyParameterProblem } from './policy-parameter';

/**
 * The resource type of the custom resource that removes, when the stack is deleted, the
 * connection notifications the guard created: the construct makes it, the function answers it.
 */
export const NOTIFICATION_CLEANUP_RESOURCE_TYPE = 'Custom::VpceGuardNotificationCleanup';

/** The variable of each setting. */
export const GUARD_ENV = {
  policyParameterName: 'POLICY_PARAMETER_NAME',
  retryQueueUrl: 'RETRY_QUEUE_URL',
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  protectedServiceIds: 'PROTECTED_SERVICE_IDS',
  policyCacheSeconds: 'POLICY_CACHE_SECONDS',
  rejectBatchSize: 'REJECT_BATCH_SIZE',
  maxAttempts: 'MAX_ATTEMPTS',
  notificationTopicArn: 'NOTIFICATION_TOPIC_ARN',
  eventBusName: 'EVENT_BUS_NAME',
  announcementTableName: 'ANNOUNCEMENT_TABLE_NAME',
  stackId: 'STACK_ID',
  /** Set by Lambda itself. */
  region: 'AWS_REGION',
} as const;

/** The whole-number settings: default and inclusive range. */
export const NUMERIC_SETTINGS = {
  /** How long a loaded policy is used before SSM is asked again. */
  policyCacheSeconds: { default: 60, min: 0, max: 3600 },
  /** Endpoint IDs per Reject/Accept call (AWS does not document a maximum). */
  rejectBatchSize: { default: 50, min: 1, max: 1000 },
  /** Attempts of a retry record before it goes to the dead-letter queue. */
  maxAttempts: { default: 5, min: 1, max: 100 },
} as const;
export type NumericSetting = keyof typeof NUMERIC_SETTINGS;

/** The default of each whole-number setting. */
export const DEFAULTS = {
  policyCacheSeconds: NUMERIC_SETTINGS.policyCacheSeconds.default,
  rejectBatchSize: NUMERIC_SETTINGS.rejectBatchSize.default,
  maxAttempts: NUMERIC_SETTINGS.maxAttempts.default,
} as const;

/** Why `value` is out of `setting`'s range, or undefined when it is in it. */
export function wholeNumberProblem(setting: NumericSetting, value: number): string | undefined {
  const { min, max } = NUMERIC_SETTINGS[setting];
  return Number.isInteger(value) && value >= min && value <= max
    ? undefined
    : `is not a whole number from ${min} to ${max}`;
}

/** Why a list of protected services is not one, or undefined when it is. */
export function serviceIdsProblem(ids: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const id of ids) {
    if (!isServiceId(id)) return `"${id}" is not an endpoint service ID (${SERVICE_ID_SHAPE})`;
    if (seen.has(id)) return `"${id}" is listed twice`;
    seen.add(id);
  }
  return undefined;
}

/** The function's configuration, as it parses its environment. */
export interface GuardConfig {
  /**
   * SSM parameter that holds the policy (String or SecureString): its name, or its full ARN to
   * read it from another Region or account (core/policy-parameter.ts).
   */
  readonly policyParameterName: string;
  /** SQS queue for work that could not be done now. */
  readonly retryQueueUrl: string;
  /** Where exhausted or unreadable retry records go; absent: the retry queue's redrive policy. */
  readonly deadLetterQueueUrl?: string;
  /** The services to guard; absent: every endpoint service the account owns in the Region. */
  readonly protectedServiceIds?: readonly string[];
  readonly policyCacheSeconds: number;
  readonly rejectBatchSize: number;
  readonly maxAttempts: number;
  /**
   * The SNS topic that every protected service's endpoint connection notification (event
   * `Connect`) must point at; the guard creates those that are missing. Absent: no wiring.
   */
  readonly notificationTopicArn?: string;
  /**
   * The event bus the guard publishes its decisions to (docs/events.md), by name or ARN, as
   * PutEvents takes it. Absent: the account's default bus.
   */
  readonly eventBusName?: string;
  /**
   * The DynamoDB table that remembers which decisions were announced once (a connection kept
   * pending, a dry run's decision), by name or ARN. Absent: each container remembers its own.
   */
  readonly announcementTableName?: string;
  /**
   * The ID (ARN) of the guard's own CloudFormation stack: only its stack's deletion, through
   * the notification cleanup resource, may remove the notifications the guard created. Absent:
   * the guard answers no stack event.
   */
  readonly stackId?: string;
  /** The Region the guard runs in: a connection without `VpcEndpointRegion` is from here. */
  readonly region: string;
}

/** What a deployer knows of a guard; the rest of its environment follows from it. */
export type GuardDeploymentSettings = Omit<GuardConfig, 'region' | NumericSetting> &
  Partial<Pick<GuardConfig, NumericSetting>> & {
    /**
     * The `service` of the guard's logs and metrics (the dimension its alarms read), unique
     * per account and Region. @default SERVICE_NAME
     */
    readonly serviceName?: string;
  };

/**
 * The function's environment for `settings` (values may be CDK tokens). Lambda sets
 * `AWS_REGION` itself.
 */
export function renderGuardEnvironment(settings: GuardDeploymentSettings): Record<string, string> {
  const numbers = Object.keys(NUMERIC_SETTINGS) as NumericSetting[];
  return {
    [GUARD_ENV.policyParameterName]: settings.policyParameterName,
    [GUARD_ENV.retryQueueUrl]: settings.retryQueueUrl,
    ...(settings.deadLetterQueueUrl
      ? { [GUARD_ENV.deadLetterQueueUrl]: settings.deadLetterQueueUrl }
      : {}),
    ...(settings.protectedServiceIds?.length
      ? { [GUARD_ENV.protectedServiceIds]: settings.protectedServiceIds.join(',') }
      : {}),
    ...(settings.notificationTopicArn
      ? { [GUARD_ENV.notificationTopicArn]: settings.notificationTopicArn }
      : {}),
    ...(settings.eventBusName ? { [GUARD_ENV.eventBusName]: settings.eventBusName } : {}),
    ...(settings.announcementTableName
      ? { [GUARD_ENV.announcementTableName]: settings.announcementTableName }
      : {}),
    ...(settings.stackId ? { [GUARD_ENV.stackId]: settings.stackId } : {}),
    ...Object.fromEntries(
      numbers.map((n) => [GUARD_ENV[n], String(settings[n] ?? NUMERIC_SETTINGS[n].default)]),
    ),
    POWERTOOLS_LOG_LEVEL: 'INFO',
    // The alarms and the dashboard read these exact names: pin them here too, whatever
    // Powertools' defaults become.
    POWERTOOLS_SERVICE_NAME: settings.serviceName ?? SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    // The bundle is minified: without this, stack traces would not name the TypeScript lines.
    NODE_OPTIONS: '--enable-source-maps',
  };
}

/**
 * The `service` of the function's logs and metrics, as `renderGuardEnvironment` set it. Read
 * apart from `parseGuardEnvironment`: Powertools' Logger and Metrics are made when the module
 * loads, before the handler parses the rest.
 */
export function serviceNameOf(env: Readonly<Record<string, string | undefined>>): string {
  return env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;
}

/** A variable that is missing or malformed: the function fails at start-up, naming it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the function's configuration, once at start-up. A missing or malformed variable
 * throws a ConfigError that names it: a misconfigured deployment must not half-work.
 */
export function parseGuardEnvironment(env: NodeJS.ProcessEnv): GuardConfig {
  const policyParameterName = required(env, GUARD_ENV.policyParameterName);
  const nameProblem = policyParameterProblem(policyParameterName);
  if (nameProblem) {
    throw new ConfigError(
      `${GUARD_ENV.policyParameterName}: "${policyParameterName}" ${nameProblem}`,
    );
  }
  const deadLetterQueueUrl = optional(env, GUARD_ENV.deadLetterQueueUrl);
  const protectedServiceIds = serviceIds(env);
  const notificationTopicArn = optional(env, GUARD_ENV.notificationTopicArn);
  const eventBusName = optional(env, GUARD_ENV.eventBusName);
  const announcementTableName = optional(env, GUARD_ENV.announcementTableName);
  const stackId = optional(env, GUARD_ENV.stackId);
  return {
    policyParameterName,
    retryQueueUrl: queueUrl(GUARD_ENV.retryQueueUrl, required(env, GUARD_ENV.retryQueueUrl)),
    ...(deadLetterQueueUrl
      ? { deadLetterQueueUrl: queueUrl(GUARD_ENV.deadLetterQueueUrl, deadLetterQueueUrl) }
      : {}),
    ...(protectedServiceIds ? { protectedServiceIds } : {}),
    ...(notificationTopicArn ? { notificationTopicArn: topicArn(notificationTopicArn) } : {}),
    ...(eventBusName ? { eventBusName: eventBus(eventBusName) } : {}),
    ...(announcementTableName ? { announcementTableName: table(announcementTableName) } : {}),
    ...(stackId ? { stackId: stackArn(stackId) } : {}),
    policyCacheSeconds: wholeNumber(env, 'policyCacheSeconds'),
    rejectBatchSize: wholeNumber(env, 'rejectBatchSize'),
    maxAttempts: wholeNumber(env, 'maxAttempts'),
    region: required(env, GUARD_ENV.region),
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

/** An SNS topic's ARN: `arn:<partition>:sns:<region>:<account>:<name>`. */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

function topicArn(value: string): string {
  if (!TOPIC_ARN.test(value)) {
    throw new ConfigError(
      `${GUARD_ENV.notificationTopicArn}: "${value}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`,
    );
  }
  return value;
}

/** An event bus as PutEvents names it: its name, or its ARN (another account's bus). */
const EVENT_BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const EVENT_BUS_ARN =
  /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[/.\-_A-Za-z0-9]{1,256}$/;

/** Whether `value` is an event bus's ARN (the construct's context takes one). */
export function isEventBusArn(value: string): boolean {
  return EVENT_BUS_ARN.test(value);
}

function eventBus(value: string): string {
  if (!EVENT_BUS_NAME.test(value) && !EVENT_BUS_ARN.test(value)) {
    throw new ConfigError(
      `${GUARD_ENV.eventBusName}: "${value}" is not an event bus name or ARN (arn:aws:events:<region>:<account>:event-bus/<name>)`,
    );
  }
  return value;
}

/** A DynamoDB table as PutItem names it: its name (3 to 255 characters), or its ARN. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/;

function table(value: string): string {
  if (!TABLE_NAME.test(value) && !TABLE_ARN.test(value)) {
    throw new ConfigError(
      `${GUARD_ENV.announcementTableName}: "${value}" is not a DynamoDB table name or ARN`,
    );
  }
  return value;
}

/** A CloudFormation stack's ID: `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>`. */
const STACK_ARN =
  /^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack\/[A-Za-z][A-Za-z0-9-]*\/[A-Za-z0-9-]+$/;

function stackArn(value: string): string {
  if (!STACK_ARN.test(value)) {
    throw new ConfigError(
      `${GUARD_ENV.stackId}: "${value}" is not a CloudFormation stack ID (arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>)`,
    );
  }
  return value;
}

function wholeNumber(env: NodeJS.ProcessEnv, setting: NumericSetting): number {
  const name = GUARD_ENV[setting];
  const text = optional(env, name);
  if (text === undefined) return NUMERIC_SETTINGS[setting].default;
  // Digits only: Number() would also take "1e2", "0x10" or "1.0".
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  const problem = wholeNumberProblem(setting, value);
  if (problem) throw new ConfigError(`${name}: "${text}" ${problem}`);
  return value;
}

/** The protected services; absent (or only commas): every service the account owns. */
function serviceIds(env: NodeJS.ProcessEnv): string[] | undefined {
  const name = GUARD_ENV.protectedServiceIds;
  const text = optional(env, name);
  if (text === undefined) return undefined;
  // The construct never lists a service twice; a hand-edited variable may: keep one of each.
  const ids = [
    ...new Set(
      text
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  ];
  const problem = serviceIdsProblem(ids);
  if (problem) throw new ConfigError(`${name}: ${problem}`);
  return ids.length > 0 ? ids : undefined;
}
