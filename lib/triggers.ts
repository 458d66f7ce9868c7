/**
 * Everything that invokes the guard. Each trigger is only a hint: the guard re-reads the truth
 * from EC2, so a lost or duplicated trigger costs at most a delay until the next sweep.
 *
 * - Endpoint connection notifications (SNS, event `Connect`) for each configured service.
 * - CloudTrail `CreateVpcEndpoint` events on the default bus (same account or forwarded).
 * - A scheduled sweep of every protected service.
 * - `Parameter Store Change` of the policy, so an edit takes effect at once.
 * - The retry queue.
 *
 * SNS and EventBridge invoke asynchronously; what they cannot deliver lands in a dead-letter
 * queue here, and what the function fails on lands in its on-failure destination.
 */
import {
  Duration,
  aws_ec2 as ec2,
  aws_events as events,
  aws_events_targets as targets,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { deadLetterQueue } from './queues';

/** Retry records per invocation: small, so one slow record delays few others. */
const RETRY_BATCH_SIZE = 5;
/**
 * Concurrent invocations for the retry queue (2 is SQS's minimum). Reject and Accept share a
 * token bucket of 10 per account and Region: more concurrency would only throttle itself.
 */
export const RETRY_MAX_CONCURRENCY = 2;
/** EventBridge's retries of a target it could not invoke, within the event's maximum age. */
const EVENT_RETRY_ATTEMPTS = 8;
const EVENT_MAX_AGE = Duration.hours(1);

/** The manual and scheduled input: reconcile every protected service. */
const RECONCILE_ALL = { reconcile: 'all' } as const;

export interface GuardTriggersProps {
  readonly guardFunction: lambda.IFunction;
  /** Services that get a connection notification; empty: none (the sweep covers them). */
  readonly protectedServiceIds: readonly string[];
  readonly notificationTopic: sns.ITopic;
  readonly retryQueue: sqs.IQueue;
  readonly policyParameterName: string;
  readonly reconcileSchedule: Duration;
}

export class GuardTriggers extends Construct {
  /** Events that EventBridge could not deliver to the guard. */
  readonly eventsDeadLetterQueue: sqs.Queue;
  /** Notifications that SNS could not deliver to the guard. */
  readonly subscriptionDeadLetterQueue: sqs.Queue;
  readonly endpointCreatedRule: events.Rule;
  readonly scheduleRule: events.Rule;
  readonly policyChangedRule: events.Rule;

  constructor(scope: Construct, id: string, props: GuardTriggersProps) {
    super(scope, id);
    const { guardFunction } = props;

    this.subscriptionDeadLetterQueue = deadLetterQueue(
      this,
      'SubscriptionDeadLetterQueue',
      "the guard's SNS subscription",
    );
    props.notificationTopic.addSubscription(
      new subscriptions.LambdaSubscription(guardFunction, {
        deadLetterQueue: this.subscriptionDeadLetterQueue,
      }),
    );
    for (const serviceId of props.protectedServiceIds) {
      const notification = new ec2.CfnVPCEndpointConnectionNotification(
        this,
        `ConnectionNotification-${serviceId}`,
        {
          serviceId,
          connectionEvents: ['Connect'],
          connectionNotificationArn: props.notificationTopic.topicArn,
        },
      );
      // EC2 checks that it may publish: the topic, its policy and its key come first.
      notification.node.addDependency(props.notificationTopic);
    }

    this.eventsDeadLetterQueue = deadLetterQueue(
      this,
      'EventsDeadLetterQueue',
      "the guard's EventBridge targets",
    );
    const target = (event?: events.RuleTargetInput) =>
      new targets.LambdaFunction(guardFunction, {
        event,
        retryAttempts: EVENT_RETRY_ATTEMPTS,
        maxEventAge: EVENT_MAX_AGE,
        deadLetterQueue: this.eventsDeadLetterQueue,
      });

    // The CloudTrail record's requestParameters are not filtered on: their shape is not
    // documented, and the guard resolves the service from the event itself.
    this.endpointCreatedRule = new events.Rule(this, 'EndpointCreatedRule', {
      description: 'vpce-guard: a VPC endpoint was created (CloudTrail CreateVpcEndpoint)',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ec2.amazonaws.com'], eventName: ['CreateVpcEndpoint'] },
      },
      targets: [target()],
    });
    this.scheduleRule = new events.Rule(this, 'ScheduleRule', {
      description: 'vpce-guard: sweep every protected endpoint service',
      schedule: events.Schedule.rate(props.reconcileSchedule),
      targets: [target(events.RuleTargetInput.fromObject(RECONCILE_ALL))],
    });
    this.policyChangedRule = new events.Rule(this, 'PolicyChangedRule', {
      description: 'vpce-guard: the policy parameter changed',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['Parameter Store Change'],
        detail: { name: [props.policyParameterName] },
      },
      targets: [target()],
    });

    guardFunction.addEventSource(
      new sources.SqsEventSource(props.retryQueue, {
        batchSize: RETRY_BATCH_SIZE,
        maxConcurrency: RETRY_MAX_CONCURRENCY,
        // Without it, a partial failure would count as success and the record would be lost.
        reportBatchItemFailures: true,
      }),
    );
  }
}
