/**
 * Deleting the stack removes the connection notifications the guard created, and only those.
 *
 * The guard wires every protected service at run time, so CloudFormation does not know those
 * notifications. A custom resource does the cleanup: on Delete, the CDK Provider framework
 * invokes the guard function itself, which lists the notifications that point at its own topic
 * (from its configuration, never from the event) and deletes them all: the topic goes with the
 * stack. Create and Update do nothing: the next sweep wires.
 *
 * The order of deletion is what makes it clean. CloudFormation deletes a resource before the
 * ones it depends on, so:
 * - the triggers (rules, event source mappings) and the stack's own notifications depend on
 *   the cleanup: they are gone before it runs, so no sweep re-creates a notification after it,
 *   and the stack's own are left to CloudFormation;
 * - the cleanup depends on the topic, and on the guard function through the provider: both
 *   are deleted after it.
 * What remains is a race no ordering closes: an invocation already running when its trigger
 * was deleted, or Lambda's retry of an earlier failed scheduled invocation, may wire a service
 * after the cleanup and before the function is deleted (docs/configuration.md#deleting-the-stack).
 */
import {
  type CfnElement,
  CustomResource,
  Stack,
  Validations,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sns as sns,
  custom_resources as cr,
} from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { NOTIFICATION_CLEANUP_RESOURCE_TYPE } from '../core/contract';

export interface NotificationCleanupProps {
  readonly guardFunction: lambda.IFunction;
  readonly notificationTopic: sns.ITopic;
  /** Retention of the Provider framework function's logs. */
  readonly logRetention: logs.RetentionDays;
  /**
   * What must be deleted before the cleanup runs: whatever can invoke the guard (so wire), and
   * the stack's own notifications.
   */
  readonly deletedFirst: readonly IConstruct[];
}

export class NotificationCleanup extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: NotificationCleanupProps) {
    super(scope, id);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.guardFunction,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: props.logRetention }),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: NOTIFICATION_CLEANUP_RESOURCE_TYPE,
    });
    this.resource.node.addDependency(props.notificationTopic);
    for (const construct of props.deletedFirst) construct.node.addDependency(this.resource);
    acknowledgeProviderFramework(provider);
  }
}

/**
 * The Provider framework's function is CDK's: it only relays CloudFormation's request to the
 * guard function and its answer back, during deployments. Its two findings are acknowledged on
 * its own role and policy: CDK gives it AWSLambdaBasicExecutionRole, and lets it invoke the
 * guard function's versions too (`<arn>:*`).
 */
function acknowledgeProviderFramework(provider: cr.Provider): void {
  const role = provider.node.findChild('framework-onEvent').node.findChild('ServiceRole');
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "CDK's Provider framework function gets only log-writing rights from this managed policy; it runs during deployments only, to relay the notification cleanup's request to the guard function.",
  });
  const policy = role.node.findChild('DefaultPolicy');
  const guard = Stack.of(provider).getLogicalId(
    provider.onEventHandler.node.defaultChild as CfnElement,
  );
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${guard}.Arn>:*]`,
    reason:
      "CDK's Provider framework may invoke the guard function and its versions and aliases (<arn>:*), no other function: it relays the notification cleanup's request during deployments only.",
  });
}
