import fc from 'fast-check';
import {
  decodeSetPart,
  encodePrincipalSet,
  isPrincipalSetName,
  newSetVersion,
  parseAccountList,
  parseSetManifest,
  setDigest,
  setListProblem,
} from '../../core/principal-set';

// The principal sets' format (core/principal-set.ts): an encoding that round-trips any list
// of 12-digit accounts into parts that each fit a tier, and a decoder that refuses any part
// that does not belong where it is read.

const VERSION = '20261125T120000Z-a1b2c3';
const ADVANCED = 8192;
const STANDARD = 4096;

/** Decodes every part of an encoded set, as a reader would. */
function decodeAll(set: string, version: string, parts: readonly string[]): string[] {
  return parts.flatMap((text, i) => {
    const decoded = decodeSetPart(text, { set, version, part: i + 1, of: parts.length });
    if (!('accounts' in decoded)) throw new Error(decoded.problem);
    return [...decoded.accounts];
  });
}

const account = fc
  .bigInt({ min: 0n, max: 999_999_999_999n })
  .map((n) => n.toString().padStart(12, '0'));

describe('encodePrincipalSet', () => {
  test('round-trips any accounts, sorted and once each, in parts within the tier', () => {
    fc.assert(
      fc.property(
        fc.array(account, { maxLength: 3000 }),
        fc.constantFrom(STANDARD, ADVANCED),
        (accounts, maxBytes) => {
          const { manifest, manifestText, parts } = encodePrincipalSet(
            'gold',
            VERSION,
            accounts,
            maxBytes,
          );
          const expected = [...new Set(accounts)].sort();
          expect(decodeAll('gold', VERSION, parts)).toEqual(expected);
          expect(parts.every((p) => Buffer.byteLength(p) <= maxBytes)).toBe(true);
          expect(manifest).toEqual({
            set: 'gold',
            version: VERSION,
            parts: parts.length,
            accounts: expected.length,
            sha256: setDigest(expected),
          });
          expect(parseSetManifest(manifestText, 'gold')).toEqual({ manifest });
          expect(setListProblem(expected, manifest)).toBeUndefined();
        },
      ),
      { numRuns: 60 },
    );
  });

  test('keeps the extremes: 000000000000 and 999999999999, and neighbours one apart', () => {
    const accounts = ['999999999999', '000000000000', '000000000001', '999999999998'];
    const { parts } = encodePrincipalSet('edge', VERSION, accounts, STANDARD);
    expect(decodeAll('edge', VERSION, parts)).toEqual([...accounts].sort());
  });

  test('100,000 random accounts take about 64 Advanced parts (1,560 accounts a part), 129 Standard', () => {
    const random = fc.sample(account, { numRuns: 100_000, seed: 42 });
    const advanced = encodePrincipalSet('big', VERSION, random, ADVANCED);
    const standard = encodePrincipalSet('big', VERSION, random, STANDARD);
    // A comma-separated list would take 160 and 320: the encoding is what keeps a load of
    // 100,000 accounts within 7 GetParameters (docs/performance.md).
    expect(advanced.parts.length).toBeLessThanOrEqual(66);
    expect(standard.parts.length).toBeLessThanOrEqual(132);
    expect(decodeAll('big', VERSION, advanced.parts)).toHaveLength(advanced.manifest.accounts);
  });

  test('an empty set is a manifest with no parts', () => {
    const { manifest, parts, manifestText } = encodePrincipalSet('none', VERSION, [], ADVANCED);
    expect(parts).toEqual([]);
    expect(manifest).toMatchObject({ parts: 0, accounts: 0 });
    expect(parseSetManifest(manifestText, 'none')).toEqual({ manifest });
  });
});

describe('decodeSetPart refuses a part that does not belong where it is read', () => {
  const { parts } = encodePrincipalSet('gold', VERSION, ['111122223333', '444455556666'], ADVANCED);
  const part = JSON.parse(parts[0]!) as Record<string, unknown>;
  const place = { set: 'gold', version: VERSION, part: 1, of: 1 };
  const decode = (changes: Record<string, unknown>, at = place) =>
    decodeSetPart(JSON.stringify({ ...part, ...changes }), at);

  test.each([
    [
      'of another version (a push overtook the read): stale',
      { version: 'other' },
      /belongs to version "other"/,
      true,
    ],
    ['of another set', { set: 'silver' }, /of set "silver", not version/, true],
    ['in another place', { part: 2 }, /says it is part 2 of 1, not part 1 of 1/, undefined],
    [
      'whose data holds fewer accounts than it says',
      { accounts: 3 },
      /does not hold 3 accounts/,
      undefined,
    ],
    [
      'whose data is cut short',
      { data: Buffer.from([0x85]).toString('base64') },
      /does not hold/,
      undefined,
    ],
    [
      'whose data repeats an account',
      { data: Buffer.from([1, 0]).toString('base64') },
      /does not hold/,
      undefined,
    ],
    ['of another format', { format: 'x' }, /is not a principal set part/, undefined],
  ])('a part %s', (_case, changes, problem, stale) => {
    const decoded = decode(changes);
    expect(decoded).toMatchObject({ problem: expect.stringMatching(problem) });
    expect((decoded as { stale?: boolean }).stale).toBe(stale);
  });

  test('text that is not JSON is no part', () => {
    expect(decodeSetPart('111122223333,444455556666', place)).toEqual({
      problem: 'is not a principal set part',
    });
  });
});

describe('parseSetManifest checks what a reader relies on', () => {
  const { manifestText } = encodePrincipalSet('gold', VERSION, ['111122223333'], ADVANCED);
  const manifest = JSON.parse(manifestText) as Record<string, unknown>;
  test.each([
    ['another set’s', { set: 'silver' }, /is the manifest of set "silver"/],
    ['one without a version', { version: undefined }, /names no valid version/],
    ['one with a version SSM cannot name', { version: 'a/b' }, /names no valid version/],
    ['one with parts but no accounts', { accounts: 0 }, /has invalid counts/],
    ['one with a negative count', { parts: -1 }, /has invalid counts/],
    ['one without its digest', { sha256: 'abc' }, /has no valid sha256/],
    ['another format', { format: 'vpce-guard/principal-set@2' }, /format is not/],
  ])('refuses %s', (_case, changes, problem) => {
    expect(parseSetManifest(JSON.stringify({ ...manifest, ...changes }), 'gold')).toEqual({
      problem: expect.stringMatching(problem),
    });
  });

  test('a list that does not match the manifest’s count or digest is refused', () => {
    const parsed = parseSetManifest(manifestText, 'gold');
    if (!('manifest' in parsed)) throw new Error();
    expect(setListProblem([], parsed.manifest)).toMatch(/hold 0 accounts; the manifest says 1/);
    expect(setListProblem(['444455556666'], parsed.manifest)).toMatch(/sha256/);
  });
});

describe('parseAccountList: the file an operator writes', () => {
  test('reads one account per line, skips blanks and comments, and ignores a byte-order mark', () => {
    const text =
      '\uFEFF# gold customers\n111122223333\r\n\n  arn:aws:iam::444455556666:root  \n111122223333\n';
    expect(parseAccountList(text)).toEqual({
      accounts: ['111122223333', '444455556666'],
      errors: [],
      repeats: 1,
    });
  });

  test('names every line that is not an account', () => {
    expect(parseAccountList('111122223333\n12345\n\narn:aws:iam::444455556666:user/bob\n')).toEqual(
      {
        accounts: ['111122223333'],
        errors: [
          { line: 2, message: '"12345" is not a 12-digit account ID or account root ARN' },
          {
            line: 4,
            message:
              '"arn:aws:iam::444455556666:user/bob" is not a 12-digit account ID or account root ARN',
          },
        ],
        repeats: 0,
      },
    );
  });
});

test('set names and versions use only characters SSM allows in a parameter name', () => {
  expect(['gold', 'gold-customers', 'a.b_c', 'x'.repeat(64)].every(isPrincipalSetName)).toBe(true);
  expect(
    ['', '-gold', 'a/b', 'a:b', 'x'.repeat(65), 'gold customers'].some(isPrincipalSetName),
  ).toBe(false);
  expect(newSetVersion(new Date('2026-11-25T12:00:00.123Z'), 'a1b2c3')).toBe(
    '20261125T120000Z-a1b2c3',
  );
});
