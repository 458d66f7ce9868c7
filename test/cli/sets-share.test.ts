/**
 * `vpce-guard sets push|add|remove` in a fleet: the home account (111111111111) shares the
 * policy with 222222222222 through an AWS RAM share, as the home stack does, and each push
 * adds the new version to that share before its commit. Through the real SDK against the SSM
 * and RAM fakes; what the other account sees is read with the guard's own loader
 * (core/policy-load.ts), signed as that account.
 */
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssociateResourceShareCommand, RAMClient } from '@aws-sdk/client-ram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPolicy } from '../../core/policy-load';
import { runCli } from '../../local-aws/cli';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';
import { policyDir } from './fixtures';

const HOME = '111111111111';
const READER = '222222222222';
const REGION = 'eu-west-1';
const NAME = '/vpce-guard/policy';
const MANIFEST = `${NAME}/sets/gold`;
const PARTS = `${NAME}/set-parts/gold/`;
const GOLD_POLICY = {
  version: 1,
  defaultAction: 'reject',
  rules: [{ id: 'gold', principalSets: ['gold'] }],
};

let fakes: AwsFakes;
let dir: string;
let policyArn: string;
let shareArn: string;

beforeEach(async () => {
  fakes = await startAwsFakes({ region: REGION, accountId: HOME });
  fakes.ssm.addAccessKey('reader-key', READER);
  dir = policyDir();
  // What the home stack leaves: the policy, Advanced, in a share with the other account.
  fakes.ssm.setParameter(NAME, JSON.stringify(GOLD_POLICY), 'String', { tier: 'Advanced' });
  policyArn = fakes.ssm.arnOf(NAME);
  shareArn = fakes.ram.createShare({
    name: 'VpceGuard-policy',
    principals: [READER],
    resourceArns: [policyArn],
  });
});

afterEach(async () => {
  await fakes.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const accounts = (n: number, from = 100_000_000_000) =>
  Array.from({ length: n }, (_, i) => String(from + i * 104_729));

function listFile(lines: readonly string[]): string {
  const file = path.join(dir, `set-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const push = (lines: readonly string[], ...extra: string[]) =>
  runCli(['sets', 'push', 'gold', listFile(lines), '--yes', ...extra], fakes);

/** The set's accounts as a guard in the other account loads them (by ARN), or its problem. */
async function readerSees(): Promise<string[] | string> {
  const ssm = new SSMClient({
    region: REGION,
    endpoint: fakes.ssm.url,
    credentials: { accessKeyId: 'reader-key', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  try {
    const load = await loadPolicy(ssm, policyArn);
    if ('problem' in load) return load.problem.errors.map((e) => e.message).join('; ');
    return [...(load.loaded.sets[0]?.accounts ?? [])];
  } finally {
    ssm.destroy();
  }
}

const arn = (name: string) => fakes.ssm.arnOf(name);
const parts = () => fakes.ssm.parameterNames().filter((n) => n.startsWith(PARTS));
const shared = () => fakes.ram.sharedResources(shareArn);
const manifest = () =>
  JSON.parse(fakes.ssm.parameter(MANIFEST)?.value ?? 'null') as { version: string } | null;
const ramActions = () => fakes.ram.calls.map((c) => c.action);
const ssmWrites = () => fakes.ssm.calls.filter((c) => /^(Put|Delete)/.test(c.action));

describe('a push in the home account reaches a guard in another account', () => {
  test('the new parts are shared before the commit, the new manifest after it; the other account loads the set', async () => {
    const gold = accounts(3000);

    const run = await push(gold);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Write a new version: Advanced tier, String; add it to RAM share VpceGuard-policy (${shareArn}); then commit it.\n`,
    );
    expect(run.stdout).toMatch(
      /Pushed set gold: version \S+, 3,000 accounts in 2 parts, shared through RAM share VpceGuard-policy \(.*\)\. The guard applies/,
    );
    expect(await readerSees()).toEqual(gold);
    expect(shared()).toEqual([policyArn, ...parts().map(arn), arn(MANIFEST)].sort());
    // Found by the policy's own association, without knowing the stack's name.
    expect(fakes.ram.calls[0]?.params).toMatchObject({
      associationType: 'RESOURCE',
      resourceArn: policyArn,
    });
    // The parts in one call, and the manifest once written: it did not exist before.
    const associated = fakes.ram.calls
      .filter((c) => c.action === 'AssociateResourceShare')
      .map((c) => (c.params as { resourceArns: string[] }).resourceArns);
    expect(associated).toEqual([parts().map(arn), [arn(MANIFEST)]]);
  });

  test('a second push shares its version, then takes the old parts out of the share and deletes them', async () => {
    await push(accounts(2000));
    const oldParts = parts();
    const after = accounts(2500, 300_000_000_000);

    const run = await push(after);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`deleted 1 part of older versions`);
    expect(parts().some((p) => oldParts.includes(p))).toBe(false);
    expect(shared()).toEqual([policyArn, ...parts().map(arn), arn(MANIFEST)].sort());
    expect(
      fakes.ram
        .associations(shareArn)
        .filter((a) => oldParts.map(arn).includes(a.resourceArn))
        .map((a) => a.status),
    ).toEqual(['DISASSOCIATED']);
    expect(await readerSees()).toEqual(after);
  });

  test('sets add and remove push through the share too', async () => {
    expect((await runCli(['sets', 'add', 'gold', '444455556666', '--yes'], fakes)).code).toBe(0);
    expect(
      (await runCli(['sets', 'add', 'gold', '777788889999', '--yes'], fakes)).stdout,
    ).toContain('shared through RAM share VpceGuard-policy');
    expect(await readerSees()).toEqual(['444455556666', '777788889999']);
    await runCli(['sets', 'remove', 'gold', '444455556666', '--yes'], fakes);
    expect(await readerSees()).toEqual(['777788889999']);
  });

  test('more than 100 new parts go to RAM in calls of at most 100 resources', async () => {
    const many = accounts(220_000);

    const run = await push(many);

    expect(run.code).toBe(0);
    const sizes = fakes.ram.calls
      .filter((c) => c.action === 'AssociateResourceShare')
      .map((c) => (c.params as { resourceArns: string[] }).resourceArns.length);
    expect(parts().length).toBeGreaterThan(100);
    expect(sizes).toEqual([100, parts().length - 100, 1]);
    expect((await readerSees()).length).toBe(220_000);
  });
});

describe('when RAM fails, nothing is committed', () => {
  test('a FAILED association: the old version stays in force here and there, and the new parts are gone', async () => {
    const before = accounts(10);
    await push(before);
    const { version } = manifest()!;
    const oldParts = parts();
    fakes.ram.failAssociations((a) => a.includes('/set-parts/'), 'The resource share is full');

    const run = await push(accounts(20, 500_000_000_000));

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^waiting for RAM to add 1 parameter to its share VpceGuard-policy\nerror: not pushed: RAM could not add 1 of 2 parameters to its share VpceGuard-policy \\(${escape(shareArn)}\\): ${escape(arn(PARTS))}\\S+/1: The resource share is full\\. Check the share in the RAM console \\(its principals; only Advanced parameters can be shared\\), then push again\\. Nothing was committed: the old version stays in force, and this push's 1 parameter was deleted\\n$`,
      ),
    );
    expect(manifest()?.version).toBe(version);
    expect(parts()).toEqual(oldParts);
    expect(shared()).toEqual([policyArn, ...oldParts.map(arn), arn(MANIFEST)].sort());
    expect(await readerSees()).toEqual(before);
  });

  test('RAM still associating after --share-wait: not committed, parts deleted, what to do said', async () => {
    fakes.ram.settleAfterReads = Infinity;

    const run = await push(accounts(10), '--share-wait', '0');

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `error: not pushed: RAM had not added 1 of 1 parameters to its share VpceGuard-policy after 0 s (${arn(PARTS)}`,
    );
    expect(run.stderr).toContain(
      ': ASSOCIATING). RAM can take a few minutes: run the push again later, or wait longer with --share-wait <seconds>. Nothing was committed: set gold still does not exist, and ',
    );
    // RAM is as slow to take them out of the share: deleted anyway, and said so.
    expect(run.stderr).toContain(
      "this push's 1 parameter was deleted\n  taking them out of the share first failed (the next push does): RAM had not removed 1 of 1 parameters from its share VpceGuard-policy after 0 s",
    );
    expect(fakes.ssm.parameter(MANIFEST)).toBeUndefined();
    expect(parts()).toEqual([]);
    expect(await readerSees()).toMatch(/its manifest .* does not exist/);
  });

  test('a new set whose manifest RAM refuses after the commit is removed again', async () => {
    fakes.ram.failAssociations((a) => a === arn(MANIFEST), 'Denied by a tag policy');

    const run = await push(accounts(10));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `: Denied by a tag policy. Check the share in the RAM console (its principals; only Advanced parameters can be shared), then push again. The new set gold was removed again: this push's 2 parameters were deleted\n`,
    );
    expect(fakes.ssm.parameter(MANIFEST)).toBeUndefined();
    expect(parts()).toEqual([]);
    expect(shared()).toEqual([policyArn]);
  });

  test('old parts that cannot leave the share are kept, with a warning, and the next push removes them', async () => {
    await push(accounts(10));
    const oldParts = parts();
    fakes.ram.failNext('DisassociateResourceShare', { code: 'ThrottlingException', status: 429 });

    const kept = await push(accounts(11));

    expect(kept.code).toBe(0);
    expect(kept.stderr).toContain(
      'warning: 1 part of older versions kept: they could not be removed from RAM share VpceGuard-policy',
    );
    expect(kept.stderr).toContain('ThrottlingException');
    expect(parts()).toEqual(expect.arrayContaining(oldParts));
    expect(await readerSees()).toHaveLength(11);

    await push(accounts(12));
    expect(parts().some((p) => oldParts.includes(p))).toBe(false);
    expect(shared()).toEqual([policyArn, ...parts().map(arn), arn(MANIFEST)].sort());
  });

  test('a shared part whose parameter is gone already is taken out of the share by the next push', async () => {
    await push(accounts(10));
    // An interrupted push left a shared part, then its parameter was deleted.
    const orphan = `${PARTS}20250101T000000Z-000000/1`;
    fakes.ssm.setParameter(orphan, 'x', 'String', { tier: 'Advanced' });
    const ram = new RAMClient({
      region: REGION,
      endpoint: fakes.ram.url,
      credentials: { accessKeyId: 'fake', secretAccessKey: 'x' },
    });
    const ssm = new SSMClient({
      region: REGION,
      endpoint: fakes.ssm.url,
      credentials: { accessKeyId: 'fake', secretAccessKey: 'x' },
    });
    await ram.send(
      new AssociateResourceShareCommand({
        resourceShareArn: shareArn,
        resourceArns: [arn(orphan)],
      }),
    );
    fakes.ram.settle();
    await ssm.send(new DeleteParameterCommand({ Name: orphan }));
    [ram, ssm].forEach((c) => c.destroy());
    expect(shared()).toContain(arn(orphan));

    expect((await push(accounts(11))).code).toBe(0);

    expect(shared()).not.toContain(arn(orphan));
    expect(shared()).toEqual([policyArn, ...parts().map(arn), arn(MANIFEST)].sort());
  });
});

describe('which share', () => {
  test('a Standard policy is in no share: no RAM call, as in one account', async () => {
    fakes.ssm.setParameter('/solo/policy', JSON.stringify(GOLD_POLICY));

    const run = await runCli(
      ['sets', 'push', 'gold', listFile(accounts(3)), '--yes', '--name', '/solo/policy'],
      fakes,
    );

    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('RAM');
    expect(ramActions()).toEqual([]);
  });

  test('--share none makes no RAM call; a push of the same list then shares the set as it stands', async () => {
    expect((await push(accounts(3000), '--share', 'none')).code).toBe(0);
    expect(ramActions()).toEqual([]);
    // Not shared: to the other account, the manifest's ARN reads as nothing.
    expect(await readerSees()).toMatch(/its manifest \S+\/sets\/gold does not exist/);

    const again = await push(accounts(3000));

    expect(again.stdout).toContain(
      `No change: set gold (version ${manifest()?.version}) already holds the 3,000 accounts of`,
    );
    expect(again.stdout).toContain(
      `Added its 3 parameters to RAM share VpceGuard-policy (${shareArn}).\n`,
    );
    expect(await readerSees()).toHaveLength(3000);
  });

  test('a Standard set cannot join a share as it stands: the same list writes it again, Advanced', async () => {
    const gold = accounts(3000);
    await push(gold, '--share', 'none', '--tier', 'Standard');
    expect(fakes.ssm.parameter(MANIFEST)?.tier).toBe('Standard');

    const run = await push(gold);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `  3,000 → 3,000 accounts: +0 added, −0 removed\n  The set is in the Standard tier, which RAM share VpceGuard-policy (${shareArn}) cannot hold: it is written again, Advanced.\n`,
    );
    expect(fakes.ssm.parameter(MANIFEST)?.tier).toBe('Advanced');
    expect(shared()).toEqual([policyArn, ...parts().map(arn), arn(MANIFEST)].sort());
    expect(await readerSees()).toEqual(gold);
  });

  test('Standard parts under a manifest once Advanced are written again, Advanced, not shared as they stand', async () => {
    // SSM keeps a manifest Advanced; a later push with --tier Standard writes Standard parts.
    const gold = accounts(3000);
    await push(accounts(3001), '--share', 'none');
    await push(gold, '--share', 'none', '--tier', 'Standard');
    expect(fakes.ssm.parameter(MANIFEST)?.tier).toBe('Advanced');
    expect(fakes.ssm.parameter(parts()[0]!)?.tier).toBe('Standard');

    const run = await push(gold);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('cannot hold: it is written again, Advanced.');
    expect(parts().map((name) => fakes.ssm.parameter(name)?.tier)).toEqual(
      parts().map(() => 'Advanced'),
    );
    expect(await readerSees()).toEqual(gold);
  });

  test('sharing an unchanged set lets other accounts read it: without a terminal it needs --yes', async () => {
    const gold = accounts(5);
    await push(gold, '--share', 'none');

    const unconfirmed = await runCli(['sets', 'push', 'gold', listFile(gold)], fakes);

    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stdout).toContain(
      'Share its 2 parameters through RAM share VpceGuard-policy',
    );
    expect(unconfirmed.stderr).toContain(
      'not shared: stdin is not a terminal, so nothing can confirm; pass --yes to share',
    );
    expect(shared()).toEqual([policyArn]);
    // Once shared, the same push has nothing to confirm.
    expect((await push(gold)).code).toBe(0);
    const again = await runCli(['sets', 'push', 'gold', listFile(gold)], fakes);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain('No change: set gold');
  });

  test('an unchanged set joins a second share of the policy that does not hold it yet', async () => {
    const gold = accounts(5);
    await push(gold);
    const byHand = fakes.ram.createShare({
      name: 'by-hand',
      principals: ['333333333333'],
      resourceArns: [policyArn],
    });

    const run = await push(gold);

    expect(run.stdout).toContain('Share its 2 parameters through RAM share VpceGuard-policy');
    const everything = [policyArn, ...parts().map(arn), arn(MANIFEST)].sort();
    expect(shared()).toEqual(everything);
    expect(fakes.ram.sharedResources(byHand)).toEqual(everything);
  });

  test('a Standard manifest that RAM refuses once Advanced: pushed here, and the error says the other accounts cannot read it', async () => {
    await push(accounts(5), '--share', 'none', '--tier', 'Standard');
    const oldParts = parts();
    fakes.ram.failAssociations((a) => a === arn(MANIFEST), 'Denied by a tag policy');

    const run = await push(accounts(6));

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /\nerror: pushed set gold version \S+ in this account, but RAM could not add 1 of 1 parameters to its share VpceGuard-policy .*: Denied by a tag policy\. .*Guards in other accounts still cannot read the set \(its manifest was Standard until this push\): once that is fixed, push the same list again, which shares the set as it stands; the older versions' parts are deleted by the next push\n$/,
    );
    expect(parts()).toEqual(expect.arrayContaining(oldParts));
    expect(await readerSees()).toMatch(/sets\/gold does not exist/);

    // Fixed: the same list again only shares what is there.
    const again = await push(accounts(6));
    expect(again.stdout).toContain('Added its 1 parameter to RAM share VpceGuard-policy');
    expect(await readerSees()).toHaveLength(6);
  });

  test('an Advanced policy that no share holds is pushed unshared', async () => {
    fakes.ssm.setParameter('/alone/policy', JSON.stringify(GOLD_POLICY), 'String', {
      tier: 'Advanced',
    });

    const run = await runCli(
      ['sets', 'push', 'gold', listFile(accounts(3)), '--yes', '--name', '/alone/policy'],
      fakes,
    );

    expect(run.code).toBe(0);
    expect(ramActions()).toEqual(['GetResourceShareAssociations']);
  });

  test('--share names the share: one that does not hold the policy, or one that does not exist', async () => {
    const other = fakes.ram.createShare({ name: 'sets-only', principals: [READER] });

    const run = await push(accounts(3), '--share', other);

    expect(run.code).toBe(0);
    expect(fakes.ram.sharedResources(other)).toEqual([...parts().map(arn), arn(MANIFEST)].sort());
    expect(shared()).toEqual([policyArn]);

    const missing = other.replace(/[^/]+$/, '00000000-0000-0000-0000-000000000000');
    const writesBefore = ssmWrites().length;
    expect(await push(accounts(4), '--share', missing)).toMatchObject({
      code: 1,
      stderr: `error: --share: this account has no RAM share ${missing} in ${REGION} (aws ram get-resource-shares --resource-owner SELF lists them)\n`,
    });
    expect(ssmWrites()).toHaveLength(writesBefore);
  });

  test.each([
    [
      ['--share', 'arn:aws:ram:eu-west-1:111111111111:permission/x'],
      'error: --share: "arn:aws:ram:eu-west-1:111111111111:permission/x" is not a RAM resource share ARN (arn:<partition>:ram:<region>:<account>:resource-share/<id>), nor none (see vpce-guard sets push --help)',
    ],
    [
      [
        '--share',
        'arn:aws:ram:us-east-1:111111111111:resource-share/abc',
        '--name',
        `arn:aws:ssm:eu-west-1:${HOME}:parameter/vpce-guard/policy`,
      ],
      "error: --share: the share is in 111111111111/us-east-1 and the policy in 111111111111/eu-west-1: a RAM share holds its own account's resources of its own Region (see vpce-guard sets push --help)",
    ],
    [
      ['--share-wait', '1.5'],
      'error: --share-wait: "1.5" is not a whole number of seconds (see vpce-guard sets push --help)',
    ],
  ])('%j is a usage error before any AWS call', async (extra, line) => {
    const run = await push(accounts(3), ...extra);
    expect(run).toMatchObject({ code: 2, stderr: `${line}\n` });
    expect([...fakes.ssm.calls, ...fakes.ram.calls]).toEqual([]);
  });

  test('--tier Standard cannot be shared: refused before anything is written', async () => {
    const run = await push(accounts(3), '--tier', 'Standard');

    expect(run).toMatchObject({
      code: 1,
      stderr: `error: --tier Standard: other accounts read the policy through RAM share VpceGuard-policy (${shareArn}), and RAM shares only Advanced parameters: push with --tier Advanced (the default), or with --share none to keep the set to this account\n`,
    });
    expect(ssmWrites()).toEqual([]);
  });

  test('without ram:GetResourceShareAssociations the push stops before writing, and says what to do', async () => {
    fakes.ram.failNext('GetResourceShareAssociations', {
      code: 'AccessDeniedException',
      message: 'not authorized to perform: ram:GetResourceShareAssociations',
      status: 403,
    });

    const run = await push(accounts(3));

    expect(run).toMatchObject({
      code: 1,
      stderr:
        'error: could not look for the RAM share that holds the policy (AccessDeniedException: not authorized to perform: ram:GetResourceShareAssociations): the CLI needs ram:GetResourceShareAssociations, ram:AssociateResourceShare and ram:DisassociateResourceShare (docs/cli.md); or name the share with --share <arn>, or pass --share none if no other account reads the policy\n',
    });
    expect(ssmWrites()).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
