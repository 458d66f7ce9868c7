/**
 * The props of the VpceGuard construct, their defaults, and their validation.
 */
import {
  Duration,
  Token,
  aws_events as events,
  aws_kms as kms,
  aws_logs as logs,
} from 'aws-cdk-lib';
import {
  DEFAULTS,
  type NumericSetting,
  serviceIdsProblem,
  wholeNumberProblem,
} from '../core/contract';
import { DEFAULT_POLICY_PARAMETER_NAME, parameterNameProblem } from '../core/policy-parameter';
import {
  DIRECT_INVOCATIONS,
  HINT_SOURCE,
  MIN_RESERVED_CONCURRENCY,
  RETRY_SOURCE,
} from './delivery';
import { DEFAULT_RUNBOOK_BASE_URL, checkRunbookBaseUrl } from './alarms';

export { DEFAULT_POLICY_PARAMETER_NAME };
const DEFAULT_RECONCILE_SCHEDULE = Duration.minutes(5);
const DEFAULT_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS;

export interface VpceGuardProps {
  /**
   * The endpoint services to guard (`vpce-svc-…`). Each gets an endpoint connection
   * notification from the stack, and the guard may reject or accept on these services only.
   * An ID may be a token, such as the `vpcEndpointServiceId` of a service made in the same app.
   *
   * @default - every endpoint service the account owns in the stack's Region, including those
   * created later; the guard gives each its endpoint connection notification itself.
   */
  readonly protectedServiceIds?: string[];

  /**
   * The SSM parameter that holds the policy.
   *
   * @default '/vpce-guard/policy'
   */
  readonly policyParameterName?: string;

  /**
   * A policy file (JSON, see docs/policy.md) to create the parameter from when it does not exist
   * yet. It is validated at synth with the guard's own validator. A deploy never overwrites
   * the parameter once it exists: edit the policy in SSM. A relative path is resolved from the
   * directory `cdk` runs in.
   *
   * @default - none; required unless `useExistingPolicyParameter` is true.
   */
  readonly initialPolicyFile?: string;

  /**
   * Use a parameter that already exists (created by you, another stack or the vpce-guard CLI)
   * instead of creating it. The stack never writes it.
   *
   * @default false
   */
  readonly useExistingPolicyParameter?: boolean;

  /**
   * The customer-managed KMS key of an existing SecureString policy parameter; the guard may
   * decrypt with it, for this parameter only. Only with `useExistingPolicyParameter`.
   *
   * @default - the parameter is a String, or a SecureString under the AWS-managed key
   * `aws/ssm`, which needs no grant.
   */
  readonly policyParameterKey?: kms.IKey;

  /**
   * How often the guard sweeps every protected service. Whole minutes, 1 to 1440.
   *
   * @default Duration.minutes(5)
   */
  readonly reconcileSchedule?: Duration;

  /**
   * Endpoint IDs per Reject or Accept call (AWS documents no maximum), 1 to 1000.
   *
   * @default 50
   */
  readonly rejectBatchSize?: number;

  /**
   * Attempts of a retry record before the guard sends it to the dead-letter queue, 1 to 100.
   * The guard counts them itself; the retry queue's redrive (`maxReceiveCount` 10) is only
   * the backstop for records that crash the function or whose deliveries are throttled.
   *
   * @default 5
   */
  readonly maxAttempts?: number;

  /**
   * Seconds the guard uses a loaded policy before it reads SSM again, 0 to 3600. A change of
   * the parameter also takes effect at once through its Parameter Store Change event.
   *
   * @default 60
   */
  readonly policyCacheSeconds?: number;

  /**
   * An e-mail address to subscribe to the alarm topic (SNS asks it to confirm).
   *
   * @default - no subscription; subscribe to `alarmTopic` yourself.
   */
  readonly alarmEmail?: string;

  /**
   * Retention of the guard's logs (and of the policy-creating function's).
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Reserved concurrency of the guard function; at least 5: the maximum concurrency of the
   * hint and retry queues' event sources (2 each) plus 1 for the schedule and policy-change
   * invocations. Less would throttle deliveries, and a throttled SQS delivery counts as a
   * receive, toward the dead-letter queue. A new account's concurrency limit can be too low to
   * reserve any: Lambda keeps 100 executions unreserved.
   *
   * @default - none: the function uses the account's unreserved concurrency.
   */
  readonly reservedConcurrency?: number;

  /**
   * Active X-Ray tracing of the guard function.
   *
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * Where the runbook is: an https URL, without a `#fragment`, of at most 256 characters. Each
   * alarm's description links to its own section, `<runbookBaseUrl>#<anchor>`, with the
   * anchors GitHub gives the headings of docs/runbook.md. Point it at a copy of the runbook
   * that matches the deployed version (a tag rather than `main`), or at your own wiki page with
   * the same headings.
   *
   * @default 'https://github.com/vpce-guard/vpce-guard/blob/main/docs/runbook.md'
   */
  readonly runbookBaseUrl?: string;

  /**
   * The event bus the guard publishes every decision to, as a `VPC Endpoint Connection
   * Decision` event (docs/events.md). The guard may put events on this bus only. A bus of
   * another account works too, if its resource policy lets this account put events on it;
   * `onDecision` then cannot make rules on it.
   *
   * @default - the account's default event bus in the stack's Region
   */
  readonly decisionEventBus?: events.IEventBus;
}

/** The props with every default applied. */
export interface GuardSettings {
  readonly protectedServiceIds: readonly string[];
  readonly policyParameterName: string;
  readonly initialPolicyFile?: string;
  readonly policyParameterKey?: kms.IKey;
  readonly reconcileSchedule: Duration;
  readonly rejectBatchSize: number;
  readonly maxAttempts: number;
  readonly policyCacheSeconds: number;
  readonly alarmEmail?: string;
  readonly logRetention: logs.RetentionDays;
  readonly reservedConcurrency?: number;
  readonly tracing: boolean;
  readonly runbookBaseUrl: string;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Validates the props (every error names the prop) and applies the defaults. */
export function resolveSettings(props: VpceGuardProps): GuardSettings {
  const useExisting = props.useExistingPolicyParameter ?? false;
  if (useExisting && props.initialPolicyFile !== undefined) {
    throw new Error(
      'initialPolicyFile cannot be used with useExistingPolicyParameter: the stack never writes an existing parameter, so the initial policy would be ignored',
    );
  }
  if (!useExisting && props.initialPolicyFile === undefined) {
    throw new Error(
      'initialPolicyFile is required unless useExistingPolicyParameter is true: the stack creates the policy parameter from it',
    );
  }
  if (!useExisting && props.policyParameterKey !== undefined) {
    throw new Error(
      'policyParameterKey requires useExistingPolicyParameter: the parameter the stack creates is a String',
    );
  }

  const policyParameterName = props.policyParameterName ?? DEFAULT_POLICY_PARAMETER_NAME;
  const nameProblem = parameterNameProblem(policyParameterName);
  if (nameProblem) throw new Error(`policyParameterName: "${policyParameterName}" ${nameProblem}`);

  const reconcileSchedule = props.reconcileSchedule ?? DEFAULT_RECONCILE_SCHEDULE;
  const minutes = reconcileSchedule.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw new Error(
      `reconcileSchedule: ${reconcileSchedule.toHumanString()} is not a whole number of minutes from 1 to 1440`,
    );
  }

  if (props.alarmEmail !== undefined && !EMAIL.test(props.alarmEmail)) {
    throw new Error(`alarmEmail: "${props.alarmEmail}" is not an e-mail address`);
  }
  const reserved = props.reservedConcurrency;
  if (
    reserved !== undefined &&
    !(Number.isInteger(reserved) && reserved >= MIN_RESERVED_CONCURRENCY)
  ) {
    throw new Error(
      `reservedConcurrency: ${reserved} is not a whole number of at least ${MIN_RESERVED_CONCURRENCY}: the hint and retry queues' maximum concurrency (${HINT_SOURCE.maxConcurrency} + ${RETRY_SOURCE.maxConcurrency}) plus ${DIRECT_INVOCATIONS} for the schedule and policy-change invocations (less would throttle hints and retries toward their dead-letter queues)`,
    );
  }

  return {
    protectedServiceIds: serviceIds(props.protectedServiceIds ?? []),
    policyParameterName,
    initialPolicyFile: props.initialPolicyFile,
    policyParameterKey: props.policyParameterKey,
    reconcileSchedule,
    rejectBatchSize: wholeNumber('rejectBatchSize', props.rejectBatchSize),
    maxAttempts: wholeNumber('maxAttempts', props.maxAttempts),
    policyCacheSeconds: wholeNumber('policyCacheSeconds', props.policyCacheSeconds),
    alarmEmail: props.alarmEmail,
    logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    reservedConcurrency: reserved,
    tracing: props.tracing ?? false,
    runbookBaseUrl: checkRunbookBaseUrl(props.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL),
  };
}

/**
 * The function's own checks (core/contract.ts), named after the prop. A token (the ID of a
 * service made in the same app) is only known at deploy: the function checks it at start-up.
 */
function serviceIds(ids: readonly string[]): readonly string[] {
  const problem = serviceIdsProblem(ids.filter((id) => !Token.isUnresolved(id)));
  if (problem) throw new Error(`protectedServiceIds: ${problem}`);
  return ids;
}

function wholeNumber(setting: NumericSetting, value: number = DEFAULTS[setting]): number {
  const problem = wholeNumberProblem(setting, value);
  if (problem) throw new Error(`${setting}: ${value} ${problem}`);
  return value;
}
