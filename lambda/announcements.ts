/**
 * Which one-time decision events were already published (docs/events.md#once-when-first-seen):
 * a connection kept pending for review, or a dry run's decision, is announced once, not on
 * every sweep that finds it again.
 *
 * Containers come and go, so the memory is a DynamoDB table: a conditional `PutItem` per new
 * key claims it (`attribute_not_exists`, or the claim has expired), and only the container
 * whose claim lands publishes. Each container also caches what it claimed or found claimed,
 * so a sweep does not write again for them. A claim expires after ANNOUNCE_AGAIN_AFTER_DAYS:
 * a request still pending then is announced again, as a reminder. When DynamoDB fails, the
 * event is published anyway (an announcement twice is better than never) and remembered by
 * the container that published it, as without a table.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { inPool } from '../core/batches';
import type { Clock } from '../core/clock';
import { ANNOUNCE_AGAIN_AFTER_DAYS, ANNOUNCEMENT_TABLE } from '../core/decision-event';

const CLAIM_MS = ANNOUNCE_AGAIN_AFTER_DAYS * 24 * 60 * 60 * 1000;
/** Claims written at once: a first sweep may find hundreds of requests kept pending. */
const CONCURRENT_CLAIMS = 10;
/** Keys a container remembers; beyond, the oldest are forgotten (and claimed again, in vain). */
const MAX_CACHED_KEYS = 10_000;

/** `announce`: publish now; `announced`: already published; `unknown`: DynamoDB failed. */
export type Claim = 'announce' | 'announced' | 'unknown';

export interface ClaimsResult {
  readonly claims: ReadonlyMap<string, Claim>;
  /** Why DynamoDB could not say, for the keys it could not (one message per distinct error). */
  readonly errors: readonly string[];
}

/** The announcement table, and the client that writes to it. */
export interface AnnouncementTable {
  readonly dynamodb: DynamoDBClient;
  readonly name: string;
}

export class Announcements {
  /** Keys this container claimed or found claimed, with when their claim expires (epoch ms). */
  private readonly cache = new Map<string, number>();

  /**
   * @param table the table (its name or ARN) and the client that writes to it; absent: each
   * container remembers only its own announcements (a test, or a guard deployed without the
   * table), and no DynamoDB client is built.
   */
  constructor(
    private readonly table: AnnouncementTable | undefined,
    private readonly clock: Clock,
  ) {}

  /** Claims each key (once per key), and says for each whether to publish its event now. */
  async claim(keys: readonly string[]): Promise<ClaimsResult> {
    const claims = new Map<string, Claim>();
    const errors = new Set<string>();
    const toWrite: string[] = [];
    const table = this.table;
    for (const key of new Set(keys)) {
      if (this.cached(key)) claims.set(key, 'announced');
      else if (table === undefined) {
        claims.set(key, 'announce');
        this.remember(key, this.clock.now() + CLAIM_MS);
      } else toWrite.push(key);
    }
    if (table === undefined) return { claims, errors: [] };
    await inPool(toWrite, CONCURRENT_CLAIMS, async (key) => {
      try {
        claims.set(key, await this.write(table, key));
      } catch (error) {
        claims.set(key, 'unknown');
        errors.add(`${(error as Error).name}: ${(error as Error).message}`);
      }
    });
    return { claims, errors: [...errors] };
  }

  /**
   * Remembers keys whose events were published although DynamoDB could not check them
   * ('unknown'): announced twice rather than never, but once per container, not on every sweep.
   */
  noteAnnounced(keys: readonly string[]): void {
    for (const key of keys) this.remember(key, this.clock.now() + CLAIM_MS);
  }

  /**
   * Gives claims back, for events that were not published after all: a later invocation then
   * announces them. Best effort: returns the keys whose claim could not be given back, which
   * stay claimed until they expire (ANNOUNCE_AGAIN_AFTER_DAYS), for the caller to report.
   */
  async release(keys: readonly string[]): Promise<string[]> {
    for (const key of keys) this.cache.delete(key);
    const table = this.table;
    if (table === undefined || keys.length === 0) return [];
    const kept: string[] = [];
    await inPool(keys, CONCURRENT_CLAIMS, async (key) => {
      try {
        // An expired claim: the next claim's condition lets it through.
        await this.put(table, key, this.clock.now() - 1000, false);
      } catch {
        kept.push(key);
      }
    });
    return kept;
  }

  private async write(table: AnnouncementTable, key: string): Promise<Claim> {
    const expiresAt = this.clock.now() + CLAIM_MS;
    try {
      await this.put(table, key, expiresAt, true);
      this.remember(key, expiresAt);
      return 'announce';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The claim another invocation holds, returned with the failure: cache it until it ends.
      const held = Number(error.Item?.[ANNOUNCEMENT_TABLE.timeToLiveAttribute]?.N);
      this.remember(key, Number.isFinite(held) ? held * 1000 : this.clock.now() + CLAIM_MS);
      return 'announced';
    }
  }

  private put(
    table: AnnouncementTable,
    key: string,
    expiresAtMs: number,
    conditional: boolean,
  ): Promise<unknown> {
    const { partitionKey, timeToLiveAttribute } = ANNOUNCEMENT_TABLE;
    return table.dynamodb.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          [partitionKey]: { S: key },
          // DynamoDB's TTL reads epoch seconds.
          [timeToLiveAttribute]: { N: String(Math.floor(expiresAtMs / 1000)) },
        },
        ...(conditional
          ? {
              // A claim TTL has expired but not yet deleted (that takes up to days) is free again.
              ConditionExpression: 'attribute_not_exists(#key) OR #expiresAt < :now',
              ExpressionAttributeNames: { '#key': partitionKey, '#expiresAt': timeToLiveAttribute },
              ExpressionAttributeValues: {
                ':now': { N: String(Math.floor(this.clock.now() / 1000)) },
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
            }
          : {}),
      }),
    );
  }

  private cached(key: string): boolean {
    const expiresAt = this.cache.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt > this.clock.now()) return true;
    this.cache.delete(key);
    return false;
  }

  private remember(key: string, expiresAt: number): void {
    this.cache.delete(key);
    this.cache.set(key, expiresAt);
    // A Map iterates in insertion order: the first key is the oldest.
    if (this.cache.size > MAX_CACHED_KEYS) this.cache.delete(this.cache.keys().next().value!);
  }
}
