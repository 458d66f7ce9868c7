/**
 * Decision events to people (docs/events.md#sending-decisions-to-people): every rejection by
 * e-mail, and every decision that needs a human (a request kept pending for review, a retry
 * given up) to a Slack channel through AWS Chatbot (Amazon Q Developer in chat applications).
 *
 * A stack to copy from; test/lib/examples.test.ts synthesizes it, so it cannot rot.
 */
import * as path from 'node:path';
import {
  Aws,
  Duration,
  Stack,
  type StackProps,
  aws_chatbot as chatbot,
  aws_events as events,
  aws_iam as iam,
  aws_kms as kms,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { VpceGuard } from '../lib';

export interface DecisionNotificationsProps extends StackProps {
  /** Who gets an e-mail for each rejection (SNS asks the address to confirm). */
  readonly email: string;
  /** The Slack workspace, authorized once in the AWS Chatbot console. */
  readonly slackWorkspaceId: string;
  /** The channel's ID (in Slack: the channel's details, at the bottom). */
  readonly slackChannelId: string;
}

/** A field of the decision event, for an input transformer. */
const field = (name: string) => events.EventField.fromPath(`$.detail.${name}`);

export class DecisionNotificationsStack extends Stack {
  constructor(scope: Construct, id: string, props: DecisionNotificationsProps) {
    super(scope, id, props);
    const guard = new VpceGuard(this, 'Guard', {
      initialPolicyFile: path.join(__dirname, 'policy.example.json'),
    });

    // Both topics are encrypted with this key: EventBridge must be allowed to use it.
    const key = new kms.Key(this, 'NotificationKey', {
      description: 'vpce-guard decision notifications',
      enableKeyRotation: true,
    });
    const mail = new sns.Topic(this, 'Rejections', { masterKey: key, enforceSSL: true });
    mail.addSubscription(new subscriptions.EmailSubscription(props.email));
    const chat = new sns.Topic(this, 'NeedsReview', { masterKey: key, enforceSSL: true });

    // Named, so that the policies below can name their ARNs without depending on the rules
    // (the rules depend on the topics, the topics on the key).
    const ruleNames = ['vpce-guard-rejections-by-email', 'vpce-guard-needs-review-in-slack'];
    // What EventBridge could not deliver after its retries (a publish the topic's or the key's
    // policy refuses, say) waits here, rather than being dropped: watch its depth.
    const undelivered = new sqs.Queue(this, 'Undelivered', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    guard.onDecision('RejectionsByEmail', {
      ruleName: ruleNames[0],
      description: 'vpce-guard rejections (and would-be rejections, in dry run), by e-mail',
      eventPattern: { detail: { decision: ['reject'] } },
      target: topicTarget(
        mail,
        undelivered,
        events.RuleTargetInput.fromText(
          `vpce-guard ${field('mode')}: ${field('decision')} of endpoint ${field('endpointId')} ` +
            `(account ${field('owner')}, ${field('region')}) on ${field('serviceId')}, ` +
            `outcome ${field('outcome')}. ${field('reason')}`,
        ),
      ),
    });

    guard.onDecision('NeedsReviewInSlack', {
      ruleName: ruleNames[1],
      description: 'vpce-guard requests kept pending for review, and retries given up, to Slack',
      eventPattern: { detail: { $or: [{ decision: ['keep'] }, { outcome: ['gaveUp'] }] } },
      // AWS Chatbot shows a custom notification: version 1.0, source "custom", content.
      target: topicTarget(
        chat,
        undelivered,
        events.RuleTargetInput.fromObject({
          version: '1.0',
          source: 'custom',
          content: {
            title: `vpce-guard: ${field('decision')} ${field('endpointId')} (${field('outcome')})`,
            description:
              `Account ${field('owner')} in ${field('region')} asks to connect to ` +
              `${field('serviceId')}. ${field('reason')}`,
          },
        }),
      ),
    });

    // Only these two rules, in this account, may publish to the topics and use their key:
    // the confused-deputy protection (aws:SourceArn, aws:SourceAccount).
    const ruleArns = ruleNames.map((resourceName) =>
      this.formatArn({ service: 'events', resource: 'rule', resourceName }),
    );
    const conditions = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnEquals: { 'aws:SourceArn': ruleArns },
    };
    const eventBridge = new iam.ServicePrincipal('events.amazonaws.com');
    for (const topic of [mail, chat]) {
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [eventBridge],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions,
        }),
      );
    }
    undelivered.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [eventBridge],
        actions: ['sqs:SendMessage'],
        resources: [undelivered.queueArn],
        conditions,
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [eventBridge],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions,
      }),
    );

    new chatbot.SlackChannelConfiguration(this, 'Slack', {
      slackChannelConfigurationName: 'vpce-guard-decisions',
      slackWorkspaceId: props.slackWorkspaceId,
      slackChannelId: props.slackChannelId,
      notificationTopics: [chat],
      // The channel only reads notifications: no AWS actions from Slack.
      guardrailPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')],
    });
  }
}

/**
 * A rule target that publishes `message` to `topic`, with no grant of its own: the topic's and
 * the key's policies above admit EventBridge for these rules only. (CDK's `SnsTopic` target
 * would admit EventBridge for every rule of every account.) What cannot be delivered goes to
 * `deadLetterQueue`.
 */
function topicTarget(
  topic: sns.ITopic,
  deadLetterQueue: sqs.IQueue,
  message: events.RuleTargetInput,
): events.IRuleTarget {
  return {
    bind: () => ({
      arn: topic.topicArn,
      input: message,
      deadLetterConfig: { arn: deadLetterQueue.queueArn },
    }),
  };
}
