/**
 * What AWS sent during an integration run, read from the test stack's recorder queues, and
 * the redaction that makes it fit to attach to a report (docs/integration-test.md).
 */
import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** One message of a recorder queue: its body parsed where it is JSON, and its attributes. */
export interface RecordedMessage {
  readonly body: unknown;
  readonly attributes?: Record<string, string>;
}

export interface RecorderReadOptions {
  /** Stop waiting once this many messages are in. */
  readonly expected: number;
  /** How long to wait for them at most. */
  readonly waitMs: number;
  /** Each receive's long poll. @default 5 */
  readonly pollSeconds?: number;
  readonly now?: () => number;
}

/**
 * Every message of a recorder queue, received but not deleted (the queue goes with the stack).
 * Each stays invisible for the rest of the run, so none is read twice. Waits, with long polls,
 * until `expected` messages are in or `waitMs` is over, then takes whatever is left.
 */
export async function readRecorder(
  sqs: SQSClient,
  queueUrl: string,
  { expected, waitMs, pollSeconds = 5, now = Date.now }: RecorderReadOptions,
): Promise<RecordedMessage[]> {
  const messages: Message[] = [];
  const deadline = now() + waitMs;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: pollSeconds,
        VisibilityTimeout: 3600,
        MessageSystemAttributeNames: ['SentTimestamp'],
      }),
    );
    messages.push(...Messages);
    const enough = messages.length >= expected;
    if ((enough && Messages.length === 0) || (!enough && now() >= deadline)) break;
  }
  return messages.map((message) => ({
    body: parseNested(message.Body ?? ''),
    attributes: message.Attributes,
  }));
}

/**
 * JSON text parsed, and the JSON strings inside it too (an SNS envelope's `Message`), each
 * kept next to its parsed form so that the report shows both what was sent and its shape.
 */
export function parseNested(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return expand(parsed);
}

function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = expand(item);
    if (typeof item === 'string' && /^\s*[{[]/.test(item)) {
      const inner = parseNested(item);
      if (typeof inner !== 'string') out[`${key} (parsed)`] = inner;
    }
  }
  return out;
}

/**
 * The messages that name one of `ids` somewhere: the recorder's rule matches every such call in
 * the account and Region, and a report should hold the run's own only.
 */
export function mentioningAny(
  messages: readonly RecordedMessage[],
  ids: readonly string[],
): RecordedMessage[] {
  return messages.filter((message) => {
    const text = JSON.stringify(message.body);
    return ids.some((id) => text.includes(id));
  });
}

/** The account AWS's own examples use: what the run's account becomes in a shared report. */
export const EXAMPLE_ACCOUNT = '123456789012';
const REDACTED = '<redacted>';
/** Access key IDs and the unique IDs of users and roles. */
const IAM_UNIQUE_ID = /\b(?:AKIA|ASIA|AROA|AIDA|ANPA|AGPA)[A-Z0-9]{12,}\b/g;
/** CloudTrail fields that identify who called, and from where. */
const IDENTIFYING_KEYS = new Set(['principalId', 'accessKeyId', 'sourceIPAddress', 'userName']);

/**
 * A copy of `value` fit to share: the account ID replaced by EXAMPLE_ACCOUNT wherever it
 * appears, IAM unique IDs and the identifying CloudTrail fields (caller, access key, source
 * address) replaced by `<redacted>`, except an AWS service as the source. The keys, and so
 * the shape, stay as they are.
 */
export function redact(value: unknown, account: string): unknown {
  const redactString = (text: string) =>
    text.split(account).join(EXAMPLE_ACCOUNT).replace(IAM_UNIQUE_ID, REDACTED);
  const walk = (item: unknown, key?: string): unknown => {
    if (typeof item === 'string') {
      const awsService = key === 'sourceIPAddress' && item.endsWith('.amazonaws.com');
      return key && IDENTIFYING_KEYS.has(key) && !awsService ? REDACTED : redactString(item);
    }
    if (Array.isArray(item)) return item.map((entry) => walk(entry));
    if (item === null || typeof item !== 'object') return item;
    return Object.fromEntries(
      Object.entries(item).map(([name, entry]) => [redactString(name), walk(entry, name)]),
    );
  };
  return walk(value);
}
