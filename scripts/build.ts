/**
 * `npm run build`: what the package ships, built from scratch into dist/ (docs/packaging.md).
 *
 * - the construct, compiled by jsii (tsconfig.jsii.json): dist/lib/, dist/core/, and the
 *   assembly .jsii that Construct Hub and jsii-pacmak read;
 * - the guard function's bundle, exactly as the stack deploys it: dist/lambda/index.mjs;
 * - the `vpce-guard` CLI, one file with its dependencies: dist/bin/vpce-guard.mjs.
 *
 * `tsx scripts/build.ts lambda` (npm run build:lambda) builds the function's bundle only.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { build, type BuildOptions } from 'esbuild';
import { GUARD_BUNDLE_FILE, guardEsbuildOptions } from '../lib/bundling';
import { engines } from '../package.json';

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** Where the compiled construct looks for the bundle: `lambda` next to dist/lib (lib/bundling.ts). */
export const GUARD_BUNDLE = path.join(DIST, 'lambda', GUARD_BUNDLE_FILE);
/** package.json "bin". */
export const CLI_BUNDLE = path.join(DIST, 'bin', 'vpce-guard.mjs');
const CLI_ENTRY = path.join(ROOT, 'bin', 'cli.ts');

/**
 * The CLI's bundle: the guard's settings (ESM, minified, the SDK's ESM builds, the require
 * shim), with the SDK clients and `diff` inside, so the package has no runtime dependency to
 * install. It runs on the operator's Node.js, the oldest that package.json's engines admit,
 * and without source maps: node would need a flag to read them.
 */
export function cliEsbuildOptions(outfile = CLI_BUNDLE): BuildOptions {
  const options = guardEsbuildOptions(outfile, CLI_ENTRY);
  return {
    ...options,
    target: `node${/\d+/.exec(engines.node)?.[0]}`,
    sourcemap: false,
    banner: { js: `#!/usr/bin/env node\n${options.banner?.js ?? ''}` },
  };
}

/** Builds the CLI into `outfile`, executable. */
export async function buildCli(outfile = CLI_BUNDLE): Promise<string> {
  await build(cliEsbuildOptions(outfile));
  fs.chmodSync(outfile, 0o755);
  return outfile;
}

function compileConstruct(): void {
  // jsii itself refuses what Python or another language could not express; a warning (a
  // reserved word, a peer dependency not pinned for development) fails the build too.
  const jsii = require.resolve('jsii/bin/jsii');
  const run = spawnSync(process.execPath, [jsii, '--fail-on-warnings'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (run.status !== 0) throw new Error(`jsii failed (exit ${run.status ?? run.signal})`);
}

async function main(parts: string[]): Promise<void> {
  if (parts.length === 0) {
    fs.rmSync(DIST, { recursive: true, force: true });
    fs.rmSync(path.join(ROOT, '.jsii'), { force: true });
    compileConstruct();
  }
  if (parts.length === 0 || parts.includes('lambda')) {
    await build(guardEsbuildOptions(GUARD_BUNDLE));
    console.log(`built ${path.relative(ROOT, GUARD_BUNDLE)}`);
  }
  if (parts.length === 0 || parts.includes('cli')) {
    await buildCli();
    console.log(`built ${path.relative(ROOT, CLI_BUNDLE)}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
