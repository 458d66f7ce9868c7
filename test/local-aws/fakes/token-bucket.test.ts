import { TokenBucket } from '../../../local-aws/fakes/token-bucket';

test('a bucket allows its capacity at once, then one request per refill interval', () => {
  let now = 0;
  const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1 }, () => now);

  expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
  now = 999;
  expect(bucket.tryTake()).toBe(false);
  now = 1000;
  expect(bucket.tryTake()).toBe(true);
  now = 60_000; // refills never exceed the capacity
  expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
});
