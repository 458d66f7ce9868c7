// Builds the guard's bundle exactly as the stack deploys it, into dist/lambda/index.mjs.
import * as path from 'path';
import { build } from 'esbuild';
import { guardEsbuildOptions } from '../lib/bundling';

const outfile = path.join(__dirname, '..', 'dist', 'lambda', 'index.mjs');
build(guardEsbuildOptions(outfile)).then(
  () => console.log(`built ${outfile}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
