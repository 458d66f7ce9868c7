/**
 * The guard's alarms. Every durable place where work can end up has one, and each alarm's
 * description says what to do, with the commands, and names its README runbook section.
 */
import {
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
import { METRIC_PERIOD, guardMetric, unsuccessfulMetric } from './metrics';
import type { GuardQueues } from './queues';

/** README headings (under "Runbook") that the alarm descriptions point to. */
export const RUNBOOK = {
  hintDeadLetter: 'Hint dead-letter queue not empty',
  retryDeadLetter: 'Retry dead-letter queue not empty',
  retryQueueStuck: 'Retry queue not draining',
  eventsDeadLetter: 'Events dead-letter queue not empty',
  invocationFailure: 'Invocation-failure queue not empty',
  subscriptionDeadLetter: 'Subscription dead-letter queue not empty',
  functionErrors: 'Function errors',
  policyInvalid: 'Policy invalid',
  policyUnreadable: 'Policy unreadable',
  unsuccessful: 'Rejects or accepts unsuccessful',
  permissionDenied: 'Permission denied',
} as const;

/** `README.md#heading-as-github-anchors-it`. */
export function runbookLink(heading: string): string {
  const anchor = heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
  return `README.md#${anchor}`;
}

/** A CloudWatch Logs filter for the guard's warnings and errors (and the runtime's). */
const WARNINGS = "--filter-pattern '?ERROR ?WARN'";

/** Reads up to 10 messages without hiding them from the next reader. */
function peek(queue: sqs.IQueue): string {
  return `aws sqs receive-message --queue-url ${queue.queueUrl} --max-number-of-messages 10 --visibility-timeout 0 --message-attribute-names All`;
}

/** Unsuccessful must persist this many periods (of 5 minutes) before it pages. */
const UNSUCCESSFUL_PERIODS = 3;
/**
 * A retry record is delayed 15 minutes at most: one older than this waits for an event source
 * that is stuck or disabled.
 */
const RETRY_MAX_AGE = Duration.hours(1);

export interface GuardAlarmsProps {
  readonly guardFunction: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
  readonly queues: GuardQueues;
  readonly policyParameterName: string;
  readonly maxAttempts: number;
  readonly alarmTopic: sns.ITopic;
}

export class GuardAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly alarmTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: GuardAlarmsProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic;
    const { queues, guardFunction } = props;
    const parameter = props.policyParameterName;
    const sweep = `aws lambda invoke --function-name ${guardFunction.functionName} --cli-binary-format raw-in-base64-out --payload '{"reconcile":"all"}' /dev/stdout`;
    const logsTail = `aws logs tail ${props.logGroup.logGroupName} --since 1h`;

    this.deadLetterAlarm(
      'HintDeadLetterAlarm',
      queues.hintDeadLetterQueue,
      RUNBOOK.hintDeadLetter,
      'The guard failed 10 times on connection notifications or CloudTrail events from the hint queue (errors, a policy it could not load, or throttled deliveries). ' +
        `Read them: ${peek(queues.hintDeadLetterQueue)}; the logs say why: ${logsTail} --filter-pattern ERROR. ` +
        `Fix the cause, sweep (${sweep}), then purge the queue.`,
    );
    this.deadLetterAlarm(
      'RetryDeadLetterAlarm',
      queues.retryDeadLetterQueue,
      RUNBOOK.retryDeadLetter,
      `The guard gave up on endpoints after ${props.maxAttempts} attempts; they may still be pending. ` +
        `Read the records: ${peek(queues.retryDeadLetterQueue)}. ` +
        `Fix the cause, then give each record one more attempt: aws sqs start-message-move-task --source-arn ${queues.retryDeadLetterQueue.queueArn} --destination-arn ${queues.retryQueue.queueArn}.`,
    );
    this.deadLetterAlarm(
      'EventsDeadLetterAlarm',
      queues.eventsDeadLetterQueue,
      RUNBOOK.eventsDeadLetter,
      'EventBridge could not invoke the guard or send to the hint queue (permission, throttling, or a deleted function or queue). ' +
        `The message attributes ERROR_CODE and ERROR_MESSAGE say why: ${peek(queues.eventsDeadLetterQueue)}. ` +
        `Fix the cause, sweep (${sweep}), then purge the queue.`,
    );
    this.deadLetterAlarm(
      'InvocationFailureAlarm',
      queues.invocationFailureQueue,
      RUNBOOK.invocationFailure,
      'The guard failed a scheduled or policy-change invocation and every Lambda retry. ' +
        `Each record holds the event and the error: ${peek(queues.invocationFailureQueue)}; the logs say more: ${logsTail}. ` +
        `Fix the cause, sweep (${sweep}), then purge the queue.`,
    );
    this.deadLetterAlarm(
      'SubscriptionDeadLetterAlarm',
      queues.subscriptionDeadLetterQueue,
      RUNBOOK.subscriptionDeadLetter,
      'SNS could not deliver endpoint connection notifications to the hint queue (its queue policy, or a deleted queue). ' +
        `Read them: ${peek(queues.subscriptionDeadLetterQueue)}. ` +
        `Fix the cause, sweep (${sweep}), then purge the queue.`,
    );

    this.alarm('FunctionErrorsAlarm', {
      metric: guardFunction.metricErrors({ period: METRIC_PERIOD, statistic: 'Sum' }),
      runbook: RUNBOOK.functionErrors,
      description:
        `The guard function failed. Read its errors: ${logsTail} --filter-pattern ERROR. ` +
        'Failed scheduled and policy-change invocations are retried, then kept in the invocation-failure queue; failed hints and retry records return to their queue, then go to its dead-letter queue after 10 receives.',
    });
    this.alarm('RetryQueueAgeAlarm', {
      metric: queues.retryQueue.metricApproximateAgeOfOldestMessage({
        period: METRIC_PERIOD,
        statistic: 'Maximum',
      }),
      above: RETRY_MAX_AGE.toSeconds(),
      runbook: RUNBOOK.retryQueueStuck,
      description:
        "A retry record has waited over an hour, though each is delayed 15 minutes at most: the retry queue's event source is disabled or stuck, or the guard keeps failing the records. " +
        `Check that the mapping is Enabled: aws lambda list-event-source-mappings --function-name ${guardFunction.functionName} --event-source-arn ${queues.retryQueue.queueArn}; ` +
        `then read the function's errors and throttles: ${logsTail} --filter-pattern ERROR.`,
    });
    this.alarm('PolicyInvalidAlarm', {
      metric: guardMetric(MetricName.PolicyInvalid),
      runbook: RUNBOOK.policyInvalid,
      description:
        `The content of the policy in SSM parameter ${parameter} is invalid (not JSON, or it fails validation): the guard keeps the last valid policy it loaded, or acts on nothing. ` +
        `The logs give the JSON path of each error: ${logsTail} ${WARNINGS}. ` +
        `Fix it with: aws ssm put-parameter --name ${parameter} --overwrite --value file://policy.json.`,
    });
    this.alarm('PolicyUnreadableAlarm', {
      metric: guardMetric(MetricName.PolicyUnreadable),
      runbook: RUNBOOK.policyUnreadable,
      description:
        `The guard could not read SSM parameter ${parameter} (missing, access denied, or throttled): it keeps the last valid policy it loaded, or acts on nothing. ` +
        `The logs name the error: ${logsTail} ${WARNINGS}. ` +
        `Check that the parameter exists (aws ssm get-parameter --name ${parameter}), that the guard's role may ssm:GetParameter it (and kms:Decrypt its key, for a SecureString under a customer-managed key), and whether SSM throttles GetParameter in this account and Region.`,
    });
    this.alarm('UnsuccessfulAlarm', {
      metric: unsuccessfulMetric(),
      evaluationPeriods: UNSUCCESSFUL_PERIODS,
      runbook: RUNBOOK.unsuccessful,
      description:
        `Reject or Accept calls have left endpoints unchanged for ${UNSUCCESSFUL_PERIODS} periods of 5 minutes (Unsuccessful entries or failed calls). ` +
        `The logs list each endpoint with its error code: ${logsTail} ${WARNINGS}. ` +
        'Look for UnauthorizedOperation (permissions), InvalidVpcEndpointServiceId.NotFound (a deleted service) or RequestLimitExceeded (another tool using the same API).',
    });
    this.alarm('PermissionDeniedAlarm', {
      metric: guardMetric(MetricName.PermissionDenied),
      runbook: RUNBOOK.permissionDenied,
      description:
        'A dry run found that the guard may not reject or accept on an endpoint service: in enforce mode those calls would fail. ' +
        `The logs name the service: ${logsTail} ${WARNINGS}. ` +
        'Add the service to protectedServiceIds (or protect all) and redeploy before switching the policy to enforce.',
    });
  }

  private deadLetterAlarm(
    id: string,
    queue: sqs.IQueue,
    runbook: string,
    description: string,
  ): cloudwatch.Alarm {
    return this.alarm(id, {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: METRIC_PERIOD,
        statistic: 'Maximum',
      }),
      runbook,
      description,
    });
  }

  /**
   * Alarms when the metric reaches 1, or when it is `above` a given threshold; actions go to
   * the alarm topic.
   */
  private alarm(
    id: string,
    props: {
      metric: cloudwatch.IMetric;
      runbook: string;
      description: string;
      evaluationPeriods?: number;
      above?: number;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
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
      // they happen.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `${props.description} Runbook: ${runbookLink(props.runbook)}`,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }
}
