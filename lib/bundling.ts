/**
 * The one definition of how the guard's Lambda code is bundled, and where the code is.
 *
 * The CDK stack (NodejsFunction), the package's build (`npm run build`), the end-to-end tests
 * and the benchmark all build the bundle from these settings, so what is tested and measured
 * is what is deployed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BuildOptions } from 'esbuild';
import { aws_lambda as lambda, aws_lambda_nodejs as nodejs } from 'aws-cdk-lib';

/**
 * The guard's code: the folder `lambda` next to this module's folder. In the repository
 * (lib/) it holds the TypeScript sources, which the stack bundles at synth. In the published
 * package (dist/lib/) it holds the bundle `npm run build` made (dist/lambda/), so a
 * consumer's synth needs neither esbuild nor our sources.
 */
const GUARD_CODE_DIR = path.join(__dirname, '..', 'lambda');

/** The guard's entry point (exports `handler`). */
const GUARD_ENTRY = path.join(GUARD_CODE_DIR, 'handler.ts');

/** The bundle's file: with its `handler` export, the function's handler is `index.handler`. */
export const GUARD_BUNDLE_FILE = 'index.mjs';

/** Where the guard's code comes from: a pre-built bundle (the package) or the sources (the repository). */
export type GuardCode =
  | { readonly kind: 'prebundled'; readonly directory: string }
  | { readonly kind: 'source'; readonly entry: string };

/**
 * The guard's code in `directory`: the pre-built bundle when it is there, else the sources.
 * When neither is, the package or the checkout is broken: the error names the files it looked for.
 */
export function locateGuardCode(directory = GUARD_CODE_DIR): GuardCode {
  if (fs.existsSync(path.join(directory, GUARD_BUNDLE_FILE))) {
    return { kind: 'prebundled', directory };
  }
  const entry = path.join(directory, path.basename(GUARD_ENTRY));
  if (fs.existsSync(entry)) return { kind: 'source', entry };
  throw new Error(
    `vpce-guard: the guard function's code is missing: neither ${path.join(directory, GUARD_BUNDLE_FILE)} (the package's bundle; in a checkout, run npm run build) nor ${entry} (the sources) exists`,
  );
}

/** Lambda runtime of the guard; the bundle targets the same Node.js version. */
export const GUARD_RUNTIME = lambda.Runtime.NODEJS_24_X;
const NODE_TARGET = 'node24';

// ESM loads faster than CJS, and `module` first picks the SDK's and Powertools' ESM builds,
// which esbuild tree-shakes better. Some transitive CJS code still calls require() for Node
// built-ins, which an ES module lacks: the banner gives it one.
const MAIN_FIELDS = ['module', 'main'];
const REQUIRE_SHIM =
  "import{createRequire as __vpceGuardCreateRequire}from'module';const require=__vpceGuardCreateRequire(import.meta.url);";

/** Bundling options for `NodejsFunction`. */
export const guardBundling: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: NODE_TARGET,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: MAIN_FIELDS,
  banner: REQUIRE_SHIM,
  // Bundle (and so pin) the AWS SDK instead of taking the runtime's unpinned copy:
  // the pinned, tree-shaken clients also start faster.
  externalModules: [],
  forceDockerBundling: false,
};

/** The same settings for a direct esbuild call (tests, benchmark, demo). */
export function guardEsbuildOptions(outfile: string, entry = GUARD_ENTRY): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: MAIN_FIELDS,
    banner: { js: REQUIRE_SHIM },
    logLevel: 'warning',
  };
}
