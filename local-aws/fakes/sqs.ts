/**
 * A fake SQS endpoint on 127.0.0.1: standard queues addressed by URL, speaking awsJson1_0 with
 * SQS's query-compatible errors.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from './aws-error';
import { FaultPlan, faultError, type Fault } from './instrumentation';
import { JsonRpcFake, type JsonObject, type RenderedError } from './json-rpc';
import { md5OfBody, md5OfMessageAttributes, type MessageAttributeValue } from './sqs-md5';

export type SqsOperation =
  | 'CreateQueue'
  | 'GetQueueUrl'
  | 'SendMessage'
  | 'SendMessageBatch'
  | 'ReceiveMessage'
  | 'DeleteMessage'
  | 'GetQueueAttributes';

export type { MessageAttributeValue } from './sqs-md5';

/** A message as tests inspect it. */
export interface QueuedMessage {
  messageId: string;
  /** The body parsed as JSON, or the raw string when it is not JSON. */
  body: unknown;
  rawBody: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  receiveCount: number;
  /** When a receive can next return it: the end of its delay or of its visibility timeout. */
  visibleAt: Date;
}

/** What a batch-entry fault can match on. */
export interface BatchEntry {
  Id: string;
  MessageBody: string;
}

export interface FakeSqsOptions {
  region: string;
  accountId: string;
}

interface StoredMessage {
  id: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, MessageAttributeValue>;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
}

interface Queue {
  name: string;
  url: string;
  arn: string;
  createdAt: number;
  attributes: Record<string, string>;
  /** In send order, which receives follow (a standard queue promises no order; this is one). */
  messages: Map<string, StoredMessage>;
}

/**
 * The queue attributes the fake honours, with AWS's defaults. Others are stored and echoed only.
 */
const DEFAULT_QUEUE_ATTRIBUTES: Readonly<Record<string, string>> = {
  DelaySeconds: '0',
  VisibilityTimeout: '30',
  ReceiveMessageWaitTimeSeconds: '0',
};

/** The Query-era codes of modeled errors, from the `awsQueryError` traits of the SDK's schemas. */
const QUERY_CODES: Readonly<Record<string, string>> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
};

const MAX_BATCH_ENTRIES = 10;
/** How often a long poll (WaitTimeSeconds) looks for a message that became visible. */
const POLL_INTERVAL_MS = 20;

export class FakeSqs extends JsonRpcFake<SqsOperation> {
  private closed = false;
  private readonly batchFaults = new FaultPlan<BatchEntry>();
  private readonly queues = new Map<string, Queue>();
  /** Every receipt handle issued; older handles of a message still delete it. */
  private readonly receipts = new Map<string, { queue: Queue; messageId: string }>();

  private constructor(private readonly options: FakeSqsOptions) {
    super('RequestThrottled');
  }

  static async start(options: FakeSqsOptions): Promise<FakeSqs> {
    const fake = new FakeSqs(options);
    await fake.serve({
      target: 'AmazonSQS',
      version: '1.0',
      operations: {
        CreateQueue: (input) => fake.create(input),
        GetQueueUrl: (input) => fake.getQueueUrl(input),
        SendMessage: (input) => fake.enqueue(fake.queueAt(input), input),
        SendMessageBatch: (input) => fake.sendBatch(input),
        ReceiveMessage: (input) => fake.receive(input),
        DeleteMessage: (input) => fake.deleteMessage(input),
        GetQueueAttributes: (input) => fake.getAttributes(input),
      },
      renderError,
    });
    return fake;
  }

  override close(): Promise<void> {
    this.closed = true; // ends pending long polls
    return super.close();
  }

  /** Creates a queue (or finds the same one again) and returns its URL. */
  createQueue(name: string, attributes: Record<string, string> = {}): string {
    return this.create({ QueueName: name, Attributes: attributes }).QueueUrl;
  }

  /**
   * Every message of a queue (by URL or name) not yet deleted, in flight and delayed ones included.
   */
  messages(queue: string): QueuedMessage[] {
    const found = this.queues.get(queue) ?? this.queueAt({ QueueUrl: queue });
    return [...found.messages.values()].map((m) => ({
      messageId: m.id,
      body: parseJson(m.body),
      rawBody: m.body,
      messageAttributes: { ...m.attributes },
      receiveCount: m.receiveCount,
      visibleAt: new Date(m.visibleAt),
    }));
  }

  /**
   * SendMessageBatch entries that `match` (default: every entry) come back in `Failed` with
   * `fault` (`SenderFault` is true for a 4xx status), the next `times` times (default: always).
   */
  failBatchEntries(
    fault: Fault,
    {
      match = () => true,
      times = Infinity,
    }: { match?: (entry: BatchEntry) => boolean; times?: number } = {},
  ): void {
    this.batchFaults.add(match, fault, times);
  }

  private create(input: JsonObject): { QueueUrl: string } {
    const name = requiredString(input, 'QueueName');
    if (!/^[\w-]{1,80}$/.test(name)) {
      throw new AwsError(
        'InvalidParameterValue',
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const attributes = stringRecord(input.Attributes);
    const existing = this.queues.get(name);
    if (existing) {
      const differing = Object.keys(attributes).find(
        (k) => existing.attributes[k] !== attributes[k],
      );
      if (differing !== undefined) {
        throw new AwsError(
          'QueueNameExists',
          `A queue already exists with the same name and a different value for attribute ${differing}`,
        );
      }
      return { QueueUrl: existing.url };
    }
    const { region, accountId } = this.options;
    const queue: Queue = {
      name,
      url: `${this.url}/${accountId}/${name}`,
      arn: `arn:aws:sqs:${region}:${accountId}:${name}`,
      createdAt: Date.now(),
      attributes: { ...DEFAULT_QUEUE_ATTRIBUTES, ...attributes },
      messages: new Map(),
    };
    this.queues.set(name, queue);
    return { QueueUrl: queue.url };
  }

  private getQueueUrl(input: JsonObject): JsonObject {
    return { QueueUrl: this.queueNamed(requiredString(input, 'QueueName')).url };
  }

  private queueNamed(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  /**
   * The queue of `input.QueueUrl`, whatever its host: the SDK may send to another endpoint than the
   * URL's.
   */
  private queueAt(input: JsonObject): Queue {
    const queueUrl = requiredString(input, 'QueueUrl');
    const path = URL.canParse(queueUrl) ? new URL(queueUrl).pathname : '';
    const queue = this.queues.get(path.slice(path.lastIndexOf('/') + 1));
    if (!queue || path !== `/${this.options.accountId}/${queue.name}`) throw queueDoesNotExist();
    return queue;
  }

  /** SendMessage, and one entry of SendMessageBatch. */
  private enqueue(queue: Queue, entry: JsonObject) {
    const body = requiredString(entry, 'MessageBody');
    const delay = integerIn(entry, 'DelaySeconds', 0, 900) ?? Number(queue.attributes.DelaySeconds);
    const attributes = (entry.MessageAttributes ?? {}) as Record<string, MessageAttributeValue>;
    const now = Date.now();
    const message: StoredMessage = {
      id: randomUUID(),
      body,
      md5OfBody: md5OfBody(body),
      attributes,
      sentAt: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    queue.messages.set(message.id, message);
    return {
      MessageId: message.id,
      MD5OfMessageBody: message.md5OfBody,
      MD5OfMessageAttributes: md5OfMessageAttributes(attributes),
    };
  }

  /** Whole-request problems throw; each entry's own failure goes to `Failed` in a 200. */
  private sendBatch(input: JsonObject): JsonObject {
    const queue = this.queueAt(input);
    const entries = Array.isArray(input.Entries) ? (input.Entries as JsonObject[]) : [];
    checkBatch(entries);
    const successful: JsonObject[] = [];
    const failed: JsonObject[] = [];
    for (const entry of entries) {
      const id = String(entry.Id);
      try {
        const fault = this.batchFaults.take({ Id: id, MessageBody: String(entry.MessageBody) });
        if (fault) throw faultError(fault);
        successful.push({ Id: id, ...this.enqueue(queue, entry) });
      } catch (err) {
        if (!(err instanceof AwsError)) throw err;
        failed.push({
          Id: id,
          SenderFault: err.status < 500,
          Code: err.code,
          Message: err.message,
        });
      }
    }
    return { Successful: successful, Failed: failed };
  }

  /** Honours WaitTimeSeconds by polling until a message is visible or the wait is over. */
  private async receive(input: JsonObject): Promise<JsonObject> {
    const queue = this.queueAt(input);
    const max = integerIn(input, 'MaxNumberOfMessages', 1, MAX_BATCH_ENTRIES) ?? 1;
    const visibility =
      integerIn(input, 'VisibilityTimeout', 0, 43_200) ??
      Number(queue.attributes.VisibilityTimeout);
    const wait =
      integerIn(input, 'WaitTimeSeconds', 0, 20) ??
      Number(queue.attributes.ReceiveMessageWaitTimeSeconds);
    const deadline = Date.now() + wait * 1000;
    let received = this.take(queue, max, visibility);
    while (received.length === 0 && Date.now() < deadline && !this.closed) {
      await sleep(POLL_INTERVAL_MS);
      received = this.take(queue, max, visibility);
    }
    // No `Messages` at all when there are none: callers must cope with it being undefined.
    if (received.length === 0) return {};
    const systemNames = [
      ...strings(input.MessageSystemAttributeNames),
      ...strings(input.AttributeNames),
    ];
    const attributeNames = strings(input.MessageAttributeNames);
    return {
      Messages: received.map(({ message, receiptHandle }) => {
        const system = pick(this.systemAttributes(message), systemNames);
        const attributes = selectMessageAttributes(message.attributes, attributeNames);
        return {
          MessageId: message.id,
          ReceiptHandle: receiptHandle,
          MD5OfBody: message.md5OfBody,
          Body: message.body,
          Attributes: Object.keys(system).length > 0 ? system : undefined,
          MessageAttributes: Object.keys(attributes).length > 0 ? attributes : undefined,
          MD5OfMessageAttributes: md5OfMessageAttributes(attributes),
        };
      }),
    };
  }

  /**
   * Up to `max` visible messages, now hidden for `visibilitySeconds`, each with a new receipt
   * handle.
   */
  private take(queue: Queue, max: number, visibilitySeconds: number) {
    const now = Date.now();
    const received: { message: StoredMessage; receiptHandle: string }[] = [];
    for (const message of queue.messages.values()) {
      if (received.length === max) break;
      if (message.visibleAt > now) continue;
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + visibilitySeconds * 1000;
      const receiptHandle = randomBytes(48).toString('base64');
      this.receipts.set(receiptHandle, { queue, messageId: message.id });
      received.push({ message, receiptHandle });
    }
    return received;
  }

  private systemAttributes(message: StoredMessage): Record<string, string> {
    return {
      SenderId: this.options.accountId,
      SentTimestamp: String(message.sentAt),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
    };
  }

  private deleteMessage(input: JsonObject): JsonObject {
    const queue = this.queueAt(input);
    const handle = requiredString(input, 'ReceiptHandle');
    const receipt = this.receipts.get(handle);
    if (receipt?.queue !== queue) {
      throw new AwsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
        404,
      );
    }
    queue.messages.delete(receipt.messageId);
    return {};
  }

  private getAttributes(input: JsonObject): JsonObject {
    const queue = this.queueAt(input);
    const now = Date.now();
    const counts = { visible: 0, inFlight: 0, delayed: 0 };
    for (const m of queue.messages.values()) {
      if (m.visibleAt <= now) counts.visible += 1;
      else if (m.receiveCount > 0) counts.inFlight += 1;
      else counts.delayed += 1;
    }
    const all = {
      ...queue.attributes,
      QueueArn: queue.arn,
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    };
    const attributes = pick(all, strings(input.AttributeNames));
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
  }
}

/**
 * SQS names an error by its shape in `__type`. Being query-compatible, it also gives the
 * Query-era code in `x-amzn-query-error` to clients that send `x-amzn-query-mode` (the SDK
 * does, and names the error from that header first).
 */
function renderError(err: AwsError, req: IncomingMessage): RenderedError {
  const fault = err.status < 500 ? 'Sender' : 'Receiver';
  const queryError = `${QUERY_CODES[err.code] ?? err.code};${fault}`;
  return {
    headers:
      req.headers['x-amzn-query-mode'] === 'true'
        ? { 'x-amzn-query-error': queryError }
        : undefined,
    body: { __type: `com.amazonaws.sqs#${err.code}`, message: err.message },
  };
}

function checkBatch(entries: JsonObject[]): void {
  if (entries.length === 0) {
    throw new AwsError(
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    );
  }
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new AwsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
    );
  }
  const seen = new Set<unknown>();
  for (const { Id: id } of entries) {
    if (typeof id !== 'string' || !/^[\w-]{1,80}$/.test(id)) {
      throw new AwsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
    }
    if (seen.has(id)) throw new AwsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    seen.add(id);
  }
}

/** The entries of `all` that `names` ask for; `All` asks for every one. */
function pick(all: Record<string, string>, names: string[]): Record<string, string> {
  if (names.includes('All')) return all;
  return Object.fromEntries(Object.entries(all).filter(([name]) => names.includes(name)));
}

function selectMessageAttributes(
  attributes: Record<string, MessageAttributeValue>,
  names: string[],
): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(attributes).filter(([name]) => names.some((pattern) => selects(pattern, name))),
  );
}

/**
 * `All` and `.*` select every attribute, `prefix.*` those under a prefix, other names themselves.
 */
function selects(pattern: string, name: string): boolean {
  if (pattern === 'All' || pattern === '.*') return true;
  if (pattern.endsWith('.*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** An optional integer member within [min, max], or SQS's InvalidParameterValue. */
function integerIn(
  input: JsonObject,
  member: string,
  min: number,
  max: number,
): number | undefined {
  const value = input[member];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) {
    return value;
  }
  throw new AwsError(
    'InvalidParameterValue',
    `Value ${String(value)} for parameter ${member} is invalid. Reason: Must be between ${min} and ${max}, if provided.`,
  );
}

function requiredString(input: JsonObject, member: string): string {
  const value = input[member];
  if (typeof value === 'string') return value;
  throw new AwsError('MissingParameter', `The request must contain the parameter ${member}.`);
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const stringRecord = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(typeof value === 'object' && value !== null ? value : {}).map(([k, v]) => [
      k,
      String(v),
    ]),
  );

const queueDoesNotExist = () =>
  new AwsError('QueueDoesNotExist', 'The specified queue does not exist.');

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
