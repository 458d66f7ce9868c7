/**
 * Publishing the guard's decisions as EventBridge events (docs/events.md).
 *
 * An invocation notes what it decided in a journal; once its decisions are made (and its retry
 * records queued), the publisher turns the journal into events (core/decision-event.ts), keeps
 * the one-time ones not yet announced (announcements.ts), and puts them on the bus in batches.
 * Publishing never blocks or undoes a decision: it runs after them, within the invocation's
 * time, and every error is caught, logged and counted, never thrown: an event EventBridge did
 * not take as `DecisionEventsFailed`, a one-time event DynamoDB could not check as
 * `AnnouncementsUnchecked`.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { Clock } from '../core/clock';
import type { InvocationDeadline } from '../core/deadline';
import {
  type AttemptReport,
  DECISION_EVENT_DETAIL_TYPE,
  DECISION_EVENT_SOURCE,
  type DecisionEvent,
  decisionEvents,
} from '../core/decision-event';
import { MetricName } from '../core/metric-names';
import type { ServiceReport } from '../core/reconcile';
import type { RetryRecord } from '../core/retry-record';
import { ATTEMPT_ALLOWANCE_MS } from '../core/sdk-deadline';
import type { Announcements } from './announcements';
import { count, logger } from './telemetry';

/** PutEvents takes at most 10 entries per call (API reference). */
const MAX_ENTRIES_PER_CALL = 10;
/**
 * And at most 256 KB of entries per call, counted as EventBridge counts them; some partitions
 * now document 1 MB, 256 KB holds everywhere. The guard's events are a few hundred bytes.
 */
const MAX_BYTES_PER_CALL = 256 * 1024;
/** Calls per batch: the first, then two more for the entries EventBridge failed retryably. */
const PUT_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 100;
/** The per-entry errors EventBridge documents as retryable (PutEventsResultEntry). */
const RETRYABLE_ENTRY_ERRORS = new Set(['InternalFailure', 'ThrottlingException']);

/** What one invocation decided, as the publisher needs it. Made afresh for each invocation. */
export class DecisionJournal {
  private readonly reports: AttemptReport[] = [];
  private readonly givenUp: RetryRecord[] = [];

  /** Service reports of the invocation; `attempt`: 1, or a retry record's attempt. */
  noteReports(reports: readonly ServiceReport[], attempt = 1): void {
    for (const report of reports) this.reports.push({ report, attempt });
  }

  /** A retry record the invocation sent to the dead-letter queue after its last attempt. */
  noteGivenUp(record: RetryRecord): void {
    this.givenUp.push(record);
  }

  events(): DecisionEvent[] {
    return decisionEvents(this.reports, this.givenUp);
  }
}

export interface DecisionPublisherOptions {
  readonly events: EventBridgeClient;
  /** The bus, by name or ARN; absent: the account's default bus. */
  readonly busName?: string;
  readonly announcements: Announcements;
  readonly clock: Clock;
  /** When publishing must be over; its clients are bound to the same deadline. */
  readonly deadline?: InvocationDeadline;
}

/** What a publish did, in numbers (for tests; operators see logs and metrics). */
export interface PublishResult {
  readonly published: number;
  /** Not taken by EventBridge, or left for lack of time: counted as DecisionEventsFailed. */
  readonly failed: number;
  /** One-time events not published because they were announced before. */
  readonly alreadyAnnounced: number;
}

interface Pending {
  readonly event: DecisionEvent;
  readonly entry: PutEventsRequestEntry;
}

export class DecisionPublisher {
  constructor(private readonly options: DecisionPublisherOptions) {}

  /** Publishes the journal's events. Never throws: a failure is logged and counted. */
  async publish(journal: DecisionJournal): Promise<PublishResult> {
    let events: DecisionEvent[] = [];
    try {
      events = journal.events();
      if (events.length === 0) return { published: 0, failed: 0, alreadyAnnounced: 0 };
      return await this.publishEvents(events);
    } catch (error) {
      // A bug here must not fail an invocation whose decisions are made.
      logger.error('Could not publish the decision events', { error: error as Error });
      count(MetricName.DECISION_EVENTS_FAILED, events.length);
      return { published: 0, failed: events.length, alreadyAnnounced: 0 };
    }
  }

  private async publishEvents(events: readonly DecisionEvent[]): Promise<PublishResult> {
    const onceKeys = events.flatMap((e) => (e.onceKey ? [e.onceKey] : []));
    const { claims, errors } = await this.options.announcements.claim(onceKeys);
    const unchecked = [...claims.values()].filter((c) => c === 'unknown').length;
    if (unchecked > 0) {
      // Prefer twice to never: these are published as if they were new, and counted (it alarms).
      logger.warn('Could not check which decisions were announced; announcing them anyway', {
        errors,
        unchecked,
      });
      count(MetricName.ANNOUNCEMENTS_UNCHECKED, unchecked);
    }
    const announcing = new Set<string>();
    const toPublish = events.filter((e) => {
      if (!e.onceKey) return true;
      // Once per invocation too: two events with one key say the same thing.
      if (claims.get(e.onceKey) === 'announced' || announcing.has(e.onceKey)) return false;
      announcing.add(e.onceKey);
      return true;
    });
    const time = new Date(this.options.clock.now());
    const pending = toPublish.map((event) => ({ event, entry: this.entry(event, time) }));

    const failures: string[] = [];
    const failed: Pending[] = [];
    for (const batch of batches(pending)) {
      const left = await this.putBatch(batch, failures);
      failed.push(...left);
    }

    const unpublishedKeys = new Set(
      failed.flatMap((p) => (p.event.onceKey ? [p.event.onceKey] : [])),
    );
    const claimsKept = await this.options.announcements.release(
      [...unpublishedKeys].filter((k) => claims.get(k) === 'announce'),
    );
    // Published though unchecked: this container does not announce them again every sweep.
    this.options.announcements.noteAnnounced(
      [...announcing].filter((k) => claims.get(k) === 'unknown' && !unpublishedKeys.has(k)),
    );
    const result = {
      published: pending.length - failed.length,
      failed: failed.length,
      alreadyAnnounced: events.length - toPublish.length,
    };
    if (failed.length > 0) {
      logger.error('Decision events not published: the decisions stand, their events are lost', {
        ...result,
        errors: [...new Set(failures)],
        endpointIds: failed.map((p) => p.event.detail.endpointId),
        // Announcements that stay claimed, unpublished, until their claim expires.
        ...(claimsKept.length > 0 ? { claimsKept } : {}),
      });
      count(MetricName.DECISION_EVENTS_FAILED, failed.length);
    } else {
      logger.debug('Decision events published', result);
    }
    return result;
  }

  /**
   * Puts one batch; entries EventBridge fails retryably are put again after a pause, while the
   * invocation has time. Returns what was not published; `failures` collects why.
   */
  private async putBatch(batch: readonly Pending[], failures: string[]): Promise<Pending[]> {
    let pending = [...batch];
    const lost: Pending[] = [];
    for (let attempt = 1; pending.length > 0 && attempt <= PUT_ATTEMPTS; attempt++) {
      if (attempt > 1) {
        const pause = RETRY_PAUSE_MS * 2 ** (attempt - 2);
        const left = this.options.deadline?.remainingMs() ?? Infinity;
        if (pause + ATTEMPT_ALLOWANCE_MS > left) {
          failures.push('no time left to put them again');
          break;
        }
        await this.options.clock.sleep(pause);
      }
      let results;
      try {
        results = (
          await this.options.events.send(
            new PutEventsCommand({ Entries: pending.map((p) => p.entry) }),
          )
        ).Entries;
      } catch (error) {
        // The SDK has retried the call already (throttled, denied, out of time): give it up.
        failures.push(`${(error as Error).name}: ${(error as Error).message}`);
        break;
      }
      const retry: Pending[] = [];
      pending.forEach((p, i) => {
        const result = results?.[i];
        if (result?.EventId && !result.ErrorCode) return;
        const code = result?.ErrorCode ?? 'NoResult';
        failures.push(`${code}: ${result?.ErrorMessage ?? 'EventBridge gave no message'}`);
        (RETRYABLE_ENTRY_ERRORS.has(code) || !result ? retry : lost).push(p);
      });
      pending = retry;
    }
    return [...lost, ...pending];
  }

  private entry(event: DecisionEvent, time: Date): PutEventsRequestEntry {
    return {
      Source: DECISION_EVENT_SOURCE,
      DetailType: DECISION_EVENT_DETAIL_TYPE,
      Detail: JSON.stringify(event.detail),
      Time: time,
      ...(this.options.busName ? { EventBusName: this.options.busName } : {}),
    };
  }
}

/**
 * Entries in PutEvents' batches: at most 10 and 256 KB each, sized as EventBridge sizes them
 * (Time 14 bytes; Source, DetailType, Detail and each resource their UTF-8 bytes).
 */
export function batches<T extends { entry: PutEventsRequestEntry }>(
  items: readonly T[],
  maxEntries = MAX_ENTRIES_PER_CALL,
  maxBytes = MAX_BYTES_PER_CALL,
): T[][] {
  const result: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = entrySize(item.entry);
    if (current.length > 0 && (current.length === maxEntries || bytes + size > maxBytes)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

export function entrySize(entry: PutEventsRequestEntry): number {
  const utf8 = (text: string | undefined) => (text ? Buffer.byteLength(text, 'utf8') : 0);
  return (
    (entry.Time ? 14 : 0) +
    utf8(entry.Source) +
    utf8(entry.DetailType) +
    utf8(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, r) => sum + utf8(r), 0)
  );
}
