/**
 * The guard's dashboard: what it decided, what it could not do, where work waits, and how the
 * function itself is doing.
 */
import { aws_cloudwatch as cloudwatch, aws_lambda as lambda, aws_sqs as sqs } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { MetricName } from '../core/metric-names';
import { type GuardMetrics, METRIC_PERIOD } from './metrics';
import type { GuardQueues } from './queues';

export interface GuardDashboardProps {
  readonly guardFunction: lambda.IFunction;
  readonly queues: GuardQueues;
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** The guard's own metrics (those of its `service` dimension). */
  readonly metrics: GuardMetrics;
}

const WIDTH = 8;
const HEIGHT = 6;
/** CloudWatch dashboards are 24 columns wide. */
const FULL_WIDTH = 24;

export function guardDashboard(
  scope: Construct,
  id: string,
  props: GuardDashboardProps,
): cloudwatch.Dashboard {
  const { guardFunction: fn, queues } = props;
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
    new cloudwatch.GraphWidget({ title, left, right, width: WIDTH, height: HEIGHT });
  const guard = (...names: MetricName[]) => names.map((name) => props.metrics.metric(name));
  const depth = (queue: sqs.IQueue, label: string) =>
    queue.metricApproximateNumberOfMessagesVisible({
      period: METRIC_PERIOD,
      statistic: 'Maximum',
      label,
    });
  /** A queue's depth, and on the right axis the age of its oldest message. */
  const queueGraph = (title: string, queue: sqs.IQueue) =>
    graph(
      title,
      [depth(queue, 'Messages')],
      [
        queue.metricApproximateAgeOfOldestMessage({
          period: METRIC_PERIOD,
          statistic: 'Maximum',
          label: 'Age of oldest message (s)',
        }),
      ],
    );
  const functionMetric = { period: METRIC_PERIOD };

  const dashboard = new cloudwatch.Dashboard(scope, id);
  dashboard.addWidgets(
    graph(
      'Connections',
      guard(
        MetricName.CONNECTIONS_EVALUATED,
        MetricName.CONNECTIONS_REJECTED,
        MetricName.CONNECTIONS_ACCEPTED,
        MetricName.CONNECTIONS_KEPT,
        // What enforce mode would do, during a dry run (not counted in Rejected/Accepted).
        MetricName.DRY_RUN_REJECTS,
        MetricName.DRY_RUN_ACCEPTS,
      ),
    ),
    graph('Unsuccessful', guard(MetricName.REJECT_UNSUCCESSFUL, MetricName.ACCEPT_UNSUCCESSFUL)),
    graph(
      'Policy and triggers',
      guard(
        MetricName.POLICY_INVALID,
        MetricName.POLICY_UNREADABLE,
        MetricName.PERMISSION_DENIED,
        MetricName.UNKNOWN_TRIGGER,
      ),
    ),
  );
  dashboard.addWidgets(
    queueGraph('Hint queue (notifications, CloudTrail events)', queues.hintQueue),
    queueGraph('Retry queue', queues.retryQueue),
    graph(
      'Retries and decision events',
      guard(
        MetricName.RETRIES_QUEUED,
        MetricName.RETRIES_DEAD_LETTERED,
        // Decisions whose events EventBridge did not take (docs/events.md).
        MetricName.DECISION_EVENTS_FAILED,
        // One-time events published without the announcement table's check.
        MetricName.ANNOUNCEMENTS_UNCHECKED,
      ),
    ),
  );
  dashboard.addWidgets(
    graph('Dead-letter queues (messages)', [
      depth(queues.hintDeadLetterQueue, 'Hint DLQ'),
      depth(queues.retryDeadLetterQueue, 'Retry DLQ'),
      depth(queues.eventsDeadLetterQueue, 'Events DLQ'),
      depth(queues.invocationFailureQueue, 'Invocation failures'),
      depth(queues.subscriptionDeadLetterQueue, 'Subscription DLQ'),
    ]),
    graph('Function', [
      fn.metricInvocations(functionMetric),
      fn.metricErrors(functionMetric),
      fn.metricThrottles(functionMetric),
    ]),
    graph('Duration (ms)', [
      fn.metricDuration({ ...functionMetric, statistic: 'Average' }),
      fn.metricDuration({ ...functionMetric, statistic: 'p99' }),
      fn.metricDuration({ ...functionMetric, statistic: 'Maximum' }),
    ]),
  );
  const half = (title: string, metrics: cloudwatch.IMetric[]) =>
    new cloudwatch.GraphWidget({ title, left: metrics, width: FULL_WIDTH / 2, height: HEIGHT });
  const level = (name: MetricName) =>
    props.metrics.metric(name, { statistic: cloudwatch.Stats.MAXIMUM });
  dashboard.addWidgets(
    // Counts of services, measured by each sweep: a level, so the maximum of the period.
    half('Service posture (services)', [
      level(MetricName.SERVICES_PROTECTED),
      level(MetricName.SERVICES_ACCEPTING_AUTOMATICALLY),
      level(MetricName.SERVICES_OPEN_TO_EVERYONE),
    ]),
    half(
      'Connection notifications',
      guard(MetricName.NOTIFICATIONS_CREATED, MetricName.NOTIFICATION_WIRING_FAILED),
    ),
  );
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({
      title: 'Alarms',
      alarms: [...props.alarms],
      width: FULL_WIDTH,
      height: HEIGHT,
    }),
  );
  return dashboard;
}
