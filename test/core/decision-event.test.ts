import type { Connection } from '../../core/connection';
import {
  type AttemptReport,
  DECISION_EVENT_VERSION,
  decisionEvents,
} from '../../core/decision-event';
import type { Decision, Mode } from '../../core/policy';
import type { Failure, Outcome, Result, ServiceReport } from '../../core/reconcile';
import type { RetryRecord } from '../../core/retry-record';

const SERVICE = 'vpce-svc-0123456789abcdef0';
let counter = 0;

function connection(overrides: Partial<Connection> = {}): Connection {
  counter += 1;
  return {
    serviceId: SERVICE,
    endpointId: `vpce-${counter.toString(16).padStart(17, '0')}`,
    owner: '999988887777',
    state: 'pendingAcceptance',
    region: 'eu-west-1',
    ...overrides,
  };
}

const REJECT: Decision = {
  action: 'reject',
  rule: 'defaultAction',
  reason: 'no rule allows it; default action is reject',
};
const DENY: Decision = { action: 'reject', rule: 'deny', reason: 'on the deny list' };
const ACCEPT: Decision = { action: 'accept', rule: 'globex', reason: 'allowed by rule globex' };
const KEEP: Decision = { action: 'keep', rule: 'acme', reason: 'allowed by rule acme' };
const SKIP: Decision = { action: 'skip', rule: 'state', reason: 'connection is rejected' };

function outcome(decision: Decision, result: Result, c = connection(), code?: string): Outcome {
  return {
    connection: c,
    decision,
    result,
    ...(code ? { error: { code, message: `${code} happened` } } : {}),
  };
}

function report(
  outcomes: Outcome[],
  failures: Failure[] = [],
  mode: Mode = 'enforce',
): ServiceReport {
  return { serviceId: SERVICE, mode, outcomes, failures };
}

const at = (r: ServiceReport, attempt = 1): AttemptReport => ({ report: r, attempt });

function failure(endpointIds: string[], overrides: Partial<Failure> = {}): Failure {
  return {
    serviceId: SERVICE,
    action: 'reject',
    endpointIds,
    error: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
    retryable: true,
    ...overrides,
  };
}

function record(
  endpointIds: string[],
  attempt: number,
  action: RetryRecord['action'] = 'reject',
): RetryRecord {
  return {
    type: 'vpce-guard/retry',
    serviceId: SERVICE,
    endpointIds,
    action,
    attempt,
    lastError: { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
    firstFailedAt: '2026-11-25T12:00:00.000Z',
  };
}

test('a rejection done is one event with every documented field; the default action has no rule', () => {
  const c = connection();
  const [event, ...rest] = decisionEvents([at(report([outcome(REJECT, 'done', c)]))], []);

  expect(rest).toEqual([]);
  expect(event).toEqual({
    detail: {
      version: DECISION_EVENT_VERSION,
      serviceId: SERVICE,
      endpointId: c.endpointId,
      owner: '999988887777',
      region: 'eu-west-1',
      state: 'pendingAcceptance',
      decision: 'reject',
      mode: 'enforce',
      rule: null,
      reason: REJECT.reason,
      outcome: 'done',
      attempt: 1,
      errorCode: null,
      errorMessage: null,
    },
  });
});

test('the deny list is rule "deny", a rule by its id; an accept and a revoke are events too', () => {
  const revoked = connection({ state: 'available' });
  const events = decisionEvents(
    [
      at(
        report([
          outcome(DENY, 'done'),
          outcome(ACCEPT, 'done'),
          outcome({ ...REJECT, reason: 'revoked' }, 'done', revoked),
        ]),
      ),
    ],
    [],
  );
  expect(events.map((e) => [e.detail.decision, e.detail.rule, e.detail.state])).toEqual([
    ['reject', 'deny', 'pendingAcceptance'],
    ['accept', 'globex', 'pendingAcceptance'],
    ['reject', null, 'available'],
  ]);
  expect(events.every((e) => e.onceKey === undefined)).toBe(true);
});

test('a connection kept pending is announced once (a onceKey); kept available ones and skips are no events', () => {
  const kept = connection();
  const events = decisionEvents(
    [
      at(
        report([
          outcome(KEEP, 'none', kept),
          outcome(KEEP, 'none', connection({ state: 'available' })),
          outcome(SKIP, 'none', connection({ state: 'rejected' })),
        ]),
      ),
    ],
    [],
  );
  expect(events).toEqual([
    {
      detail: expect.objectContaining({ decision: 'keep', rule: 'acme', outcome: 'done' }),
      onceKey: `${SERVICE}/${kept.endpointId}/keep/enforce/done`,
    },
  ]);
});

test('in dry run every decision is announced once, with outcome dryRun', () => {
  const c = connection();
  const events = decisionEvents(
    [at(report([outcome(REJECT, 'dryRun', c), outcome(KEEP, 'none')], [], 'dryRun'))],
    [],
  );
  expect(events.map((e) => [e.detail.decision, e.detail.mode, e.detail.outcome])).toEqual([
    ['reject', 'dryRun', 'dryRun'],
    ['keep', 'dryRun', 'dryRun'],
  ]);
  expect(events[0]?.onceKey).toBe(`${SERVICE}/${c.endpointId}/reject/dryRun/dryRun`);
});

test('a failed or deferred change is queued; one that will not be retried is unsuccessful', () => {
  const throttled = connection();
  const deferred = connection();
  const gone = connection();
  const events = decisionEvents(
    [
      at(
        report(
          [
            outcome(REJECT, 'failed', throttled, 'RequestLimitExceeded'),
            outcome(REJECT, 'deferred', deferred, 'Deferred'),
            outcome(ACCEPT, 'failed', gone, 'InvalidVpcEndpointServiceId.NotFound'),
          ],
          [
            failure([throttled.endpointId]),
            failure([deferred.endpointId], { deferred: true }),
            failure([gone.endpointId], { action: 'accept', retryable: false }),
          ],
        ),
      ),
    ],
    [],
  );
  expect(events.map((e) => [e.detail.outcome, e.detail.errorCode])).toEqual([
    ['queued', 'RequestLimitExceeded'],
    ['queued', 'Deferred'],
    ['unsuccessful', 'InvalidVpcEndpointServiceId.NotFound'],
  ]);
});

test("a retry record given up after its last attempt makes its endpoints' events gaveUp", () => {
  const c = connection();
  const other = connection();
  const events = decisionEvents(
    [
      at(
        report(
          [
            outcome(REJECT, 'failed', c, 'RequestLimitExceeded'),
            outcome(REJECT, 'failed', other, 'RequestLimitExceeded'),
          ],
          [failure([c.endpointId, other.endpointId])],
        ),
        5,
      ),
    ],
    [record([c.endpointId], 5)],
  );
  expect(events.map((e) => [e.detail.endpointId, e.detail.outcome, e.detail.attempt])).toEqual([
    [c.endpointId, 'gaveUp', 5],
    [other.endpointId, 'queued', 5],
  ]);
});

test('a record given up on a service that could not be read is one event per endpoint, or one for the service', () => {
  const describeFailed = report([], [failure([], { action: 'describe' })], 'dryRun');
  const events = decisionEvents(
    [at(describeFailed, 3)],
    [record([], 3, 'describe'), record(['vpce-0000000000000000a'], 3, 'reject')],
  );
  expect(events.map((e) => e.detail)).toEqual([
    expect.objectContaining({
      endpointId: null,
      decision: null,
      owner: null,
      mode: 'dryRun',
      outcome: 'gaveUp',
      attempt: 3,
      errorCode: 'RequestLimitExceeded',
      reason: 'gave up after 3 attempts: RequestLimitExceeded: Request limit exceeded.',
    }),
    expect.objectContaining({
      endpointId: 'vpce-0000000000000000a',
      decision: 'reject',
      outcome: 'gaveUp',
    }),
  ]);
});

test('a record given up is matched only to the attempt that gave it up, not to a hint of the same service', () => {
  const c = connection();
  const hint = report(
    [outcome(REJECT, 'failed', c, 'RequestLimitExceeded')],
    [failure([c.endpointId])],
  );
  const retried = report(
    [outcome(REJECT, 'failed', c, 'RequestLimitExceeded')],
    [failure([c.endpointId])],
  );
  const events = decisionEvents([at(hint, 1), at(retried, 5)], [record([c.endpointId], 5)]);
  expect(events.map((e) => [e.detail.attempt, e.detail.outcome])).toEqual([
    [1, 'queued'],
    [5, 'gaveUp'],
  ]);
});

test('a long reason or error message is cut to 1024 characters', () => {
  const long = 'x'.repeat(5000);
  const failed: Outcome = {
    connection: connection(),
    decision: { ...REJECT, reason: long },
    result: 'failed',
    error: { code: 'Busy', message: long },
  };
  const [event] = decisionEvents([at(report([failed], [failure([])]))], []);
  expect(event?.detail.reason).toHaveLength(1024);
  expect(event?.detail.errorMessage).toHaveLength(1024);
  expect(event?.detail.reason.endsWith('…')).toBe(true);
});
