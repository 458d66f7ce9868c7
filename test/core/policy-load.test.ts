/**
 * The policy's SSM edge (core/policy-load.ts) through the real SDK against the SSM fake, which
 * keeps one store per account and Region: a policy and its principal sets read as one
 * consistent version, by name or by ARN, in the ARN's Region, from another account when
 * shared, and every way a set can be missing, incomplete or altered reported with its place.
 */
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { pushPrincipalSet } from '../../cli/principal-sets';
import { loadPolicy, type PolicyLoad } from '../../core/policy-load';
import { policyParameter, setPartName } from '../../core/policy-parameter';
import { encodePrincipalSet } from '../../core/principal-set';
import { FakeSsm, type Where } from '../../local-aws/fakes/ssm';

const HOME = { region: 'us-west-2', account: '111122223333' };
const READER_ACCOUNT = '444455556666';
const NAME = '/vpce-guard/policy';
const ARN = `arn:aws:ssm:${HOME.region}:${HOME.account}:parameter/vpce-guard/policy`;
const GOLD = Array.from({ length: 5000 }, (_, i) => String(100_000_000_000 + i * 7919));
const POLICY = JSON.stringify({
  version: 1,
  defaultAction: 'reject',
  rules: [{ id: 'gold', principalSets: ['gold'] }],
});

let fake: FakeSsm;
const clients: SSMClient[] = [];

beforeEach(async () => {
  fake = await FakeSsm.start({
    region: HOME.region,
    accountId: HOME.account,
    accessKeys: { reader: READER_ACCOUNT },
  });
});

afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  await fake.close();
});

/** A client of the real SDK, signing for `region` with `accessKeyId`'s account. */
function client(region = HOME.region, accessKeyId = 'owner'): SSMClient {
  const c = new SSMClient({
    region,
    endpoint: fake.url,
    credentials: { accessKeyId, secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

/** Pushes a set with the CLI's own writer, into the home store. */
async function push(set: string, accounts: readonly string[]) {
  return pushPrincipalSet(client(), {
    parameter: policyParameter(NAME),
    set,
    accounts,
    storage: { tier: 'Advanced', type: 'String' },
    now: new Date(),
    expectedManifestVersion: fake.parameter(`${NAME}/sets/${set}`)?.version,
  });
}

function loaded(load: PolicyLoad) {
  if ('problem' in load) throw new Error(JSON.stringify(load.problem));
  return load.loaded;
}

const callsSince = (start: number) => fake.calls.slice(start).map((c) => c.action);

test('a policy without sets costs one GetParameter, as before sets existed', async () => {
  fake.setParameter(NAME, JSON.stringify({ version: 1, defaultAction: 'keep', rules: [] }));
  const load = loaded(await loadPolicy(client(), NAME));
  expect(load.sets).toEqual([]);
  expect(callsSince(0)).toEqual(['GetParameter']);
});

test('a policy with a set: its manifest, then its parts ten at a time; a reload of the same version skips the parts', async () => {
  fake.setParameter(NAME, POLICY);
  const { manifest } = await push('gold', GOLD);
  const start = fake.calls.length;

  const first = loaded(await loadPolicy(client(), NAME));
  expect(first.sets).toEqual([
    { name: 'gold', version: manifest.version, parts: manifest.parts, accounts: new Set(GOLD) },
  ]);
  expect(first.policy.principalSets?.get('gold')?.size).toBe(5000);
  expect(callsSince(start)).toEqual([
    'GetParameter',
    ...Array(1 + Math.ceil(manifest.parts / 10)).fill('GetParameters'),
  ]);

  const again = fake.calls.length;
  expect(loaded(await loadPolicy(client(), NAME, first.sets)).sets[0]).toBe(first.sets[0]);
  expect(callsSince(again)).toEqual(['GetParameter', 'GetParameters']);
});

describe('a set that cannot be used is a problem that names the set, the part and the rule', () => {
  beforeEach(() => fake.setParameter(NAME, POLICY));

  test('missing: no manifest', async () => {
    expect(await loadPolicy(client(), NAME)).toEqual({
      problem: {
        kind: 'invalid',
        parameter: `${NAME}/sets/gold`,
        errors: [
          {
            path: 'rules[0].principalSets[0]',
            message: `principal set gold: its manifest ${NAME}/sets/gold does not exist (vpce-guard sets push gold <file> creates it)`,
          },
        ],
      },
    });
  });

  test('incomplete: a part deleted by hand', async () => {
    const { manifest } = await push('gold', GOLD);
    const part = setPartName(policyParameter(NAME), 'gold', manifest.version, 2);
    await client().send(new DeleteParameterCommand({ Name: part }));

    const load = await loadPolicy(client(), NAME);
    expect(load).toMatchObject({ problem: { kind: 'invalid', parameter: part } });
    expect('problem' in load && load.problem.errors[0]?.message).toBe(
      `principal set gold: part 2 of ${manifest.parts} of version ${manifest.version} (${part}) is missing (a push may be under way; the guard tries again)`,
    );
  });

  test('altered: a part whose accounts no longer match the manifest’s digest', async () => {
    const { manifest } = await push('gold', GOLD);
    const part = setPartName(policyParameter(NAME), 'gold', manifest.version, 1);
    // The same number of accounts, well encoded, the last one different: only the digest tells.
    const stored = JSON.parse(fake.parameter(part)!.value) as { accounts: number };
    const altered = [...GOLD.slice(0, stored.accounts - 1), '999999999999'];
    const { parts } = encodePrincipalSet('gold', manifest.version, altered, 1_000_000);
    const data = (JSON.parse(parts[0]!) as { data: string }).data;
    fake.setParameter(part, JSON.stringify({ ...JSON.parse(fake.parameter(part)!.value), data }));

    expect(await loadPolicy(client(), NAME)).toMatchObject({
      problem: {
        kind: 'invalid',
        errors: [
          {
            message: `principal set gold: version ${manifest.version}: its parts do not match the manifest’s sha256 (a part was altered)`,
          },
        ],
      },
    });
  });

  test('unreadable: SSM throttles the read', async () => {
    await push('gold', GOLD);
    fake.failNext('GetParameters', { code: 'ThrottlingException', message: 'Rate exceeded' });
    expect(await loadPolicy(client(), NAME)).toMatchObject({
      problem: {
        kind: 'unreadable',
        errors: [
          { message: 'principal set gold could not be read: ThrottlingException: Rate exceeded' },
        ],
      },
    });
  });
});

test('a push that commits while a load reads the parts: the load reads the manifest again and takes the new version', async () => {
  fake.setParameter(NAME, POLICY);
  await push('gold', GOLD);
  const newer = [...GOLD.slice(1), '999999999999'];
  const real = client();
  let pushed = false;
  // After the manifests are read, a push commits a new version and deletes the old parts.
  const racing = {
    send: async (command: Parameters<SSMClient['send']>[0]) => {
      const output = await real.send(command);
      if (!pushed && command.constructor.name === 'GetParametersCommand') {
        pushed = true;
        await push('gold', newer);
      }
      return output;
    },
  } as unknown as SSMClient;

  const load = loaded(await loadPolicy(racing, NAME));
  expect(load.sets[0]?.accounts).toEqual(new Set(newer));
});

describe('by ARN: in the ARN’s Region, and from another account through a share', () => {
  const home: Where = HOME;
  beforeEach(async () => {
    fake.setParameter(NAME, POLICY, 'String', { ...home, tier: 'Advanced' });
    await push('gold', GOLD);
  });

  test('read in the ARN’s Region, the sets by ARN beside the policy’s', async () => {
    const start = fake.calls.length;
    expect(loaded(await loadPolicy(client(HOME.region), ARN)).sets[0]?.accounts.size).toBe(5000);
    const calls = fake.calls.slice(start);
    expect(calls.every((c) => c.region === HOME.region && c.account === HOME.account)).toBe(true);
    expect(calls[1]?.params).toEqual({
      Names: [`${ARN}/sets/gold`],
      WithDecryption: true,
    });
  });

  test('a client in another Region cannot read it: SSM does not route by the ARN', async () => {
    expect(await loadPolicy(client('eu-west-1'), ARN)).toMatchObject({
      problem: {
        kind: 'unreadable',
        errors: [{ message: expect.stringMatching(/ValidationException/) }],
      },
    });
    expect(fake.calls.at(-1)).toMatchObject({ region: 'eu-west-1', error: 'ValidationException' });
  });

  test('another account reads it once the policy and every set parameter are shared with it', async () => {
    const reader = client(HOME.region, 'reader');
    expect(await loadPolicy(reader, ARN)).toMatchObject({
      problem: { kind: 'unreadable', errors: [{ message: expect.stringMatching(/AccessDenied/) }] },
    });

    fake.share(NAME, READER_ACCOUNT, home);
    const shared = await loadPolicy(reader, ARN);
    expect(shared).toMatchObject({ problem: { kind: 'invalid' } }); // the set is not shared yet

    for (const name of fake.parameterNames(home)) fake.share(name, READER_ACCOUNT, home);
    expect(loaded(await loadPolicy(reader, ARN)).sets[0]?.accounts.size).toBe(5000);
    expect(fake.calls.at(-1)).toMatchObject({ account: READER_ACCOUNT, region: HOME.region });
  });
});

test('a policy too deep to hold sets under it is invalid, and says why', async () => {
  const deep = `/${Array.from({ length: 12 }, (_, i) => `l${i}`).join('/')}`;
  fake.setParameter(deep, POLICY);
  const load = await loadPolicy(client(), deep);
  expect(load).toMatchObject({
    problem: {
      kind: 'invalid',
      errors: [
        { path: 'rules[0].principalSets[0]', message: expect.stringMatching(/SSM allows 15/) },
      ],
    },
  });
});
