/**
 * Principal sets: allowlists too large for the policy's parameter (docs/policy.md#principal-sets).
 *
 * A set is stored beside the policy as one manifest and N parts, each an SSM parameter value of
 * at most one tier's size. This module is their format, pure: the set's name rule, the account
 * list an operator writes, and the encoding of a version into parts and back.
 *
 * Encoding: the accounts, sorted, as 12-digit numbers; each part holds a contiguous run, the
 * first account in full and every next one as its distance from the previous, each number a
 * LEB128 varint, the bytes in base64. A distance between random account IDs is about 2^23, so
 * an account costs about 4 bytes, 5.3 once in base64, against 13 in a comma-separated list:
 * 100,000 accounts fit in about 66 Advanced parts instead of 160 (docs/performance.md).
 *
 * Consistency: every part names its set, the version it belongs to and its place (`part` of
 * `of`); the manifest names the version, the number of parts and accounts, and the SHA-256 of
 * the whole list. A reader uses a version only when every part matches the manifest and the
 * decoded list matches its count and digest, so a half-written set is never used.
 */
import { createHash, randomBytes } from 'node:crypto';
import { accountIdOf } from './ids';
import { stripByteOrderMark } from './text';

export const SET_NAME_SHAPE =
  '1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';
const SET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A set's name: it is part of parameter names, so it has only characters SSM names allow. */
export function isPrincipalSetName(value: unknown): value is string {
  return typeof value === 'string' && SET_NAME.test(value);
}

const MANIFEST_FORMAT = 'vpce-guard/principal-set@1';
const PART_FORMAT = 'vpce-guard/principal-set-part@1';

/** The commit point of a set's version: what the reader reads first. */
export interface SetManifest {
  readonly set: string;
  /** Names the version's parts' path, and is written into each part. */
  readonly version: string;
  readonly parts: number;
  readonly accounts: number;
  /** SHA-256 (hex) of the sorted account IDs, one per line. */
  readonly sha256: string;
}

/** A version of a set, encoded: the manifest and its parts' values, part 1 first. */
export interface EncodedSet {
  readonly manifest: SetManifest;
  readonly manifestText: string;
  readonly parts: readonly string[];
}

/** A new version name: its time (to read in a listing) and a random suffix (never reused). */
export function newSetVersion(now: Date, suffix = randomBytes(3).toString('hex')): string {
  const time = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${time}-${suffix}`;
}

/** A version name as newSetVersion makes it: only characters SSM allows in a name. */
const VERSION = /^[0-9A-Za-z-]{1,32}$/;

/**
 * Encodes a set's accounts (12-digit IDs, any order, repeats ignored) into a manifest and
 * parts, each value at most `maxPartBytes` bytes.
 */
export function encodePrincipalSet(
  set: string,
  version: string,
  accounts: Iterable<string>,
  maxPartBytes: number,
): EncodedSet {
  const sorted = sortedAccounts(accounts);
  const budget = dataBudget(set, version, maxPartBytes);
  const runs: number[][] = [];
  let run: number[] = [];
  let runBytes = 0;
  let previous = 0;
  for (const account of sorted) {
    const value = Number(account);
    if (run.length > 0 && runBytes + varintLength(value - previous) > budget) {
      runs.push(run);
      run = [];
      runBytes = 0;
    }
    // A part's first account is written in full, so that each part decodes on its own.
    runBytes += varintLength(run.length === 0 ? value : value - previous);
    run.push(value);
    previous = value;
  }
  if (run.length > 0) runs.push(run);

  const parts = runs.map((values, i) =>
    JSON.stringify({
      format: PART_FORMAT,
      set,
      version,
      part: i + 1,
      of: runs.length,
      accounts: values.length,
      data: encodeRun(values),
    }),
  );
  for (const [i, text] of parts.entries()) {
    // A bug guard: the budget is computed for the largest numbers a part header can hold.
    if (Buffer.byteLength(text) > maxPartBytes) {
      throw new Error(`part ${i + 1} of set ${set} is over ${maxPartBytes} bytes`);
    }
  }
  const manifest: SetManifest = {
    set,
    version,
    parts: parts.length,
    accounts: sorted.length,
    sha256: setDigest(sorted),
  };
  return {
    manifest,
    manifestText: JSON.stringify({ format: MANIFEST_FORMAT, ...manifest }),
    parts,
  };
}

/** The manifest in `text`, checked against the set it was read for. */
export function parseSetManifest(
  text: string,
  set: string,
): { readonly manifest: SetManifest } | { readonly problem: string } {
  const value = parseJsonObject(text);
  if (!value) return { problem: 'is not a principal set manifest (not a JSON object)' };
  if (value.format !== MANIFEST_FORMAT) {
    return { problem: `is not a principal set manifest (format is not "${MANIFEST_FORMAT}")` };
  }
  if (value.set !== set) return { problem: `is the manifest of set ${show(value.set)}` };
  const { version, parts, accounts, sha256 } = value;
  if (typeof version !== 'string' || !VERSION.test(version)) {
    return { problem: `names no valid version (${show(version)})` };
  }
  if (!isCount(parts) || !isCount(accounts) || (parts === 0) !== (accounts === 0)) {
    return { problem: `has invalid counts (parts ${show(parts)}, accounts ${show(accounts)})` };
  }
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) {
    return { problem: 'has no valid sha256' };
  }
  return { manifest: { set, version, parts, accounts, sha256 } };
}

/** Where a part belongs, as its manifest says. */
export interface PartPlace {
  readonly set: string;
  readonly version: string;
  /** From 1. */
  readonly part: number;
  readonly of: number;
}

/**
 * The accounts of one part, in order, or why the part does not belong where it was read:
 * `stale` when it belongs to another version of the set (a newer push overwrote, or an older
 * one left it), so the reader may read the manifest again.
 */
export function decodeSetPart(
  text: string,
  place: PartPlace,
):
  | { readonly accounts: readonly string[] }
  | { readonly problem: string; readonly stale?: boolean } {
  const value = parseJsonObject(text);
  if (!value || value.format !== PART_FORMAT) {
    return { problem: 'is not a principal set part' };
  }
  if (value.set !== place.set || value.version !== place.version) {
    return {
      problem: `belongs to version ${show(value.version)} of set ${show(value.set)}, not version ${place.version} of ${place.set}`,
      stale: true,
    };
  }
  if (value.part !== place.part || value.of !== place.of) {
    return {
      problem: `says it is part ${show(value.part)} of ${show(value.of)}, not part ${place.part} of ${place.of}`,
    };
  }
  if (!isCount(value.accounts) || value.accounts === 0 || typeof value.data !== 'string') {
    return { problem: 'has no accounts or no data' };
  }
  const values = decodeRun(value.data, value.accounts);
  if (!values) return { problem: `its data does not hold ${value.accounts} accounts` };
  return { accounts: values.map(accountId) };
}

/**
 * Checks the accounts of every part, in part order, against the manifest; undefined when they
 * are the version it commits.
 */
export function setListProblem(
  accounts: readonly string[],
  manifest: SetManifest,
): string | undefined {
  if (accounts.length !== manifest.accounts) {
    return `its parts hold ${accounts.length} accounts; the manifest says ${manifest.accounts}`;
  }
  if (setDigest(accounts) !== manifest.sha256) {
    return 'its parts do not match the manifest’s sha256 (a part was altered)';
  }
  return undefined;
}

/** SHA-256 (hex) of account IDs, in order, one per line. */
export function setDigest(accounts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const account of accounts) hash.update(`${account}\n`);
  return hash.digest('hex');
}

/** The sorted, unique 12-digit account IDs of `accounts` (each already an account ID). */
export function sortedAccounts(accounts: Iterable<string>): string[] {
  // Same length, digits only: string order is numeric order.
  return [...new Set(accounts)].sort();
}

// ---------------------------------------------------------------------------------------
// The list an operator writes: one account per line
// ---------------------------------------------------------------------------------------

export interface AccountListLine {
  /** From 1. */
  readonly line: number;
  readonly message: string;
}

/**
 * The accounts of a file with one account ID (or account root ARN) per line; blank lines and
 * lines starting with `#` are skipped, a byte-order mark and surrounding spaces ignored.
 */
export function parseAccountList(text: string): {
  readonly accounts: readonly string[];
  readonly errors: readonly AccountListLine[];
  /** Lines that repeat an account already listed. */
  readonly repeats: number;
} {
  const accounts: string[] = [];
  const errors: AccountListLine[] = [];
  const seen = new Set<string>();
  let repeats = 0;
  stripByteOrderMark(text)
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const entry = raw.trim();
      if (entry === '' || entry.startsWith('#')) return;
      const account = accountIdOf(entry);
      if (!account) {
        errors.push({
          line: i + 1,
          message: `${show(entry)} is not a 12-digit account ID or account root ARN`,
        });
        return;
      }
      if (seen.has(account)) repeats += 1;
      else {
        seen.add(account);
        accounts.push(account);
      }
    });
  return { accounts, errors, repeats };
}

// ---------------------------------------------------------------------------------------
// Varints in base64
// ---------------------------------------------------------------------------------------

/** The largest account ID: 12 digits. A varint of a larger value is corrupt. */
const MAX_ACCOUNT = 999_999_999_999;

function encodeRun(values: readonly number[]): string {
  const bytes: number[] = [];
  values.forEach((value, i) => writeVarint(bytes, i === 0 ? value : value - values[i - 1]!));
  return Buffer.from(bytes).toString('base64');
}

/** The values of a run, or undefined when the data is not `count` increasing account IDs. */
function decodeRun(data: string, count: number): number[] | undefined {
  const bytes = Buffer.from(data, 'base64');
  const values: number[] = [];
  let at = 0;
  let previous = 0;
  while (at < bytes.length) {
    let value = 0;
    let scale = 1;
    let byte: number;
    do {
      if (at >= bytes.length || scale > 2 ** 42) return undefined;
      byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    const account = values.length === 0 ? value : previous + value;
    if ((values.length > 0 && value === 0) || account > MAX_ACCOUNT) return undefined;
    values.push(account);
    previous = account;
  }
  return values.length === count ? values : undefined;
}

/** LEB128: 7 bits a byte, low bits first, the high bit set on every byte but the last. */
function writeVarint(out: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) + 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) length += 1;
  return length;
}

/**
 * The raw bytes a part may hold: what base64 leaves of `maxPartBytes` once the part's JSON
 * around its data is counted, with every number in it at its largest.
 */
function dataBudget(set: string, version: string, maxPartBytes: number): number {
  const frame = JSON.stringify({
    format: PART_FORMAT,
    set,
    version,
    part: 99_999,
    of: 99_999,
    accounts: 9_999_999,
    data: '',
  });
  const base64Chars = maxPartBytes - Buffer.byteLength(frame);
  return Math.floor(base64Chars / 4) * 3;
}

const accountId = (value: number): string => String(value).padStart(12, '0');

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
