/**
 * Cold start: the guard's bundle as deployed beside two floors, all built with the stack's
 * esbuild settings: the EC2 client alone (bench/floor-entry.ts) and every client the guard
 * constructs without the guard's code (bench/clients-entry.ts). Each load is timed in a fresh
 * Node.js process (LocalLambda's init: the ES module import of the bundle) with the deployed
 * environment; the three take turns so that machine noise hits them alike.
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

/** Median load times of the three bundles; ratios to the floor and to the clients. */
export interface LoadTimes {
  readonly guardMs: number;
  readonly clientsMs: number;
  readonly floorMs: number;
  /** guard / floor: the whole cost of the guard over the least any guard must load. */
  readonly ratio: number;
  /** clients / floor: what the SDK clients and Powertools utilities beyond EC2 cost. */
  readonly clientsRatio: number;
  /** guard / clients: what the guard's own code costs. */
  readonly codeRatio: number;
}

/** The keys of `coldStart` in results.json (load times with the deployed source maps). */
export interface ColdStartResult extends LoadTimes {
  readonly guardBytes: number;
  readonly clientsBytes: number;
  readonly floorBytes: number;
}

/** Bytes one npm package (or the guard's own code) puts in each bundle. */
export interface PackageShare {
  readonly package: string;
  readonly guardBytes: number;
  readonly floorBytes: number;
}

const BUNDLES = ['guard', 'clients', 'floor'] as const;
type BundleName = (typeof BUNDLES)[number];
const ENTRIES: Record<BundleName, string | undefined> = {
  guard: undefined, // the guard's own entry
  clients: path.join(__dirname, 'clients-entry.ts'),
  floor: path.join(__dirname, 'floor-entry.ts'),
};
/** The packages whose constructed clients make the clients bundle what it claims to be. */
const CLIENT_PACKAGE = /^@aws-sdk\/client-|^@aws-lambda-powertools\//;
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
    const built = {} as Record<BundleName, Built>;
    for (const name of BUNDLES) {
      built[name] = await bundle(ENTRIES[name], path.join(dir, name, 'index.mjs'));
    }
    checkClientsCoverGuard(built.guard.metafile, built.clients.metafile);
    const { deployed, plain } = await sampleLoads(built, runs);
    return {
      result: {
        guardBytes: built.guard.bytes,
        clientsBytes: built.clients.bytes,
        floorBytes: built.floor.bytes,
        ...loadTimes(deployed),
      },
      withoutSourceMaps: loadTimes(plain),
      packages: packageShares(built.guard.metafile, built.floor.metafile),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The clients bundle must hold every SDK client and Powertools package the guard's does, or
 * guard / clients would charge a client to the guard's code: a client added to the handler
 * must be added to clients-entry.ts too.
 */
function checkClientsCoverGuard(guard: Metafile, clients: Metafile): void {
  const held = new Set(bytesByPackage(clients).keys());
  const missing = [...bytesByPackage(guard).keys()].filter(
    (name) => CLIENT_PACKAGE.test(name) && !held.has(name),
  );
  if (missing.length > 0) {
    throw new Error(
      `bench/clients-entry.ts does not construct ${missing.join(', ')}, which the guard's ` +
        "bundle holds: add it there, so that guard / clients measures only the guard's code",
    );
  }
}

type Samples = Record<BundleName, number[]>;
interface Built {
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/** Load times of each bundle, with the deployed source maps and without. */
async function sampleLoads(built: Record<BundleName, Built>, runs: number) {
  // Untimed: the first loads read the files from disk, which a Lambda's init never repeats.
  for (const name of BUNDLES) await loadMs(built[name].file, '');

  const deployed: Samples = { guard: [], clients: [], floor: [] };
  const plain: Samples = { guard: [], clients: [], floor: [] };
  for (let i = 0; i < runs; i++) {
    // Rotate which goes first, so none always runs on a warmer machine.
    const turn = i % BUNDLES.length;
    const order = [...BUNDLES.slice(turn), ...BUNDLES.slice(0, turn)];
    for (const name of order) {
      deployed[name].push(await loadMs(built[name].file, '--enable-source-maps'));
      plain[name].push(await loadMs(built[name].file, ''));
    }
  }
  return { deployed, plain };
}

function loadTimes(samples: Samples): LoadTimes {
  const guardMs = median(samples.guard);
  const clientsMs = median(samples.clients);
  const floorMs = median(samples.floor);
  return {
    guardMs: round(guardMs, 1),
    clientsMs: round(clientsMs, 1),
    floorMs: round(floorMs, 1),
    ratio: round(guardMs / floorMs, 3),
    clientsRatio: round(clientsMs / floorMs, 3),
    codeRatio: round(guardMs / clientsMs, 3),
  };
}

async function bundle(entry: string | undefined, outfile: string): Promise<Built> {
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
