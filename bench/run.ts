/**
 * `npm run bench [-- options]`: measures vpce-guard's cold start, bursts, sweeps, policy
 * code and policy cache against local AWS fakes that enforce EC2's token buckets, prints a
 * table per section, and writes bench/results.json. See bench/README.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../core/contract';
import { buildGuardBundle } from '../local-aws/bundle';
import { type BurstResult, burstCases, rejectCallTarget, runBurst } from './burst';
import { measureColdStart } from './cold-start';
import { DEADLINE_CASES_MS, type DeadlineResult, runDeadline } from './deadline';
import type { Delivery } from './rig';
import { measurePolicy } from './policy';
import { DEFAULT_SSM_TPS, measureSets } from './sets';
import { runServicesSweep, SERVICE_COUNTS, type ServicesSweepResult } from './services';
import { runSsm } from './ssm';
import { runSweep, type SweepResult } from './sweep';
import { round } from './stats';
import { printTable } from './table';

const SECTIONS = [
  'cold-start',
  'burst',
  'sweep',
  'services',
  'deadline',
  'policy',
  'sets',
  'ssm',
] as const;
type Section = (typeof SECTIONS)[number];
const RESULTS = path.join(__dirname, 'results.json');
const USAGE = `usage: npm run bench -- [--only ${SECTIONS.join(',')}] [--quick] [--runs N] [--batch-size N] [--direct]
  --only        run only these sections (comma-separated); results.json keeps the others
  --quick       bursts of 10 and 100 only (the 1,000 bursts at 5/s take minutes each)
  --runs        fresh-process loads per bundle for the cold start (default 30, at least 10)
  --batch-size  REJECT_BATCH_SIZE for the guard (default ${DEFAULTS.rejectBatchSize})
  --direct      bursts invoke the guard once per notification instead of through the hint queue
With --quick, --batch-size or --direct, results.json is not written: it holds full runs as deployed.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string', default: '30' },
      'batch-size': { type: 'string' },
      direct: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const only = values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS];
  const unknown = only.find((s) => !(SECTIONS as readonly string[]).includes(s));
  const runs = Number(values.runs);
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (unknown !== undefined || !(runs >= 10) || (batchSize !== undefined && !(batchSize >= 1))) {
    throw new Error(`bad arguments\n${USAGE}`);
  }
  const run = (section: Section) => only.includes(section);
  const results: Record<string, unknown> = {};
  const started = Date.now();

  if (run('cold-start')) results.coldStart = await coldStart(runs);
  if (run('burst') || run('sweep') || run('services') || run('deadline') || run('ssm')) {
    const dir = await mkdtemp(path.join(tmpdir(), 'vpce-guard-bench-'));
    try {
      const bundle = await buildGuardBundle(dir);
      const sizes = values.quick ? [10, 100] : [10, 100, 1000];
      const delivery = values.direct ? 'direct' : 'hint-queue';
      if (run('burst'))
        results.burst = await bursts(bundle, sizes, { rejectBatchSize: batchSize, delivery });
      if (run('sweep')) results.sweep = await sweeps(bundle, batchSize);
      if (run('services')) results.services = await servicesSweeps(bundle);
      if (run('deadline')) results.deadline = await deadlines(bundle);
      if (run('ssm')) results.ssm = await ssm(bundle);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (run('policy')) results.policy = policy();
  if (run('sets')) results.sets = await sets();

  console.log(`\nfinished in ${Math.round((Date.now() - started) / 1000)} s`);
  if (values.quick || batchSize !== undefined || values.direct) {
    console.log('bench/results.json not written: it holds full runs as deployed only');
    return;
  }
  // A partial run updates its own sections and keeps the others from the last run.
  const previous = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : {};
  const merged = { ...previous, ...results };
  const ordered = Object.fromEntries(
    ['coldStart', 'burst', 'sweep', 'services', 'deadline', 'policy', 'sets', 'ssm']
      .filter((k) => k in merged)
      .map((k) => [k, merged[k]]),
  );
  writeFileSync(RESULTS, `${JSON.stringify(ordered, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
}

async function coldStart(runs: number) {
  const { result, withoutSourceMaps, packages } = await measureColdStart(runs);
  printTable(
    `Cold start: median of ${runs} fresh-process loads each, the three bundles taking turns`,
    [
      {
        bundle: 'guard',
        bytes: result.guardBytes,
        'load ms': result.guardMs,
        'load ms without source maps': withoutSourceMaps.guardMs,
      },
      {
        bundle: 'clients (every client the guard constructs)',
        bytes: result.clientsBytes,
        'load ms': result.clientsMs,
        'load ms without source maps': withoutSourceMaps.clientsMs,
      },
      {
        bundle: 'floor (EC2Client only)',
        bytes: result.floorBytes,
        'load ms': result.floorMs,
        'load ms without source maps': withoutSourceMaps.floorMs,
      },
      {
        bundle: 'ratio guard / floor (target <= 1.15)',
        bytes: round(result.guardBytes / result.floorBytes, 3),
        'load ms': result.ratio,
        'load ms without source maps': withoutSourceMaps.ratio,
      },
      {
        bundle: 'ratio clients / floor',
        bytes: round(result.clientsBytes / result.floorBytes, 3),
        'load ms': result.clientsRatio,
        'load ms without source maps': withoutSourceMaps.clientsRatio,
      },
      {
        bundle: "ratio guard / clients (the guard's code)",
        bytes: round(result.guardBytes / result.clientsBytes, 3),
        'load ms': result.codeRatio,
        'load ms without source maps': withoutSourceMaps.codeRatio,
      },
    ],
  );
  printTable(
    'Bytes by package (heaviest 8 in the guard)',
    packages.slice(0, 8).map((p) => ({
      package: p.package,
      guard: p.guardBytes,
      floor: p.floorBytes,
      'guard - floor': p.guardBytes - p.floorBytes,
    })),
  );
  return result;
}

async function bursts(
  bundle: string,
  sizes: number[],
  options: { rejectBatchSize?: number; delivery: Delivery },
): Promise<BurstResult[]> {
  const results: BurstResult[] = [];
  const rows = [];
  for (const c of burstCases(sizes)) {
    process.stdout.write(
      `burst: ${c.arrival}, ${c.services} service(s), ${c.requests} requests…\n`,
    );
    const { result, details } = await runBurst(bundle, c, options);
    results.push(result);
    const target = rejectCallTarget(c, options.rejectBatchSize ?? DEFAULTS.rejectBatchSize);
    rows.push({
      ...result,
      'reject target': target,
      invocations: details.invocations,
      'retry msgs': details.retryDeliveries,
      errors: details.errors,
      's after last arrival': details.secondsAfterLastArrival,
      'backlog s': details.backlogSeconds,
      settled: details.settled,
    });
  }
  printTable(
    `Bursts of denied connection requests (EC2 token buckets on, one warm guard, notifications ${options.delivery === 'direct' ? 'invoking it directly' : 'through the hint queue'})`,
    rows,
  );
  return results;
}

async function sweeps(bundle: string, batchSize?: number): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  const rows = [];
  for (const revoke of [false, true]) {
    process.stdout.write(`sweep: 10,000 connections, revoke ${revoke}…\n`);
    const { result, details } = await runSweep(bundle, revoke, batchSize);
    results.push(result);
    rows.push({
      ...result,
      'to reject': details.toReject,
      throttled: details.throttled,
      'retry msgs': details.retryDeliveries,
      lost: details.lost,
      'sweep invocation s': details.sweepInvocationSeconds,
    });
  }
  printTable('Sweep of one service with 10,000 connections (target < 30 s)', rows);
  return results;
}

async function servicesSweeps(bundle: string): Promise<ServicesSweepResult[]> {
  const results: ServicesSweepResult[] = [];
  const rows = [];
  for (const services of SERVICE_COUNTS) {
    process.stdout.write(`services: a sweep of ${services} service(s)…\n`);
    const { result, details } = await runServicesSweep(bundle, services);
    results.push(result);
    rows.push({
      ...result,
      ...details.describeByAction,
      'reject calls': details.rejectCalls,
      throttled: details.throttled,
      'sweeps to wire all': details.sweepsToWire,
    });
  }
  printTable(
    'Sweep of every service, protecting them all, 2 pending (target: DescribeVpcEndpointConnections <= ceil(pending / 1000) + 1 whatever the services; issue baseline: 200 services, 214 calls, 5.9 s)',
    rows,
  );
  return results;
}

async function deadlines(bundle: string): Promise<DeadlineResult[]> {
  const results: DeadlineResult[] = [];
  const rows = [];
  for (const timeLeftMs of DEADLINE_CASES_MS) {
    process.stdout.write(`deadline: ${timeLeftMs / 1000} s left, Reject throttled for good…\n`);
    const { result, details } = await runDeadline(bundle, timeLeftMs);
    results.push(result);
    rows.push({
      ...result,
      'to reject': details.toReject,
      throttled: details.throttled,
      'events by outcome': JSON.stringify(details.events),
      error: details.error ?? '',
    });
  }
  printTable(
    `Deadline under persistent throttling: ${rows[0]?.['to reject']} denied requests on 20 services, every Reject throttled by another caller (target: no Reject after the deadline, returned before the time is out, lost 0)`,
    rows,
  );
  return results;
}

async function ssm(bundle: string) {
  const { result, seconds } = await runSsm(bundle, 1_000);
  printTable('Policy cache (POLICY_CACHE_SECONDS 60)', [{ ...result, seconds }]);
  return result;
}

async function sets() {
  process.stdout.write('sets: a policy whose set holds 100,000 accounts…\n');
  const result = await measureSets();
  printTable(
    `Principal sets: a policy whose set holds ${result.accounts.toLocaleString('en-US')} random accounts, loaded at Parameter Store's default ${DEFAULT_SSM_TPS} transactions per second (target: <= 20 SSM calls, < 1 s at ${DEFAULT_SSM_TPS}/s)`,
    result.tiers.map((t) => ({
      tier: t.tier,
      parts: t.parts,
      'SSM calls': t.loadCalls,
      [`s at ${DEFAULT_SSM_TPS}/s`]: t.secondsAt40Tps,
      'load s': t.loadSeconds,
      throttled: t.throttled,
      'reload calls': t.reloadCalls,
      'heap MB': t.heapMb,
    })),
  );
  printTable('decide(): decisions per second, 100,000 allowed accounts', [
    {
      'in a principal set': result.decisionsPerSecond.set,
      'listed in the rule': result.decisionsPerSecond.inline,
    },
  ]);
  return result;
}

function policy() {
  const { result, policyBytes } = measurePolicy();
  printTable(
    'decide(): decisions per second by principals in the policy',
    Object.entries(result.decisionsPerSecond).map(([principals, perSecond]) => ({
      principals: Number(principals),
      'decisions/s': perSecond,
    })),
  );
  printTable('parsePolicy(): parse + validate, median of 2,000', [
    { 'policy bytes': policyBytes, ms: result.parseMs8kb },
  ]);
  return result;
}

// On Node 20 the AWS SDK warns that it will soon need Node 22; the Lambda runs Node 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
