/**
 * VpceGuard: one construct that guards AWS PrivateLink endpoint services.
 *
 * It wires the triggers to the guard function (connection notifications and CloudTrail events
 * through the hint queue, a schedule and policy changes directly, the retry queue), gives that
 * function least-privilege permissions, keeps every failure in a queue with an alarm, and
 * creates the policy parameter from an initial file without ever overwriting it.
 */
import {
  ArnFormat,
  Stack,
  Token,
  TokenComparison,
  aws_cloudwatch as cloudwatch,
  aws_dynamodb as dynamodb,
  aws_ec2 as ec2,
  aws_events as events,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_ram as ram,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DECISION_EVENT_DETAIL_TYPE, DECISION_EVENT_SOURCE } from '../core/decision-event';
import { MetricName } from '../core/metric-names';
import { DEFAULT_POLICY_PARAMETER_NAME } from '../core/policy-parameter';
import { GuardAlarms } from './alarms';
import { announcementTable } from './announcement-table';
import { guardDashboard } from './dashboard';
import { HINT_QUEUE, RETRY_QUEUE } from './delivery';
import { GuardFunction } from './guard-function';
import { GuardMetrics, guardName } from './metrics';
import { NotificationCleanup } from './notification-cleanup';
import { admitPolicyChanges, PolicyChangeForwarding } from './policy-forwarding';
import { PolicyParameter } from './policy-parameter';
import { PolicyShare } from './policy-share';
import { endpointServiceArns } from './protected-services';
import { deadLetterQueue, eventSourceQueue, type GuardQueues } from './queues';
import { GuardTopics } from './topics';
import { GuardTriggers, policyChangePattern } from './triggers';
import { type GuardSettings, resolveSettings, type VpceGuardProps } from './vpce-guard-props';

export class VpceGuard extends Construct {
  /** The `source` of the guard's decision events (docs/events.md). */
  static readonly DECISION_EVENT_SOURCE: string = DECISION_EVENT_SOURCE;
  /** The `detail-type` of the guard's decision events (docs/events.md). */
  static readonly DECISION_EVENT_DETAIL_TYPE: string = DECISION_EVENT_DETAIL_TYPE;
  /** The policy parameter's name when `policyParameterName` is not given. */
  static readonly DEFAULT_POLICY_PARAMETER_NAME: string = DEFAULT_POLICY_PARAMETER_NAME;

  /** The guard function. */
  readonly guardFunction: lambda.Function;
  /** The guard function's log group. */
  readonly logGroup: logs.LogGroup;
  /**
   * Connection notifications (SNS envelopes) and CloudTrail `CreateVpcEndpoint` events; it
   * feeds the guard in batches.
   */
  readonly hintQueue: sqs.Queue;
  /** The hint queue's dead-letter queue: hints the guard failed on (10 receives). */
  readonly hintDeadLetterQueue: sqs.Queue;
  /** Work the guard could not do yet; it feeds the guard. */
  readonly retryQueue: sqs.Queue;
  /** The retry queue's dead-letter queue: retry records given up on. */
  readonly deadLetterQueue: sqs.Queue;
  /** Events that EventBridge could not deliver to the guard or to the hint queue. */
  readonly eventsDeadLetterQueue: sqs.Queue;
  /**
   * Asynchronous invocations (schedule, policy change) that failed every Lambda retry
   * (on-failure destination).
   */
  readonly invocationFailureQueue: sqs.Queue;
  /** Connection notifications that SNS could not deliver to the hint queue. */
  readonly subscriptionDeadLetterQueue: sqs.Queue;
  /** Where EC2 publishes endpoint connection notifications (event `Connect`). */
  readonly notificationTopic: sns.Topic;
  /** Where the alarms publish. */
  readonly alarmTopic: sns.Topic;
  /** The customer-managed key of both topics. */
  readonly encryptionKey: kms.Key;
  /**
   * The policy parameter, when it is of this stack's account and Region; absent when the guard
   * reads another Region's or account's by its ARN (`policyParameterName`).
   */
  readonly policyParameter?: ssm.IStringParameter;
  /** The policy parameter's name, or its full ARN when it was named by one. */
  readonly policyParameterName: string;
  /** The AWS RAM share of the policy parameter, with `sharePolicyWith`. */
  readonly policyShare?: ram.CfnResourceShare;
  /** One rule per environment of `forwardPolicyChangesTo`. */
  readonly policyForwardingRules: events.Rule[];
  /** Where the guard publishes its decision events: `decisionEventBus`, or the default bus. */
  readonly decisionEventBus: events.IEventBus;
  /** Which one-time decision events (kept pending, dry run) were published already. */
  readonly announcementTable: dynamodb.Table;
  readonly dashboard: cloudwatch.Dashboard;
  /**
   * One alarm per place where work can end up, named `<stack name>-<guard's path>-<role>`
   * (`VpceGuard-Guard-PolicyInvalid`); each description links to its runbook section.
   */
  readonly alarms: cloudwatch.Alarm[];
  /** The guard's own metrics: the `service` dimension is its name (metrics.ts `guardName`). */
  private readonly metrics: GuardMetrics;

  constructor(scope: Construct, id: string, props: VpceGuardProps = {}) {
    super(scope, id);
    const settings = resolveSettings(props);
    const serviceIds = settings.protectedServiceIds;

    const policy = new PolicyParameter(this, 'Policy', {
      parameterName: settings.policyParameterName,
      initialPolicyFile: settings.initialPolicyFile,
      advancedTier: settings.sharePolicyWith.length > 0,
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

    this.deadLetterQueue = deadLetterQueue(this, 'RetryDeadLetterQueue');
    this.retryQueue = eventSourceQueue(this, 'RetryQueue', {
      ...RETRY_QUEUE,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.hintDeadLetterQueue = deadLetterQueue(this, 'HintDeadLetterQueue');
    this.hintQueue = eventSourceQueue(this, 'HintQueue', {
      ...HINT_QUEUE,
      deadLetterQueue: this.hintDeadLetterQueue,
    });
    this.invocationFailureQueue = deadLetterQueue(
      this,
      'InvocationFailureQueue',
      "the guard's asynchronous invocations (Lambda on-failure destination)",
    );

    this.announcementTable = announcementTable(this, 'AnnouncementTable');

    const name = guardName(this);
    this.metrics = new GuardMetrics(name);
    const guard = new GuardFunction(this, 'Function', {
      protectedServiceIds: serviceIds,
      policyParameter: {
        parameterName: settings.policyParameterName,
        parameterArn: policy.parameterArn,
      },
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
      decisionEventBus: props.decisionEventBus,
      announcementTable: this.announcementTable,
      serviceName: name,
      notificationTopic: this.notificationTopic,
    });
    this.guardFunction = guard.function;
    this.decisionEventBus = guard.decisionEventBus;
    // The guard's EventBridge client calls its own Region: a bus of another Region is reached
    // through rules only (EventBridge user guide, cross-Region), never by PutEvents.
    this.checkDecisionBus('Region', (arn, theirs, ours) => {
      return `decisionEventBus ${arn} is in Region ${theirs}, this guard in ${ours}: the guard puts its decision events on a bus of its own Region (EventBridge reaches another Region through rules only); give each Region's guard a bus there, or leave it unset for the default bus`;
    });
    this.logGroup = guard.logGroup;
    // The first sweep must find the policy, or it would report PolicyUnreadable.
    if (policy.creation) this.guardFunction.node.addDependency(policy.creation);

    const triggers = new GuardTriggers(this, 'Triggers', {
      guardFunction: this.guardFunction,
      protectedServiceIds: serviceIds,
      notificationTopic: this.notificationTopic,
      hintQueue: this.hintQueue,
      retryQueue: this.retryQueue,
      policyParameterName: settings.policyParameterName,
      reconcileSchedule: settings.reconcileSchedule,
    });
    this.eventsDeadLetterQueue = triggers.eventsDeadLetterQueue;
    this.subscriptionDeadLetterQueue = triggers.subscriptionDeadLetterQueue;

    const fleet = this.wireFleet(settings, policy);
    this.policyShare = fleet.share;
    this.policyForwardingRules = fleet.forwardingRules;

    // Removes the notifications the guard created when the stack is deleted, once nothing can
    // invoke the guard any more and the stack's own notifications are gone.
    new NotificationCleanup(this, 'NotificationCleanup', {
      guardFunction: this.guardFunction,
      notificationTopic: this.notificationTopic,
      logRetention: settings.logRetention,
      deletedFirst: [
        ...triggers.node.children.filter(
          (c) => c instanceof events.Rule || c instanceof ec2.CfnVPCEndpointConnectionNotification,
        ),
        ...this.guardFunction.node.children.filter((c) => c instanceof lambda.EventSourceMapping),
      ],
    });

    const queues: GuardQueues = {
      hintQueue: this.hintQueue,
      hintDeadLetterQueue: this.hintDeadLetterQueue,
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
      notificationTopic: this.notificationTopic,
      runbookBaseUrl: settings.runbookBaseUrl,
      metrics: this.metrics,
    }).alarms;
    this.dashboard = guardDashboard(this, 'Dashboard', {
      guardFunction: this.guardFunction,
      queues,
      alarms: this.alarms,
      metrics: this.metrics,
    });
  }

  /**
   * A fleet's parts (docs/fleet.md): the home shares its policy and forwards its changes; a
   * guard that reads another account's policy admits that account's forwarded changes.
   */
  private wireFleet(
    settings: GuardSettings,
    policy: PolicyParameter,
  ): { share?: ram.CfnResourceShare; forwardingRules: events.Rule[] } {
    let share: ram.CfnResourceShare | undefined;
    if (settings.sharePolicyWith.length > 0) {
      share = new PolicyShare(this, 'PolicyShare', {
        parameterArn: policy.parameterArn,
        principals: settings.sharePolicyWith,
      }).resourceShare;
      // RAM refuses to share a parameter that does not exist yet.
      if (policy.creation) share.node.addDependency(policy.creation);
    }
    const forwardingRules =
      settings.forwardPolicyChangesTo.length > 0
        ? new PolicyChangeForwarding(this, 'PolicyChangeForwarding', {
            eventPattern: policyChangePattern(settings.policyParameterName),
            environments: settings.forwardPolicyChangesTo,
            deadLetterQueue: this.eventsDeadLetterQueue,
          }).rules
        : [];
    const policyAccount = settings.policyParameter.location?.accountId;
    const account = Stack.of(this).account;
    // An environment-agnostic stack (StackSets) cannot tell: admitting its own account is harmless.
    if (policyAccount && (Token.isUnresolved(account) || policyAccount !== account)) {
      admitPolicyChanges(this, 'AdmitPolicyChanges', policyAccount);
    }
    return { share, forwardingRules };
  }

  /**
   * A rule on the decision bus for the guard's decision events (docs/events.md), as CDK's
   * `onEvent` methods make them: `options.eventPattern` narrows the pattern (a `detail` of
   * `{ decision: ['reject'] }`, say), `options.target` receives the events.
   *
   * A rule lives in its bus's account: for a `decisionEventBus` of another account, make the
   * rule in a stack there. This throws when the bus's ARN names another account than the
   * stack's (a bus of another Region fails the guard's construction already); an
   * environment-agnostic stack cannot tell, and would put the rule on the same-named bus of
   * the account it is deployed to.
   */
  onDecision(id: string, options: events.OnEventOptions = {}): events.Rule {
    this.checkDecisionBus(
      'account',
      (arn, theirs, ours) =>
        `onDecision: decisionEventBus ${arn} is in account ${theirs}, this stack in account ${ours}: a rule can be made only on a bus of its own account and Region; make the rule in a stack there`,
    );
    const rule = new events.Rule(this, id, {
      description: options.description,
      ruleName: options.ruleName,
      crossStackScope: options.crossStackScope,
      eventBus: this.decisionEventBus,
      eventPattern: options.eventPattern,
    });
    rule.addEventPattern({
      source: [DECISION_EVENT_SOURCE],
      detailType: [DECISION_EVENT_DETAIL_TYPE],
    });
    if (options.target) rule.addTarget(options.target);
    return rule;
  }

  /**
   * Throws `message` when the decision bus's ARN names another account or Region than the
   * stack's (an environment-agnostic stack cannot tell, and passes).
   */
  private checkDecisionBus(
    side: 'account' | 'Region',
    message: (arn: string, theirs: string, ours: string) => string,
  ): void {
    const stack = Stack.of(this);
    const arn = this.decisionEventBus.eventBusArn;
    const bus = stack.splitArn(arn, ArnFormat.SLASH_RESOURCE_NAME);
    const [theirs, ours] =
      side === 'account' ? [bus.account, stack.account] : [bus.region, stack.region];
    if (theirs && Token.compareStrings(theirs, ours) === TokenComparison.DIFFERENT) {
      throw new Error(message(arn, theirs, ours));
    }
  }

  /**
   * One of the guard's metrics (namespace `VpceGuard`, dimension `service`: the guard's name,
   * `<stack name>-<construct path>`), summed per 5 minutes.
   */
  metric(metricName: MetricName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metric(metricName, props);
  }

  /** Connections the policy was evaluated for. */
  metricConnectionsEvaluated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metric(MetricName.CONNECTIONS_EVALUATED, props);
  }

  /** Connections rejected, in enforce mode (a dry run counts `DryRunRejects` instead). */
  metricConnectionsRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metric(MetricName.CONNECTIONS_REJECTED, props);
  }

  /** Connections accepted, in enforce mode (a dry run counts `DryRunAccepts` instead). */
  metricConnectionsAccepted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metric(MetricName.CONNECTIONS_ACCEPTED, props);
  }

  /** Times the policy in SSM was unparsable or invalid. */
  metricPolicyInvalid(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metric(MetricName.POLICY_INVALID, props);
  }

  /** Times the policy parameter could not be read (missing, access denied, throttled). */
  metricPolicyUnreadable(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.metric(MetricName.POLICY_UNREADABLE, props);
  }

  /** Endpoints a Reject or Accept call left unchanged (RejectUnsuccessful + AcceptUnsuccessful). */
  metricUnsuccessful(props?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return this.metrics.unsuccessful(props);
  }
}
