/**
 * VpceGuard: one construct that guards AWS PrivateLink endpoint services.
 *
 * It wires the triggers (connection notifications, CloudTrail events, a schedule, policy
 * changes, the retry queue) to the guard function, gives that function least-privilege
 * permissions, keeps every failure in a queue with an alarm, and creates the policy parameter
 * from an initial file without ever overwriting it.
 */
import {
  Duration,
  aws_cloudwatch as cloudwatch,
  aws_kms as kms,
  aws_lambda_nodejs as nodejs,
  aws_logs as logs,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MetricName } from '../lambda/metric-names';
import { GuardAlarms } from './alarms';
import { guardDashboard } from './dashboard';
import { GUARD_TIMEOUT, GuardFunction } from './guard-function';
import { guardMetric, unsuccessfulMetric } from './metrics';
import { PolicyParameter } from './policy-parameter';
import { endpointServiceArns } from './protected-services';
import { deadLetterQueue, secureQueue, type GuardQueues } from './queues';
import { GuardTopics } from './topics';
import { GuardTriggers } from './triggers';
import { resolveSettings, type VpceGuardProps } from './vpce-guard-props';

/**
 * A retry record must stay invisible while one invocation may still work on it: AWS's rule of
 * thumb for an SQS event source is six times the function's timeout.
 */
const RETRY_VISIBILITY_FACTOR = 6;

export class VpceGuard extends Construct {
  /** The guard function. */
  readonly guardFunction: nodejs.NodejsFunction;
  /** The guard function's log group. */
  readonly logGroup: logs.LogGroup;
  /** Work the guard could not do yet; it feeds the guard. */
  readonly retryQueue: sqs.Queue;
  /** The retry queue's dead-letter queue: retry records given up on. */
  readonly deadLetterQueue: sqs.Queue;
  /** Events that EventBridge could not deliver to the guard. */
  readonly eventsDeadLetterQueue: sqs.Queue;
  /** Asynchronous invocations that failed every Lambda retry (on-failure destination). */
  readonly invocationFailureQueue: sqs.Queue;
  /** Connection notifications that SNS could not deliver to the guard. */
  readonly subscriptionDeadLetterQueue: sqs.Queue;
  /** Where EC2 publishes endpoint connection notifications (event `Connect`). */
  readonly notificationTopic: sns.Topic;
  /** Where the alarms publish. */
  readonly alarmTopic: sns.Topic;
  /** The customer-managed key of both topics. */
  readonly encryptionKey: kms.Key;
  /** The policy parameter. */
  readonly policyParameter: ssm.IStringParameter;
  /** The policy parameter's name. */
  readonly policyParameterName: string;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: VpceGuardProps = {}) {
    super(scope, id);
    const settings = resolveSettings(props);
    const serviceIds = settings.protectedServiceIds;

    const policy = new PolicyParameter(this, 'Policy', {
      parameterName: settings.policyParameterName,
      initialPolicyFile: settings.initialPolicyFile,
      logRetention: settings.logRetention,
    });
    this.policyParameter = policy.parameter;
    this.policyParameterName = settings.policyParameterName;

    const topics = new GuardTopics(this, 'Topics', {
      endpointServiceArns: endpointServiceArns(this, serviceIds),
      alarmEmail: settings.alarmEmail,
    });
    this.encryptionKey = topics.key;
    this.notificationTopic = topics.notificationTopic;
    this.alarmTopic = topics.alarmTopic;

    // The guard counts attempts itself and dead-letters explicitly; the redrive is the
    // backstop for records that crash the function, bounded by the same number of attempts.
    this.deadLetterQueue = deadLetterQueue(this, 'RetryDeadLetterQueue');
    this.retryQueue = secureQueue(this, 'RetryQueue', {
      visibilityTimeout: Duration.seconds(GUARD_TIMEOUT.toSeconds() * RETRY_VISIBILITY_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxAttempts },
    });
    this.invocationFailureQueue = deadLetterQueue(
      this,
      'InvocationFailureQueue',
      "the guard's asynchronous invocations (Lambda on-failure destination)",
    );

    const guard = new GuardFunction(this, 'Function', {
      protectedServiceIds: serviceIds,
      policyParameter: policy.parameter,
      policyParameterKey: settings.policyParameterKey,
      retryQueue: this.retryQueue,
      retryDeadLetterQueue: this.deadLetterQueue,
      invocationFailureQueue: this.invocationFailureQueue,
      policyCacheSeconds: settings.policyCacheSeconds,
      rejectBatchSize: settings.rejectBatchSize,
      maxAttempts: settings.maxAttempts,
      logRetention: settings.logRetention,
      reservedConcurrency: settings.reservedConcurrency,
      tracing: settings.tracing,
    });
    this.guardFunction = guard.function;
    this.logGroup = guard.logGroup;
    // The first sweep must find the policy, or it would report PolicyInvalid.
    if (policy.creation) this.guardFunction.node.addDependency(policy.creation);

    const triggers = new GuardTriggers(this, 'Triggers', {
      guardFunction: this.guardFunction,
      protectedServiceIds: serviceIds,
      notificationTopic: this.notificationTopic,
      retryQueue: this.retryQueue,
      policyParameterName: settings.policyParameterName,
      reconcileSchedule: settings.reconcileSchedule,
    });
    this.eventsDeadLetterQueue = triggers.eventsDeadLetterQueue;
    this.subscriptionDeadLetterQueue = triggers.subscriptionDeadLetterQueue;

    const queues: GuardQueues = {
      retryQueue: this.retryQueue,
      retryDeadLetterQueue: this.deadLetterQueue,
      eventsDeadLetterQueue: this.eventsDeadLetterQueue,
      invocationFailureQueue: this.invocationFailureQueue,
      subscriptionDeadLetterQueue: this.subscriptionDeadLetterQueue,
    };
    this.alarms = new GuardAlarms(this, 'Alarms', {
      guardFunction: this.guardFunction,
      logGroup: this.logGroup,
      queues,
      policyParameterName: settings.policyParameterName,
      maxAttempts: settings.maxAttempts,
      alarmTopic: this.alarmTopic,
    }).alarms;
    this.dashboard = guardDashboard(this, 'Dashboard', {
      guardFunction: this.guardFunction,
      queues,
      alarms: this.alarms,
    });
  }

  /** One of the guard's metrics (namespace `VpceGuard`, dimension `service`), summed per 5 minutes. */
  metric(metricName: MetricName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return guardMetric(metricName, props);
  }

  /** Connections the policy was evaluated for. */
  metricConnectionsEvaluated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return guardMetric(MetricName.ConnectionsEvaluated, props);
  }

  /** Connections rejected (or that would have been, in dry run). */
  metricConnectionsRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return guardMetric(MetricName.ConnectionsRejected, props);
  }

  /** Connections accepted (or that would have been, in dry run). */
  metricConnectionsAccepted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return guardMetric(MetricName.ConnectionsAccepted, props);
  }

  /** Times the policy in SSM was missing, unparsable or invalid. */
  metricPolicyInvalid(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return guardMetric(MetricName.PolicyInvalid, props);
  }

  /** Endpoints a Reject or Accept call left unchanged (RejectUnsuccessful + AcceptUnsuccessful). */
  metricUnsuccessful(props?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return unsuccessfulMetric(props);
  }
}
