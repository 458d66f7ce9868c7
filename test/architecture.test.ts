/**
 * The layer check (eslint.config.mjs, docs/architecture.md#layers) catches an import that goes
 * the wrong way. ESLint runs in a child process with the project's own config, as `npm run
 * lint` runs it, on code given as if it were a file of the named folder (nothing is written).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

interface Case {
  readonly file: string;
  readonly imports: string;
}

const LINT_CASES = `
import { ESLint } from 'eslint';
const cases = JSON.parse(process.argv[1]);
const eslint = new ESLint({ cwd: process.cwd() });
const messages = [];
for (const { file, imports } of cases) {
  const [result] = await eslint.lintText(\`import * as x from '\${imports}';\\nexport const y = x;\\n\`, { filePath: file });
  messages.push(result.messages.map((m) => m.message));
}
process.stdout.write(JSON.stringify(messages));
`;

/** ESLint's messages for each case, in order. */
function lint(cases: readonly Case[]): string[][] {
  const output = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', LINT_CASES, JSON.stringify(cases)],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return JSON.parse(output) as string[][];
}

const WRONG_WAY: readonly Case[] = [
  { file: 'lib/new.ts', imports: '../lambda/handler' },
  { file: 'cli/commands/new.ts', imports: '../../lambda/guard' },
  { file: 'core/new.ts', imports: '../lib/vpce-guard' },
  { file: 'core/policy/new.ts', imports: '../../cli/main' },
  { file: 'core/new.ts', imports: 'aws-cdk-lib' },
  { file: 'lambda/new.ts', imports: '../lib' },
  { file: 'lambda/new.ts', imports: 'aws-cdk-lib' },
  { file: 'demo/new.ts', imports: '../test/lambda/harness' },
  { file: 'bench/new.ts', imports: '../test/lambda/harness' },
  { file: 'local-aws/new.ts', imports: '../test/lambda/harness' },
  { file: 'integ/new.ts', imports: '../test/lib/helpers' },
  { file: 'integ/new.ts', imports: '../lambda/handler' },
  { file: 'lib/new.ts', imports: '../integ/test-stack' },
];
const RIGHT_WAY: readonly Case[] = [
  { file: 'lib/new.ts', imports: '../core/policy' },
  { file: 'lambda/new.ts', imports: '../core/policy' },
  { file: 'cli/commands/new.ts', imports: '../../core/ec2' },
  { file: 'demo/new.ts', imports: '../local-aws/fakes' },
  { file: 'test/new.test.ts', imports: '../lambda/handler' },
  { file: 'integ/new.ts', imports: '../lib' },
  { file: 'integ/new.ts', imports: '../local-aws/events' },
];

describe('the layer check', () => {
  const [wrong, right] = [lint(WRONG_WAY), lint(RIGHT_WAY)];

  it.each(WRONG_WAY.map((c, i) => [c.file, c.imports, i] as const))(
    'refuses in %s an import of %s',
    (_file, _imports, i) => {
      expect(wrong[i]!.join('\n')).toMatch(/may import only|must not depend/);
    },
  );

  it.each(RIGHT_WAY.map((c, i) => [c.file, c.imports, i] as const))(
    'allows in %s an import of %s',
    (_file, _imports, i) => {
      expect(right[i]).toEqual([]);
    },
  );
});
