/**
 * The stack the app deploys: the app's configuration (cdk.json context) turned into one
 * VpceGuard, plus the outputs an operator needs. Environment-agnostic: synth needs no account.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { guardPropsFromContext } from './context';
import { VpceGuard } from './vpce-guard';

export class VpceGuardStack extends Stack {
  readonly guard: VpceGuard;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description:
        'vpce-guard: rejects PrivateLink endpoint connection requests that its policy does not allow',
      ...props,
    });
    this.guard = new VpceGuard(this, 'Guard', guardPropsFromContext(this));

    const { guard } = this;
    const outputs: Record<string, [value: string, description: string]> = {
      GuardFunctionName: [
        guard.guardFunction.functionName,
        'Invoke with {"reconcile":"all"} to sweep now',
      ],
      PolicyParameterName: [guard.policyParameterName, 'The policy: edit it here'],
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
    for (const [id, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}
