/**
 * The integ app's snapshot: synthesizing the app offline, comparing it with the committed
 * snapshot, and rewriting that snapshot (`npm run integ:update`, which runs this file).
 *
 * The snapshot is the cloud assembly's top-level files, in the directory integ-runner uses
 * (`integ.vpce-guard.ts.snapshot/` next to the app): the stacks' templates and asset
 * manifests, the assembly and integ manifests, the construct tree. Asset directories are left
 * out (they are build output, megabytes of it). Like integ-runner, the comparison reads the
 * templates and the integ manifest only, with the values that change from one synth to the
 * next normalised (see `normalizeTemplate`).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { createTwoFilesPatch } from 'diff';
import { integApp } from './integ.vpce-guard';

export const SNAPSHOT_DIR = path.join(__dirname, 'integ.vpce-guard.ts.snapshot');
const ROOT = path.join(__dirname, '..');
export const UPDATE_COMMAND = 'npm run integ:update';

/**
 * Synthesizes the integ app into `outdir` with cdk.json's context (its feature flags), as
 * `cdk synth` would, without the CDK's version report or stack traces (they would differ from
 * one machine to the next). Without `bundle`, the guard's code is not built: the snapshot
 * normalises asset hashes anyway, and the comparison then never depends on the function's
 * code compiling.
 */
export function synthIntegApp(outdir: string, { bundle }: { bundle: boolean }): string {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));
  const app = new App({
    outdir,
    context: {
      ...cdkJson.context,
      'aws:cdk:disable-creation-stack-traces': true,
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
    analyticsReporting: false,
    stackTraces: false,
  });
  integApp(app);
  app.synth();
  return outdir;
}

/** A fresh temporary directory for a synth. */
export function tempOutdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vpce-guard-integ-'));
}

/** The files of a cloud assembly that make its snapshot: every top-level file. */
export function snapshotFiles(assemblyDir: string): string[] {
  return fs
    .readdirSync(assemblyDir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

/** The files the comparison reads: the templates and the integ manifest. */
const COMPARED = /(\.template\.json|^integ\.json)$/;

const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * A template without what changes from one synth to the next although the app did not:
 * - asset hashes (the guard's bundle, the assertion provider's code, the templates' own);
 * - the bootstrap version parameter and its rule, which follow the CDK's version;
 * - the CDK metadata resource and its condition (version reporting);
 * - the `salt` of the assertions' custom resources (the synth time, to rerun them each deploy).
 */
export function normalizeTemplate(template: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(template).replace(ASSET_HASH, '<asset-hash>');
  const normalized = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const resources = (normalized.Resources ?? {}) as Record<string, CfnResource>;
  delete resources.CDKMetadata;
  for (const resource of Object.values(resources)) {
    if (resource.Type.startsWith('Custom::DeployAssert') && resource.Properties?.salt) {
      resource.Properties.salt = '<synth-time>';
    }
  }
  delete normalized.Parameters?.BootstrapVersion;
  delete normalized.Rules?.CheckBootstrapVersion;
  delete normalized.Conditions?.CDKMetadataAvailable;
  for (const section of ['Parameters', 'Rules', 'Conditions']) {
    const entries = normalized[section];
    if (entries && Object.keys(entries).length === 0) delete normalized[section];
  }
  return normalized;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** The integ manifest without the versions of the schema and of the CLI it asks for. */
function normalizeIntegManifest(manifest: Record<string, unknown>): Record<string, unknown> {
  const normalized = { ...manifest };
  delete normalized.version;
  delete normalized.minimumCliVersion;
  return normalized;
}

/** The compared files of an assembly, normalised and pretty-printed, by name. */
export function comparableFiles(assemblyDir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of snapshotFiles(assemblyDir).filter((file) => COMPARED.test(file))) {
    const json = JSON.parse(fs.readFileSync(path.join(assemblyDir, name), 'utf8'));
    const normalized =
      name === 'integ.json' ? normalizeIntegManifest(json) : normalizeTemplate(json);
    files.set(name, `${JSON.stringify(normalized, null, 2)}\n`);
  }
  return files;
}

/** One file that differs from its snapshot, with a unified diff (snapshot → synthesized). */
export interface SnapshotMismatch {
  readonly file: string;
  readonly diff: string;
}

/** How the synthesized assembly in `assemblyDir` differs from the snapshot; empty: it matches. */
export function compareWithSnapshot(
  assemblyDir: string,
  snapshotDir: string = SNAPSHOT_DIR,
): SnapshotMismatch[] {
  const actual = comparableFiles(assemblyDir);
  const expected = fs.existsSync(snapshotDir) ? comparableFiles(snapshotDir) : new Map();
  const names = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  return names.flatMap((file) => {
    const [before, after] = [expected.get(file) ?? '', actual.get(file) ?? ''];
    if (before === after) return [];
    const diff = createTwoFilesPatch(
      `snapshot/${file}`,
      `synthesized/${file}`,
      before,
      after,
      '',
      '',
      {
        context: 3,
      },
    );
    return [
      {
        file,
        diff: diff
          .split('\n')
          .filter((line) => !line.startsWith('===='))
          .join('\n'),
      },
    ];
  });
}

/** What a failed comparison tells the reader. */
export function mismatchReport(mismatches: readonly SnapshotMismatch[]): string {
  return [
    `The integ app no longer matches its snapshot (${path.relative(ROOT, SNAPSHOT_DIR)}/): ${mismatches.map((m) => m.file).join(', ')}.`,
    ...mismatches.map((m) => m.diff),
    `If the change is intended, run \`${UPDATE_COMMAND}\` and commit the snapshot with it.`,
  ].join('\n\n');
}

/**
 * Replaces the snapshot with the top-level files of the assembly in `assemblyDir`, as they
 * are, except two machine-bound values that nothing compares: the stack traces in the
 * metadata files, and the absolute source path that an asset manifest names for a bundle
 * that was not built (made relative to the project).
 */
export function writeSnapshot(assemblyDir: string, snapshotDir: string = SNAPSHOT_DIR): string[] {
  fs.rmSync(snapshotDir, { recursive: true, force: true });
  fs.mkdirSync(snapshotDir, { recursive: true });
  const files = snapshotFiles(assemblyDir);
  for (const file of files) {
    const [from, to] = [path.join(assemblyDir, file), path.join(snapshotDir, file)];
    const machineBound = file.endsWith('.metadata.json') || file.endsWith('.assets.json');
    if (!machineBound) {
      fs.copyFileSync(from, to);
      continue;
    }
    const json = JSON.parse(fs.readFileSync(from, 'utf8'), (key, value) => {
      if (key === 'trace') return undefined;
      if (key === 'path' && typeof value === 'string' && path.isAbsolute(value)) {
        return path.relative(ROOT, value) || '.';
      }
      return value;
    });
    fs.writeFileSync(to, `${JSON.stringify(json, null, 2)}\n`);
  }
  return files;
}

if (require.main === module) {
  // As the test synthesizes it: the comparison does not need the function's bundle, so the
  // update works whatever state the function's code is in.
  const outdir = synthIntegApp(tempOutdir(), { bundle: false });
  const files = writeSnapshot(outdir);
  fs.rmSync(outdir, { recursive: true, force: true });
  console.log(`Wrote ${files.length} files to ${path.relative(ROOT, SNAPSHOT_DIR)}/:`);
  for (const file of files) console.log(`  ${file}`);
}
