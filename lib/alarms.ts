/**
 * The guard's alarms. Every durable place where work can end up has one. Each alarm has a
 * stable name, and a description that says what happened, on which resource, and links to the
 * alarm's section of the runbook (docs/runbook.md). The runbook alone says what to do: the
 * procedure lives in one place, and the link can be clicked from the console or an e-mail.
 */
import {
  Token,
  Duration,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as actions,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sns as sns,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MetricName } from '../core/metric-names';
import { HINT_QUEUE } from './delivery';
import { type GuardMetrics, METRIC_PERIOD } from './metrics';
import type { GuardQueues } from './queues';

/** Where the alarm descriptions link by default: the runbook in the project's repository. */
export const DEFAULT_RUNBOOK_BASE_URL =
  'https://github.com/vpce-guard/vpce-guard/blob/main/docs/runbook.md';

/**
 * The longest `runbookBaseUrl`: with it, the longest description (a resource name or two, the
 * statement and the link) still fits CloudWatch's 1024 characters.
 */
const MAX_RUNBOOK_BASE_URL_LENGTH = 256;

/** CloudWatch's limits on an alarm's name and description. */
const MAX_ALARM_NAME_LENGTH = 255;
const MAX_DESCRIPTION_LENGTH = 1024;
/**
 * The length a name CloudFormation generates may have (a queue, the function, the log group),
 * for the synth-time check of a description's length: 80 for a queue, 64 for a function.
 */
const GENERATED_NAME_LENGTH = 135;

/**
 * Each alarm: its `role`, which ends the alarm's name, and the heading of its section in
 * docs/runbook.md. A role must never change: a new name replaces the alarm, and its history
 * goes with the old one. A heading may change together with the runbook (the test checks that
 * every link lands on a heading).
 */
export const ALARMS = {
  hintDeadLetter: { role: 'HintDeadLetterQueue', runbook: 'Hint dead-letter queue not empty' },
  retryDeadLetter: { role: 'RetryDeadLetterQueue', runbook: 'Retry dead-letter queue not empty' },
  retryQueueStuck: { role: 'RetryQueueNotDraining', runbook: 'Retry queue not draining' },
  eventsDeadLetter: {
    role: 'EventsDeadLetterQueue',
    runbook: 'Events dead-letter queue not empty',
  },
  invocationFailure: {
    role: 'InvocationFailureQueue',
    runbook: 'Invocation-failure queue not empty',
  },
  subscriptionDeadLetter: {
    role: 'SubscriptionDeadLetterQueue',
    runbook: 'Subscription dead-letter queue not empty',
  },
  functionErrors: { role: 'FunctionErrors', runbook: 'Function errors' },
  policyInvalid: { role: 'PolicyInvalid', runbook: 'Policy invalid' },
  policyUnreadable: { role: 'PolicyUnreadable', runbook: 'Policy unreadable' },
  unsuccessful: {
    role: 'RejectsOrAcceptsUnsuccessful',
    runbook: 'Rejects or accepts unsuccessful',
  },
  permissionDenied: { role: 'PermissionDenied', runbook: 'Permission denied' },
  decisionEventsFailed: {
    role: 'DecisionEventsFailed',
    runbook: 'Decision events not published',
  },
  announcementsUnchecked: {
    role: 'AnnouncementsUnchecked',
    runbook: 'Announcements not checked',
  },
  notificationWiringFailed: {
    role: 'NotificationWiringFailed',
    runbook: 'Notification wiring failed',
  },
  acceptingAutomatically: {
    role: 'ServiceAcceptsAutomatically',
    runbook: 'Service accepts connections automatically',
  },
} as const;
type AlarmSpec = (typeof ALARMS)[keyof typeof ALARMS];

/**
 * The anchor GitHub gives a Markdown heading: lower case, punctuation other than `-` and `_`
 * dropped, each space a `-` (`Invocation-failure queue not empty` →
 * `invocation-failure-queue-not-empty`).
 */
export function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** `https://…/runbook.md#policy-invalid`: the alarm's section of the runbook. */
function runbookUrl(runbookBaseUrl: string, heading: string): string {
  return `${runbookBaseUrl}#${githubAnchor(heading)}`;
}

/** Checks a `runbookBaseUrl` prop; the error names the prop. */
export function checkRunbookBaseUrl(url: string): string {
  const problem = (what: string) => new Error(`runbookBaseUrl: ${JSON.stringify(url)} ${what}`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.protocol !== 'https:' || /\s/.test(url)) {
    throw problem('is not an https URL');
  }
  if (url.includes('#')) {
    throw problem("has a #fragment: the alarms append each section's own");
  }
  if (url.length > MAX_RUNBOOK_BASE_URL_LENGTH) {
    throw problem(
      `is ${url.length} characters; at most ${MAX_RUNBOOK_BASE_URL_LENGTH} fit in an alarm description`,
    );
  }
  return url;
}

/** A retry record is delayed 15 minutes at most: one older than this waits for a stuck event source. */
const RETRY_MAX_AGE = Duration.hours(1);
/** Unsuccessful must persist this many periods (of 5 minutes) before it pages. */
const UNSUCCESSFUL_PERIODS = 3;
/** A wiring failure must persist two sweeps: one throttled call is not worth a page. */
const WIRING_PERIODS = 2;

export interface GuardAlarmsProps {
  readonly guardFunction: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
  readonly queues: GuardQueues;
  readonly policyParameterName: string;
  readonly maxAttempts: number;
  readonly alarmTopic: sns.ITopic;
  /** The topic the guard wires every protected service's connection notification to. */
  readonly notificationTopic: sns.ITopic;
  /** The runbook's URL, without a fragment (checked by `checkRunbookBaseUrl`). */
  readonly runbookBaseUrl: string;
  /** The guard's own metrics (those of its `service` dimension). */
  readonly metrics: GuardMetrics;
}

export class GuardAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly alarmTopic: sns.ITopic;
  private readonly runbookBaseUrl: string;
  /** `<stack name>-<the guard's path in its stack>`; see `guardName`. */
  private readonly namePrefix: string;

  /** `scope` is the guard; `props.metrics.service` (its name) starts every alarm's name. */
  constructor(scope: Construct, id: string, props: GuardAlarmsProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic;
    this.runbookBaseUrl = props.runbookBaseUrl;
    // The guard's name, the metrics' dimension too: an alarm and what it reads agree.
    this.namePrefix = props.metrics.service;
    const { queues, guardFunction, metrics } = props;
    const fn = `guard function ${guardFunction.functionName}`;
    const logGroup = `Its logs: ${props.logGroup.logGroupName}.`;
    const parameter = `SSM parameter ${props.policyParameterName}`;
    const period = `${METRIC_PERIOD.toMinutes()} minutes`;

    this.deadLetterAlarm(
      ALARMS.hintDeadLetter,
      queues.hintDeadLetterQueue,
      `Hint dead-letter queue ${queues.hintDeadLetterQueue.queueName} holds connection notifications or CloudTrail events that the ${fn} failed on ${HINT_QUEUE.maxReceiveCount} times. The connection requests they announced may still be pending.`,
    );
    this.deadLetterAlarm(
      ALARMS.retryDeadLetter,
      queues.retryDeadLetterQueue,
      `Retry dead-letter queue ${queues.retryDeadLetterQueue.queueName} holds work the ${fn} gave up on after ${props.maxAttempts} attempts, or retry records it could not read. Those connections may still be pending.`,
    );
    this.deadLetterAlarm(
      ALARMS.eventsDeadLetter,
      queues.eventsDeadLetterQueue,
      `Events dead-letter queue ${queues.eventsDeadLetterQueue.queueName} holds events that EventBridge could not deliver to the ${fn} or to hint queue ${queues.hintQueue.queueName} (or, in a fleet's home, policy changes it could not forward to another guard's event bus).`,
    );
    this.deadLetterAlarm(
      ALARMS.invocationFailure,
      queues.invocationFailureQueue,
      `Invocation-failure queue ${queues.invocationFailureQueue.queueName} holds scheduled or policy-change invocations of the ${fn} that failed, with every Lambda retry.`,
    );
    this.deadLetterAlarm(
      ALARMS.subscriptionDeadLetter,
      queues.subscriptionDeadLetterQueue,
      `Subscription dead-letter queue ${queues.subscriptionDeadLetterQueue.queueName} holds endpoint connection notifications that SNS could not deliver to hint queue ${queues.hintQueue.queueName}.`,
    );

    this.alarm(ALARMS.functionErrors, {
      metric: guardFunction.metricErrors({ period: METRIC_PERIOD, statistic: 'Sum' }),
      description: `The ${fn} failed at least once in ${period}. ${logGroup}`,
    });
    this.alarm(ALARMS.retryQueueStuck, {
      metric: queues.retryQueue.metricApproximateAgeOfOldestMessage({
        period: METRIC_PERIOD,
        statistic: 'Maximum',
      }),
      above: RETRY_MAX_AGE.toSeconds(),
      description: `A record in retry queue ${queues.retryQueue.queueName} has waited over an hour, though each is delayed 15 minutes at most: the queue's event source does not deliver to the ${fn}, or the guard keeps failing the records.`,
    });
    this.alarm(ALARMS.policyInvalid, {
      metric: metrics.metric(MetricName.POLICY_INVALID),
      description: `The content of the policy in ${parameter} is invalid (not JSON, or it fails validation): the ${fn} acts on the last valid policy it loaded, or on nothing. ${logGroup}`,
    });
    this.alarm(ALARMS.policyUnreadable, {
      metric: metrics.metric(MetricName.POLICY_UNREADABLE),
      description: `The ${fn} could not read ${parameter} (missing, access denied, or throttled): it acts on the last valid policy it loaded, or on nothing. ${logGroup}`,
    });
    this.alarm(ALARMS.unsuccessful, {
      metric: metrics.unsuccessful(),
      evaluationPeriods: UNSUCCESSFUL_PERIODS,
      description: `For ${UNSUCCESSFUL_PERIODS} periods of ${period}, Reject or Accept calls of the ${fn} left endpoints unchanged (Unsuccessful entries or failed calls); they wait in retry queue ${queues.retryQueue.queueName}. ${logGroup}`,
    });
    this.alarm(ALARMS.permissionDenied, {
      metric: metrics.metric(MetricName.PERMISSION_DENIED),
      description: `In dry run, the ${fn} found an endpoint service it may not reject or accept on: in enforce mode those calls would fail. ${logGroup}`,
    });
    this.alarm(ALARMS.notificationWiringFailed, {
      metric: metrics.metric(MetricName.NOTIFICATION_WIRING_FAILED),
      evaluationPeriods: WIRING_PERIODS,
      description: `For ${WIRING_PERIODS} periods of ${period}, the ${fn} could not give every protected service its endpoint connection notification to topic ${props.notificationTopic.topicName}: requests to those services wait for the next sweep instead of reaching the guard at once. ${logGroup}`,
    });
    this.alarm(ALARMS.acceptingAutomatically, {
      metric: metrics.metric(MetricName.SERVICES_ACCEPTING_AUTOMATICALLY, {
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      description: `A protected endpoint service does not require acceptance: EC2 accepts every connection request to it before the ${fn} can reject one. ${logGroup}`,
    });
    this.alarm(ALARMS.decisionEventsFailed, {
      metric: metrics.metric(MetricName.DECISION_EVENTS_FAILED),
      description: `The ${fn} made decisions whose events it could not publish to EventBridge (refused, throttled, or no time left): the decisions stand, but rules on their events did not see them. ${logGroup}`,
    });
    this.alarm(ALARMS.announcementsUnchecked, {
      metric: metrics.metric(MetricName.ANNOUNCEMENTS_UNCHECKED),
      description: `The ${fn} could not check in its DynamoDB announcement table whether one-time decision events (a connection kept pending, a dry run's decision) were published before: it published them anyway, so rules on them may see them again. ${logGroup}`,
    });
  }

  private deadLetterAlarm(spec: AlarmSpec, queue: sqs.IQueue, description: string) {
    return this.alarm(spec, {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: METRIC_PERIOD,
        statistic: 'Maximum',
      }),
      description,
    });
  }

  /**
   * Alarms when the metric reaches 1, or when it is `above` a given threshold; actions go to
   * the alarm topic.
   */
  private alarm(
    spec: AlarmSpec,
    props: {
      metric: cloudwatch.IMetric;
      description: string;
      evaluationPeriods?: number;
      above?: number;
    },
  ): cloudwatch.Alarm {
    const alarmName = `${this.namePrefix}-${spec.role}`;
    const alarmDescription = `${props.description} Runbook: ${runbookUrl(this.runbookBaseUrl, spec.runbook)}`;
    checkLength(`alarm ${spec.role}: its name`, alarmName, MAX_ALARM_NAME_LENGTH);
    checkLength(`alarm ${spec.role}: its description`, alarmDescription, MAX_DESCRIPTION_LENGTH);
    const alarm = new cloudwatch.Alarm(this, `${spec.role}Alarm`, {
      alarmName,
      metric: props.metric,
      ...(props.above === undefined
        ? {
            threshold: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          }
        : {
            threshold: props.above,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          }),
      evaluationPeriods: props.evaluationPeriods ?? 1,
      // No data is the good case for every alarm here: SQS stops publishing metrics for a
      // queue that stays empty, Lambda publishes Errors only when invoked, and the guard
      // emits PolicyInvalid, PolicyUnreadable, PermissionDenied and Unsuccessful only when
      // they happen. (A sweep emits ServicesAcceptingAutomatically every time, 0 included; a
      // sweep that did not run is the Errors and queue alarms' business.)
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }
}

/**
 * Fails the synth, rather than the deploy, when a name or a description is too long. A name
 * CloudFormation generates counts as GENERATED_NAME_LENGTH characters.
 */
function checkLength(what: string, text: string, max: number): void {
  const length = Token.isUnresolved(text)
    ? text.replace(/\$\{Token\[[^\]]*\]\}/g, 'x'.repeat(GENERATED_NAME_LENGTH)).length
    : text.length;
  if (length > max) {
    throw new Error(
      `${what} would be ${length} characters, over CloudWatch's ${max}: shorten the stack's name, the construct IDs, policyParameterName or runbookBaseUrl`,
    );
  }
}
