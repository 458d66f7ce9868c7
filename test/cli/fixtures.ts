/** The CLI tests' world: policies, files to hold them, and fresh fakes for each test. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';

export const SERVICE = 'vpce-svc-0123456789abcdef0';
export const ACME = '111122223333';
export const GLOBEX = '444455556666';
export const MALLORY = '999988887777';
export const STRANGER = '123412341234';

/** Keeps acme pending (eu-west-1 only), accepts globex, denies mallory, rejects the rest. */
export function enforcePolicy(overrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    mode: 'enforce',
    defaultAction: 'reject',
    deny: [MALLORY],
    rules: [
      { id: 'acme', principals: [ACME], regions: ['eu-west-1'] },
      { id: 'globex', principals: [`arn:aws:iam::${GLOBEX}:root`], accept: true },
    ],
    ...overrides,
  };
}

export function policyDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vpce-guard-cli-'));
}

/** Writes a policy (pretty-printed JSON, or text as it is) and returns its path. */
export function writePolicy(dir: string, name: string, policy: object | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    typeof policy === 'string' ? policy : `${JSON.stringify(policy, null, 2)}\n`,
  );
  return file;
}

export interface TestContext {
  readonly fakes: AwsFakes;
  /** A temporary directory for policy files. */
  readonly dir: string;
}

/** Registers hooks that give each test of the file fresh fakes and an empty directory. */
export function freshFakesPerTest(): TestContext {
  const context = {} as { fakes: AwsFakes; dir: string };
  beforeEach(async () => {
    context.fakes = await startAwsFakes({ region: 'eu-west-1' });
    context.dir = policyDir();
  });
  afterEach(async () => {
    await context.fakes.close();
    fs.rmSync(context.dir, { recursive: true, force: true });
  });
  return context;
}
