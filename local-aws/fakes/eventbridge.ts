/**
 * A fake Amazon EventBridge endpoint (awsJson1_1, `AWSEvents.PutEvents`) on 127.0.0.1: it keeps
 * every event put on every bus, enforces PutEvents' limits as AWS documents them, and fails
 * entries on request, as EventBridge reports a failed entry: inside a successful answer.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from './aws-error';
import { FaultPlan, faultMessage, type Fault } from './instrumentation';
import { JsonRpcFake, type JsonObject } from './json-rpc';

export type EventBridgeOperation = 'PutEvents';

/** An event as a bus received it. */
export interface PutEvent {
  readonly id: string;
  /** The bus's name (`default` when the entry named none), also when the entry named its ARN. */
  readonly bus: string;
  readonly source: string;
  readonly detailType: string;
  /** The detail, parsed. */
  readonly detail: unknown;
  readonly resources: readonly string[];
  /** The entry's `Time`, or when it was put. */
  readonly time: Date;
}

/** What an entry fault can match on: the request's entry, its detail parsed. */
export interface EventEntry {
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
}

/** PutEvents' `Entries`: 1 to 10 (API reference). */
const MAX_ENTRIES = 10;
/**
 * The total entry size a request may have, as EventBridge counts it (user guide, "Calculating
 * PutEvents event entry size"): 256 KB, the limit documented for every partition.
 */
const MAX_REQUEST_BYTES = 256 * 1024;
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

export class FakeEventBridge extends JsonRpcFake<EventBridgeOperation> {
  private readonly events: PutEvent[] = [];
  private readonly entryFaults = new FaultPlan<EventEntry>();

  private constructor() {
    super('ThrottlingException');
  }

  static async start(): Promise<FakeEventBridge> {
    const fake = new FakeEventBridge();
    await fake.serve({
      target: 'AWSEvents',
      version: '1.1',
      operations: { PutEvents: (input) => fake.putEvents(input) },
      renderError: (err) => ({ body: { __type: err.code, message: err.message } }),
    });
    return fake;
  }

  /**
   * The next `times` entries that `match` fail with `fault` (its code and message as the
   * entry's `ErrorCode` and `ErrorMessage`); the rest of their request succeeds.
   */
  failEntries(
    fault: Fault,
    {
      match = () => true,
      times = Infinity,
    }: { match?: (entry: EventEntry) => boolean; times?: number } = {},
  ): void {
    this.entryFaults.add(match, fault, times);
  }

  /** The events a bus (by name; default: the default bus) received, oldest first. */
  eventsOn(bus = 'default'): PutEvent[] {
    return this.events.filter((e) => e.bus === bus);
  }

  /** Every event every bus received, oldest first. */
  get allEvents(): readonly PutEvent[] {
    return this.events;
  }

  private putEvents(input: JsonObject): JsonObject {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      const length = Array.isArray(entries) ? entries.length : 0;
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES} (was ${length})`,
      );
    }
    const total = (entries as JsonObject[]).reduce((sum, e) => sum + entrySize(e), 0);
    if (total > MAX_REQUEST_BYTES) {
      throw new AwsError(
        'ValidationException',
        `Total size of the entries in the request is over the limit (${total} > ${MAX_REQUEST_BYTES} bytes)`,
      );
    }
    const results = (entries as JsonObject[]).map((entry) => this.putEntry(entry));
    return {
      FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
      Entries: results,
    };
  }

  private putEntry(entry: JsonObject): JsonObject {
    const source = entry.Source;
    const detailType = entry.DetailType;
    if (typeof source !== 'string' || typeof detailType !== 'string' || !source || !detailType) {
      return entryError('InvalidArgument', 'Parameters Source and DetailType are required.');
    }
    let detail: unknown;
    try {
      detail = JSON.parse(typeof entry.Detail === 'string' ? entry.Detail : '');
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return entryError('MalformedDetail', 'Detail is malformed.');
    }
    // The `aws.` prefix is reserved for AWS services (PutEventsRequestEntry).
    if (source.startsWith('aws.')) {
      return entryError(
        'NotAuthorizedForSourceException',
        `Not authorized for the source ${source}.`,
      );
    }
    const fault = this.entryFaults.take({ source, detailType, detail });
    if (fault) return entryError(fault.code, faultMessage(fault));

    const id = randomUUID();
    this.events.push({
      id,
      bus: busName(entry.EventBusName),
      source,
      detailType,
      detail,
      resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
      // The SDK sends a timestamp as epoch seconds.
      time: typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(),
    });
    return { EventId: id };
  }
}

/** A bus named by name or ARN (`arn:aws:events:<region>:<account>:event-bus/<name>`). */
function busName(value: unknown): string {
  if (typeof value !== 'string' || !value) return 'default';
  const arn = /^arn:[^:]+:events:[^:]*:\d{12}:event-bus\/(.+)$/.exec(value);
  return arn ? arn[1]! : value;
}

/** An entry's size as EventBridge counts it: Time 14 bytes, the UTF-8 bytes of the rest. */
function entrySize(entry: JsonObject): number {
  const text = (value: unknown) => (typeof value === 'string' ? bytes(value) : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources : [];
  return (
    (entry.Time === undefined ? 0 : 14) +
    text(entry.Source) +
    text(entry.DetailType) +
    text(entry.Detail) +
    resources.reduce((sum: number, r: unknown) => sum + text(r), 0)
  );
}

function entryError(code: string, message: string): JsonObject {
  return { ErrorCode: code, ErrorMessage: message };
}
