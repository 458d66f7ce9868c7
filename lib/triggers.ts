/**
 * Everything that reaches the guard. Each trigger is only a hint: the guard re-reads the truth
 * from EC2, so a lost or duplicated trigger costs at most a delay until the next sweep.
 *
 * - Endpoint connection notifications (SNS, event `Connect`) for each configured service (the
 *   guard creates those of the others), CloudTrail `CreateVpcEndpoint` events on the default
 *   bus (same account or forwarded), and the provider's own
 *   `CreateVpcEndpointServiceConfiguration` events (a new service to wire), go to the hint
 *   queue. Its event source hands a burst to the guard in a few large batches, at
 *   most two at a time: one container per request would each have its own token bucket, and
 *   together they would overrun EC2's account-wide ones with throttled and duplicate calls.
 * - A scheduled sweep of every protected service, and `Parameter Store Change` of the policy
 *   (which must reach a container to drop its cached policy), invoke the guard directly: they
 *   are rare.
 * - The retry queue.
 *
 * What SNS and EventBridge cannot deliver lands in a dead-letter queue here; what the guard
 * fails on lands in the queues' own dead-letter queues or the function's on-failure destination.
 */
import {
  type Duration,
  Stack,
  Token,
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
import {
  PARAMETER_CHANGE_DETAIL_TYPE,
  PARAMETER_CHANGE_SOURCE,
  policyParameter,
  setManifestPrefix,
} from '../core/policy-parameter';
import { EVENT_DELIVERY, HINT_SOURCE, RETRY_SOURCE } from './delivery';
import { deadLetterQueue } from './queues';

export interface GuardTriggersProps {
  readonly guardFunction: lambda.IFunction;
  /** Services that get a connection notification; empty: none (the sweep covers them). */
  readonly protectedServiceIds: readonly string[];
  readonly notificationTopic: sns.ITopic;
  /** Where notifications and CloudTrail events wait for the guard. */
  readonly hintQueue: sqs.Queue;
  readonly retryQueue: sqs.IQueue;
  readonly policyParameterName: string;
  readonly reconcileSchedule: Duration;
}

export class GuardTriggers extends Construct {
  /** Events that EventBridge could not deliver to the guard or to the hint queue. */
  readonly eventsDeadLetterQueue: sqs.Queue;
  /** Notifications that SNS could not deliver to the hint queue. */
  readonly subscriptionDeadLetterQueue: sqs.Queue;
  readonly endpointCreatedRule: events.Rule;
  /** CloudTrail `CreateVpcEndpointServiceConfiguration`: a new service, wired at once. */
  readonly serviceCreatedRule: events.Rule;
  readonly scheduleRule: events.Rule;
  readonly policyChangedRule: events.Rule;

  constructor(scope: Construct, id: string, props: GuardTriggersProps) {
    super(scope, id);
    const { guardFunction, hintQueue } = props;

    this.subscriptionDeadLetterQueue = deadLetterQueue(
      this,
      'SubscriptionDeadLetterQueue',
      "the notification topic's subscription",
    );
    // Not raw: each SQS body is the SNS envelope ({"Type":"Notification","Message":…}), which
    // the guard tells apart from CloudTrail events and retry records. The queue policy lets
    // SNS send for this topic only (aws:SourceArn).
    props.notificationTopic.addSubscription(
      new subscriptions.SqsSubscription(hintQueue, {
        rawMessageDelivery: false,
        deadLetterQueue: this.subscriptionDeadLetterQueue,
      }),
    );
    props.protectedServiceIds.forEach((serviceId, index) => {
      // A literal ID names its notification, which then keeps its logical ID when the list is
      // reordered; a token (a service made in the same app) cannot name it, its position does.
      const notificationId = Token.isUnresolved(serviceId)
        ? `ConnectionNotification${index}`
        : `ConnectionNotification-${serviceId}`;
      const notification = new ec2.CfnVPCEndpointConnectionNotification(this, notificationId, {
        serviceId,
        connectionEvents: ['Connect'],
        connectionNotificationArn: props.notificationTopic.topicArn,
      });
      // EC2 checks that it may publish: the topic, its policy and its key come first.
      notification.node.addDependency(props.notificationTopic);
    });

    this.eventsDeadLetterQueue = deadLetterQueue(
      this,
      'EventsDeadLetterQueue',
      "the guard's EventBridge targets",
    );
    const delivery = { ...EVENT_DELIVERY, deadLetterQueue: this.eventsDeadLetterQueue };
    // No input: the guard is sent the events themselves.
    const invokeGuard = () => new targets.LambdaFunction(guardFunction, delivery);

    // The CloudTrail record's requestParameters are not filtered on: their shape is not
    // documented, and the guard resolves the service from the event itself. The event goes
    // to the hint queue as it is: the SQS body is the EventBridge event's JSON.
    this.endpointCreatedRule = new events.Rule(this, 'EndpointCreatedRule', {
      description: 'vpce-guard: a VPC endpoint was created (CloudTrail CreateVpcEndpoint)',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ec2.amazonaws.com'], eventName: ['CreateVpcEndpoint'] },
      },
      targets: [new targets.SqsQueue(hintQueue, delivery)],
    });
    // The provider's own call, recorded in its own account: a new service is wired and
    // reconciled within seconds instead of at the next sweep. A failed call created nothing,
    // and another account's call (an organization that forwards CloudTrail events to this bus)
    // created no service of this one.
    this.serviceCreatedRule = new events.Rule(this, 'ServiceCreatedRule', {
      description:
        'vpce-guard: an endpoint service was created (CloudTrail CreateVpcEndpointServiceConfiguration)',
      eventPattern: {
        account: [Stack.of(this).account],
        source: ['aws.ec2'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ec2.amazonaws.com'],
          eventName: ['CreateVpcEndpointServiceConfiguration'],
          errorCode: events.Match.doesNotExist(),
        },
      },
      targets: [new targets.SqsQueue(hintQueue, delivery)],
    });
    // The guard sweeps every protected service on a `Scheduled Event`.
    this.scheduleRule = new events.Rule(this, 'ScheduleRule', {
      description: 'vpce-guard: sweep every protected endpoint service',
      schedule: events.Schedule.rate(props.reconcileSchedule),
      targets: [invokeGuard()],
    });
    // Also matches the events a fleet's home forwards: they keep their source, detail-type
    // and detail (docs/fleet.md).
    this.policyChangedRule = new events.Rule(this, 'PolicyChangedRule', {
      description: 'vpce-guard: the policy parameter or one of its principal sets changed',
      eventPattern: policyChangePattern(props.policyParameterName),
      targets: [invokeGuard()],
    });

    // Without reportBatchItemFailures, a partial failure would count as success and the
    // failed records would be lost.
    guardFunction.addEventSource(
      new sources.SqsEventSource(hintQueue, { ...HINT_SOURCE, reportBatchItemFailures: true }),
    );
    guardFunction.addEventSource(
      new sources.SqsEventSource(props.retryQueue, {
        ...RETRY_SOURCE,
        reportBatchItemFailures: true,
      }),
    );
  }
}

/**
 * The Parameter Store Change events of the policy `nameOrArn` names, or of the manifest of one
 * of its principal sets (a set's commit point); not the sets' parts, which a push writes
 * before its manifest names them (dozens of events). The event names the parameter by name,
 * even when the guard reads it by ARN.
 */
export function policyChangePattern(nameOrArn: string): events.EventPattern {
  const policy = policyParameter(nameOrArn);
  return {
    source: [PARAMETER_CHANGE_SOURCE],
    detailType: [PARAMETER_CHANGE_DETAIL_TYPE],
    detail: { name: [policy.name, { prefix: setManifestPrefix(policy) }] },
  };
}
