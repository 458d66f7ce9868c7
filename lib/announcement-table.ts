/**
 * The announcement table: which one-time decision events (a connection kept pending for
 * review, a dry run's decision) the guard has published, so that each is announced once across
 * containers, not on every sweep (docs/events.md#once-when-first-seen).
 */
import { RemovalPolicy, aws_dynamodb as dynamodb } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ANNOUNCEMENT_TABLE } from '../core/decision-event';

/**
 * On demand, with TTL on the claims' expiry. Encrypted under an AWS owned key (DynamoDB's
 * default, at no cost): the table holds endpoint IDs and dates, nothing secret. Point-in-time recovery keeps
 * cdk-nag's AwsSolutions-DDB3 satisfied at a few cents a month. Deleted with the stack: losing
 * it costs at most one more announcement of what is still pending.
 */
export function announcementTable(scope: Construct, id: string): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey: { name: ANNOUNCEMENT_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: ANNOUNCEMENT_TABLE.timeToLiveAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
