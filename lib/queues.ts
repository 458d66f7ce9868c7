/**
 * Every queue of vpce-guard: encrypted at rest, TLS only.
 *
 * SQS-managed keys (SSE-SQS) rather than the stack's KMS key: EventBridge, SNS and Lambda
 * write to these queues, and with a customer-managed key each of them would need a key-policy
 * grant. A missing grant makes EventBridge and SNS drop the dead letter silently, which is the
 * one failure a dead-letter queue must not have. The messages hold endpoint and service IDs,
 * not secrets, so SQS-managed encryption is proportionate.
 */
import { Duration, Validations, aws_sqs as sqs } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EVENT_SOURCE_VISIBILITY_TIMEOUT } from './delivery';

/** The SQS maximum: a dead letter outlives a long weekend and a slow investigation. */
const DEAD_LETTER_RETENTION = Duration.days(14);

function secureQueue(scope: Construct, id: string, props: sqs.QueueProps = {}): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    ...props,
  });
}

/**
 * A dead-letter queue. `deadLetterOf` names what sends to it when that is not another queue's
 * redrive policy: cdk-nag (AwsSolutions-SQS3) then cannot see that it is a dead-letter queue.
 */
export function deadLetterQueue(scope: Construct, id: string, deadLetterOf?: string): sqs.Queue {
  const queue = secureQueue(scope, id, { retentionPeriod: DEAD_LETTER_RETENTION });
  if (deadLetterOf) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is the dead-letter queue of ${deadLetterOf}; a dead-letter queue needs none of its own.`,
    });
  }
  return queue;
}

export interface EventSourceQueueProps {
  readonly retentionPeriod: Duration;
  /** Receives of one message before the redrive moves it to `deadLetterQueue`. */
  readonly maxReceiveCount: number;
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * A queue that feeds the guard through an SQS event source, redriven to a dead-letter queue,
 * with the visibility timeout the guard's timeout calls for.
 */
export function eventSourceQueue(
  scope: Construct,
  id: string,
  props: EventSourceQueueProps,
): sqs.Queue {
  return secureQueue(scope, id, {
    visibilityTimeout: EVENT_SOURCE_VISIBILITY_TIMEOUT,
    retentionPeriod: props.retentionPeriod,
    deadLetterQueue: { queue: props.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
  });
}

/** The queues of one guard: where hints and retries wait, and where each kind of failure ends. */
export interface GuardQueues {
  /** Connection notifications and CloudTrail events, batched on their way to the guard. */
  readonly hintQueue: sqs.IQueue;
  /** Hints the guard failed on `maxReceiveCount` times. */
  readonly hintDeadLetterQueue: sqs.IQueue;
  /** Work the guard could not do yet (Unsuccessful entries, throttling). */
  readonly retryQueue: sqs.IQueue;
  /** Retry records given up on, by the guard (after its maximum attempts) or by the redrive. */
  readonly retryDeadLetterQueue: sqs.IQueue;
  /** Events that EventBridge could not deliver to the guard or to the hint queue. */
  readonly eventsDeadLetterQueue: sqs.IQueue;
  /** Asynchronous (schedule, policy change) invocations that failed every Lambda retry. */
  readonly invocationFailureQueue: sqs.IQueue;
  /** Connection notifications that SNS could not deliver to the hint queue. */
  readonly subscriptionDeadLetterQueue: sqs.IQueue;
}
