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
import { environmentLabel, type GuardEnvironment, sameEnvironment } from '../core/fleet';
import { isRegion } from '../core/ids';
import { isAccountId } from '../core/ids';
import {
  DEFAULT_POLICY_PARAMETER_NAME,
  type PolicyParameter,
  parsePolicyParameter,
} from '../core/policy-parameter';
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
   * The SSM parameter that holds the policy: its name, or its full ARN
   * (`arn:aws:ssm:<region>:<account>:parameter/<name>`) to read a policy kept in another Region
   * or account, a fleet's home (docs/fleet.md). A parameter named by ARN is only read, never
   * created (`useExistingPolicyParameter` must be true); one of another account must be shared
   * with this account through AWS RAM, and this stack then lets that account forward the
   * policy's change events to the default event bus.
   *
   * @default '/vpce-guard/policy'
   */
  readonly policyParameterName?: string;

  /**
   * Who else may read the policy: 12-digit account IDs, or the ARN of an AWS Organizations
   * organization or organizational unit. The stack shares the policy parameter with them
   * through an AWS RAM resource share (read-only). Only Advanced parameters can be shared: the
   * parameter the stack creates is then Advanced; an existing one must be Advanced already.
   * A share with accounts lets them be outside your organization (they accept an invitation);
   * a share with an organization or OU does not.
   *
   * @default - the policy is not shared
   */
  readonly sharePolicyWith?: string[];

  /**
   * The environments of the other guards that read this stack's policy (a fleet's home):
   * the policy's Parameter Store Change events (of the policy and of its principal sets'
   * manifests) are forwarded to each one's default event bus, so that its guard drops its
   * cached policy within seconds. Events EventBridge cannot deliver go to the events
   * dead-letter queue. A receiving bus of another account must admit this account's events: a
   * guard that reads this policy by ARN does.
   *
   * @default - no forwarding
   */
  readonly forwardPolicyChangesTo?: GuardEnvironment[];

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
   * Retention of the guard's logs (and of the policy-creating function's, which CDK makes one
   * per stack: the first guard of a stack that creates its parameter sets it).
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
   * `onDecision` then cannot make rules on it. A bus of another Region fails the synth: the
   * guard puts events on a bus of its own Region (EventBridge reaches another Region through
   * rules only).
   *
   * @default - the account's default event bus in the stack's Region
   */
  readonly decisionEventBus?: events.IEventBus;
}

/** The props with every default applied. */
export interface GuardSettings {
  readonly protectedServiceIds: readonly string[];
  /** The name, or the full ARN, as given. */
  readonly policyParameterName: string;
  readonly policyParameter: PolicyParameter;
  readonly sharePolicyWith: readonly string[];
  readonly forwardPolicyChangesTo: readonly GuardEnvironment[];
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
  const parsed = parsePolicyParameter(policyParameterName);
  if ('problem' in parsed) {
    throw new Error(`policyParameterName: "${policyParameterName}" ${parsed.problem}`);
  }
  const policyParameter = parsed.parameter;
  if (policyParameter.location && !useExisting) {
    throw new Error(
      'policyParameterName: a parameter named by its ARN is only read, never created by this stack: set useExistingPolicyParameter (and create or share it where it lives)',
    );
  }
  const sharePolicyWith = sharePrincipals(props.sharePolicyWith ?? []);
  if (sharePolicyWith.length > 0 && policyParameter.location) {
    throw new Error(
      'sharePolicyWith: only the account that owns a parameter can share it; name the parameter by its name in the stack of its own account',
    );
  }

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
    policyParameter,
    sharePolicyWith,
    forwardPolicyChangesTo: forwardTargets(props.forwardPolicyChangesTo ?? []),
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

/** An AWS Organizations organization or OU ARN, as AWS RAM takes them as principals. */
const ORGANIZATION_ARN =
  /^arn:aws[a-z-]*:organizations::\d{12}:(?:organization\/o-[a-z0-9]{10,32}|ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32})$/;

function sharePrincipals(principals: readonly string[]): readonly string[] {
  for (const principal of principals) {
    if (!isAccountId(principal) && !ORGANIZATION_ARN.test(principal)) {
      throw new Error(
        `sharePolicyWith: "${principal}" is not a 12-digit account ID, nor an organization or OU ARN (arn:aws:organizations::<management account>:organization/o-… or …:ou/o-…/ou-…)`,
      );
    }
  }
  const repeated = principals.find((p, i) => principals.indexOf(p) !== i);
  if (repeated) throw new Error(`sharePolicyWith: "${repeated}" is listed twice`);
  return principals;
}

function forwardTargets(environments: readonly GuardEnvironment[]): readonly GuardEnvironment[] {
  environments.forEach((environment, index) => {
    const where = `forwardPolicyChangesTo[${index}]`;
    if (!isAccountId(environment.account)) {
      throw new Error(`${where}.account: "${environment.account}" is not a 12-digit account ID`);
    }
    if (!isRegion(environment.region)) {
      throw new Error(`${where}.region: "${environment.region}" is not a Region name`);
    }
    const first = environments.findIndex((e) => sameEnvironment(e, environment));
    if (first !== index) {
      throw new Error(
        `${where}: ${environmentLabel(environment)} is listed twice (first at forwardPolicyChangesTo[${first}])`,
      );
    }
  });
  return environments;
}

function wholeNumber(setting: NumericSetting, value: number = DEFAULTS[setting]): number {
  const problem = wholeNumberProblem(setting, value);
  if (problem) throw new Error(`${setting}: ${value} ${problem}`);
  return value;
}
