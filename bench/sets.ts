/**
 * Principal sets at scale: a policy whose set holds 100,000 random accounts, pushed with the
 * CLI's own writer and loaded with the guard's own loader (core/policy-load.ts), through the
 * real SDK, from the SSM fake with Parameter Store's default throughput on (40 transactions
 * per second for GetParameter, GetParameters and GetParametersByPath, per account and
 * Region). Measures the SSM calls and seconds of a cold load and of a reload, per tier, the
 * heap the loaded set takes, and decide() with the set.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { pushPrincipalSet } from '../cli/principal-sets';
import { withPrincipalSets } from '../core/policy';
import { type LoadedPolicy, loadPolicy } from '../core/policy-load';
import {
  DEFAULT_POLICY_PARAMETER_NAME as NAME,
  policyParameter,
  type Tier,
} from '../core/policy-parameter';
import { FakeSsm } from '../local-aws/fakes/ssm';
import { DENIED } from './accounts';
import { decisionsPerSecond, parsed, SERVICE } from './policy';
import { median, round, seconds } from './stats';

/** Parameter Store's default throughput, shared by the account and Region. */
export const DEFAULT_SSM_TPS = 40;
const ACCOUNTS = 100_000;
const REGION = 'us-east-1';

export interface SetLoadResult {
  readonly tier: Tier;
  /** Heap the loaded policy and its set hold, after garbage collections. */
  readonly heapMb: number;
  readonly parts: number;
  /** SSM calls of a cold load: the policy, the manifest, the parts. */
  readonly loadCalls: number;
  /** The calls at the default throughput: the floor of a load's SSM time. */
  readonly secondsAt40Tps: number;
  /** Measured against the fake (loopback, its 40-per-second bucket on). */
  readonly loadSeconds: number;
  readonly throttled: number;
  /** SSM calls of a reload when the set's version is unchanged. */
  readonly reloadCalls: number;
}

/** The keys of `sets` in results.json. */
export interface SetsResult {
  readonly accounts: number;
  readonly tiers: readonly SetLoadResult[];
  /**
   * decide() with the 100,000 allowed accounts in a principal set, and listed in the rule, as
   * bench/policy.ts measures it: alternated, median of three each, so that both meet the same
   * machine load.
   */
  readonly decisionsPerSecond: { readonly set: number; readonly inline: number };
}

export async function measureSets(): Promise<SetsResult> {
  const accounts = randomAccounts(ACCOUNTS);
  const tiers: SetLoadResult[] = [];
  let kept: LoadedPolicy | undefined;
  for (const tier of ['Advanced', 'Standard'] as const) {
    const { result, loaded } = await loadOnce(tier, accounts);
    tiers.push(result);
    kept = loaded;
  }
  // Loaded as the guard loads every policy (with its sets, here none): the same shape.
  const inline = withPrincipalSets(
    parsed({
      ...setPolicy(),
      rules: [setPolicy().rules[0], { id: 'partners', services: [SERVICE], principals: accounts }],
    }),
    new Map(),
  );
  const rates = { set: [] as number[], inline: [] as number[] };
  for (let i = 0; i < 3; i++) {
    rates.set.push(decisionsPerSecond(kept!.policy, accounts));
    rates.inline.push(decisionsPerSecond(inline, accounts));
  }
  return {
    accounts: ACCOUNTS,
    tiers,
    decisionsPerSecond: {
      set: Math.round(median(rates.set)),
      inline: Math.round(median(rates.inline)),
    },
  };
}

async function loadOnce(
  tier: Tier,
  accounts: readonly string[],
): Promise<{ result: SetLoadResult; loaded: LoadedPolicy }> {
  const fake = await FakeSsm.start({
    region: REGION,
    accountId: '123456789012',
    throughput: DEFAULT_SSM_TPS,
  });
  const ssm = new SSMClient({
    region: REGION,
    endpoint: fake.url,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'x' },
  });
  try {
    fake.setParameter(NAME, JSON.stringify(setPolicy()));
    const { manifest } = await pushPrincipalSet(ssm, {
      parameter: policyParameter(NAME),
      set: 'customers',
      accounts,
      storage: { tier, type: 'String' },
      now: new Date(),
      expectedManifestVersion: undefined,
    });
    // A second's pause refills the bucket: the push's own reads are not the load's.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = fake.calls.length;
    const heapBefore = settledHeap();
    const started = performance.now();
    const load = await loadPolicy(ssm, NAME);
    const loadSeconds = seconds(performance.now() - started);
    const heapMb = round((settledHeap() - heapBefore) / 2 ** 20, 1);
    if ('problem' in load) throw new Error(`the set did not load: ${JSON.stringify(load.problem)}`);
    const calls = fake.calls.slice(before);
    const afterLoad = fake.calls.length;
    await loadPolicy(ssm, NAME, load.loaded.sets);
    return {
      loaded: load.loaded,
      result: {
        tier,
        heapMb,
        parts: manifest.parts,
        loadCalls: calls.length,
        secondsAt40Tps: round(calls.length / DEFAULT_SSM_TPS, 3),
        loadSeconds,
        throttled: calls.filter((c) => c.throttled).length,
        reloadCalls: fake.calls.length - afterLoad,
      },
    };
  } finally {
    ssm.destroy();
    await fake.close();
  }
}

/**
 * The heap in use after garbage collections: around a load, what the loaded policy and its
 * set hold (the fake's own copy of the parameters was there before).
 */
function settledHeap(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** The benchmark policy, its allowlist in a principal set. */
function setPolicy() {
  return {
    version: 1,
    defaultAction: 'reject',
    deny: [DENIED],
    rules: [
      { id: 'other', services: ['vpce-svc-00000000000000000'], principals: '*' },
      { id: 'partners', services: [SERVICE], principalSets: ['customers'] },
    ],
  };
}

/**
 * `count` distinct 12-digit accounts, uniform over the whole space: the worst case for the
 * encoding (clustered IDs have smaller gaps). A fixed seed keeps runs comparable.
 */
function randomAccounts(count: number): string[] {
  let state = 0x5eed;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const accounts = new Set<string>();
  while (accounts.size < count) {
    const id = Math.floor(random() * 1e6) * 1e6 + Math.floor(random() * 1e6);
    accounts.add(String(id).padStart(12, '0'));
  }
  return [...accounts];
}
