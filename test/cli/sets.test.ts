/**
 * `vpce-guard sets …` and the principal sets in `policy validate|explain`, `status` and
 * `reconcile`, in-process against the fakes through the real SDK. What a push writes is
 * checked with the guard's own loader (core/policy-load.ts), as the guard would read it.
 */
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pushPrincipalSet, type SetSharing } from '../../cli/principal-sets';
import { loadPolicy } from '../../core/policy-load';
import { policyParameter } from '../../core/policy-parameter';
import { runCli, scriptedStdin } from '../../local-aws/cli';
import {
  ACME,
  enforcePolicy,
  freshFakesPerTest,
  GLOBEX,
  SERVICE,
  STRANGER,
  writePolicy,
} from './fixtures';

const NAME = '/vpce-guard/policy';
const MANIFEST = `${NAME}/sets/gold`;
const PARTS = `${NAME}/set-parts/gold/`;
const ctx = freshFakesPerTest();

/** A policy that allows the gold set on every service, and rejects the rest. */
const GOLD_POLICY = {
  version: 1,
  defaultAction: 'reject',
  rules: [{ id: 'gold', principalSets: ['gold'] }],
};
const accounts = (n: number, from = 100_000_000_000) =>
  Array.from({ length: n }, (_, i) => String(from + i * 104_729));

function writeList(name: string, lines: readonly string[]): string {
  const file = path.join(ctx.dir, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The set's accounts as the guard would load them, or its problem. */
async function guardSees(name = NAME, region = ctx.fakes.region) {
  const ssm = new SSMClient({
    region,
    endpoint: ctx.fakes.ssm.url,
    credentials: { accessKeyId: 'fake', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  try {
    const load = await loadPolicy(ssm, name);
    return 'problem' in load ? load.problem : [...(load.loaded.sets[0]?.accounts ?? [])];
  } finally {
    ssm.destroy();
  }
}

const parts = (where = {}) =>
  ctx.fakes.ssm.parameterNames(where).filter((n) => n.startsWith(PARTS));
const writes = () => ctx.fakes.ssm.calls.filter((c) => /^(Put|Delete)/.test(c.action));

beforeEach(() => ctx.fakes.ssm.setParameter(NAME, JSON.stringify(GOLD_POLICY)));

describe('sets push', () => {
  test('validates, shows the accounts added, writes the parts then the manifest, and the guard loads it', async () => {
    const gold = accounts(3000);
    const file = writeList('gold.txt', ['# gold customers', ...gold, '', gold[0]!]);

    const run = await runCli(['sets', 'push', 'gold', file, '--yes'], ctx.fakes);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Set gold (${MANIFEST}) in eu-west-1, from ${file}:\n  new set → 3,000 accounts: +3,000 added, −0 removed\n  + ${gold[0]}\n`,
    );
    expect(run.stdout).toContain('  + … and 2,980 more\n');
    expect(run.stdout).toMatch(
      /Pushed set gold: version \S+, 3,000 accounts in 2 parts\. The guard applies it within seconds\.\n$/,
    );
    expect(run.stderr).toContain('note: 1 line repeat an account listed before\n');
    expect(await guardSees()).toEqual(gold);
    // Every part before the manifest: a reader never finds a manifest whose parts are not there.
    const actions = writes().map((c) => (c.params as { Name: string }).Name);
    expect(actions.at(-1)).toBe(MANIFEST);
    expect(ctx.fakes.ssm.parameter(MANIFEST)).toMatchObject({ tier: 'Advanced', type: 'String' });
  });

  test('a second push shows the difference, commits, then deletes the old version’s parts', async () => {
    const before = accounts(2000);
    await runCli(['sets', 'push', 'gold', writeList('a.txt', before), '--yes'], ctx.fakes);
    const oldParts = parts();
    const after = [...before.slice(5), '000000000001'];

    const run = await runCli(
      ['sets', 'push', 'gold', writeList('b.txt', after), '--yes'],
      ctx.fakes,
    );

    expect(run.stdout).toContain(
      '  2,000 → 1,996 accounts: +1 added, −5 removed\n  + 000000000001\n',
    );
    for (const removed of before.slice(0, 5)) expect(run.stdout).toContain(`  − ${removed}\n`);
    expect(run.stdout).toContain(`deleted ${oldParts.length} part of older versions`);
    expect(oldParts).toHaveLength(1);
    expect(parts().some((p) => oldParts.includes(p))).toBe(false);
    expect(await guardSees()).toEqual([...after].sort());
  });

  test('a live set that cannot be read is replaced whole, with no diff against nothing', async () => {
    await runCli(['sets', 'push', 'gold', writeList('a.txt', accounts(10)), '--yes'], ctx.fakes);
    ctx.fakes.ssm.setParameter(parts()[0]!, 'garbage', 'String', { tier: 'Advanced' });
    const gold = accounts(9);

    const run = await runCli(
      ['sets', 'push', 'gold', writeList('b.txt', gold), '--yes'],
      ctx.fakes,
    );

    expect(run.code).toBe(0);
    expect(run.stderr).toContain('the live set gold cannot be read; this push replaces it');
    expect(run.stdout).toContain(
      `from ${path.join(ctx.dir, 'b.txt')}:\n  unreadable → 9 accounts: the push replaces the set whole\n`,
    );
    expect(run.stdout).not.toContain('added');
    expect(await guardSees()).toEqual(gold);
  });

  test('the same accounts again change nothing', async () => {
    const file = writeList('gold.txt', accounts(10));
    await runCli(['sets', 'push', 'gold', file, '--yes'], ctx.fakes);
    const run = await runCli(['sets', 'push', 'gold', file, '--yes'], ctx.fakes);
    expect(run.stdout).toMatch(
      /^No change: set gold \(version \S+\) already holds the 10 accounts of/,
    );
  });

  test('a push that stops half-way leaves the old version in force; the next one removes its parts', async () => {
    const before = accounts(2000);
    await runCli(['sets', 'push', 'gold', writeList('a.txt', before), '--yes'], ctx.fakes);
    ctx.fakes.ssm.failNext('PutParameter', { code: 'InternalServerError', status: 500 }, 1);
    const bigger = accounts(9000, 200_000_000_000);

    const failed = await runCli(
      ['sets', 'push', 'gold', writeList('b.txt', bigger), '--yes'],
      ctx.fakes,
    );
    expect(failed.code).toBe(1);
    expect(await guardSees()).toEqual(before);

    const run = await runCli(
      ['sets', 'push', 'gold', writeList('b.txt', bigger), '--yes'],
      ctx.fakes,
    );
    expect(run.code).toBe(0);
    expect(await guardSees()).toEqual(bigger);
    const manifest = JSON.parse(ctx.fakes.ssm.parameter(MANIFEST)!.value) as {
      version: string;
      parts: number;
    };
    expect(parts()).toHaveLength(manifest.parts);
    expect(parts().every((p) => p.startsWith(`${PARTS}${manifest.version}/`))).toBe(true);
  });

  test('a file with lines that are not accounts is refused, naming them, and nothing is written', async () => {
    const file = writeList('bad.txt', [
      '111122223333',
      '12345',
      'arn:aws:iam::444455556666:user/bob',
    ]);
    const run = await runCli(['sets', 'push', 'gold', file, '--yes'], ctx.fakes);
    expect(run).toMatchObject({
      code: 1,
      stderr: [
        `error: ${file} is not a list of accounts (2 errors)`,
        '  line 2: "12345" is not a 12-digit account ID or account root ARN',
        '  line 3: "arn:aws:iam::444455556666:user/bob" is not a 12-digit account ID or account root ARN',
        '',
      ].join('\n'),
    });
    expect(ctx.fakes.ssm.calls).toEqual([]);
  });

  test('asks on a terminal; a "no" writes nothing, and without a terminal --yes is needed', async () => {
    const file = writeList('gold.txt', accounts(3));
    const no = await runCli(['sets', 'push', 'gold', file], ctx.fakes, {
      stdin: scriptedStdin(['n'], true),
    });
    expect(no).toMatchObject({ code: 1, stderr: 'Push set gold? [y/N] Not pushed.\n' });
    const piped = await runCli(['sets', 'push', 'gold', file], ctx.fakes);
    expect(piped.code).toBe(2);
    expect(writes()).toEqual([]);
    const yes = await runCli(['sets', 'push', 'gold', file], ctx.fakes, {
      stdin: scriptedStdin(['y'], true),
    });
    expect(yes.code).toBe(0);
  });

  test('--tier Standard writes 4 KB parts; a SecureString policy’s sets are SecureStrings under its key', async () => {
    const client = new SSMClient({
      region: 'eu-west-1',
      endpoint: ctx.fakes.ssm.url,
      credentials: { accessKeyId: 'fake', secretAccessKey: 'x' },
    });
    await client.send(
      new PutParameterCommand({
        Name: NAME,
        Value: JSON.stringify(GOLD_POLICY),
        Type: 'SecureString',
        KeyId: 'alias/vpce-guard',
        Overwrite: true,
      }),
    );
    client.destroy();

    const run = await runCli(
      ['sets', 'push', 'gold', writeList('g.txt', accounts(3000)), '--yes', '--tier', 'Standard'],
      ctx.fakes,
    );

    expect(run.code).toBe(0);
    const stored = parts().map((p) => ctx.fakes.ssm.parameter(p)!);
    expect(stored.length).toBeGreaterThan(1);
    expect(
      stored.every(
        (p) => p.tier === 'Standard' && p.type === 'SecureString' && p.keyId === 'alias/vpce-guard',
      ),
    ).toBe(true);
    expect(await guardSees()).toHaveLength(3000);
  });

  test('--name as an ARN of another Region writes there, by name, with a client in that Region', async () => {
    const where = { region: 'us-west-2' };
    ctx.fakes.ssm.setParameter(NAME, JSON.stringify(GOLD_POLICY), 'String', where);
    const arn = ctx.fakes.ssm.arnOf(NAME, where);

    const run = await runCli(
      ['sets', 'push', 'gold', writeList('g.txt', accounts(5)), '--yes', '--name', arn],
      ctx.fakes,
    );

    expect(run.code).toBe(0);
    expect(run.awsOptions).toEqual([{ ssmRegion: 'us-west-2' }]);
    expect(ctx.fakes.ssm.parameter(MANIFEST, where)).toBeDefined();
    expect(ctx.fakes.ssm.parameter(MANIFEST)).toBeUndefined();
    expect(new Set(ctx.fakes.ssm.calls.map((c) => c.region))).toEqual(new Set(['us-west-2']));
    expect(await guardSees(arn, 'us-west-2')).toHaveLength(5);
  });

  test('a set that changed since the diff is not committed; the other push’s version stands, alone', async () => {
    await runCli(['sets', 'push', 'gold', writeList('g.txt', accounts(5)), '--yes'], ctx.fakes);
    const ssm = new SSMClient({
      region: 'eu-west-1',
      endpoint: ctx.fakes.ssm.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const stale = ctx.fakes.ssm.parameter(MANIFEST)!.version;
    const push = (accountsToPush: string[], expected: number | undefined, sharing?: SetSharing) =>
      pushPrincipalSet(ssm, {
        parameter: policyParameter(NAME),
        set: 'gold',
        accounts: accountsToPush,
        storage: { tier: 'Advanced', type: 'String' },
        now: new Date(),
        expectedManifestVersion: expected,
        ...(sharing ? { sharing } : {}),
      });
    // Someone else commits while this push shares its parts (after its diff: manifest version 1).
    const racing: SetSharing = {
      label: 'a share',
      share: async () => {
        await push([GLOBEX], stale);
        return 0;
      },
      unshare: async () => {},
      sharedUnder: async () => [],
      unshared: async () => [],
    };

    await expect(push([ACME], stale, racing)).rejects.toThrow(
      /not pushed: set gold changed while this push was under way \(manifest version 1 → 2\)/,
    );
    ssm.destroy();
    expect(await guardSees()).toEqual([GLOBEX]);
    // Only the committed version's part is left: neither this push's nor the first version's.
    const { version } = JSON.parse(ctx.fakes.ssm.parameter(MANIFEST)!.value) as { version: string };
    expect(parts()).toEqual([`${PARTS}${version}/1`]);
  });
});

describe('sets push, add and remove to a policy named by its ARN', () => {
  const HOME = '111111111111';
  const SHARED = `arn:aws:ssm:eu-west-1:${HOME}:parameter/vpce-guard/policy`;

  test.each([
    ['push', () => ['sets', 'push', 'gold', writeList('g.txt', accounts(3))]],
    ['add', () => ['sets', 'add', 'gold', ACME]],
    ['remove', () => ['sets', 'remove', 'gold', ACME]],
  ])(
    'sets %s refuses another account’s shared policy: exit 2, nothing written in either account',
    async (_, argv) => {
      ctx.fakes.ssm.setParameter(NAME, JSON.stringify(GOLD_POLICY), 'String', {
        account: HOME,
        region: 'eu-west-1',
        tier: 'Advanced',
      });
      ctx.fakes.ssm.share(NAME, ctx.fakes.accountId, { account: HOME, region: 'eu-west-1' });

      const run = await runCli([...argv(), '--yes', '--name', SHARED], ctx.fakes);

      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(
        `error: --name: ${SHARED} is no parameter of the account these credentials are in`,
      );
      const writes = ctx.fakes.ssm.calls.filter(
        (c) => c.action === 'PutParameter' || c.action.startsWith('Delete'),
      );
      expect(writes).toEqual([]);
      expect(ctx.fakes.ram.calls).toEqual([]);
      expect(ctx.fakes.ssm.parameter(MANIFEST)).toBeUndefined();
      expect(ctx.fakes.ssm.parameter(MANIFEST, { account: HOME, region: 'eu-west-1' })).toBe(
        undefined,
      );
    },
  );
});

describe('two pushes of one set at once', () => {
  /** A client of the fakes whose manifest commit (PutParameter with Overwrite) runs `around`. */
  function clientCommitting(around: (commit: () => Promise<unknown>) => Promise<unknown>) {
    const ssm = new SSMClient({
      region: 'eu-west-1',
      endpoint: ctx.fakes.ssm.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    ssm.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Name?: string; Overwrite?: boolean };
        return input.Name === MANIFEST && input.Overwrite
          ? ((await around(() => next(args))) as Awaited<ReturnType<typeof next>>)
          : next(args);
      },
      { step: 'initialize', name: 'aroundCommit' },
    );
    return ssm;
  }
  const pushWith = (ssm: SSMClient, accountsToPush: string[], expected: number, now: Date) =>
    pushPrincipalSet(ssm, {
      parameter: policyParameter(NAME),
      set: 'gold',
      accounts: accountsToPush,
      storage: { tier: 'Advanced', type: 'String' },
      now,
      expectedManifestVersion: expected,
    });

  test('both past the check: the later commit stands, and the earlier push deletes none of its parts', async () => {
    await runCli(['sets', 'push', 'gold', writeList('g.txt', accounts(5)), '--yes'], ctx.fakes);
    const stale = ctx.fakes.ssm.parameter(MANIFEST)!.version;

    // B passed its check and waits at its commit; A passes its check and commits; B commits
    // right after A's commit, and finishes, before A goes on to its cleanup.
    let atCommit!: () => void;
    const bAtCommit = new Promise<void>((resolve) => (atCommit = resolve));
    let release!: () => void;
    const bReleased = new Promise<void>((resolve) => (release = resolve));
    const b = clientCommitting(async (commit) => {
      atCommit();
      await bReleased;
      return commit();
    });
    const bPush = pushWith(b, [GLOBEX], stale, new Date('2026-11-29T12:00:00Z'));
    await bAtCommit;
    const a = clientCommitting(async (commit) => {
      const committed = await commit();
      release();
      await bPush;
      return committed;
    });

    const aResult = await pushWith(a, [ACME], stale, new Date('2026-11-29T12:00:01Z'));

    a.destroy();
    b.destroy();
    // B's version is in force, whole: A's cleanup deleted none of its parts.
    expect(await guardSees()).toEqual([GLOBEX]);
    const { version } = JSON.parse(ctx.fakes.ssm.parameter(MANIFEST)!.value) as { version: string };
    expect(version).toBe((await bPush).manifest.version);
    expect(parts()).toEqual([`${PARTS}${version}/1`]);
    expect(aResult).toMatchObject({
      cleanupProblem: `another push committed set gold version ${version} after this one: it is in force`,
    });
    // The command then fails: A's change is not in force (cli/commands/sets.ts).
    expect(aResult.overtakenBy).toBe(version);
  });
});

describe('sets add, remove, list, pull', () => {
  test('add creates the set and adds to it; remove takes out; list and pull show it', async () => {
    expect((await runCli(['sets', 'add', 'gold', ACME, GLOBEX, '--yes'], ctx.fakes)).code).toBe(0);
    const added = await runCli(['sets', 'add', 'gold', STRANGER, '--yes'], ctx.fakes);
    expect(added.stdout).toContain('  2 → 3 accounts: +1 added, −0 removed\n');
    const removed = await runCli(['sets', 'remove', 'gold', GLOBEX, '--yes'], ctx.fakes);
    expect(removed.stdout).toContain(`  3 → 2 accounts: +0 added, −1 removed\n  − ${GLOBEX}\n`);

    const pulled = await runCli(['sets', 'pull', 'gold'], ctx.fakes);
    expect(pulled).toMatchObject({ code: 0, stdout: `${ACME}\n${STRANGER}\n` });
    const listed = await runCli(['sets', 'list'], ctx.fakes);
    expect(listed.stdout).toMatch(
      /^SET +ACCOUNTS +PARTS +VERSION +UPDATED\ngold +2 +1 +\S+ +\S+\n$/,
    );
  });

  test('remove refuses an account not in the set, and a set that does not exist', async () => {
    await runCli(['sets', 'add', 'gold', ACME, '--yes'], ctx.fakes);
    expect(await runCli(['sets', 'remove', 'gold', GLOBEX, '--yes'], ctx.fakes)).toMatchObject({
      code: 1,
      stderr: `error: not in set gold: ${GLOBEX}\n`,
    });
    expect((await runCli(['sets', 'remove', 'silver', ACME, '--yes'], ctx.fakes)).stderr).toBe(
      `error: set silver does not exist: ${NAME}/sets/silver is not in this account and Region (vpce-guard sets list shows the sets)\n`,
    );
  });

  test('a push of a set the live policy does not name says so', async () => {
    const run = await runCli(['sets', 'add', 'silver', ACME, '--yes'], ctx.fakes);
    expect(run.stdout).toContain(
      `Note: the live policy (${NAME}) names no principal set silver yet`,
    );
  });

  test.each([
    [
      ['sets', 'add', 'gold', '12345'],
      'error: <account>: "12345" is not a 12-digit account ID (see vpce-guard sets add --help)',
    ],
    [
      ['sets', 'push', 'a/b', 'x.txt'],
      'error: <set>: "a/b" is not a principal set name (1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit) (see vpce-guard sets push --help)',
    ],
    [
      ['sets', 'push', 'gold', 'x.txt', '--tier', 'Gold'],
      'error: --tier: "Gold" is not one of Advanced, Standard (see vpce-guard sets push --help)',
    ],
    [
      ['sets', 'list', '--name', 'arn:aws:s3:::b'],
      'error: --name: "arn:aws:s3:::b" is not an SSM parameter ARN (arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>) (see vpce-guard sets list --help)',
    ],
    [['sets'], 'error: sets needs a command (see vpce-guard sets --help)'],
  ])('%j is a usage error before any AWS call', async (argv, line) => {
    const run = await runCli(argv, ctx.fakes);
    expect(run).toMatchObject({ code: 2, stderr: `${line}\n` });
    expect(ctx.fakes.ssm.calls).toEqual([]);
  });
});

describe('the commands that decide resolve the sets', () => {
  beforeEach(async () => {
    await runCli(['sets', 'add', 'gold', ACME, '--yes'], ctx.fakes);
  });

  test('policy explain: a set from Parameter Store, or from a file with --set', async () => {
    const policyFile = writePolicy(ctx.dir, 'p.json', GOLD_POLICY);
    const explain = (...extra: string[]) =>
      runCli(
        ['policy', 'explain', policyFile, '--account', GLOBEX, '--service', SERVICE, ...extra],
        ctx.fakes,
      );

    expect((await explain()).stdout).toMatch(/^Decision: reject\n/);
    const fromFile = await explain('--set', `gold=${writeList('g.txt', [GLOBEX])}`);
    expect(fromFile.stdout).toMatch(
      /^Decision: keep\nRule: +gold\nReason: +allowed by rule gold \(principal set gold\)\n/,
    );
    expect(fromFile.awsOptions).toEqual([]);
  });

  test('status decides a set member’s connection with the live set', async () => {
    const serviceId = ctx.fakes.ec2.addService();
    ctx.fakes.ec2.addConnection({ serviceId, owner: ACME });
    ctx.fakes.ec2.addConnection({ serviceId, owner: GLOBEX });

    const run = await runCli(['status', '--service', serviceId], ctx.fakes);

    expect(run.stdout).toMatch(
      /^Policy: \/vpce-guard\/policy version 1, set gold version \S+ \(.*1 principal set \(gold: 1 accounts\)\)\n/,
    );
    expect(run.stdout).toMatch(
      new RegExp(`${ACME} .* keep +allowed by rule gold \\(principal set gold\\)`),
    );
    expect(run.stdout).toMatch(new RegExp(`${GLOBEX} .* reject `));
  });

  test('reconcile refuses a live policy whose set is missing, naming it, before any EC2 call', async () => {
    ctx.fakes.ssm.setParameter(NAME, JSON.stringify({ ...GOLD_POLICY, denySets: ['blocked'] }));
    const run = await runCli(['reconcile'], ctx.fakes);
    expect(run).toMatchObject({
      code: 1,
      stderr: [
        'error: the live policy in /vpce-guard/policy version 2 cannot be used: a principal set is missing or invalid',
        '  denySets[0]: principal set blocked: its manifest /vpce-guard/policy/sets/blocked does not exist (vpce-guard sets push blocked <file> creates it)',
        '',
      ].join('\n'),
    });
    expect(ctx.fakes.ec2.calls).toEqual([]);
  });
});

test('policy push refuses a policy whose set does not exist yet, and pushes it once the set does', async () => {
  const policyFile = writePolicy(ctx.dir, 'p.json', {
    ...GOLD_POLICY,
    rules: [{ id: 'silver', principalSets: ['silver'] }],
  });
  const refused = await runCli(['policy', 'push', policyFile, '--yes'], ctx.fakes);
  expect(refused).toMatchObject({
    code: 1,
    stderr: `error: ${policyFile} cannot be used: a principal set is missing or invalid\n  rules[0].principalSets[0]: principal set silver: its manifest ${NAME}/sets/silver does not exist (vpce-guard sets push silver <file> creates it)\n`,
  });
  expect(writes()).toEqual([]);

  await runCli(['sets', 'add', 'silver', ACME, '--yes'], ctx.fakes);
  expect((await runCli(['policy', 'push', policyFile, '--yes'], ctx.fakes)).code).toBe(0);
  expect(await guardSees()).toEqual([ACME]);
});

describe('policy validate checks what SSM checks', () => {
  test('says the bytes of the policy and, with --set, of each set in both tiers', async () => {
    const policyFile = writePolicy(ctx.dir, 'p.json', {
      ...enforcePolicy(),
      denySets: ['blocked'],
      rules: GOLD_POLICY.rules,
    });
    const run = await runCli(
      ['policy', 'validate', policyFile, '--set', `gold=${writeList('g.txt', accounts(100_000))}`],
      ctx.fakes,
    );

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.split('\n').slice(1)).toEqual([
      `  policy: ${fs.statSync(policyFile).size} bytes: fits the Standard tier (4,096)`,
      '  set blocked: not checked (give --set blocked=<file>; vpce-guard sets list shows the live sets)',
      expect.stringMatching(
        /^ {2}set gold: 100,000 accounts, [\d,]+ bytes: \d+ parts of at most 8,192 bytes \(Advanced, \d GetParameters to load\), or \d+ parts of at most 4,096 bytes \(Standard, \d+ GetParameters to load\)$/,
      ),
      '',
    ]);
    expect(ctx.fakes.ssm.calls).toEqual([]);
  });

  test('a 10 MB policy of 200,000 rules is valid JSON but no parameter can hold it: exit 1, in bytes', async () => {
    const rules = Array.from({ length: 200_000 }, (_, i) => ({
      id: `customer-${i}`,
      principals: [String(100_000_000_000 + i)],
    }));
    const policyFile = writePolicy(ctx.dir, 'huge.json', {
      version: 1,
      defaultAction: 'reject',
      rules,
    });
    const size = fs.statSync(policyFile).size;

    const run = await runCli(['policy', 'validate', policyFile], ctx.fakes);

    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `error: ${policyFile} is ${size.toLocaleString('en-US')} bytes: no SSM parameter holds it (Standard 4,096, Advanced 8,192 bytes)\n  move long lists of accounts into principal sets (vpce-guard sets push), and merge rules that differ only in their principals\n`,
    });
  });

  test('between 4 and 8 KB it needs the Advanced tier, and says so', async () => {
    const policyFile = writePolicy(ctx.dir, 'big.json', {
      ...enforcePolicy(),
      description: 'x'.repeat(200),
      rules: Array.from({ length: 60 }, (_, i) => ({
        id: `r${i}`,
        principals: [String(100_000_000_000 + i)],
      })),
    });
    const run = await runCli(['policy', 'validate', policyFile], ctx.fakes);
    expect(run.stdout).toContain(`bytes: needs the Advanced tier (8,192; over Standard's 4,096)\n`);
  });

  test('a file saved with a byte-order mark is read, not refused', async () => {
    const policyFile = path.join(ctx.dir, 'bom.json');
    fs.writeFileSync(policyFile, `\uFEFF${JSON.stringify(enforcePolicy())}`);
    expect((await runCli(['policy', 'validate', policyFile], ctx.fakes)).code).toBe(0);

    const pushed = await runCli(['policy', 'push', policyFile, '--yes'], ctx.fakes);
    expect(pushed.code).toBe(0);
    // What is stored is the policy, without the mark.
    expect(ctx.fakes.ssm.parameter(NAME)?.value).toBe(JSON.stringify(enforcePolicy()));
  });

  test('--set for a set the policy does not name is a usage error', async () => {
    const policyFile = writePolicy(ctx.dir, 'p.json', GOLD_POLICY);
    const run = await runCli(
      ['policy', 'validate', policyFile, '--set', `silver=${writeList('s.txt', [ACME])}`],
      ctx.fakes,
    );
    expect(run).toMatchObject({
      code: 2,
      stderr:
        'error: --set: the policy names no principal set silver (it names gold) (see vpce-guard policy validate --help)\n',
    });
  });

  test('policy explain refuses a --set too, even when the policy names no set at all', async () => {
    const policyFile = writePolicy(ctx.dir, 'plain.json', enforcePolicy());
    const run = await runCli(
      [
        'policy',
        'explain',
        policyFile,
        '--account',
        GLOBEX,
        '--service',
        SERVICE,
        '--region',
        'eu-west-1',
        '--set',
        `gold=${path.join(ctx.dir, 'missing.txt')}`,
      ],
      ctx.fakes,
    );
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('error: --set: the policy names no principal set gold');
  });
});
