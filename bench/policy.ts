/**
 * The pure policy code: `decide` throughput by the number of principals in the policy, and
 * the parse + validation time of a policy as large as SSM allows (8 KB, Advanced tier).
 * Runs in this process: the code is the same as in the bundle, and no I/O is involved.
 */
import type { Connection } from '../core/connection';
import { decide, MAX_DESCRIPTION, parsePolicy, type Policy } from '../core/policy';
import { TIER_MAX_BYTES } from '../core/policy-parameter';
import { DENIED, STRANGER } from './accounts';
import { median, round } from './stats';

/** The keys of `policy` in results.json: principals in the policy → decisions per second. */
export interface PolicyResult {
  readonly decisionsPerSecond: Record<string, number>;
  readonly parseMs8kb: number;
}

const PRINCIPAL_COUNTS = [1, 1_000, 100_000];
/** The service the benchmark policies' rules allow. */
export const SERVICE = 'vpce-svc-0123456789abcdef0';
const ROUNDS = 5;
const ROUND_MS = 300;

export function measurePolicy(): { result: PolicyResult; policyBytes: number } {
  const decisionsPerSecond = Object.fromEntries(
    PRINCIPAL_COUNTS.map((n) => [String(n), Math.round(decideRate(n))]),
  );
  // As large as SSM stores a parameter value (the Advanced tier).
  const text = policyOfSize(TIER_MAX_BYTES.Advanced);
  return {
    result: { decisionsPerSecond, parseMs8kb: round(parseTime(text), 4) },
    policyBytes: Buffer.byteLength(text),
  };
}

/** Decisions per second with `principals` accounts listed in a rule. */
function decideRate(principals: number): number {
  const accounts = Array.from({ length: principals }, (_, i) => account(i));
  return decisionsPerSecond(
    parsed({
      version: 1,
      defaultAction: 'reject',
      deny: [DENIED],
      rules: [
        { id: 'other', services: ['vpce-svc-00000000000000000'], principals: '*' },
        { id: 'partners', services: [SERVICE], principals: accounts },
      ],
    }),
    accounts,
  );
}

/**
 * Decisions per second of `policy` (its deny list holds DENIED, a rule on SERVICE allows
 * `allowed`) over a mix that takes every path: an allowed principal (a set lookup in the
 * rule, or in a principal set), a denied one (the deny list) and a stranger (every rule, then
 * the default).
 */
export function decisionsPerSecond(policy: Policy, allowed: readonly string[]): number {
  const owners = Array.from({ length: 1_024 }, (_, i) =>
    i % 3 === 0 ? DENIED : i % 3 === 1 ? STRANGER : allowed[(i * 7919) % allowed.length]!,
  );
  const connections: Connection[] = owners.map((owner, i) => ({
    serviceId: SERVICE,
    endpointId: `vpce-${i.toString(16).padStart(17, '0')}`,
    owner,
    state: 'pendingAcceptance',
    region: 'eu-west-1',
  }));
  const now = new Date();
  let sink = 0; // consumed below, so the decisions cannot be optimised away
  const rates: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    let decisions = 0;
    const started = performance.now();
    while (performance.now() - started < ROUND_MS) {
      for (const connection of connections) sink += decide(policy, connection, now).action.length;
      decisions += connections.length;
    }
    // Round 0 warms the JIT up and is not counted.
    if (round > 0) rates.push(decisions / ((performance.now() - started) / 1000));
  }
  if (sink === 0) throw new Error('no decisions were made');
  return median(rates);
}

/** Median milliseconds of `parsePolicy` on `text`, after a warm-up. */
function parseTime(text: string): number {
  parsed(JSON.parse(text)); // valid, or the measurement would time the error path
  for (let i = 0; i < 200; i++) parsePolicy(text);
  const times: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const started = performance.now();
    parsePolicy(text);
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * A realistic policy of `bytes` bytes (pretty-printed, as operators write it): rules with
 * every optional field, then descriptions lengthened to fill the last bytes exactly.
 */
function policyOfSize(bytes: number): string {
  const document = {
    version: 1,
    description: 'Consumers of the payments API, one rule per customer.',
    mode: 'enforce',
    defaultAction: 'reject',
    revoke: true,
    deny: [DENIED, STRANGER],
    rules: [] as { description: string }[],
  };
  const size = () => Buffer.byteLength(JSON.stringify(document, null, 2));
  for (let i = 0; size() <= bytes; i++) {
    document.rules.push({
      id: `customer-${i}`,
      description: `Customer ${i}: production and staging accounts`,
      services: [SERVICE],
      principals: [account(2 * i), `arn:aws:iam::${account(2 * i + 1)}:root`],
      regions: ['eu-west-1', 'us-east-1'],
      expires: '2027-06-30T00:00:00Z',
      accept: i % 2 === 0,
    } as { description: string });
  }
  document.rules.pop();
  for (const described of [document, ...document.rules]) {
    const room = Math.min(bytes - size(), MAX_DESCRIPTION - described.description.length);
    described.description += '.'.repeat(Math.max(0, room));
  }
  return JSON.stringify(document, null, 2);
}

/** A benchmark policy document, parsed and validated as the guard does. */
export function parsed(document: unknown): Policy {
  const result = parsePolicy(JSON.stringify(document));
  if (!result.ok) throw new Error(`invalid benchmark policy: ${JSON.stringify(result.errors)}`);
  return result.policy;
}

const account = (i: number): string => String(100_000_000_000 + i);
