/**
 * The stack the app deploys: the app's configuration (cdk.json context) turned into one
 * VpceGuard, plus the outputs an operator needs. Alone, it is environment-agnostic: synth
 * needs no account. In a fleet (docs/fleet.md), it is one environment's guard, and its part in
 * the fleet (the policy's home, or a guard that reads the home's policy) follows from `fleet`.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { GuardEnvironment } from '../core/fleet';
import { guardPropsFromContext } from './context';
import { fleetGuardProps } from './fleet';
import { VpceGuard } from './vpce-guard';

/** A fleet of guards that share one policy (docs/fleet.md). */
export interface VpceGuardFleetProps {
  /** Every environment of the fleet, the home included; the stack's own `env` is one of them. */
  readonly environments: GuardEnvironment[];
  /** Where the policy parameter lives: one of `environments`. */
  readonly policyHome: GuardEnvironment;
}

export interface VpceGuardStackProps extends StackProps {
  /**
   * The fleet this stack's guard belongs to. The home's stack creates the policy, shares it
   * with the fleet's other accounts (unless `vpce-guard:sharePolicyWith` names others) and
   * forwards its changes to every other guard; every other stack reads the home's policy by
   * its ARN. `env` must be one of the fleet's environments.
   *
   * @default - a guard alone, with its own policy
   */
  readonly fleet?: VpceGuardFleetProps;
}

export class VpceGuardStack extends Stack {
  readonly guard: VpceGuard;

  constructor(scope: Construct, id: string, props: VpceGuardStackProps = {}) {
    super(scope, id, {
      description:
        'vpce-guard: rejects PrivateLink endpoint connection requests that its policy does not allow',
      ...props,
    });
    const configured = guardPropsFromContext(this);
    this.guard = new VpceGuard(
      this,
      'Guard',
      props.fleet ? fleetGuardProps(configured, props.fleet, props.env) : configured,
    );

    const { guard } = this;
    const outputs: Record<string, [value: string, description: string]> = {
      GuardFunctionName: [
        guard.guardFunction.functionName,
        'Invoke with {"reconcile":"all"} to sweep now',
      ],
      PolicyParameterName: [
        guard.policyParameterName,
        guard.policyParameterName.startsWith('arn:')
          ? "The fleet's policy: edit it in its home"
          : 'The policy: edit it here',
      ],
      NotificationTopicArn: [
        guard.notificationTopic.topicArn,
        'Where endpoint connection notifications go',
      ],
      AlarmTopicArn: [guard.alarmTopic.topicArn, 'Subscribe here to the alarms'],
      DashboardName: [guard.dashboard.dashboardName, 'The CloudWatch dashboard'],
      HintQueueUrl: [
        guard.hintQueue.queueUrl,
        'Notifications and CloudTrail events on their way to the guard',
      ],
      HintDeadLetterQueueUrl: [guard.hintDeadLetterQueue.queueUrl, 'Hints the guard failed on'],
      RetryQueueUrl: [guard.retryQueue.queueUrl, 'Work the guard will retry'],
      RetryDeadLetterQueueUrl: [guard.deadLetterQueue.queueUrl, 'Retry records given up on'],
      EventsDeadLetterQueueUrl: [
        guard.eventsDeadLetterQueue.queueUrl,
        'Events EventBridge could not deliver',
      ],
      InvocationFailureQueueUrl: [
        guard.invocationFailureQueue.queueUrl,
        'Invocations that failed every retry',
      ],
      SubscriptionDeadLetterQueueUrl: [
        guard.subscriptionDeadLetterQueue.queueUrl,
        'Notifications SNS could not deliver to the hint queue',
      ],
    };
    if (guard.policyShare) {
      outputs.PolicyShareArn = [
        guard.policyShare.attrArn,
        'The AWS RAM share of the policy with the fleet',
      ];
    }
    for (const [id, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}
