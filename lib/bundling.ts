/**
 * The one definition of how the guard's Lambda code is bundled.
 *
 * The CDK stack (NodejsFunction), the end-to-end tests and the benchmark all build the
 * bundle from these settings, so what is tested and measured is what is deployed.
 */
import * as path from 'path';
import type { BuildOptions } from 'esbuild';
import { aws_lambda as lambda, aws_lambda_nodejs as nodejs } from 'aws-cdk-lib';

/** The guard's entry point (exports `handler`). */
export const GUARD_ENTRY = path.join(__dirname, '..', 'lambda', 'handler.ts');

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
