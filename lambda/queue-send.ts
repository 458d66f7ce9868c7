/**
 * The durable send to SQS: every message lands, or the caller's invocation fails and AWS
 * retries it, so no work is lost between the guard and its queues.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../core/clock';

export interface OutgoingMessage {
  readonly body: string;
  readonly delaySeconds?: number;
  /** String message attributes, e.g. why a record was dead-lettered. */
  readonly attributes?: Readonly<Record<string, string>>;
}

class QueueSendError extends Error {
  constructor(queueUrl: string, failed: readonly string[]) {
    super(`could not send ${failed.length} message(s) to ${queueUrl}: ${failed.join('; ')}`);
    this.name = 'QueueSendError';
  }
}

const SQS_BATCH_LIMIT = 10;
const SEND_ATTEMPTS = 3;

/**
 * Sends every message, in batches of 10. Entries SQS reports as `Failed` are sent again
 * (twice, after a short pause); what still fails throws, so the caller's invocation fails
 * and AWS retries it rather than the work being lost.
 */
export async function sendMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  clock: Clock,
): Promise<void> {
  for (let start = 0; start < messages.length; start += SQS_BATCH_LIMIT) {
    let pending = messages
      .slice(start, start + SQS_BATCH_LIMIT)
      .map((m, i) => ({ id: String(i), message: m }));
    let errors: string[] = [];
    for (let attempt = 1; pending.length > 0 && attempt <= SEND_ATTEMPTS; attempt++) {
      if (attempt > 1) await clock.sleep(100 * 4 ** (attempt - 2));
      const output = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map(({ id, message }) => ({
            Id: id,
            MessageBody: message.body,
            ...(message.delaySeconds ? { DelaySeconds: message.delaySeconds } : {}),
            ...(message.attributes
              ? { MessageAttributes: stringAttributes(message.attributes) }
              : {}),
          })),
        }),
      );
      const failed = output.Failed ?? [];
      errors = failed.map((f) => `${f.Id}: ${f.Code}: ${f.Message ?? 'no message'}`);
      const failedIds = new Set(failed.map((f) => f.Id));
      pending = pending.filter(({ id }) => failedIds.has(id));
      // A sender's fault (a malformed entry) will not pass on a second try either.
      if (failed.some((f) => f.SenderFault)) break;
    }
    if (pending.length > 0) throw new QueueSendError(queueUrl, errors);
  }
}

function stringAttributes(attributes: Readonly<Record<string, string>>) {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      { DataType: 'String', StringValue: value },
    ]),
  );
}
