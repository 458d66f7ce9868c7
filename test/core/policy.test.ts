import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Connection, normaliseState } from '../../core/connection';
import {
  type Action,
  type Decision,
  type Policy,
  decide,
  formatPolicyErrors,
  parsePolicy,
  validatePolicy,
} from '../../core/policy';

// Table-driven tests of the policy: every rule of the decision (docs/policy.md, "How a
// connection is decided"; issue 2 point 1) and every class of validation error, each named after
// the behaviour it pins.

const SVC_A = 'vpce-svc-0123456789abcdef0';
const SVC_B = 'vpce-svc-0fedcba987654321f';
const ACME = '111122223333';
const GLOBEX = '444455556666';
const MALLORY = '999988887777';
const STRANGER = '123456789012';
const NOW = '2026-06-01T12:00:00.000Z';

type Doc = Record<string, unknown>;

/** A minimal valid document, with top-level fields overridden. */
function doc(overrides: Doc = {}): Doc {
  return { version: 1, defaultAction: 'reject', rules: [], ...overrides };
}

/** A minimal valid document with one rule, whose fields are overridden. */
function docWithRule(rule: Doc = {}, top: Doc = {}): Doc {
  return doc({ rules: [{ id: 'acme', principals: [ACME], ...rule }], ...top });
}

/** Validates a document that the test means to be valid; fails loudly otherwise. */
function policyOf(document: Doc): Policy {
  const result = validatePolicy(document);
  if (!result.ok) throw new Error(`test policy is invalid:\n${formatPolicyErrors(result.errors)}`);
  return result.policy;
}

/** A connection as the EC2 edge hands it to decide(): its state normalised, whatever EC2's spelling. */
function connection(overrides: Partial<Connection> = {}): Connection {
  const { state = 'pendingAcceptance', ...rest } = overrides;
  return {
    serviceId: SVC_A,
    endpointId: 'vpce-0a1b2c3d4e5f60718',
    owner: ACME,
    region: 'us-east-1',
    ...rest,
    state: normaliseState(state),
  };
}

function readFixture(name: string): string {
  return readFileSync(join(__dirname, '..', 'fixtures', 'policies', name), 'utf8');
}

// ---------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------

interface DecideCase {
  readonly name: string;
  readonly policy: Doc;
  readonly connection?: Partial<Connection>;
  readonly now?: string;
  readonly action: Action;
  readonly rule: string;
  /** The exact reason (string) or a pattern it must match. */
  readonly reason?: string | RegExp;
}

const allowAcme = { id: 'acme', principals: [ACME] };
const acceptAcme = { id: 'acme', principals: [ACME], accept: true };

const stateCases: DecideCase[] = [
  {
    name: 'considers a pendingAcceptance connection',
    policy: doc({ rules: [acceptAcme] }),
    action: 'accept',
    rule: 'acme',
  },
  {
    name: 'compares the state case-insensitively: PendingAcceptance is pending',
    policy: doc({ rules: [acceptAcme] }),
    connection: { state: 'PendingAcceptance' },
    action: 'accept',
    rule: 'acme',
  },
  {
    name: 'compares the state case-insensitively: PENDINGACCEPTANCE is pending',
    policy: doc({ rules: [acceptAcme] }),
    connection: { state: 'PENDINGACCEPTANCE' },
    action: 'accept',
    rule: 'acme',
  },
  {
    name: 'skips an available connection when revoke is false, even from a denied account',
    policy: doc({ deny: [MALLORY] }),
    connection: { owner: MALLORY, state: 'available' },
    action: 'skip',
    rule: 'state',
    reason: 'connection is available and the policy does not revoke',
  },
  {
    name: 'skips an Available connection when revoke is absent (defaults to false)',
    policy: doc(),
    connection: { state: 'Available' },
    action: 'skip',
    rule: 'state',
  },
  {
    name: 'revokes an available connection that no rule allows when revoke is true',
    policy: doc({ revoke: true }),
    connection: { state: 'available' },
    action: 'reject',
    rule: 'defaultAction',
  },
  {
    name: 'compares available case-insensitively when revoke is true',
    policy: doc({ revoke: true }),
    connection: { state: 'Available' },
    action: 'reject',
    rule: 'defaultAction',
  },
  {
    name: 'keeps an available connection that no rule allows when revoke is true and defaultAction is keep',
    policy: doc({ revoke: true, defaultAction: 'keep' }),
    connection: { state: 'available' },
    action: 'keep',
    rule: 'defaultAction',
  },
  {
    name: 'keeps, never accepts, an available connection allowed by an accepting rule',
    policy: doc({ revoke: true, rules: [acceptAcme] }),
    connection: { state: 'available' },
    action: 'keep',
    rule: 'acme',
    reason: 'allowed by rule acme',
  },
  ...[
    'rejected',
    'Rejected',
    'deleted',
    'deleting',
    'failed',
    'expired',
    'pending',
    'partial',
    '',
  ].map((state): DecideCase => ({
    name: `skips a connection in state "${state}" even when revoke is true and the owner is denied`,
    policy: doc({ revoke: true, deny: [MALLORY], rules: [{ id: 'all', principals: '*' }] }),
    connection: { owner: MALLORY, state },
    action: 'skip',
    rule: 'state',
    reason: `connection is ${normaliseState(state)}: nothing to decide`,
  })),
];

const denyCases: DecideCase[] = [
  {
    name: 'rejects a pending connection from an account on the deny list even when a rule allows it',
    policy: doc({
      deny: [MALLORY],
      rules: [{ id: 'mallory', principals: [MALLORY], accept: true }],
    }),
    connection: { owner: MALLORY },
    action: 'reject',
    rule: 'deny',
    reason: `account ${MALLORY} is on the deny list`,
  },
  {
    name: 'rejects a denied account even when a rule allows every principal',
    policy: doc({ deny: [MALLORY], rules: [{ id: 'all', principals: '*', accept: true }] }),
    connection: { owner: MALLORY },
    action: 'reject',
    rule: 'deny',
  },
  {
    name: 'rejects a denied account even when defaultAction is keep',
    policy: doc({ deny: [MALLORY], defaultAction: 'keep' }),
    connection: { owner: MALLORY },
    action: 'reject',
    rule: 'deny',
  },
  {
    name: 'revokes an available connection from a denied account when revoke is true, even when a rule allows it',
    policy: doc({
      revoke: true,
      deny: [MALLORY],
      rules: [{ id: 'mallory', principals: [MALLORY], accept: true }],
    }),
    connection: { owner: MALLORY, state: 'available' },
    action: 'reject',
    rule: 'deny',
  },
  {
    name: 'rejects the owner of an account root ARN on the deny list',
    policy: doc({
      deny: [`arn:aws:iam::${MALLORY}:root`],
      rules: [{ id: 'all', principals: '*' }],
    }),
    connection: { owner: MALLORY },
    action: 'reject',
    rule: 'deny',
  },
  {
    name: 'does not reject an account that is not on the deny list',
    policy: doc({ deny: [MALLORY], rules: [allowAcme] }),
    action: 'keep',
    rule: 'acme',
  },
];

const orderCases: DecideCase[] = [
  {
    name: 'lets the first matching rule win: a keeping rule before an accepting one keeps',
    policy: doc({
      rules: [
        { id: 'first', principals: [ACME] },
        { ...acceptAcme, id: 'second' },
      ],
    }),
    action: 'keep',
    rule: 'first',
  },
  {
    name: 'lets the first matching rule win: an accepting rule before a keeping one accepts',
    policy: doc({
      rules: [
        { ...acceptAcme, id: 'first' },
        { id: 'second', principals: [ACME] },
      ],
    }),
    action: 'accept',
    rule: 'first',
    reason: 'allowed by rule first, which accepts',
  },
  {
    name: 'passes over an earlier rule that does not match and allows by a later one',
    policy: doc({
      rules: [
        { id: 'other-service', services: [SVC_B], principals: [ACME], accept: true },
        { id: 'other-account', principals: [GLOBEX], accept: true },
        { id: 'other-region', principals: [ACME], regions: ['eu-west-1'], accept: true },
        { id: 'acme', principals: [ACME] },
      ],
    }),
    action: 'keep',
    rule: 'acme',
  },
];

const serviceCases: DecideCase[] = [
  {
    name: 'matches every service when a rule has no services',
    policy: doc({ rules: [allowAcme] }),
    connection: { serviceId: SVC_B },
    action: 'keep',
    rule: 'acme',
  },
  {
    name: 'matches every service when services is "*"',
    policy: doc({ rules: [{ ...allowAcme, services: '*' }] }),
    connection: { serviceId: SVC_B },
    action: 'keep',
    rule: 'acme',
  },
  {
    name: 'matches a service on the rule’s list',
    policy: doc({ rules: [{ ...allowAcme, services: [SVC_B, SVC_A] }] }),
    action: 'keep',
    rule: 'acme',
  },
  {
    name: 'does not match a service missing from the rule’s list',
    policy: doc({ rules: [{ ...allowAcme, services: [SVC_A] }] }),
    connection: { serviceId: SVC_B },
    action: 'reject',
    rule: 'defaultAction',
    reason: `no rule allows account ${ACME} on ${SVC_B} from us-east-1; default action is reject`,
  },
  {
    name: 'matches every service when the services list contains "*"',
    policy: doc({ rules: [{ ...allowAcme, services: [SVC_A, '*'] }] }),
    connection: { serviceId: SVC_B },
    action: 'keep',
    rule: 'acme',
  },
];

const principalCases: DecideCase[] = [
  {
    name: 'matches an owner listed by account ID',
    policy: doc({ rules: [{ id: 'acme', principals: [GLOBEX, ACME] }] }),
    action: 'keep',
    rule: 'acme',
  },
  ...['aws', 'aws-cn', 'aws-us-gov'].map((partition): DecideCase => ({
    name: `matches the 12-digit owner of an account root ARN in partition ${partition}`,
    policy: doc({ rules: [{ id: 'acme', principals: [`arn:${partition}:iam::${ACME}:root`] }] }),
    action: 'keep',
    rule: 'acme',
  })),
  {
    name: 'matches every owner when principals is "*"',
    policy: doc({ rules: [{ id: 'all', principals: '*' }] }),
    connection: { owner: STRANGER },
    action: 'keep',
    rule: 'all',
  },
  {
    name: 'matches every owner when the principals list contains "*"',
    policy: doc({ rules: [{ id: 'all', principals: [GLOBEX, '*'] }] }),
    connection: { owner: STRANGER },
    action: 'keep',
    rule: 'all',
  },
  {
    name: 'does not match an owner missing from the principals',
    policy: doc({ rules: [{ id: 'acme', principals: [ACME, `arn:aws:iam::${GLOBEX}:root`] }] }),
    connection: { owner: STRANGER },
    action: 'reject',
    rule: 'defaultAction',
    reason: `no rule allows account ${STRANGER} on ${SVC_A} from us-east-1; default action is reject`,
  },
];

const regionCases: DecideCase[] = [
  {
    name: 'matches any Region when a rule has no regions',
    policy: doc({ rules: [allowAcme] }),
    connection: { region: 'ap-southeast-2' },
    action: 'keep',
    rule: 'acme',
  },
  {
    name: 'matches a connection from a listed Region',
    policy: doc({ rules: [{ ...allowAcme, regions: ['eu-west-1', 'us-east-1'] }] }),
    action: 'keep',
    rule: 'acme',
  },
  {
    name: 'does not match a connection from a Region missing from the list',
    policy: doc({ rules: [{ ...allowAcme, regions: ['eu-west-1', 'us-east-1'] }] }),
    connection: { region: 'us-east-2' },
    action: 'reject',
    rule: 'defaultAction',
    reason: `no rule allows account ${ACME} on ${SVC_A} from us-east-2; default action is reject`,
  },
];

const expiryCases: DecideCase[] = [
  {
    name: 'never allows by an expired rule and names it in the reason',
    policy: doc({ rules: [{ ...acceptAcme, expires: '2026-01-01T00:00:00Z' }] }),
    action: 'reject',
    rule: 'defaultAction',
    reason: 'rule acme matched but expired at 2026-01-01T00:00:00.000Z; default action is reject',
  },
  {
    name: 'counts a rule that expires exactly now as expired',
    policy: doc({ rules: [{ ...acceptAcme, expires: NOW }] }),
    action: 'reject',
    rule: 'defaultAction',
    reason: /^rule acme matched but expired at /,
  },
  {
    name: 'counts an expiry given with an offset at its instant (expired at exactly now)',
    policy: doc({ rules: [{ ...acceptAcme, expires: '2026-06-01T14:00:00+02:00' }] }),
    action: 'reject',
    rule: 'defaultAction',
  },
  {
    name: 'still allows by a rule that expires one millisecond after now',
    policy: doc({ rules: [{ ...acceptAcme, expires: '2026-06-01T12:00:00.001Z' }] }),
    action: 'accept',
    rule: 'acme',
  },
  {
    name: 'applies defaultAction keep after an expired rule and still names the rule',
    policy: doc({
      defaultAction: 'keep',
      rules: [{ ...acceptAcme, expires: '2026-01-01T00:00:00Z' }],
    }),
    action: 'keep',
    rule: 'defaultAction',
    reason: 'rule acme matched but expired at 2026-01-01T00:00:00.000Z; default action is keep',
  },
  {
    name: 'lets a later rule allow after an earlier matching rule has expired',
    policy: doc({
      rules: [
        { ...acceptAcme, id: 'old', expires: '2026-01-01T00:00:00Z' },
        { id: 'new', principals: [ACME] },
      ],
    }),
    action: 'keep',
    rule: 'new',
    reason: 'allowed by rule new',
  },
  {
    name: 'names the first expired matching rule when several have expired',
    policy: doc({
      rules: [
        { ...allowAcme, id: 'older', expires: '2025-01-01T00:00:00Z' },
        { ...allowAcme, id: 'old', expires: '2026-01-01T00:00:00Z' },
      ],
    }),
    action: 'reject',
    rule: 'defaultAction',
    reason: /^rule older matched but expired at 2025-01-01T00:00:00.000Z;/,
  },
  {
    name: 'does not name an expired rule that does not match the connection',
    policy: doc({
      rules: [{ id: 'globex', principals: [GLOBEX], expires: '2026-01-01T00:00:00Z' }],
    }),
    action: 'reject',
    rule: 'defaultAction',
    reason: /^no rule allows account 111122223333/,
  },
];

const acceptCases: DecideCase[] = [
  {
    name: 'accepts a pending connection allowed by a rule that says accept',
    policy: doc({ rules: [acceptAcme] }),
    action: 'accept',
    rule: 'acme',
    reason: 'allowed by rule acme, which accepts',
  },
  {
    name: 'keeps a pending connection allowed by a rule with accept false',
    policy: doc({ rules: [{ ...allowAcme, accept: false }] }),
    action: 'keep',
    rule: 'acme',
    reason: 'allowed by rule acme',
  },
  {
    name: 'keeps a pending connection allowed by a rule without accept (defaults to false)',
    policy: doc({ rules: [allowAcme] }),
    action: 'keep',
    rule: 'acme',
  },
];

const defaultCases: DecideCase[] = [
  {
    name: 'rejects a pending connection that no rule allows when defaultAction is reject',
    policy: doc({ defaultAction: 'reject', rules: [{ id: 'globex', principals: [GLOBEX] }] }),
    action: 'reject',
    rule: 'defaultAction',
  },
  {
    name: 'keeps a pending connection that no rule allows when defaultAction is keep',
    policy: doc({ defaultAction: 'keep', rules: [{ id: 'globex', principals: [GLOBEX] }] }),
    action: 'keep',
    rule: 'defaultAction',
    reason: `no rule allows account ${ACME} on ${SVC_A} from us-east-1; default action is keep`,
  },
  {
    name: 'rejects every pending connection when there is no rule and defaultAction is reject',
    policy: doc({ rules: [] }),
    connection: { owner: STRANGER },
    action: 'reject',
    rule: 'defaultAction',
  },
];

const designExample = JSON.parse(readFixture('design-example.json')) as Doc;
const exampleCases: DecideCase[] = [
  {
    name: 'docs/policy.md example: rejects the denied account',
    policy: designExample,
    connection: { owner: MALLORY },
    action: 'reject',
    rule: 'deny',
  },
  {
    name: 'docs/policy.md example: accepts acme-prod by account ID from eu-west-1 before expiry',
    policy: designExample,
    connection: { region: 'eu-west-1' },
    action: 'accept',
    rule: 'acme-prod',
  },
  {
    name: 'docs/policy.md example: accepts acme-prod by its account root ARN',
    policy: designExample,
    connection: { owner: GLOBEX },
    action: 'accept',
    rule: 'acme-prod',
  },
  {
    name: 'docs/policy.md example: rejects acme-prod from an unlisted Region',
    policy: designExample,
    connection: { region: 'ap-south-1' },
    action: 'reject',
    rule: 'defaultAction',
  },
  {
    name: 'docs/policy.md example: rejects acme-prod on another service',
    policy: designExample,
    connection: { serviceId: SVC_B },
    action: 'reject',
    rule: 'defaultAction',
  },
  {
    name: 'docs/policy.md example: rejects acme-prod once the rule has expired',
    policy: designExample,
    now: '2027-06-30T00:00:00Z',
    action: 'reject',
    rule: 'defaultAction',
    reason: /^rule acme-prod matched but expired at 2027-06-30T00:00:00.000Z/,
  },
  {
    name: 'docs/policy.md example: skips available connections (revoke is false)',
    policy: designExample,
    connection: { owner: MALLORY, state: 'available' },
    action: 'skip',
    rule: 'state',
  },
];

describe('decide', () => {
  describe.each([
    ['the connection state', stateCases],
    ['the deny list', denyCases],
    ['rule order', orderCases],
    ['services', serviceCases],
    ['principals', principalCases],
    ['regions', regionCases],
    ['expiry', expiryCases],
    ['accept', acceptCases],
    ['defaultAction', defaultCases],
    ['the docs/policy.md example', exampleCases],
  ])('%s', (_group, cases) => {
    test.each(cases)('$name', (c) => {
      const policy = policyOf(c.policy);
      const decision = decide(policy, connection(c.connection), new Date(c.now ?? NOW));
      expect(decision).toEqual<Decision>({
        action: c.action,
        rule: c.rule,
        reason: expect.any(String) as string,
      });
      if (typeof c.reason === 'string') expect(decision.reason).toBe(c.reason);
      else if (c.reason) expect(decision.reason).toMatch(c.reason);
    });

    test.each(cases)('decides the same in dryRun mode: $name', (c) => {
      const enforce = policyOf({ ...c.policy, mode: 'enforce' });
      const dryRun = policyOf({ ...c.policy, mode: 'dryRun' });
      const now = new Date(c.now ?? NOW);
      expect(decide(dryRun, connection(c.connection), now)).toEqual(
        decide(enforce, connection(c.connection), now),
      );
    });
  });

  // BUG (lambda/policy.ts, parseRegions/parseRule): a `regions` list that repeats a Region
  // makes parseRegions return undefined *without* reporting an error (it compares the Set's
  // size with the array's length), and parseRule then builds the rule with no `regions` at
  // all, i.e. "any Region". A restricted rule silently becomes unrestricted.
  // Input:    rules: [{ id: "acme", principals: ["111122223333"], regions: ["eu-west-1", "eu-west-1"] }]
  // Expected: either a validation error at rules[0].regions[1], or a rule limited to eu-west-1.
  // Actual:   ok: true, the rule has no regions, and a pending connection from us-east-1 is
  //           allowed by rule acme.
  // Marked failing so the suite stays green until policy.ts is fixed; remove `.failing` then.
  test('never lets a rule whose regions repeat a Region allow a connection from another Region', () => {
    const result = validatePolicy(docWithRule({ regions: ['eu-west-1', 'eu-west-1'] }));
    if (!result.ok) {
      expect(result.errors).toContainEqual({
        path: 'rules[0].regions[1]',
        message: expect.stringContaining('eu-west-1') as string,
      });
      return;
    }
    expect(result.policy.rules[0]?.regions).toEqual(new Set(['eu-west-1']));
    const decision = decide(result.policy, connection({ region: 'us-east-1' }), new Date(NOW));
    expect(decision).toMatchObject({ action: 'reject', rule: 'defaultAction' });
  });
});

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

interface ErrorCase {
  readonly name: string;
  /** A document (serialised with JSON.stringify) or raw JSON text. */
  readonly input: Doc | string;
  /** Every error expected, in order: its exact path and a fragment of its message. */
  readonly errors: readonly (readonly [path: string, message: string | RegExp])[];
}

const KNOWN_TOP =
  'unknown field (expected one of version, description, mode, defaultAction, revoke, deny, denySets, rules)';
const KNOWN_RULE =
  'unknown field (expected one of id, description, services, principals, principalSets, regions, expires, accept)';
const NOT_ACCOUNT = 'is not a 12-digit account ID or account root ARN';
const NOT_SERVICE = 'is not an endpoint service ID (vpce-svc- and 8 to 17 hex digits)';
const NOT_REGION = 'is not a Region name such as "eu-west-1"';
const NOT_DATE = 'is not an RFC 3339 date-time with a time zone, such as "2027-06-30T00:00:00Z"';
const NOT_RULE_ID = 'is not a rule id (1–64 letters, digits, ".", "_", ":" or "-")';

const errorCases: ErrorCase[] = [
  // Not JSON
  {
    name: 'reports the line and column of a JSON syntax error',
    input: '{\n  "version": 1\n  "rules": []\n}',
    errors: [['(root)', /^not valid JSON at line 3, column 3: /]],
  },
  {
    name: 'reports the column of a trailing comma on the first line',
    input: '{"version": 1,}',
    errors: [['(root)', /^not valid JSON at line 1, column 15: /]],
  },
  {
    name: 'reports text after the JSON value',
    input: '{"version": 1} x',
    errors: [['(root)', /^not valid JSON at line 1, column 16: /]],
  },
  {
    name: 'reports empty text as not valid JSON',
    input: '',
    errors: [['(root)', /^not valid JSON/]],
  },
  {
    name: 'reports an unexpected token as not valid JSON',
    input: "{'version': 1}",
    errors: [['(root)', /^not valid JSON/]],
  },
  // Not an object
  ...(
    [
      ['null', 'null'],
      ['[]', 'an array'],
      ['"policy"', 'a string'],
      ['1', 'a number'],
      ['true', 'a boolean'],
    ] as const
  ).map(([text, what]): ErrorCase => ({
    name: `rejects a document that is ${what}, not an object`,
    input: text,
    errors: [['(root)', `expected a JSON object, got ${what}`]],
  })),
  // Unknown fields
  {
    name: 'rejects an unknown top-level field',
    input: doc({ rule: [] }),
    errors: [['rule', KNOWN_TOP]],
  },
  {
    name: 'rejects an unknown field in a rule',
    input: docWithRule({ regoins: ['eu-west-1'] }),
    errors: [['rules[0].regoins', KNOWN_RULE]],
  },
  {
    name: 'rejects a "__proto__" field rather than treating it as the prototype',
    input: '{"version": 1, "defaultAction": "reject", "rules": [], "__proto__": {"x": 1}}',
    errors: [['__proto__', KNOWN_TOP]],
  },
  // version
  {
    name: 'requires version',
    input: { defaultAction: 'reject', rules: [] },
    errors: [['version', 'is required and must be 1']],
  },
  {
    name: 'rejects version 2',
    input: doc({ version: 2 }),
    errors: [['version', '2 is not a supported version (expected 1)']],
  },
  {
    name: 'rejects version given as a string',
    input: doc({ version: '1' }),
    errors: [['version', '"1" is not a supported version (expected 1)']],
  },
  // mode
  {
    name: 'rejects a mode that is not enforce or dryRun (case matters)',
    input: doc({ mode: 'dryrun' }),
    errors: [['mode', '"dryrun" is not one of "enforce", "dryRun"']],
  },
  {
    name: 'rejects a null mode',
    input: doc({ mode: null }),
    errors: [['mode', 'null is not one of "enforce", "dryRun"']],
  },
  // defaultAction
  {
    name: 'requires defaultAction',
    input: { version: 1, rules: [] },
    errors: [['defaultAction', 'is required: "reject" or "keep"']],
  },
  {
    name: 'rejects defaultAction accept',
    input: doc({ defaultAction: 'accept' }),
    errors: [['defaultAction', '"accept" is not one of "reject", "keep"']],
  },
  {
    name: 'rejects a null defaultAction',
    input: doc({ defaultAction: null }),
    errors: [['defaultAction', 'null is not one of "reject", "keep"']],
  },
  // revoke
  {
    name: 'rejects revoke given as a string',
    input: doc({ revoke: 'true' }),
    errors: [['revoke', 'must be true or false, got "true"']],
  },
  {
    name: 'rejects revoke given as a number',
    input: doc({ revoke: 1 }),
    errors: [['revoke', 'must be true or false, got 1']],
  },
  // deny
  {
    name: 'rejects deny that is not an array',
    input: doc({ deny: MALLORY }),
    errors: [['deny', 'must be an array of account IDs, got a string']],
  },
  {
    name: 'rejects a null deny',
    input: doc({ deny: null }),
    errors: [['deny', 'must be an array of account IDs, got null']],
  },
  {
    name: 'rejects a malformed account ID in deny',
    input: doc({ deny: [MALLORY, '9999'] }),
    errors: [['deny[1]', `"9999" ${NOT_ACCOUNT}`]],
  },
  {
    name: 'rejects an account ID given as a number in deny',
    input: doc({ deny: [999988887777] }),
    errors: [['deny[0]', `999988887777 ${NOT_ACCOUNT}`]],
  },
  {
    name: 'rejects "*" in deny and says how to reject everyone',
    input: doc({ deny: ['*'] }),
    errors: [
      ['deny[0]', '"*" is not allowed in deny: to reject everyone, use "defaultAction": "reject"'],
    ],
  },
  // rules
  {
    name: 'requires rules',
    input: { version: 1, defaultAction: 'reject' },
    errors: [['rules', 'is required: an array of rules (it may be empty)']],
  },
  {
    name: 'rejects rules that is not an array',
    input: doc({ rules: { id: 'acme', principals: [ACME] } }),
    errors: [['rules', 'must be an array, got an object']],
  },
  {
    name: 'rejects a rule that is not an object',
    input: doc({ rules: ['acme'] }),
    errors: [['rules[0]', 'must be an object, got a string']],
  },
  {
    name: 'rejects a null rule',
    input: doc({ rules: [allowAcme, null] }),
    errors: [['rules[1]', 'must be an object, got null']],
  },
  // rule id
  {
    name: 'requires a rule id',
    input: doc({ rules: [{ principals: [ACME] }] }),
    errors: [['rules[0].id', 'is required: a short name such as "acme-prod"']],
  },
  ...['acme prod', '', '-acme', 'a'.repeat(65), 'acme/prod'].map((id): ErrorCase => ({
    name: `rejects the rule id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 8)}… (${id.length} chars)` : id)}`,
    input: docWithRule({ id }),
    errors: [['rules[0].id', NOT_RULE_ID]],
  })),
  {
    name: 'rejects a rule id that is not a string',
    input: docWithRule({ id: 7 }),
    errors: [['rules[0].id', `7 ${NOT_RULE_ID}`]],
  },
  ...['deny', 'defaultAction', 'state'].map((id): ErrorCase => ({
    name: `rejects the reserved rule id "${id}"`,
    input: docWithRule({ id }),
    errors: [
      ['rules[0].id', `"${id}" is reserved (it names a list in decisions); choose another id`],
    ],
  })),
  {
    name: 'rejects a duplicate rule id and names the first rule with it',
    input: doc({ rules: [allowAcme, { id: 'other', principals: '*' }, allowAcme] }),
    errors: [['rules[2].id', '"acme" is already the id of rules[0]']],
  },
  // principals
  {
    name: 'names the JSON path of a malformed account ID (the message docs/policy.md quotes)',
    input: doc({
      rules: [
        { id: 'a', principals: [ACME] },
        { id: 'b', principals: [GLOBEX] },
        { id: 'c', principals: ['12345'] },
      ],
    }),
    errors: [['rules[2].principals[0]', `"12345" ${NOT_ACCOUNT}`]],
  },
  {
    name: 'requires principals in a rule',
    input: doc({ rules: [{ id: 'acme' }] }),
    errors: [['rules[0].principals', 'is required: account IDs, account root ARNs, or "*"']],
  },
  {
    name: 'rejects an empty principals list',
    input: docWithRule({ principals: [] }),
    errors: [['rules[0].principals', 'must be "*" or a non-empty array of principals, got []']],
  },
  {
    name: 'rejects a single account ID not wrapped in a list',
    input: docWithRule({ principals: ACME }),
    errors: [
      ['rules[0].principals', `must be "*" or a non-empty array of principals, got "${ACME}"`],
    ],
  },
  ...[
    '1111222233334',
    '11112222333',
    '1111-2222-3333',
    ' 111122223333',
    'arn:aws:iam::111122223333:user/bob',
    'arn:aws:iam::111122223333:role/Admin',
    'arn:aws:sts::111122223333:assumed-role/Admin/bob',
    'arn:aws:iam::11112222333:root',
    'arn:aws:iam:us-east-1:111122223333:root',
    'arn:aws:iam::111122223333:root/',
    '111122223333:root',
  ].map((principal): ErrorCase => ({
    name: `rejects the principal ${JSON.stringify(principal)}`,
    input: docWithRule({ principals: [ACME, principal] }),
    errors: [['rules[0].principals[1]', `${JSON.stringify(principal)} ${NOT_ACCOUNT}`]],
  })),
  {
    name: 'rejects an account ID given as a number in principals',
    input: docWithRule({ principals: [111122223333] }),
    errors: [['rules[0].principals[0]', `111122223333 ${NOT_ACCOUNT}`]],
  },
  {
    name: 'reports a malformed principal even next to "*"',
    input: docWithRule({ principals: ['*', '12345'] }),
    errors: [['rules[0].principals[1]', `"12345" ${NOT_ACCOUNT}`]],
  },
  // services
  ...[
    'vpce-svc-0123456',
    'vpce-svc-0123456789abcdef01',
    'vpce-svc-0123456789ABCDEF0',
    'vpce-svc-0123456789abcdefg',
    'vpce-0123456789abcdef0',
    'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0',
  ].map((service): ErrorCase => ({
    name: `rejects the service ID ${JSON.stringify(service)}`,
    input: docWithRule({ services: [SVC_A, service] }),
    errors: [['rules[0].services[1]', `${JSON.stringify(service)} ${NOT_SERVICE}`]],
  })),
  {
    name: 'rejects an empty services list',
    input: docWithRule({ services: [] }),
    errors: [['rules[0].services', 'must be "*" or a non-empty array of service IDs, got []']],
  },
  {
    name: 'rejects a single service ID not wrapped in a list',
    input: docWithRule({ services: SVC_A }),
    errors: [['rules[0].services', 'must be "*" or a non-empty array of service IDs']],
  },
  // regions
  {
    name: 'rejects an empty regions list',
    input: docWithRule({ regions: [] }),
    errors: [['rules[0].regions', 'must be a non-empty array of Region names, got []']],
  },
  {
    name: 'rejects "*" as regions (absent means any Region)',
    input: docWithRule({ regions: '*' }),
    errors: [['rules[0].regions', 'must be a non-empty array of Region names, got "*"']],
  },
  ...['EU-WEST-1', 'eu-west', 'us-east-1a', 'euwest1', '*', ''].map((region): ErrorCase => ({
    name: `rejects the Region ${JSON.stringify(region)}`,
    input: docWithRule({ regions: ['eu-west-1', region] }),
    errors: [['rules[0].regions[1]', `${JSON.stringify(region)} ${NOT_REGION}`]],
  })),
  // expires
  ...[
    ['2027-06-30T00:00:00', 'without a time zone'],
    ['2027-06-30', 'without a time'],
    ['2027-02-31T00:00:00Z', 'that does not exist (February 31)'],
    ['2027-02-29T00:00:00Z', 'that does not exist (February 29 of a common year)'],
    ['2027-13-01T00:00:00Z', 'with month 13'],
    ['2027-06-30T24:00:00Z', 'at hour 24'],
    ['2027-06-30 00:00:00Z', 'with a space instead of T'],
    ['tomorrow', 'in words'],
  ].map(([expires, what]): ErrorCase => ({
    name: `rejects an expiry date ${what}`,
    input: docWithRule({ expires }),
    errors: [['rules[0].expires', `${JSON.stringify(expires)} ${NOT_DATE}`]],
  })),
  {
    name: 'rejects an expiry date that is not a string',
    input: docWithRule({ expires: 1782777600000 }),
    errors: [['rules[0].expires', `1782777600000 ${NOT_DATE}`]],
  },
  // accept
  {
    name: 'rejects accept that is not a boolean',
    input: docWithRule({ accept: 'yes' }),
    errors: [['rules[0].accept', 'must be true or false, got "yes"']],
  },
  // description
  {
    name: 'rejects a top-level description longer than 256 characters',
    input: doc({ description: 'x'.repeat(257) }),
    errors: [['description', 'must be a string of at most 256 characters']],
  },
  {
    name: 'rejects a rule description longer than 256 characters',
    input: docWithRule({ description: 'x'.repeat(257) }),
    errors: [['rules[0].description', 'must be a string of at most 256 characters']],
  },
  {
    name: 'rejects a description that is not a string',
    input: docWithRule({ description: 42 }),
    errors: [['rules[0].description', 'must be a string of at most 256 characters']],
  },
  // Several errors at once
  {
    name: 'reports every error of a document, in document order',
    input: {
      version: 2,
      mode: 'audit',
      extra: true,
      revoke: 'no',
      deny: ['*', '42'],
      rules: [
        { id: 'deny', principals: ['12345'], regions: ['Mars'], colour: 'red' },
        { id: 'ok', principals: [ACME], services: ['svc'], expires: '2027-06-30', accept: 1 },
      ],
    },
    errors: [
      ['extra', KNOWN_TOP],
      ['version', '2 is not a supported version'],
      ['mode', '"audit" is not one of'],
      ['defaultAction', 'is required'],
      ['revoke', 'must be true or false, got "no"'],
      ['deny[0]', '"*" is not allowed in deny'],
      ['deny[1]', `"42" ${NOT_ACCOUNT}`],
      ['rules[0].colour', KNOWN_RULE],
      ['rules[0].id', '"deny" is reserved'],
      ['rules[0].principals[0]', `"12345" ${NOT_ACCOUNT}`],
      ['rules[0].regions[0]', `"Mars" ${NOT_REGION}`],
      ['rules[1].services[0]', `"svc" ${NOT_SERVICE}`],
      ['rules[1].expires', `"2027-06-30" ${NOT_DATE}`],
      ['rules[1].accept', 'must be true or false, got 1'],
    ],
  },
];

describe('parsePolicy', () => {
  test.each(errorCases)('$name', ({ input, errors }) => {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    const result = parsePolicy(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path)).toEqual(errors.map(([path]) => path));
    result.errors.forEach((error, i) => {
      const [, message] = errors[i]!;
      if (typeof message === 'string') expect(error.message).toContain(message);
      else expect(error.message).toMatch(message);
    });
  });

  test('formats errors one per line as "path: message" (as docs/policy.md shows them)', () => {
    const result = parsePolicy(
      JSON.stringify(
        doc({
          revoke: 'no',
          rules: [
            { id: 'a', principals: [ACME] },
            { id: 'b', principals: [GLOBEX] },
            { id: 'c', principals: ['12345'] },
          ],
        }),
      ),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(formatPolicyErrors(result.errors)).toBe(
      [
        'revoke: must be true or false, got "no"',
        'rules[2].principals[0]: "12345" is not a 12-digit account ID or account root ARN',
      ].join('\n'),
    );
  });

  test('formats an empty error list as an empty string', () => {
    expect(formatPolicyErrors([])).toBe('');
  });

  test('abbreviates a very long offending value in the message', () => {
    const result = validatePolicy(docWithRule({ principals: ['1'.repeat(200)] }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]?.message).toMatch(/^"1{76}\.\.\. is not a 12-digit account ID/);
  });

  // BUG (lambda/policy.ts, describeJsonError): the line/column is taken from the first
  // "position N" anywhere in V8's message, and for "Unexpected token" V8 echoes the source
  // text, so a document containing the words "position N" gets a made-up location.
  // Input:    parsePolicy('{"a": position 30}')   (the error is at offset 6: line 1, column 7)
  // Expected: "line 1, column 7", or no line/column at all.
  // Actual:   "not valid JSON at line 1, column 19: Unexpected token 'p', ..." (from "position 30").
  // Minor (a misleading message, no wrong decision); marked failing until policy.ts is fixed.
  test('does not take a line and column from the source text V8 echoes in its message', () => {
    const result = parsePolicy('{"a": position 30}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const message = result.errors[0]?.message ?? '';
    if (/line \d+, column \d+/.test(message)) expect(message).toContain('line 1, column 7');
  });
});

describe('error paths', () => {
  // BUG (lambda/policy.ts, checkKeys/join): an unknown top-level field whose name is the
  // empty string is reported with an empty path, so the error names no place in the document
  // (formatPolicyErrors prints ": unknown field …"). In a rule the path is "rules[0]." .
  // Input:    {"version": 1, "defaultAction": "reject", "rules": [], "": 1}
  // Expected: one error with a non-empty path that names the field (e.g. '[""]').
  // Actual:   [{ path: "", message: "unknown field (expected one of version, …)" }].
  // Related, not pinned: keys are not quoted, so a top-level field named "rules[0].id" is
  // reported at the path "rules[0].id", as if it were the id of the first rule.
  test('names a non-empty path for an unknown top-level field whose name is empty', () => {
    const result = parsePolicy('{"version": 1, "defaultAction": "reject", "rules": [], "": 1}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.message).toContain('unknown field');
    expect(result.errors[0]?.path).not.toBe('');
  });
});

describe('valid policies', () => {
  test('accepts the docs/policy.md example policy and normalises it', () => {
    const result = parsePolicy(readFixture('design-example.json'));
    expect(result).toEqual({
      ok: true,
      policy: {
        version: 1,
        mode: 'enforce',
        defaultAction: 'reject',
        revoke: false,
        deny: new Set([MALLORY]),
        rules: [
          {
            id: 'acme-prod',
            services: new Set([SVC_A]),
            principals: new Set([ACME, GLOBEX]),
            regions: new Set(['us-east-1', 'eu-west-1']),
            expires: new Date('2027-06-30T00:00:00Z'),
            accept: true,
          },
        ],
      },
    });
  });

  test('fills the defaults: mode enforce, revoke false, deny empty, services any, accept false', () => {
    expect(parsePolicy(JSON.stringify(docWithRule()))).toEqual({
      ok: true,
      policy: {
        version: 1,
        mode: 'enforce',
        defaultAction: 'reject',
        revoke: false,
        deny: new Set(),
        rules: [{ id: 'acme', services: '*', principals: new Set([ACME]), accept: false }],
      },
    });
  });

  test('leaves regions and expires out of a rule that has none (any Region, never expires)', () => {
    const rule = policyOf(docWithRule()).rules[0];
    expect(rule).not.toHaveProperty('regions');
    expect(rule).not.toHaveProperty('expires');
  });

  test('accepts an empty rules list with defaultAction keep', () => {
    expect(policyOf(doc({ defaultAction: 'keep' }))).toMatchObject({
      defaultAction: 'keep',
      rules: [],
    });
  });

  test('accepts mode dryRun and revoke true', () => {
    expect(policyOf(doc({ mode: 'dryRun', revoke: true }))).toMatchObject({
      mode: 'dryRun',
      revoke: true,
    });
  });

  test.each(['aws', 'aws-cn', 'aws-us-gov'])(
    'normalises an account root ARN in partition %s to its account ID, in principals and deny',
    (partition) => {
      const policy = policyOf(
        docWithRule(
          { principals: [`arn:${partition}:iam::${GLOBEX}:root`] },
          { deny: [`arn:${partition}:iam::${MALLORY}:root`] },
        ),
      );
      expect(policy.rules[0]?.principals).toEqual(new Set([GLOBEX]));
      expect(policy.deny).toEqual(new Set([MALLORY]));
    },
  );

  test('collapses a principals or services list containing "*" to "*"', () => {
    const rule = policyOf(docWithRule({ principals: [ACME, '*'], services: ['*', SVC_A] }))
      .rules[0];
    expect(rule).toMatchObject({ principals: '*', services: '*' });
  });

  test('accepts a description of exactly 256 characters, at the top and in a rule', () => {
    const d = 'x'.repeat(256);
    expect(validatePolicy(docWithRule({ description: d }, { description: d })).ok).toBe(true);
  });

  test('accepts rule ids of 1 and 64 characters made of letters, digits, ".", "_", ":" and "-"', () => {
    expect(
      validatePolicy(
        doc({
          rules: [
            { id: 'a', principals: '*' },
            { id: `A0._:-${'z'.repeat(58)}`, principals: '*' },
            { id: 'Deny', principals: '*' },
          ],
        }),
      ).ok,
    ).toBe(true);
  });

  test.each([
    ['2027-06-30T00:00:00Z', '2027-06-30T00:00:00.000Z'],
    ['2027-06-30T02:00:00+02:00', '2027-06-30T00:00:00.000Z'],
    ['2027-06-29T19:00:00-05:00', '2027-06-30T00:00:00.000Z'],
    ['2027-06-30T00:00:00.250Z', '2027-06-30T00:00:00.250Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['2027-07-01T01:00:00+02:00', '2027-06-30T23:00:00.000Z'],
  ])('reads the expiry %s as the instant %s', (expires, instant) => {
    expect(policyOf(docWithRule({ expires })).rules[0]?.expires?.toISOString()).toBe(instant);
  });

  test.each(['us-east-1', 'eu-central-2', 'ap-southeast-4', 'cn-north-1', 'us-gov-west-1'])(
    'accepts the Region %s',
    (region) => {
      expect(policyOf(docWithRule({ regions: [region] })).rules[0]?.regions).toEqual(
        new Set([region]),
      );
    },
  );

  test.each(['vpce-svc-01234567', 'vpce-svc-0123456789abcdef0'])(
    'accepts the service ID %s',
    (service) => {
      expect(policyOf(docWithRule({ services: [service] })).rules[0]?.services).toEqual(
        new Set([service]),
      );
    },
  );
});

describe('duplicate keys', () => {
  const base = '"version": 1, "defaultAction": "reject"';

  test('a second "deny" list is an error, not a silent loss of the first', () => {
    const result = parsePolicy(`{${base}, "deny": ["999988887777"], "rules": [], "deny": []}`);
    expect(result).toEqual({
      ok: false,
      errors: [{ path: 'deny', message: 'appears twice; JSON keeps only the last one' }],
    });
  });

  test('names the path of a key repeated inside a rule, and still reports the other errors', () => {
    const text = `{${base}, "rules": [{"id": "a", "principals": ["*"]}, {"id": "b", "principals": ["1"], "principals": ["*"]}]}`;
    const result = parsePolicy(text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.path)).toEqual(['rules[1].principals']);
  });

  test('equal keys in different objects, and key-like text inside strings, are fine', () => {
    const text = `{${base}, "rules": [{"id": "a", "principals": ["*"], "description": "\\"id\\": \\"a\\", \\"id\\""}, {"id": "b", "principals": ["*"]}]}`;
    expect(parsePolicy(text).ok).toBe(true);
  });
});
