import fc from 'fast-check';
import { type Connection, normaliseState } from '../../core/connection';
import { type Decision, type Policy, decide, parsePolicy, validatePolicy } from '../../core/policy';

// Property tests of the policy: invariants of `decide` over generated valid policies and
// connections, and robustness of the validator over arbitrary and mutated documents.

// ---------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------

interface RuleDoc {
  id: string;
  description?: string;
  services?: '*' | string[];
  principals: '*' | string[];
  regions?: string[];
  expires?: string;
  accept?: boolean;
}

interface PolicyDoc {
  version: 1;
  description?: string;
  mode?: 'enforce' | 'dryRun';
  defaultAction: 'reject' | 'keep';
  revoke?: boolean;
  deny?: string[];
  rules: RuleDoc[];
}

// Small pools, so that generated connections often match generated rules and deny lists.
const ACCOUNTS = ['111122223333', '444455556666', '999988887777', '123456789012'];
const SERVICES = ['vpce-svc-0123456789abcdef0', 'vpce-svc-0fedcba987654321f', 'vpce-svc-01234567'];
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'cn-north-1', 'us-gov-west-1'];
const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'];
const CONSIDERED_STATES = ['pendingAcceptance', 'PendingAcceptance', 'PENDINGACCEPTANCE'];
const OTHER_STATES = ['rejected', 'deleted', 'deleting', 'failed', 'expired', 'pending', 'partial'];
const FROM = new Date('2025-01-01T00:00:00Z');
const TO = new Date('2029-01-01T00:00:00Z');

const accountArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ACCOUNTS) },
  { weight: 1, arbitrary: fc.stringMatching(/^\d{12}$/) },
);
/** An account as a policy may spell it: a 12-digit ID or an account root ARN. */
const principalArb = fc.oneof(
  accountArb,
  fc
    .tuple(fc.constantFrom(...PARTITIONS), accountArb)
    .map(([partition, account]) => `arn:${partition}:iam::${account}:root`),
);
const dateArb = fc.date({ min: FROM, max: TO, noInvalidDate: true });
/** An RFC 3339 date-time, in UTC or with an offset. */
const expiresArb = fc
  .tuple(dateArb, fc.integer({ min: -12 * 60, max: 14 * 60 }), fc.boolean())
  .map(([date, offsetMinutes, utc]) => {
    if (utc) return date.toISOString();
    const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1);
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    const hh = String(Math.floor(abs / 60)).padStart(2, '0');
    const mm = String(abs % 60).padStart(2, '0');
    return `${local}${sign}${hh}:${mm}`;
  });
const ruleIdArb = fc
  .stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,11}$/)
  .filter((id) => !['deny', 'defaultAction', 'state'].includes(id));

function matcherArb(entry: fc.Arbitrary<string>, wildcard: boolean): fc.Arbitrary<'*' | string[]> {
  const list = fc.array(
    wildcard ? fc.oneof({ weight: 6, arbitrary: entry }, fc.constant('*')) : entry,
    {
      minLength: 1,
      maxLength: 4,
    },
  );
  return wildcard ? fc.oneof({ weight: 3, arbitrary: list }, fc.constant('*' as const)) : list;
}

/**
 * A rule document. `wildcardPrincipals: false` keeps "*" out of principals, so that a test can
 * pick an owner that no rule names. Regions are unique: a repeated Region is a known bug (see
 * policy.test.ts) that would otherwise make the model property fail on every run that hits it.
 */
function ruleDocArb(wildcardPrincipals: boolean): fc.Arbitrary<RuleDoc> {
  return fc.record(
    {
      id: ruleIdArb,
      description: fc.string({ maxLength: 20 }),
      services: matcherArb(fc.constantFrom(...SERVICES), true),
      principals: matcherArb(principalArb, wildcardPrincipals),
      regions: fc.uniqueArray(fc.constantFrom(...REGIONS), { minLength: 1, maxLength: 3 }),
      expires: expiresArb,
      accept: fc.boolean(),
    },
    { requiredKeys: ['id', 'principals'] },
  );
}

function policyDocArb({ wildcardPrincipals = true } = {}): fc.Arbitrary<PolicyDoc> {
  return fc.record(
    {
      version: fc.constant(1 as const),
      description: fc.string({ maxLength: 20 }),
      mode: fc.constantFrom('enforce' as const, 'dryRun' as const),
      defaultAction: fc.constantFrom('reject' as const, 'keep' as const),
      revoke: fc.boolean(),
      deny: fc.array(principalArb, { maxLength: 3 }),
      rules: fc.uniqueArray(ruleDocArb(wildcardPrincipals), {
        maxLength: 5,
        selector: (rule) => rule.id,
      }),
    },
    { requiredKeys: ['version', 'defaultAction', 'rules'] },
  );
}

const stateArb = fc.oneof(
  fc.constantFrom(...CONSIDERED_STATES),
  fc.constantFrom('available', 'Available'),
  fc.constantFrom(...OTHER_STATES),
  fc.string({ maxLength: 20 }),
);

const connectionArb: fc.Arbitrary<Connection> = fc.record({
  serviceId: fc.constantFrom(...SERVICES),
  endpointId: fc.stringMatching(/^vpce-[0-9a-f]{17}$/),
  owner: accountArb,
  // As the EC2 edge hands it to decide(), whatever EC2's spelling.
  state: stateArb.map(normaliseState),
  region: fc.constantFrom(...REGIONS),
});

/** A clock near the rules' expiry dates, and sometimes exactly on one. */
function nowArb(doc: PolicyDoc): fc.Arbitrary<Date> {
  const expiries = doc.rules.flatMap((r) => (r.expires ? [new Date(r.expires)] : []));
  return expiries.length === 0
    ? dateArb
    : fc.oneof(
        dateArb,
        fc.constantFrom(...expiries).map((d) => new Date(d.getTime())),
      );
}

/** A valid document, its parsed policy, a connection and a clock. */
function scenarioArb(options?: { wildcardPrincipals?: boolean }) {
  return policyDocArb(options).chain((doc) =>
    fc.record({
      doc: fc.constant(doc),
      policy: fc.constant(mustParse(doc)),
      connection: connectionArb,
      now: nowArb(doc),
    }),
  );
}

function mustParse(doc: unknown): Policy {
  const result = parsePolicy(JSON.stringify(doc));
  if (!result.ok) throw new Error(`generated policy is invalid: ${JSON.stringify(result.errors)}`);
  return result.policy;
}

function isConsidered(state: string, revoke: boolean): boolean {
  const s = state.toLowerCase();
  return s === 'pendingacceptance' || (s === 'available' && revoke);
}

function accountOf(principal: string): string {
  return principal.startsWith('arn:') ? (principal.split(':')[4] ?? '') : principal;
}

/**
 * The semantics of docs/policy.md ("How a connection is decided"), written again
 * independently and read straight from the JSON document (so it checks the parser's
 * normalisation of ARNs, "*" and dates as well).
 */
function model(doc: PolicyDoc, c: Connection, now: Date): Pick<Decision, 'action' | 'rule'> {
  if (!isConsidered(c.state, doc.revoke === true)) return { action: 'skip', rule: 'state' };
  if ((doc.deny ?? []).map(accountOf).includes(c.owner)) return { action: 'reject', rule: 'deny' };
  const any = (m: '*' | string[] | undefined, value: string, norm = (s: string) => s) =>
    m === undefined || m === '*' || m.includes('*') || m.map(norm).includes(value);
  for (const rule of doc.rules) {
    const matches =
      any(rule.services, c.serviceId) &&
      any(rule.principals, c.owner, accountOf) &&
      (rule.regions === undefined || rule.regions.includes(c.region));
    const expired = rule.expires !== undefined && Date.parse(rule.expires) <= now.getTime();
    if (matches && !expired) {
      const pending = c.state.toLowerCase() === 'pendingacceptance';
      return { action: rule.accept === true && pending ? 'accept' : 'keep', rule: rule.id };
    }
  }
  return { action: doc.defaultAction, rule: 'defaultAction' };
}

// ---------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------

describe('decide (properties)', () => {
  test('every generated document is a valid policy (the arbitraries are sound)', () => {
    fc.assert(
      fc.property(policyDocArb(), (doc) => {
        const result = validatePolicy(doc);
        expect(result.ok ? [] : result.errors).toEqual([]);
      }),
    );
  });

  test('agrees with an independent model of the semantics in docs/policy.md', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ doc, policy, connection, now }) => {
        expect(decide(policy, connection, now)).toMatchObject(model(doc, connection, now));
      }),
      { numRuns: 500 },
    );
  });

  test('deny always wins: an owner on the deny list is rejected whenever its state is considered', () => {
    fc.assert(
      fc.property(
        scenarioArb(),
        fc.constantFrom(...PARTITIONS, undefined),
        ({ doc, connection, now }, partition) => {
          // Put the owner on the deny list, as an account ID or as its root ARN.
          const entry = partition
            ? `arn:${partition}:iam::${connection.owner}:root`
            : connection.owner;
          const policy = mustParse({ ...doc, deny: [...(doc.deny ?? []), entry] });
          const decision = decide(policy, connection, now);
          if (isConsidered(connection.state, policy.revoke)) {
            expect(decision).toMatchObject({ action: 'reject', rule: 'deny' });
            expect(decision.reason).toContain(connection.owner);
          } else {
            expect(decision).toMatchObject({ action: 'skip', rule: 'state' });
          }
        },
      ),
    );
  });

  test('is deterministic: the same inputs, even freshly parsed, give the same decision', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ doc, policy, connection, now }) => {
        const first = decide(policy, connection, now);
        expect(decide(policy, connection, now)).toEqual(first);
        expect(decide(mustParse(doc), { ...connection }, new Date(now.getTime()))).toEqual(first);
      }),
    );
  });

  test('is pure: it mutates neither the policy, nor the connection, nor the clock', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ policy, connection, now }) => {
        const before = structuredClone({ policy, connection, now: now.getTime() });
        decide(policy, connection, now);
        expect({ policy, connection, now: now.getTime() }).toEqual(before);
      }),
    );
  });

  test('does not depend on mode: dryRun decides exactly as enforce', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ doc, connection, now }) => {
        expect(decide(mustParse({ ...doc, mode: 'dryRun' }), connection, now)).toEqual(
          decide(mustParse({ ...doc, mode: 'enforce' }), connection, now),
        );
      }),
    );
  });

  test('skips exactly the connections whose state is not considered, and names "state"', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ policy, connection, now }) => {
        const decision = decide(policy, connection, now);
        expect(decision.action === 'skip').toBe(!isConsidered(connection.state, policy.revoke));
        expect(decision.rule === 'state').toBe(decision.action === 'skip');
      }),
    );
  });

  test('accepts only pending connections, and only by an unexpired rule that says accept', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ policy, connection, now }) => {
        const decision = decide(policy, connection, now);
        if (decision.action !== 'accept') return;
        expect(connection.state.toLowerCase()).toBe('pendingacceptance');
        const rule = policy.rules.find((r) => r.id === decision.rule);
        expect(rule?.accept).toBe(true);
        if (rule?.expires) expect(rule.expires.getTime()).toBeGreaterThan(now.getTime());
      }),
    );
  });

  test('gives defaultAction to a considered connection whose owner no rule and no deny entry names', () => {
    fc.assert(
      fc.property(
        scenarioArb({ wildcardPrincipals: false }),
        fc.stringMatching(/^\d{12}$/),
        ({ policy, connection, now }, stranger) => {
          const named = [...policy.deny, ...policy.rules.flatMap((r) => [...r.principals])];
          fc.pre(!named.includes(stranger) && isConsidered(connection.state, policy.revoke));
          const decision = decide(policy, { ...connection, owner: stranger }, now);
          expect(decision).toMatchObject({ action: policy.defaultAction, rule: 'defaultAction' });
          expect(decision.reason).toContain(`no rule allows account ${stranger}`);
        },
      ),
    );
  });

  test('always names what decided: a rule id of the policy, deny, defaultAction or state', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ policy, connection, now }) => {
        const decision = decide(policy, connection, now);
        const ids = ['deny', 'defaultAction', 'state', ...policy.rules.map((r) => r.id)];
        expect(ids).toContain(decision.rule);
        expect(decision.reason.length).toBeGreaterThan(0);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------
// parsePolicy on invalid input
// ---------------------------------------------------------------------------------------

/** parsePolicy must not throw, and a failure must carry located, explained errors. */
function expectWellFormed(text: string): ReturnType<typeof parsePolicy> {
  let result: ReturnType<typeof parsePolicy> | undefined;
  expect(() => {
    result = parsePolicy(text);
  }).not.toThrow();
  if (!result) throw new Error('unreachable');
  if (result.ok) {
    expect(result.policy.version).toBe(1);
  } else {
    expect(result).not.toHaveProperty('policy');
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(typeof error.path).toBe('string');
      expect(error.path.length).toBeGreaterThan(0);
      expect(typeof error.message).toBe('string');
      expect(error.message.length).toBeGreaterThan(0);
    }
  }
  return result;
}

function hasNoEmptyTopLevelKey(value: unknown): boolean {
  return typeof value !== 'object' || value === null || !Object.hasOwn(value, '');
}

type Json = unknown;
type Mutation = (doc: Record<string, Json>) => { doc: Json; invalidAt?: string };

const TOP_KEYS = ['version', 'description', 'mode', 'defaultAction', 'revoke', 'deny', 'rules'];
const RULE_KEYS = ['id', 'description', 'services', 'principals', 'regions', 'expires', 'accept'];
const jsonArb = fc.jsonValue({ maxDepth: 2 });

/**
 * Mutations of a valid document. Those that are certain to make it invalid say where the
 * error must be reported (`invalidAt`, a path prefix); the others may leave it valid.
 */
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // Replace a top-level field with any JSON value.
  fc
    .tuple(fc.constantFrom(...TOP_KEYS), jsonArb)
    .map(([key, value]): Mutation => (doc) => ({ doc: { ...doc, [key]: value } })),
  // Replace a field of the first rule with any JSON value.
  fc.tuple(fc.constantFrom(...RULE_KEYS), jsonArb).map(([key, value]): Mutation => (doc) => {
    const rules = doc.rules as Record<string, Json>[];
    if (rules.length === 0) return { doc };
    return { doc: { ...doc, rules: [{ ...rules[0], [key]: value }, ...rules.slice(1)] } };
  }),
  // Add an unknown field, at the top or in the first rule.
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 8 }), jsonArb, fc.boolean())
    .map(([key, value, inRule]): Mutation => (doc) => {
      const rules = doc.rules as Record<string, Json>[];
      if (inRule && rules.length > 0) {
        if (RULE_KEYS.includes(key)) return { doc };
        const rule = { ...rules[0], [key]: value };
        return { doc: { ...doc, rules: [rule, ...rules.slice(1)] }, invalidAt: 'rules[0]' };
      }
      if (TOP_KEYS.includes(key)) return { doc };
      // A key that is not a plain name is quoted in the path: `["a b"]`.
      const path = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
      return { doc: { ...doc, [key]: value }, invalidAt: path };
    }),
  // Remove a required field.
  fc.constantFrom('version', 'defaultAction', 'rules').map((key): Mutation => (doc) => {
    const copy = { ...doc };
    delete copy[key];
    return { doc: copy, invalidAt: key };
  }),
  // Set version to anything but 1.
  jsonArb
    .filter((v) => v !== 1)
    .map((value): Mutation => (doc) => ({ doc: { ...doc, version: value }, invalidAt: 'version' })),
  // Push any JSON value into the deny list or into the rules.
  fc.tuple(fc.constantFrom('deny', 'rules'), jsonArb).map(([key, value]): Mutation => (doc) => {
    const list = Array.isArray(doc[key]) ? (doc[key] as Json[]) : [];
    return { doc: { ...doc, [key]: [...list, value] } };
  }),
  // Replace the whole document with any JSON value that is not an object.
  jsonArb
    .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
    .map((value): Mutation => () => ({ doc: value, invalidAt: '(root)' })),
);

describe('parsePolicy (properties)', () => {
  test('never throws on arbitrary text, and reports located errors when it fails', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        expectWellFormed(text);
      }),
    );
  });

  test('never throws on arbitrary JSON values, and reports located errors when it fails', () => {
    fc.assert(
      // A top-level field named "" is reported with an empty path: a known bug, pinned by a
      // failing test in policy.test.ts; left out here so that this property stays meaningful.
      fc.property(fc.jsonValue({ maxDepth: 4 }).filter(hasNoEmptyTopLevelKey), (value) => {
        expectWellFormed(JSON.stringify(value));
      }),
    );
  });

  test('never throws on arbitrary objects shaped like a policy, and reports located errors', () => {
    const looseRule = fc.dictionary(fc.constantFrom(...RULE_KEYS, 'extra'), jsonArb);
    const loose = fc.dictionary(
      fc.constantFrom(...TOP_KEYS, 'extra'),
      fc.oneof(jsonArb, fc.array(fc.oneof(looseRule, jsonArb), { maxLength: 3 })),
    );
    fc.assert(
      fc.property(loose, (value) => {
        expectWellFormed(JSON.stringify(value));
      }),
    );
  });

  test('a mutated valid document either parses or fails with an error at the mutated path', () => {
    fc.assert(
      fc.property(policyDocArb(), mutationArb, (doc, mutate) => {
        const mutated = mutate(doc as unknown as Record<string, Json>);
        const result = expectWellFormed(JSON.stringify(mutated.doc));
        if (mutated.invalidAt === undefined) return;
        expect(result.ok).toBe(false);
        if (result.ok) return;
        const prefix = mutated.invalidAt;
        expect(result.errors.some((e) => e.path.startsWith(prefix))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('any truncation of a valid document is reported as invalid JSON, with no policy', () => {
    fc.assert(
      fc.property(
        policyDocArb().chain((doc) => {
          const text = JSON.stringify(doc, null, 2);
          return fc.tuple(fc.constant(text), fc.integer({ min: 0, max: text.length - 1 }));
        }),
        ([text, length]) => {
          const result = expectWellFormed(text.slice(0, length));
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.errors).toHaveLength(1);
          expect(result.errors[0]?.path).toBe('(root)');
          expect(result.errors[0]?.message).toMatch(/^not valid JSON/);
        },
      ),
    );
  });
});
