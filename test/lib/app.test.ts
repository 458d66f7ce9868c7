/**
 * The app as `npx cdk synth` runs it: offline, without credentials, bundling the guard with the
 * local esbuild, and with cdk-nag's AwsSolutions checks applied. The only tests that bundle.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { ROOT, type Json } from './helpers';

const run = promisify(execFile);

/** `npx cdk synth -q` into a fresh directory; resolves with its output, rejects on failure. */
function cdkSynth(...args: string[]) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpce-guard-cdk-out-'));
  // Not Jest's NODE_ENV=test: the app would synthesize in a test mode.
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  delete env.NODE_ENV;
  const result = run('npx', ['cdk', 'synth', '-q', '--no-notices', '-o', outdir, ...args], {
    cwd: ROOT,
    env,
  });
  return { outdir, result };
}

test('`cdk synth` bundles the guard as minified ESM with a source map, with no cdk-nag finding', async () => {
  const { outdir, result } = cdkSynth();
  const { stdout, stderr } = await result;
  expect(`${stdout}\n${stderr}`).not.toMatch(/AwsSolutions|Error|Warning/);

  const template = JSON.parse(
    fs.readFileSync(path.join(outdir, 'VpceGuard.template.json'), 'utf8'),
  );
  const [guard] = Object.values<Json>(template.Resources).filter(
    (r) =>
      r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.RETRY_QUEUE_URL,
  );
  const asset = path.join(outdir, `asset.${guard.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
  expect(fs.readdirSync(asset).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  const code = fs.readFileSync(path.join(asset, 'index.mjs'), 'utf8');
  expect(code.startsWith('import{createRequire as __vpceGuardCreateRequire}')).toBe(true);
  // Minified: long lines, not one statement a line.
  expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
  const sourceMap = JSON.parse(fs.readFileSync(path.join(asset, 'index.mjs.map'), 'utf8'));
  expect(sourceMap.sources).toContainEqual(expect.stringMatching(/lambda\/handler\.ts$/));

  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  expect(manifest.artifacts.VpceGuard.environment).toBe('aws://unknown-account/unknown-region');
});

test('`cdk synth` fails on an invalid initial policy file, naming the JSON path', async () => {
  const { result } = cdkSynth(
    '-c',
    'vpce-guard:initialPolicyFile=test/fixtures/policy-invalid-principal.json',
  );
  await expect(result).rejects.toMatchObject({
    stderr: expect.stringContaining(
      'rules[0].principals[0]: "12345" is not a 12-digit account ID or account root ARN',
    ),
  });
});
