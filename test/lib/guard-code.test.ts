/**
 * Where the guard function's code comes from: the published package's pre-built bundle, or,
 * in the repository, the sources bundled at synth. Either way the function is the same.
 * (scripts/install-proof.sh synthesizes from the real package.)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack, aws_logs as logs, aws_sqs as sqs, aws_ssm as ssm } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { GUARD_BUNDLE_FILE, type GuardCode, locateGuardCode } from '../../lib/bundling';
import { GuardFunction } from '../../lib/guard-function';
import { ROOT, propertiesOf, testApp } from './helpers';

/** The directories the tests made, removed after them. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory holding `files`. */
function directoryWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpce-guard-code-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const BUNDLE = {
  [GUARD_BUNDLE_FILE]: 'export const handler = async () => "pre-built";\n',
  [`${GUARD_BUNDLE_FILE}.map`]: '{"version":3,"sources":[],"mappings":""}\n',
};

describe('locateGuardCode', () => {
  test('finds the sources in the repository', () => {
    expect(locateGuardCode()).toEqual({
      kind: 'source',
      entry: path.join(ROOT, 'lambda', 'handler.ts'),
    });
  });

  test('takes the bundle where the package has it', () => {
    const dir = directoryWith(BUNDLE);
    expect(locateGuardCode(dir)).toEqual({ kind: 'prebundled', directory: dir });
  });

  test('prefers the bundle to sources beside it', () => {
    const dir = directoryWith({ ...BUNDLE, 'handler.ts': 'export const handler = 1;\n' });
    expect(locateGuardCode(dir)).toEqual({ kind: 'prebundled', directory: dir });
  });

  test('names the files it looked for when neither is there', () => {
    const dir = directoryWith({});
    expect(() => locateGuardCode(dir)).toThrow(
      `vpce-guard: the guard function's code is missing: neither ${path.join(dir, 'index.mjs')} (the package's bundle; in a checkout, run npm run build) nor ${path.join(dir, 'handler.ts')} (the sources) exists`,
    );
  });
});

describe('the guard function', () => {
  /** A GuardFunction alone in a stack, with its code from `code`. */
  function guardFunction(code: GuardCode) {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    const fn = new GuardFunction(stack, 'Function', {
      serviceName: 'Test-Guard',
      protectedServiceIds: ['vpce-svc-0123456789abcdef0'],
      policyParameter: ssm.StringParameter.fromStringParameterName(
        stack,
        'Policy',
        '/vpce-guard/policy',
      ),
      retryQueue: new sqs.Queue(stack, 'Retry'),
      retryDeadLetterQueue: new sqs.Queue(stack, 'RetryDeadLetter'),
      invocationFailureQueue: new sqs.Queue(stack, 'InvocationFailure'),
      policyCacheSeconds: 60,
      rejectBatchSize: 50,
      maxAttempts: 5,
      logRetention: logs.RetentionDays.ONE_WEEK,
      tracing: false,
      code,
    });
    const properties = propertiesOf(
      stack,
      Template.fromStack(stack),
      fn.function.node.defaultChild,
    );
    return { app, stack, properties };
  }

  test('is the same function from the pre-built bundle as from the sources, but for its code', () => {
    const { Code: bundledCode, ...bundled } = guardFunction({
      kind: 'prebundled',
      directory: directoryWith(BUNDLE),
    }).properties;
    const { Code: sourceCode, ...fromSource } = guardFunction(locateGuardCode()).properties;

    expect(bundled).toEqual(fromSource);
    expect(bundled).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
    });
    // Both are assets of the stack; only their content differs.
    expect(Object.keys(bundledCode)).toEqual(Object.keys(sourceCode));
    expect(bundledCode.S3Key).not.toEqual(sourceCode.S3Key);
  });

  test('ships the pre-built bundle as it is: the asset is that directory', () => {
    const { app, properties } = guardFunction({
      kind: 'prebundled',
      directory: directoryWith(BUNDLE),
    });
    const assembly = app.synth();
    const asset = path.join(
      assembly.directory,
      `asset.${String(properties.Code.S3Key).replace(/\.zip$/, '')}`,
    );

    expect(fs.readdirSync(asset).sort()).toEqual(Object.keys(BUNDLE).sort());
    for (const [name, text] of Object.entries(BUNDLE)) {
      expect(fs.readFileSync(path.join(asset, name), 'utf8')).toBe(text);
    }
  });
});
