/**
 * The two SNS topics, both encrypted with one customer-managed KMS key:
 * - the notification topic, where EC2 publishes endpoint connection notifications;
 * - the alarm topic, where CloudWatch publishes the guard's alarms.
 *
 * The AWS-managed SNS key cannot be used: its policy cannot admit the AWS services that
 * publish here (`vpce.amazonaws.com`, `cloudwatch.amazonaws.com`). Each service is admitted,
 * on the key and on its topic, only on behalf of this account (`aws:SourceAccount`) and of the
 * resources that should publish (`aws:SourceArn`): the confused-deputy protection.
 */
import {
  ArnFormat,
  Aws,
  RemovalPolicy,
  Stack,
  aws_iam as iam,
  aws_kms as kms,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface GuardTopicsProps {
  /** ARNs of the protected endpoint services (or the wildcard ARN of all of them). */
  readonly endpointServiceArns: readonly string[];
  /** An address to subscribe to the alarm topic. */
  readonly alarmEmail?: string;
}

export class GuardTopics extends Construct {
  readonly key: kms.Key;
  readonly notificationTopic: sns.Topic;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: GuardTopicsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'vpce-guard: encrypts the connection-notification and alarm topics',
      enableKeyRotation: true,
      // It only encrypts messages in flight: once the topics are gone it protects nothing.
      // KMS still waits 30 days before deleting it.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.notificationTopic = this.encryptedTopic('NotificationTopic', {
      displayName: 'vpce-guard endpoint connection notifications',
      publisher: 'vpce.amazonaws.com',
      sourceArns: props.endpointServiceArns,
    });
    const alarmArns = Stack.of(this).formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.alarmTopic = this.encryptedTopic('AlarmTopic', {
      displayName: 'vpce-guard alarms',
      publisher: 'cloudwatch.amazonaws.com',
      sourceArns: [alarmArns],
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
  }

  /** A topic under the key, TLS only, that `publisher` may publish to for `sourceArns`. */
  private encryptedTopic(
    id: string,
    options: { displayName: string; publisher: string; sourceArns: readonly string[] },
  ): sns.Topic {
    const topic = new sns.Topic(this, id, {
      displayName: options.displayName,
      masterKey: this.key,
      enforceSSL: true,
    });
    const principal = new iam.ServicePrincipal(options.publisher);
    const conditions = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': [...options.sourceArns] },
    };
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `Allow${id}Publishers`,
        principals: [principal],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions,
      }),
    );
    // SNS encrypts each message with a data key obtained on the publisher's behalf.
    // `kms:GenerateDataKey*` and `kms:Decrypt` are the actions AWS documents for the key
    // policy of an encrypted topic that an AWS service (vpce, CloudWatch) publishes to. Follow
    // them exactly rather than guess the variant the service calls: a key policy that grants
    // less makes the service's publications fail, silently. The conditions keep the grant to
    // this account and to the resources that should publish.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `Allow${id}PublishersToUseKey`,
        principals: [principal],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions,
      }),
    );
    return topic;
  }
}
