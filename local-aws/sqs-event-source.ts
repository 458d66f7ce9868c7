/**
 * Lambda's SQS event source mapping, locally: polls a queue, hands each batch of visible
 * messages to the function as an SQS event, and deletes the messages the function did not
 * name in `batchItemFailures` (the mapping has `ReportBatchItemFailures`). A failed
 * invocation deletes nothing, so its whole batch comes back after the visibility timeout,
 * as on AWS. Used by the benchmark to drive the guard's hint and retry queues.
 */
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { sqsRecord } from './events';
import type { Invocation } from './local-lambda';

export interface SqsEventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** Messages per invocation at most (the mapping's `batchSize`). */
  readonly batchSize: number;
  /** How long to gather a batch once a message is in hand (`maxBatchingWindow`). @default 0 */
  readonly batchingWindowMs?: number;
  /** Runs one invocation of the function. */
  readonly invoke: (event: SQSEvent) => Promise<Invocation>;
  /** Pause after a receive that found nothing. @default 200 */
  readonly idleMs?: number;
}

/** ReceiveMessage returns at most 10 messages; Lambda receives larger batches in several calls. */
const SQS_RECEIVE_LIMIT = 10;
/** How often a batching window looks for more messages. */
const GATHER_POLL_MS = 50;

export class SqsEventSource {
  /** Invocations made, and the messages they carried. */
  invocations = 0;
  delivered = 0;
  private running?: Promise<void>;
  private stopping = false;

  constructor(private readonly options: SqsEventSourceOptions) {}

  /** Starts polling in the background until `stop()`. */
  start(): void {
    this.stopping = false;
    this.running ??= this.loop();
  }

  /** Stops polling once the batch in hand, if any, is done. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = undefined;
  }

  /** Receives one batch and invokes the function with it; returns how many messages it carried. */
  async pollOnce(): Promise<number> {
    const { sqs, queueUrl } = this.options;
    const messages = await this.gather();
    if (messages.length === 0) return 0;
    this.invocations += 1;
    this.delivered += messages.length;
    const invocation = await this.options.invoke({
      Records: messages.map((m) => sqsRecord(m, this.options.queueArn)),
    });
    if (invocation.error) return messages.length;
    const failed = new Set(
      (
        (invocation.result as { batchItemFailures?: { itemIdentifier: string }[] } | null)
          ?.batchItemFailures ?? []
      ).map((f) => f.itemIdentifier),
    );
    for (const message of messages) {
      if (failed.has(message.MessageId!)) continue;
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }),
      );
    }
    return messages.length;
  }

  /**
   * Up to `batchSize` visible messages. After the first, it keeps receiving until the batch is
   * full or the batching window is over, as Lambda does with `MaximumBatchingWindowInSeconds`.
   */
  private async gather(): Promise<Message[]> {
    const { batchSize, batchingWindowMs = 0 } = this.options;
    const batch = await this.receive(batchSize);
    const windowEnds = Date.now() + batchingWindowMs;
    while (batch.length > 0 && batch.length < batchSize && Date.now() < windowEnds) {
      const more = await this.receive(batchSize - batch.length);
      batch.push(...more);
      if (more.length === 0) await sleep(Math.min(GATHER_POLL_MS, windowEnds - Date.now()));
    }
    return batch;
  }

  private async receive(max: number): Promise<Message[]> {
    const { Messages: messages = [] } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: Math.min(max, SQS_RECEIVE_LIMIT),
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return messages;
  }

  private async loop(): Promise<void> {
    const idleMs = this.options.idleMs ?? 200;
    while (!this.stopping) {
      const handled = await this.pollOnce();
      if (handled === 0 && !this.stopping) await sleep(idleMs);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
