/**
 * One benchmark case's world: fresh AWS fakes (fresh token buckets), the policy in SSM, the
 * guard's queues, and ONE warm guard container fed by the hint and retry queues' event
 * sources, configured as the stack configures them (lib/triggers.ts). Invocations run one
 * at a time, as in one Lambda container: whatever arrives while it is busy waits its turn.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type EventOrigin, scheduledEvent, snsEnvelope, snsEvent } from '../local-aws/events';
import { type AwsFakes, startAwsFakes } from '../local-aws/fakes';
import { type Invocation, LocalLambda } from '../local-aws/local-lambda';
import { SqsEventSource } from '../local-aws/sqs-event-source';
import { EVENT_SOURCE_VISIBILITY_TIMEOUT, HINT_SOURCE, RETRY_SOURCE } from '../lib/delivery';
import { ALLOWED, DENIED } from './accounts';
import { guardEnvironment, INVOCATION_TIMEOUT_MS, POLICY_PARAMETER } from './guard-env';

/**
 * How a connection notification reaches the guard: through the hint queue, as the stack
 * delivers it (SNS → SQS → event source), or `direct`: one invocation per notification, as
 * an SNS subscription of the function would.
 */
export type Delivery = 'hint-queue' | 'direct';

const REGION = 'eu-west-1';
const ACCOUNT_ID = '123456789012';
/** Where the benchmark's events come from; they happen now, with fresh IDs. */
const ORIGIN: EventOrigin = { region: REGION, accountId: ACCOUNT_ID };
const TOPIC = 'vpce-guard-notifications';
const SCHEDULE_RULE = 'vpce-guard-schedule';
// The stack's queues and event sources (lib/delivery.ts).
const VISIBILITY_SECONDS = String(EVENT_SOURCE_VISIBILITY_TIMEOUT.toSeconds());
interface EventSourceQueue {
  readonly name: string;
  readonly batchSize: number;
  readonly batchingWindowMs?: number;
}
const HINTS: EventSourceQueue = {
  name: 'vpce-guard-hints',
  batchSize: HINT_SOURCE.batchSize,
  batchingWindowMs: HINT_SOURCE.maxBatchingWindow.toMilliseconds(),
};
const RETRIES: EventSourceQueue = { name: 'vpce-guard-retry', batchSize: RETRY_SOURCE.batchSize };
const SETTLE_POLL_MS = 250;
/** Long enough for three rounds of retries (15–30 s, 30–60 s, 60–120 s). */
const SETTLE_TIMEOUT_MS = 240_000;

export interface RigOptions {
  readonly bundle: string;
  readonly services: number;
  /** Enforce EC2's token buckets in the fake. */
  readonly throttling: boolean;
  readonly revoke?: boolean;
  /** REJECT_BATCH_SIZE; absent: the guard's default. */
  readonly rejectBatchSize?: number;
  /** @default 'hint-queue' */
  readonly delivery?: Delivery;
}

interface QueueUrls {
  readonly hints: string;
  readonly retries: string;
  readonly deadLetters: string;
}

export class Rig {
  /** Invocations of the guard, and those that failed (Lambda would retry them). */
  invocations = 0;
  readonly errors: string[] = [];
  readonly retries: SqsEventSource;
  private readonly hints: SqsEventSource;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly sqs: SQSClient;

  private constructor(
    readonly aws: AwsFakes,
    readonly serviceIds: readonly string[],
    readonly guard: LocalLambda,
    /** The guard's queues, as its environment names them. */
    readonly queues: QueueUrls,
    private readonly delivery: Delivery,
  ) {
    this.sqs = new SQSClient({
      region: REGION,
      endpoint: aws.sqs.url,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    const eventSource = (queueUrl: string, queue: EventSourceQueue) =>
      new SqsEventSource({
        sqs: this.sqs,
        queueUrl,
        queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${queue.name}`,
        batchSize: queue.batchSize,
        batchingWindowMs: queue.batchingWindowMs,
        invoke: (event) => this.invoke(event),
      });
    this.hints = eventSource(queues.hints, HINTS);
    this.retries = eventSource(queues.retries, RETRIES);
    this.hints.start();
    this.retries.start();
  }

  static async start(options: RigOptions): Promise<Rig> {
    const aws = await startAwsFakes({
      region: REGION,
      accountId: ACCOUNT_ID,
      throttling: options.throttling,
    });
    try {
      const serviceIds = Array.from({ length: options.services }, () => aws.ec2.addService());
      aws.ssm.setParameter(POLICY_PARAMETER, JSON.stringify(benchPolicy(options.revoke ?? false)));
      const queue = (name: string) =>
        aws.sqs.createQueue(name, { VisibilityTimeout: VISIBILITY_SECONDS });
      const queues = {
        hints: queue(HINTS.name),
        retries: queue(RETRIES.name),
        deadLetters: queue(`${RETRIES.name}-dlq`),
      };
      const guard = await LocalLambda.start(
        options.bundle,
        guardEnvironment(
          {
            retryQueueUrl: queues.retries,
            deadLetterQueueUrl: queues.deadLetters,
            protectedServiceIds: serviceIds,
            rejectBatchSize: options.rejectBatchSize,
          },
          aws.env(),
        ),
        { execArgv: [] },
      );
      return new Rig(aws, serviceIds, guard, queues, options.delivery ?? 'hint-queue');
    } catch (error) {
      await aws.close(); // the servers would keep the benchmark alive
      throw error;
    }
  }

  /** Queues one invocation behind the ones before it. */
  invoke(event: unknown): Promise<Invocation> {
    const run = this.tail.then(() => {
      this.invocations += 1;
      return this.guard.invoke(event, INVOCATION_TIMEOUT_MS);
    });
    this.tail = run.then((invocation) => {
      if (invocation.error)
        this.errors.push(`${invocation.error.name}: ${invocation.error.message}`);
    });
    return run;
  }

  /**
   * Delivers the connection notification (event `Connect`) of one endpoint. Resolves once
   * it is on the hint queue, or, `direct`, once the guard has handled it.
   */
  async notify(serviceId: string, vpcEndpointId: string): Promise<void> {
    // The body's format is not documented: the guard takes every ID it finds in it.
    const message = JSON.stringify({ serviceId, vpcEndpointId });
    if (this.delivery === 'direct') {
      await this.invoke(snsEvent(message, TOPIC, ORIGIN));
      return;
    }
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queues.hints,
        MessageBody: snsEnvelope(message, TOPIC, ORIGIN),
      }),
    );
  }

  /** Invokes the guard as the stack's schedule does: a sweep of every protected service. */
  sweep(): Promise<Invocation> {
    return this.invoke(scheduledEvent(SCHEDULE_RULE, ORIGIN));
  }

  /** Waits until the guard has handled every notification delivered so far. */
  async hintsHandled(): Promise<void> {
    await this.until(() => this.aws.sqs.messages(this.queues.hints).length === 0);
  }

  /**
   * Waits until every endpoint in `mustReject` is rejected and the hint and retry queues are
   * empty, delivering what becomes due meanwhile; gives up after `timeoutMs` (4 minutes).
   * Returns whether it settled.
   */
  settle(mustReject: readonly string[], timeoutMs = SETTLE_TIMEOUT_MS): Promise<boolean> {
    return this.until(
      () =>
        this.notRejected(mustReject).length === 0 &&
        [this.queues.hints, this.queues.retries].every(
          (url) => this.aws.sqs.messages(url).length === 0,
        ),
      timeoutMs,
    );
  }

  private notRejected(endpointIds: readonly string[]): string[] {
    return endpointIds.filter(
      (id) => this.aws.ec2.connection(id)?.VpcEndpointState.toLowerCase() !== 'rejected',
    );
  }

  /** Denied connections neither rejected nor waiting on a queue: work the guard dropped. */
  lost(denied: readonly string[]): number {
    return this.notRejected(denied).filter((id) => !this.queued(id)).length;
  }

  /** The latest time one of `endpointIds` was rejected, in epoch ms. */
  lastRejectedAt(endpointIds: readonly string[]): number | undefined {
    const times = endpointIds
      .map((id) => this.aws.ec2.changedAt(id)?.getTime())
      .filter((t) => t !== undefined);
    return times.length > 0 ? Math.max(...times) : undefined;
  }

  /** Stops the event sources and waits for the invocation in hand: the counts stand still. */
  async stopDelivery(): Promise<void> {
    await Promise.all([this.hints.stop(), this.retries.stop()]);
    await this.tail;
  }

  async close(): Promise<void> {
    await this.stopDelivery();
    this.sqs.destroy();
    await this.guard.close();
    await this.aws.close();
  }

  /** Whether a message on one of the queues will still make the guard act on the endpoint. */
  private queued(endpointId: string): boolean {
    const serviceId = this.aws.ec2.connection(endpointId)?.ServiceId ?? '';
    // A hint makes the guard reconcile the service it names.
    const hinted = this.aws.sqs
      .messages(this.queues.hints)
      .some((m) => m.rawBody.includes(serviceId));
    const records = [this.queues.retries, this.queues.deadLetters].flatMap((url) =>
      this.aws.sqs
        .messages(url)
        .map((m) => m.body as { serviceId?: string; endpointIds?: string[] }),
    );
    return (
      hinted ||
      records.some(
        (r) =>
          r.serviceId === serviceId &&
          // A record without endpoint IDs reconciles its whole service.
          (!r.endpointIds?.length || r.endpointIds.includes(endpointId)),
      )
    );
  }

  private async until(done: () => boolean, timeoutMs = Infinity): Promise<boolean> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      await this.tail;
      if (done()) return true;
      if (Date.now() >= giveUpAt) return false;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }
}

function benchPolicy(revoke: boolean) {
  return {
    version: 1,
    mode: 'enforce',
    defaultAction: 'reject',
    revoke,
    deny: [DENIED],
    rules: [{ id: 'partners', principals: [ALLOWED] }],
  };
}
