/** Builds the guard's bundle with the stack's own esbuild settings, once per output path. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { build } from 'esbuild';
import { guardEsbuildOptions } from '../lib/bundling';

export async function buildGuardBundle(
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpce-guard-')),
): Promise<string> {
  const outfile = path.join(outdir, 'index.mjs');
  await build(guardEsbuildOptions(outfile));
  return outfile;
}
