import fc from 'fast-check';
import { type Connection, normaliseState } from '../../core/connection';
import {
  decide,
  formatPolicyErrors,
  parsePolicy,
  type Policy,
  principalSetNames,
  principalSetReferences,
  validatePolicy,
  withPrincipalSets,
} from '../../core/policy';

// Principal sets in the policy (docs/policy.md#principal-sets): how rules and the deny list
// name them, how they are validated, and how `decide` uses them once loaded.

const SERVICE = 'vpce-svc-0123456789abcdef0';
const GOLD = '111122223333';
const SILVER = '444455556666';
const BLOCKED = '999988887777';
const STRANGER = '123412341234';
const NOW = new Date('2026-06-01T12:00:00Z');

function policyOf(document: Record<string, unknown>): Policy {
  const result = validatePolicy({ version: 1, defaultAction: 'reject', ...document });
  if (!result.ok) throw new Error(formatPolicyErrors(result.errors));
  return result.policy;
}

function connection(owner: string, overrides: Partial<Connection> = {}): Connection {
  return {
    serviceId: SERVICE,
    endpointId: 'vpce-0a1b2c3d4e5f60718',
    owner,
    region: 'eu-west-1',
    state: normaliseState('pendingAcceptance'),
    ...overrides,
  };
}

const SETS = new Map<string, ReadonlySet<string>>([
  ['gold', new Set([GOLD])],
  ['silver', new Set([SILVER, GOLD])],
  ['blocked', new Set([BLOCKED])],
]);

const DOCUMENT = {
  denySets: ['blocked'],
  rules: [
    { id: 'gold', principalSets: ['gold'], accept: true },
    { id: 'silver', principals: ['555566667777'], principalSets: ['silver'] },
  ],
};

describe('parsing', () => {
  test('rules name sets with principalSets (principals then optional); the deny list with denySets', () => {
    const policy = policyOf(DOCUMENT);
    expect(policy.denySets).toEqual(['blocked']);
    expect(policy.rules[0]).toMatchObject({ principals: new Set(), principalSets: ['gold'] });
    expect(principalSetNames(policy)).toEqual(['blocked', 'gold', 'silver']);
    expect(principalSetReferences(policy)).toEqual(
      new Map([
        ['blocked', 'denySets[0]'],
        ['gold', 'rules[0].principalSets[0]'],
        ['silver', 'rules[1].principalSets[0]'],
      ]),
    );
  });

  test.each([
    [
      { rules: [{ id: 'a' }] },
      'rules[0].principals: is required: account IDs, account root ARNs, or "*" (or name principalSets)',
    ],
    [
      { rules: [{ id: 'a', principalSets: [] }] },
      'rules[0].principalSets: must be a non-empty array of principal set names, got []',
    ],
    [
      { rules: [{ id: 'a', principalSets: 'gold' }] },
      'rules[0].principalSets: must be a non-empty array of principal set names, got "gold"',
    ],
    [
      { rules: [{ id: 'a', principalSets: ['gold', 'gold'] }] },
      'rules[0].principalSets[1]: "gold" is listed twice',
    ],
    [
      { rules: [{ id: 'a', principalSets: ['a/b'] }] },
      'rules[0].principalSets[0]: "a/b" is not a principal set name (1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit)',
    ],
    [
      { denySets: ['ok', 7], rules: [] },
      'denySets[1]: 7 is not a principal set name (1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit)',
    ],
  ])('%j is refused: %s', (document, error) => {
    const result = validatePolicy({ version: 1, defaultAction: 'reject', ...document });
    expect(result.ok ? [] : formatPolicyErrors(result.errors).split('\n')).toEqual([error]);
  });

  test('a policy saved with a byte-order mark is read as if it had none', () => {
    const text = JSON.stringify({ version: 1, defaultAction: 'reject', rules: [] });
    expect(parsePolicy(`\uFEFF${text}`)).toEqual(parsePolicy(text));
    expect(parsePolicy(`\uFEFF${text}`).ok).toBe(true);
  });
});

describe('decide with principal sets', () => {
  const policy = withPrincipalSets(policyOf(DOCUMENT), SETS);

  test.each([
    [GOLD, 'accept', 'gold', 'allowed by rule gold (principal set gold), which accepts'],
    [SILVER, 'keep', 'silver', 'allowed by rule silver (principal set silver)'],
    ['555566667777', 'keep', 'silver', 'allowed by rule silver'],
    [
      BLOCKED,
      'reject',
      'deny',
      `account ${BLOCKED} is in principal set blocked, which denySets lists`,
    ],
    [STRANGER, 'reject', 'defaultAction', expect.stringContaining('no rule allows')],
  ])('%s: %s by %s', (owner, action, rule, reason) => {
    expect(decide(policy, connection(owner), NOW)).toEqual({ action, rule, reason });
  });

  test('the deny list wins over a set that allows', () => {
    const both = withPrincipalSets(policyOf({ deny: [GOLD], rules: DOCUMENT.rules }), SETS);
    expect(decide(both, connection(GOLD), NOW)).toMatchObject({ action: 'reject', rule: 'deny' });
  });

  test('refuses to decide before the sets are loaded: their accounts would be rejected as strangers', () => {
    expect(() => decide(policyOf(DOCUMENT), connection(STRANGER), NOW)).toThrow(
      'principal set blocked is not loaded',
    );
  });

  test('a set decides exactly as the same accounts listed inline (property)', () => {
    const account = fc.constantFrom(GOLD, SILVER, BLOCKED, STRANGER, '555566667777');
    fc.assert(
      fc.property(
        fc.uniqueArray(account, { maxLength: 4 }),
        fc.uniqueArray(account, { maxLength: 2 }),
        account,
        fc.boolean(),
        (allowed, denied, owner, accept) => {
          const inline = policyOf({
            deny: denied,
            rules: allowed.length ? [{ id: 'r', principals: allowed, accept }] : [],
          });
          const named = withPrincipalSets(
            policyOf({
              denySets: ['d'],
              rules: [{ id: 'r', principalSets: ['a'], accept }],
            }),
            new Map([
              ['a', new Set(allowed)],
              ['d', new Set(denied)],
            ]),
          );
          const strip = ({ action, rule }: { action: string; rule: string }) => ({ action, rule });
          expect(strip(decide(named, connection(owner), NOW))).toEqual(
            strip(decide(inline, connection(owner), NOW)),
          );
        },
      ),
    );
  });
});
