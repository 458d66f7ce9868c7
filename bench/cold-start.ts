/**
 * Cold start: the guard's bundle as deployed beside a floor bundle (bench/floor-entry.ts),
 * both built with the stack's esbuild settings. Each load is timed in a fresh Node.js
 * process (LocalLambda's init: the ES module import of the bundle) with the deployed
 * environment; guard and floor runs alternate so that machine noise hits both alike.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { guardEsbuildOptions } from '../lib/bundling';
import { LocalLambda } from '../local-aws/local-lambda';
import { guardEnvironment } from './guard-env';
import { median, round } from './stats';

/** Median load times, and their ratio guard / floor. */
export interface LoadTimes {
  readonly guardMs: number;
  readonly floorMs: number;
  readonly ratio: number;
}

/** The keys of `coldStart` in results.json (load times with the deployed source maps). */
export interface ColdStartResult extends LoadTimes {
  readonly guardBytes: number;
  readonly floorBytes: number;
}

/** Bytes one npm package (or the guard's own code) puts in each bundle. */
export interface PackageShare {
  readonly package: string;
  readonly guardBytes: number;
  readonly floorBytes: number;
}

const FLOOR_ENTRY = path.join(__dirname, 'floor-entry.ts');
// Only what init needs: config.ts requires these; no call is made.
const INIT_SETTINGS = {
  retryQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/vpce-guard-retry',
};

export async function measureColdStart(runs: number): Promise<{
  result: ColdStartResult;
  withoutSourceMaps: LoadTimes;
  packages: PackageShare[];
}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vpce-guard-bench-'));
  try {
    const guard = await bundle(undefined, path.join(dir, 'guard', 'index.mjs'));
    const floor = await bundle(FLOOR_ENTRY, path.join(dir, 'floor', 'index.mjs'));
    const { deployed, plain } = await sampleLoads(guard.file, floor.file, runs);
    return {
      result: { guardBytes: guard.bytes, floorBytes: floor.bytes, ...loadTimes(deployed) },
      withoutSourceMaps: loadTimes(plain),
      packages: packageShares(guard.metafile, floor.metafile),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Samples = Record<'guard' | 'floor', number[]>;

/** Load times of each bundle, with the deployed source maps and without. */
async function sampleLoads(guard: string, floor: string, runs: number) {
  // Untimed: the first loads read the files from disk, which a Lambda's init never repeats.
  for (const file of [guard, floor]) await loadMs(file, '');

  const deployed: Samples = { guard: [], floor: [] };
  const plain: Samples = { guard: [], floor: [] };
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    const order = i % 2 === 0 ? (['guard', 'floor'] as const) : (['floor', 'guard'] as const);
    for (const which of order) {
      const file = which === 'guard' ? guard : floor;
      deployed[which].push(await loadMs(file, '--enable-source-maps'));
      plain[which].push(await loadMs(file, ''));
    }
  }
  return { deployed, plain };
}

function loadTimes(samples: Samples): LoadTimes {
  const guardMs = median(samples.guard);
  const floorMs = median(samples.floor);
  return {
    guardMs: round(guardMs, 1),
    floorMs: round(floorMs, 1),
    ratio: round(guardMs / floorMs, 3),
  };
}

async function bundle(entry: string | undefined, outfile: string) {
  const { metafile } = await build({ ...guardEsbuildOptions(outfile, entry), metafile: true });
  return { file: outfile, bytes: statSync(outfile).size, metafile };
}

/** How long importing `bundle` takes in a fresh process, in ms. */
async function loadMs(bundle: string, nodeOptions: string): Promise<number> {
  const container = await LocalLambda.start(
    bundle,
    guardEnvironment(INIT_SETTINGS, { AWS_REGION: 'eu-west-1', NODE_OPTIONS: nodeOptions }),
    { execArgv: [] },
  );
  await container.close();
  return container.initMs;
}

/** Bytes in each bundle by npm package, heaviest in the guard first. */
function packageShares(guard: Metafile, floor: Metafile): PackageShare[] {
  const g = bytesByPackage(guard);
  const f = bytesByPackage(floor);
  return [...g.keys()]
    .map((name) => ({ package: name, guardBytes: g.get(name)!, floorBytes: f.get(name) ?? 0 }))
    .sort((a, b) => b.guardBytes - a.guardBytes);
}

function bytesByPackage(metafile: Metafile): Map<string, number> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? '(vpce-guard)';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return totals;
}
