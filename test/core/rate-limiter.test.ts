import { DeadlineExceededError, TokenBucket } from '../../core/rate-limiter';
import { ManualClock } from '../lambda/harness';

describe('TokenBucket', () => {
  test('serves its capacity at once, then one request per refill interval', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(10, 1, clock);
    for (let i = 0; i < 10; i++) await bucket.take();
    expect(clock.now()).toBe(0);
    await bucket.take();
    expect(clock.now()).toBe(1000);
    await bucket.take();
    expect(clock.now()).toBe(2000);
  });

  test('refills while idle, never beyond its capacity', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(2, 1, clock);
    await bucket.take();
    await bucket.take();
    clock.time += 60_000;
    await bucket.take();
    await bucket.take();
    expect(clock.now()).toBe(60_000);
    await bucket.take();
    expect(clock.now()).toBe(61_000);
  });

  test('concurrent callers queue behind one another', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(1, 1, clock);
    const waits: number[] = [];
    const sleep = jest.spyOn(clock, 'sleep').mockImplementation(async (ms) => {
      waits.push(ms);
    });
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(waits).toEqual([1000, 2000]);
    sleep.mockRestore();
  });

  test('refuses at once, taking nothing, when the token would come after the deadline', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(1, 1, clock);
    await bucket.take(500);
    await expect(bucket.take(500)).rejects.toThrow(DeadlineExceededError);
    expect(clock.now()).toBe(0);
    await bucket.take(1000);
    expect(clock.now()).toBe(1000);
  });
});
