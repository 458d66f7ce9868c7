/**
 * The invocation's deadline through the real AWS SDK: the guard's own GuardDeps, built as
 * handler.ts builds them (the deadline-aware retry strategy and the abort at the deadline on
 * every EC2 and SSM client), against the local fakes over HTTP. Running out of time must end
 * as deferred work (a retry that counts no attempt), never as a failed attempt, an
 * `Unsuccessful` line or a false "Policy unreadable".
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type Clock, realClock } from '../../core/clock';
import type { GuardConfig } from '../../core/contract';
import { InvocationDeadline } from '../../core/deadline';
import { EC2_MAX_ATTEMPTS } from '../../core/ec2';
import { mutatingLimiters, wiringLimiter } from '../../core/rate-limiter';
import { abortAtDeadline, retrySettings } from '../../core/sdk-deadline';
import { scheduledEvent, snsEvent, sqsEvent, type EventOrigin } from '../../local-aws/events';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';
import { Announcements } from '../../lambda/announcements';
import { DecisionPublisher } from '../../lambda/decision-events';
import { type GuardDeps, handleEvent } from '../../lambda/guard';
import { intakeSettings } from '../../lambda/intake';
import { reportPolicyProblem } from '../../lambda/policy-problems';
import { PolicyStore } from '../../lambda/policy-store';
import { logger, metrics } from '../../lambda/telemetry';
import { PermissionsCache } from '../../lambda/upkeep';
import { ManualClock, retryBody } from './harness';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const ORIGIN: EventOrigin = { region: REGION, accountId: ACCOUNT };
const PARAMETER = '/vpce-guard/policy';
const DENIED = '999988887777';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

const addMetric = jest.spyOn(metrics, 'addMetric');
const logError = jest.spyOn(logger, 'error');

let fakes: AwsFakes;
const clients: { destroy(): void }[] = [];
const proxies: Server[] = [];

beforeEach(async () => {
  jest.clearAllMocks();
  fakes = await startAwsFakes({ region: REGION, accountId: ACCOUNT });
  fakes.ssm.setParameter(
    PARAMETER,
    JSON.stringify({ version: 1, mode: 'enforce', defaultAction: 'reject', rules: [] }),
  );
});

afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  for (const proxy of proxies.splice(0)) {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  }
  await fakes.close();
});

const metricTotal = (name: string) =>
  addMetric.mock.calls.filter(([n]) => n === name).reduce((sum, [, , v]) => sum + v, 0);

/**
 * The guard's dependencies as handler.ts builds them, on `clock`, with the EC2 client pointed
 * at `ec2Url` (the fake, or a proxy in front of it).
 */
function guardDeps(clock: Clock, config: Partial<GuardConfig>, ec2Url = fakes.ec2.url) {
  const deadline = new InvocationDeadline(() => clock.now());
  const noDeadline = new InvocationDeadline();
  const made = <C extends { destroy(): void }>(client: C) => {
    clients.push(client);
    return client;
  };
  const endpoint = (url: string) => ({ region: REGION, endpoint: url, credentials });
  const ssm = made(
    abortAtDeadline(
      new SSMClient({ ...endpoint(fakes.ssm.url), ...retrySettings(5, deadline) }),
      deadline,
    ),
  );
  const guardConfig: GuardConfig = {
    policyParameterName: PARAMETER,
    retryQueueUrl: fakes.sqs.createQueue('vpce-guard-retry'),
    deadLetterQueueUrl: fakes.sqs.createQueue('vpce-guard-retry-dlq'),
    policyCacheSeconds: 60,
    rejectBatchSize: 50,
    maxAttempts: 5,
    region: REGION,
    ...config,
  };
  const deps: GuardDeps = {
    config: guardConfig,
    intake: intakeSettings(guardConfig),
    ec2: made(
      abortAtDeadline(
        new EC2Client({ ...endpoint(ec2Url), ...retrySettings(EC2_MAX_ATTEMPTS, deadline) }),
        deadline,
      ),
    ),
    sqs: made(new SQSClient({ ...endpoint(fakes.sqs.url), ...retrySettings(3, noDeadline) })),
    policies: new PolicyStore(ssm, PARAMETER, 60, clock, reportPolicyProblem),
    limiters: mutatingLimiters(clock),
    wiringLimiter: wiringLimiter(clock),
    permissions: new PermissionsCache(clock),
    decisions: new DecisionPublisher({
      events: made(new EventBridgeClient(endpoint(fakes.eventBridge.url))),
      announcements: new Announcements(undefined, clock),
      clock,
    }),
    clock,
    deadline,
    random: () => 0.5,
  };
  return deps;
}

/** Runs `event` with the invocation's deadline at `at` (epoch ms on the deps' clock). */
async function runBy(deps: GuardDeps, event: unknown, at: number) {
  deps.deadline.set(at);
  try {
    return await handleEvent(event, deps);
  } finally {
    deps.deadline.clear();
  }
}

/** The retry queue's records, as [attempt, lastError.code] and their endpoints. */
const retryRecords = (queueUrl: string) =>
  fakes.sqs
    .messages(queueUrl)
    .map((m) => m.body as { attempt: number; lastError: { code: string }; endpointIds: string[] });

/**
 * A proxy in front of the EC2 fake that never answers `action` (an answer slower than the time
 * left), and passes every other request on.
 */
async function ec2NeverAnswering(action: string): Promise<{ url: string; held: () => number }> {
  let held = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (new URLSearchParams(body).get('Action') === action) {
        held += 1;
        return;
      }
      void fetch(fakes.ec2.url, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? '' },
        body,
      }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' });
        res.end(await answer.text());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxies.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held,
  };
}

/** When the guard's copy of Reject's bucket, full at `start`, gives its `n`th token. */
async function nthToken(start: number, n: number): Promise<number> {
  const clock = new ManualClock(start);
  const bucket = mutatingLimiters(clock).reject;
  for (let i = 0; i < n; i++) await bucket.take();
  return clock.now();
}

describe('a Reject or Accept at the deadline', () => {
  test('whose token comes just before the deadline is deferred, not a failed attempt', async () => {
    const clock = new ManualClock();
    const serviceId = fakes.ec2.addService();
    const denied = Array.from({ length: 11 }, () =>
      fakes.ec2.addConnection({ serviceId, owner: DENIED }),
    );
    const deps = guardDeps(clock, { protectedServiceIds: [serviceId], rejectBatchSize: 1 });

    // Ten tokens at once; the eleventh comes exactly at the deadline.
    await runBy(
      deps,
      snsEvent(serviceId, 'vpce-guard-notifications', ORIGIN),
      await nthToken(clock.now(), 11),
    );

    expect(fakes.ec2.count('RejectVpcEndpointConnections')).toBe(10);
    expect(fakes.ec2.connection(denied[10]!)?.VpcEndpointState).toBe('pendingAcceptance');
    expect(
      retryRecords(deps.config.retryQueueUrl).map((r) => [r.attempt, r.lastError.code]),
    ).toEqual([[0, 'Deferred']]);
    expect(metricTotal('RejectUnsuccessful')).toBe(0);
    expect(logError).not.toHaveBeenCalledWith('Unsuccessful', expect.anything());
  });
});

describe('a call the deadline cuts short (AbortError)', () => {
  test('a Reject still waiting for its answer at the deadline is deferred, not a failed attempt', async () => {
    const serviceId = fakes.ec2.addService();
    const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
    const ec2 = await ec2NeverAnswering('RejectVpcEndpointConnections');
    const deps = guardDeps(realClock, { protectedServiceIds: [serviceId] }, ec2.url);

    await runBy(deps, snsEvent(serviceId, 'vpce-guard-notifications', ORIGIN), Date.now() + 1500);

    expect(ec2.held()).toBe(1);
    expect(retryRecords(deps.config.retryQueueUrl)).toEqual([
      expect.objectContaining({
        endpointIds: [denied],
        action: 'reject',
        attempt: 0,
        lastError: expect.objectContaining({ code: 'Deferred' }),
      }),
    ]);
    expect(metricTotal('RejectUnsuccessful')).toBe(0);
    expect(logError).not.toHaveBeenCalledWith('Unsuccessful', expect.anything());
  });

  test("a retry record's Describe cut short is deferred: its attempt and last error stay as they were", async () => {
    const serviceId = fakes.ec2.addService();
    const denied = fakes.ec2.addConnection({ serviceId, owner: DENIED });
    const ec2 = await ec2NeverAnswering('DescribeVpcEndpointConnections');
    const deps = guardDeps(realClock, { protectedServiceIds: [serviceId] }, ec2.url);
    const body = retryBody({ serviceId, endpointIds: [denied], attempt: 2 });

    const response = await runBy(
      deps,
      sqsEvent([body], 'vpce-guard-retry', ORIGIN),
      Date.now() + 1500,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ec2.held()).toBe(1);
    expect(retryRecords(deps.config.retryQueueUrl)).toEqual([
      expect.objectContaining({
        endpointIds: [denied],
        attempt: 2,
        lastError: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
      }),
    ]);
    expect(logError).not.toHaveBeenCalledWith('Could not reconcile the service', expect.anything());
  });
});

describe('a sweep that reaches its deadline', () => {
  test('re-reads no policy once out of time, and so raises no false "Policy unreadable"', async () => {
    const clock = new ManualClock();
    const [a, b] = [fakes.ec2.addService(), fakes.ec2.addService()];
    for (let i = 0; i < 15; i++) fakes.ec2.addConnection({ serviceId: a, owner: DENIED });
    const late = fakes.ec2.addConnection({ serviceId: b, owner: DENIED });
    const deps = guardDeps(clock, { protectedServiceIds: [a, b], rejectBatchSize: 1 });

    // Service A's Rejects take the sweep to its deadline; by then the policy is over 5 s old.
    await runBy(
      deps,
      scheduledEvent('vpce-guard-schedule', ORIGIN),
      await nthToken(clock.now(), 15),
    );

    expect(metricTotal('PolicyUnreadable')).toBe(0);
    expect(logError).not.toHaveBeenCalledWith(
      expect.stringContaining('Policy unreadable'),
      expect.anything(),
    );
    expect(fakes.ssm.calls.filter((c) => c.action === 'GetParameter')).toHaveLength(1);
    expect(fakes.ec2.connection(late)?.VpcEndpointState).toBe('pendingAcceptance');
    const records = retryRecords(deps.config.retryQueueUrl);
    expect(records.every((r) => r.attempt === 0 && r.lastError.code === 'Deferred')).toBe(true);
    expect(records.some((r) => r.endpointIds.includes(late))).toBe(true);
  });
});
