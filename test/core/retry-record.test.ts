import { backoffSeconds, retryRecordFor, retryRecordFrom } from '../../core/retry-record';

/** A retry queue message's body, read as the intake reads it: parsed once, then checked. */
const parseRetryRecord = (body: string) => retryRecordFrom(JSON.parse(body));
import { retryBody, SERVICE_A } from '../lambda/harness';

describe('retry records', () => {
  test('round-trip through JSON', () => {
    const record = retryRecordFor(
      {
        serviceId: SERVICE_A,
        action: 'reject',
        endpointIds: ['vpce-0aaaaaaaaaaaaaaaa'],
        error: { code: 'InvalidState', message: 'busy' },
        retryable: true,
      },
      new Date('2026-11-25T12:00:00Z'),
    );
    expect(parseRetryRecord(JSON.stringify(record))).toEqual({ ok: true, record });
  });

  test.each([
    ['[1]', 'type is undefined, expected "vpce-guard/retry"'],
    ['null', 'the message body is not a JSON object'],
    [retryBody({ endpointIds: ['i-123'] }), 'endpointIds is not an array of endpoint IDs'],
    [retryBody({ action: 'delete' }), 'action "delete" is not reject, accept or describe'],
    [retryBody({ lastError: 'boom' }), 'lastError is not {code, message}'],
    [retryBody({ firstFailedAt: 'yesterday' }), 'firstFailedAt is not a date'],
  ])('refuses %s: %s', (body, error) => {
    expect(parseRetryRecord(body)).toEqual({ ok: false, error });
  });
});

describe('backoffSeconds', () => {
  test('doubles from 30 s with jitter in the upper half, capped at 15 minutes', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffSeconds(attempt, () => 0))).toEqual([
      15, 30, 60, 120, 240, 450,
    ]);
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffSeconds(attempt, () => 1))).toEqual([
      30, 60, 120, 240, 480, 900,
    ]);
    expect(backoffSeconds(50, () => 1)).toBe(900);
  });
});
