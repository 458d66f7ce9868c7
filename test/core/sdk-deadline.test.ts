/**
 * The deadline-aware retry strategy and abort signal, alone and through the real EC2 client
 * against the fake EC2 with Reject throttled for good (as if another caller drained the bucket).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EC2Client, RejectVpcEndpointConnectionsCommand } from '@aws-sdk/client-ec2';
import { DeadlineReachedError, InvocationDeadline, isOutOfTime } from '../../core/deadline';
import { abortAtDeadline, DeadlineRetryStrategy, retrySettings } from '../../core/sdk-deadline';
import { FakeEc2 } from '../../local-aws/fakes';

const REGION = 'eu-west-1';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

type ErrorType = 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR';
const info = (errorType: ErrorType, retryAfterHint?: Date) => ({
  errorType,
  ...(retryAfterHint ? { retryAfterHint } : {}),
});

/** A deadline `ms` from a fixed `now`, on a clock the test moves. */
function fixedDeadline(ms: number) {
  const clock = { now: 1_000_000 };
  const deadline = new InvocationDeadline(() => clock.now);
  deadline.set(clock.now + ms);
  return { clock, deadline };
}

describe('DeadlineRetryStrategy', () => {
  test('without a deadline, retries throttling and transient errors up to maxAttempts, as the standard mode', async () => {
    const strategy = new DeadlineRetryStrategy({ maxAttempts: 3, random: () => 1 });
    let token = await strategy.acquireInitialRetryToken();
    expect(token.getRetryCount()).toBe(0);

    token = await strategy.refreshRetryTokenForRetry(token, info('THROTTLING'));
    expect([token.getRetryCount(), token.getRetryDelay()]).toEqual([1, 1000]);
    token = await strategy.refreshRetryTokenForRetry(token, info('TRANSIENT'));
    expect([token.getRetryCount(), token.getRetryDelay()]).toEqual([2, 100]);
    // The third attempt was the last.
    await expect(strategy.refreshRetryTokenForRetry(token, info('THROTTLING'))).rejects.toThrow(
      '3 attempts',
    );
  });

  test('does not retry a client or server error', async () => {
    const strategy = new DeadlineRetryStrategy({ maxAttempts: 6 });
    const token = await strategy.acquireInitialRetryToken();
    await expect(strategy.refreshRetryTokenForRetry(token, info('CLIENT_ERROR'))).rejects.toThrow();
    await expect(strategy.refreshRetryTokenForRetry(token, info('SERVER_ERROR'))).rejects.toThrow();
  });

  test('backs off with full jitter from 1 s for throttling, doubling, capped at 20 s', async () => {
    const strategy = new DeadlineRetryStrategy({ maxAttempts: 10, random: () => 0.5 });
    let token = await strategy.acquireInitialRetryToken();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      token = await strategy.refreshRetryTokenForRetry(token, info('THROTTLING'));
      delays.push(token.getRetryDelay());
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000]);
  });

  test('a Retry-After hint lengthens the delay by 5 s at most, as the SDK does', async () => {
    const now = 1_000_000;
    const strategy = new DeadlineRetryStrategy({ maxAttempts: 3, random: () => 0, now: () => now });
    const token = await strategy.acquireInitialRetryToken();
    const later = (ms: number) => info('THROTTLING', new Date(now + ms));
    expect((await strategy.refreshRetryTokenForRetry(token, later(3000))).getRetryDelay()).toBe(
      3000,
    );
    expect((await strategy.refreshRetryTokenForRetry(token, later(60_000))).getRetryDelay()).toBe(
      5000,
    );
  });

  test('refuses a retry whose delay plus the attempt allowance would end after the deadline', async () => {
    const { clock, deadline } = fixedDeadline(2500);
    const strategy = new DeadlineRetryStrategy({
      maxAttempts: 6,
      deadline,
      attemptAllowanceMs: 1000,
      random: () => 1,
    });
    let token = await strategy.acquireInitialRetryToken();
    // 1000 ms + 1000 ms allowance fits in 2500 ms.
    token = await strategy.refreshRetryTokenForRetry(token, info('THROTTLING'));
    expect(token.getRetryDelay()).toBe(1000);
    // 2000 ms + 1000 ms does not.
    await expect(strategy.refreshRetryTokenForRetry(token, info('THROTTLING'))).rejects.toThrow(
      DeadlineReachedError,
    );
    // Nor, once the deadline has passed, does a first attempt start.
    clock.now += 2500;
    await expect(strategy.acquireInitialRetryToken()).rejects.toThrow(DeadlineReachedError);
    deadline.clear();
    await expect(strategy.acquireInitialRetryToken()).resolves.toBeDefined();
  });
});

describe('isOutOfTime', () => {
  test('tells the deadline from a failure: DeadlineReached, or an AbortError caused by it', () => {
    const abort = (cause?: unknown) =>
      Object.assign(new Error('Request aborted'), { name: 'AbortError', cause });
    expect(isOutOfTime(new DeadlineReachedError())).toBe(true);
    expect(isOutOfTime(abort(new DeadlineReachedError()))).toBe(true);
    // Someone else's abort, a throttled call, or no error at all is not the deadline.
    expect(isOutOfTime(abort())).toBe(false);
    expect(isOutOfTime(abort(new Error('other')))).toBe(false);
    expect(isOutOfTime(Object.assign(new Error('x'), { name: 'RequestLimitExceeded' }))).toBe(
      false,
    );
    expect(isOutOfTime('DeadlineReached')).toBe(false);
  });
});

describe('InvocationDeadline', () => {
  test('tells the time left, aborts its signal when it comes, and has none once cleared', async () => {
    const deadline = new InvocationDeadline();
    expect(deadline.remainingMs()).toBe(Infinity);
    expect(deadline.signal).toBeUndefined();

    deadline.set(Date.now() + 30);
    const signal = deadline.signal!;
    expect(deadline.remainingMs()).toBeLessThanOrEqual(30);
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    expect(signal.reason).toBeInstanceOf(DeadlineReachedError);

    deadline.clear();
    expect([deadline.at, deadline.signal, deadline.remainingMs()]).toEqual([
      undefined,
      undefined,
      Infinity,
    ]);
  });
});

describe('an EC2 client with a deadline, through the real SDK', () => {
  let ec2: FakeEc2;
  let serviceId: string;
  let endpointId: string;

  beforeEach(async () => {
    ec2 = await FakeEc2.start({ region: REGION });
    serviceId = ec2.addService();
    endpointId = ec2.addConnection({ serviceId, owner: '999988887777' });
    // Another caller has drained Reject's bucket, and keeps it drained.
    ec2.setThrottling(true, { reject: { capacity: 0, refillPerSecond: 0 } });
  });

  afterEach(() => ec2.close());

  const reject = (client: EC2Client) =>
    client.send(
      new RejectVpcEndpointConnectionsCommand({
        ServiceId: serviceId,
        VpcEndpointIds: [endpointId],
      }),
    );

  test.each([1500, 2500, 4000])(
    'a call throttled for good ends before a deadline %i ms away, with the error EC2 gave, whatever the jitter',
    async (ms) => {
      const deadline = new InvocationDeadline();
      const client = abortAtDeadline(
        new EC2Client({
          region: REGION,
          endpoint: ec2.url,
          credentials,
          ...retrySettings(6, deadline),
        }),
        deadline,
      );
      deadline.set(Date.now() + ms);

      const error = await reject(client).catch((e: unknown) => e);
      // Over before the deadline came: the strategy declined the retry that would not fit,
      // so the signal that aborts at the deadline has not fired.
      const abortedByTheDeadline = deadline.signal!.aborted;

      deadline.clear();
      client.destroy();
      expect(error).toMatchObject({ name: 'RequestLimitExceeded' });
      expect(abortedByTheDeadline).toBe(false);
      // EC2's own error: a failed attempt, not one the deadline cut short.
      expect(isOutOfTime(error)).toBe(false);
      expect(ec2.count('RejectVpcEndpointConnections')).toBeGreaterThanOrEqual(1);
      expect(ec2.count('RejectVpcEndpointConnections')).toBeLessThan(6);
    },
  );

  test('without a deadline (the CLI) the call makes every attempt', async () => {
    const client = new EC2Client({
      region: REGION,
      endpoint: ec2.url,
      credentials,
      retryStrategy: new DeadlineRetryStrategy({ maxAttempts: 3, random: () => 0 }),
    });
    await expect(reject(client)).rejects.toMatchObject({
      name: 'RequestLimitExceeded',
      $metadata: { attempts: 3 },
    });
    expect(ec2.count('RejectVpcEndpointConnections')).toBe(3);
    client.destroy();
  });
});

describe('abortAtDeadline', () => {
  let server: Server;
  let url: string;
  let requests = 0;

  beforeAll(async () => {
    // An endpoint that takes requests and never answers.
    server = createServer(() => {
      requests += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('aborts a call still running when the deadline comes, and fails one started after it at once', async () => {
    const deadline = new InvocationDeadline();
    const client = abortAtDeadline(
      new EC2Client({ region: REGION, endpoint: url, credentials, ...retrySettings(6, deadline) }),
      deadline,
    );
    deadline.set(Date.now() + 300);

    const cutShort = await reject(client).catch((e: unknown) => e);
    expect(cutShort).toMatchObject({ name: 'AbortError' });
    // Ended by the deadline's own abort: the SDK's AbortError carries its reason as the cause,
    // which is how the guard tells "no time left" from a failure.
    expect((cutShort as Error).cause).toBeInstanceOf(DeadlineReachedError);
    expect(isOutOfTime(cutShort)).toBe(true);
    expect(requests).toBe(1);

    const late = await reject(client).catch((e: unknown) => e);
    expect(late).toMatchObject({ name: 'DeadlineReached' });
    expect(isOutOfTime(late)).toBe(true);
    expect(requests).toBe(1);
    deadline.clear();
    client.destroy();
  });

  const reject = (client: EC2Client) =>
    client.send(
      new RejectVpcEndpointConnectionsCommand({
        ServiceId: 'vpce-svc-0123456789abcdef0',
        VpcEndpointIds: ['vpce-0123456789abcdef0'],
      }),
    );
});
