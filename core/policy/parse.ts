/**
 * The policy's JSON format: a strict validator whose every error names its JSON path
 * (`rules[2].principals[0]: "12345" is not …`). Shared by the function, `cdk synth` (the
 * initial policy file) and the CLI, so it imports nothing heavier than the standard library.
 */
import { accountIdOf, isRegion, isServiceId, SERVICE_ID_SHAPE } from '../ids';
import { isPrincipalSetName, SET_NAME_SHAPE } from '../principal-set';
import { stripByteOrderMark } from '../text';
import {
  type Matcher,
  type PolicyError,
  type PolicyParseResult,
  POLICY_VERSION,
  type Rule,
} from './model';

/** Names that `Decision.rule` uses for the lists; a rule may not take them as its id. */
const RESERVED_RULE_IDS = new Set(['deny', 'defaultAction', 'state']);

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
/** The longest `description` a policy or a rule may have. */
export const MAX_DESCRIPTION = 256;

/**
 * Parses and validates a policy document given as JSON text. A leading byte-order mark, which
 * some editors write, is not part of the document.
 */
export function parsePolicy(document: string): PolicyParseResult {
  const text = stripByteOrderMark(document);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [{ path: '(root)', message: describeJsonError(text, error) }] };
  }
  const duplicates = duplicateKeys(text);
  const result = validatePolicy(value);
  if (duplicates.length === 0) return result;
  return { ok: false, errors: [...duplicates, ...(result.ok ? [] : result.errors)] };
}

/**
 * Keys that appear twice in one object of (already valid) JSON text. JSON.parse keeps only
 * the last, so a policy with two "deny" lists would silently lose the first.
 */
function duplicateKeys(text: string): PolicyError[] {
  const errors: PolicyError[] = [];
  // One frame per open object or array: its path, its keys so far, the key or index now.
  const frames: { path: string; keys?: Set<string>; key?: string; index: number }[] = [];
  let expectingKey = false;
  const childPath = () => {
    const top = frames[frames.length - 1];
    if (!top) return '';
    return top.keys ? join(top.path, top.key ?? '') : `${top.path}[${top.index}]`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = frames[frames.length - 1];
      if (expectingKey && top?.keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) {
          errors.push({
            path: join(top.path, key),
            message: 'appears twice; JSON keeps only the last one',
          });
        }
        top.keys.add(key);
        top.key = key;
        expectingKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      frames.push({
        path: childPath(),
        ...(c === '{' ? { keys: new Set<string>() } : {}),
        index: 0,
      });
      expectingKey = c === '{';
    } else if (c === '}' || c === ']') {
      frames.pop();
    } else if (c === ',') {
      const top = frames[frames.length - 1];
      if (top?.keys) expectingKey = true;
      else if (top) top.index += 1;
    }
  }
  return errors;
}

/** Validates an already-parsed policy document. Reports every error, not just the first. */
export function validatePolicy(value: unknown): PolicyParseResult {
  const errors = new ErrorList();

  if (!isObject(value)) {
    errors.fail('(root)', `expected a JSON object, got ${typeName(value)}`);
    return { ok: false, errors: errors.items };
  }
  checkKeys(
    value,
    '',
    ['version', 'description', 'mode', 'defaultAction', 'revoke', 'deny', 'denySets', 'rules'],
    errors,
  );

  if (!('version' in value)) errors.fail('version', `is required and must be ${POLICY_VERSION}`);
  else if (value.version !== POLICY_VERSION)
    errors.fail(
      'version',
      `${show(value.version)} is not a supported version (expected ${POLICY_VERSION})`,
    );

  optionalDescription(value, '', errors);
  const mode = oneOf(value, 'mode', ['enforce', 'dryRun'] as const, 'enforce', errors);
  const defaultAction =
    'defaultAction' in value
      ? oneOf(value, 'defaultAction', ['reject', 'keep'] as const, undefined, errors)
      : errors.fail('defaultAction', 'is required: "reject" or "keep"');
  const revoke = optionalBoolean(value, 'revoke', '', errors);
  const deny = parseDeny(value.deny, errors);
  const denySets =
    value.denySets === undefined ? undefined : parseSetNames(value.denySets, 'denySets', errors);
  const rules = parseRules(value.rules, errors);

  if (errors.count > 0 || !mode || !defaultAction || !deny || !rules) {
    return { ok: false, errors: errors.items };
  }
  return {
    ok: true,
    policy: {
      version: POLICY_VERSION,
      mode,
      defaultAction,
      revoke: revoke ?? false,
      deny,
      ...(denySets?.length ? { denySets } : {}),
      rules,
    },
  };
}

/** `rules[2].principals[0]: "12345" is not …`, one line per error. */
export function formatPolicyErrors(errors: readonly PolicyError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}

/** Collects every error of one validation; `fail` returns undefined so a parser can `return errors.fail(…)`. */
class ErrorList {
  readonly items: PolicyError[] = [];
  get count(): number {
    return this.items.length;
  }
  fail(path: string, message: string): undefined {
    this.items.push({ path, message });
    return undefined;
  }
}

function parseDeny(value: unknown, errors: ErrorList): ReadonlySet<string> | undefined {
  if (value === undefined) return new Set();
  if (!Array.isArray(value))
    return errors.fail('deny', `must be an array of account IDs, got ${typeName(value)}`);
  const accounts = new Set<string>();
  value.forEach((entry, i) => {
    const path = `deny[${i}]`;
    if (entry === '*') {
      errors.fail(
        path,
        '"*" is not allowed in deny: to reject everyone, use "defaultAction": "reject" with no rule',
      );
      return;
    }
    const account = parsePrincipal(entry, path, errors);
    if (account) accounts.add(account);
  });
  return accounts;
}

function parseRules(value: unknown, errors: ErrorList): Rule[] | undefined {
  if (value === undefined)
    return errors.fail('rules', 'is required: an array of rules (it may be empty)');
  if (!Array.isArray(value))
    return errors.fail('rules', `must be an array, got ${typeName(value)}`);
  const seenIds = new Map<string, number>();
  const rules: Rule[] = [];
  value.forEach((entry, i) => {
    const rule = parseRule(entry, `rules[${i}]`, errors);
    if (!rule) return;
    const first = seenIds.get(rule.id);
    if (first !== undefined) {
      errors.fail(`rules[${i}].id`, `"${rule.id}" is already the id of rules[${first}]`);
      return;
    }
    seenIds.set(rule.id, i);
    rules.push(rule);
  });
  return rules.length === value.length ? rules : undefined;
}

function parseRule(value: unknown, path: string, errors: ErrorList): Rule | undefined {
  if (!isObject(value)) return errors.fail(path, `must be an object, got ${typeName(value)}`);
  const before = errors.count;
  checkKeys(
    value,
    path,
    [
      'id',
      'description',
      'services',
      'principals',
      'principalSets',
      'regions',
      'expires',
      'accept',
    ],
    errors,
  );
  optionalDescription(value, path, errors);

  const id = parseRuleId(value.id, `${path}.id`, errors);
  const services =
    value.services === undefined
      ? '*'
      : parseMatcher(value.services, `${path}.services`, 'service IDs', parseServiceId, errors);
  const principalSets =
    value.principalSets === undefined
      ? undefined
      : parseSetNames(value.principalSets, `${path}.principalSets`, errors);
  const principals =
    value.principals === undefined
      ? value.principalSets === undefined
        ? errors.fail(
            `${path}.principals`,
            'is required: account IDs, account root ARNs, or "*" (or name principalSets)',
          )
        : new Set<string>()
      : parseMatcher(value.principals, `${path}.principals`, 'principals', parsePrincipal, errors);
  const regions =
    value.regions === undefined
      ? undefined
      : parseRegions(value.regions, `${path}.regions`, errors);
  const expires =
    value.expires === undefined ? undefined : parseDate(value.expires, `${path}.expires`, errors);
  const accept = optionalBoolean(value, 'accept', path, errors) ?? false;

  if (errors.count > before || !id || !services || !principals) return undefined;
  return {
    id,
    services,
    principals,
    ...(principalSets ? { principalSets } : {}),
    ...(regions ? { regions } : {}),
    ...(expires ? { expires } : {}),
    accept,
  };
}

function parseRuleId(value: unknown, path: string, errors: ErrorList): string | undefined {
  if (value === undefined)
    return errors.fail(path, 'is required: a short name such as "acme-prod"');
  if (typeof value !== 'string' || !RULE_ID.test(value))
    return errors.fail(
      path,
      `${show(value)} is not a rule id (1–64 letters, digits, ".", "_", ":" or "-")`,
    );
  if (RESERVED_RULE_IDS.has(value))
    return errors.fail(
      path,
      `"${value}" is reserved (it names a list in decisions); choose another id`,
    );
  return value;
}

/** `"*"`, or a non-empty array of entries, any of which may be `"*"`. */
function parseMatcher(
  value: unknown,
  path: string,
  what: string,
  parseEntry: (entry: unknown, path: string, errors: ErrorList) => string | undefined,
  errors: ErrorList,
): Matcher | undefined {
  if (value === '*') return '*';
  if (!Array.isArray(value) || value.length === 0)
    return errors.fail(path, `must be "*" or a non-empty array of ${what}, got ${show(value)}`);
  const entries = new Set<string>();
  let wildcard = false;
  let valid = true;
  value.forEach((entry, i) => {
    if (entry === '*') {
      wildcard = true;
      return;
    }
    const parsed = parseEntry(entry, `${path}[${i}]`, errors);
    if (parsed) entries.add(parsed);
    else valid = false;
  });
  if (!valid) return undefined;
  return wildcard ? '*' : entries;
}

/** A non-empty array of principal set names, each once. */
function parseSetNames(value: unknown, path: string, errors: ErrorList): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0)
    return errors.fail(
      path,
      `must be a non-empty array of principal set names, got ${show(value)}`,
    );
  const names: string[] = [];
  let valid = true;
  value.forEach((entry, i) => {
    if (!isPrincipalSetName(entry)) {
      valid =
        errors.fail(
          `${path}[${i}]`,
          `${show(entry)} is not a principal set name (${SET_NAME_SHAPE})`,
        ) ?? false;
    } else if (names.includes(entry)) {
      valid = errors.fail(`${path}[${i}]`, `"${entry}" is listed twice`) ?? false;
    } else names.push(entry);
  });
  return valid ? names : undefined;
}

function parsePrincipal(value: unknown, path: string, errors: ErrorList): string | undefined {
  const account = accountIdOf(value);
  if (account) return account;
  return errors.fail(path, `${show(value)} is not a 12-digit account ID or account root ARN`);
}

function parseServiceId(value: unknown, path: string, errors: ErrorList): string | undefined {
  if (isServiceId(value)) return value;
  return errors.fail(path, `${show(value)} is not an endpoint service ID (${SERVICE_ID_SHAPE})`);
}

function parseRegions(
  value: unknown,
  path: string,
  errors: ErrorList,
): ReadonlySet<string> | undefined {
  if (!Array.isArray(value) || value.length === 0)
    return errors.fail(path, `must be a non-empty array of Region names, got ${show(value)}`);
  const regions = new Set<string>();
  let valid = true;
  value.forEach((entry, i) => {
    if (typeof entry === 'string' && isRegion(entry)) regions.add(entry);
    else
      valid =
        errors.fail(`${path}[${i}]`, `${show(entry)} is not a Region name such as "eu-west-1"`) ??
        false;
  });
  return valid ? regions : undefined;
}

function parseDate(value: unknown, path: string, errors: ErrorList): Date | undefined {
  const date = typeof value === 'string' && RFC3339.test(value) ? new Date(value) : undefined;
  // Date accepts 2027-02-31 and rolls it over; a round trip of the date part catches that.
  if (!date || Number.isNaN(date.getTime()) || !sameCalendarDate(value as string, date))
    return errors.fail(
      path,
      `${show(value)} is not an RFC 3339 date-time with a time zone, such as "2027-06-30T00:00:00Z"`,
    );
  return date;
}

function sameCalendarDate(text: string, date: Date): boolean {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  const offsetMs = offset
    ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000
    : 0;
  return new Date(date.getTime() + offsetMs).toISOString().slice(0, 10) === text.slice(0, 10);
}

function oneOf<T extends string>(
  object: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
  fallback: T | undefined,
  errors: ErrorList,
): T | undefined {
  const value = object[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
    return value as T;
  return errors.fail(
    key,
    `${show(value)} is not one of ${allowed.map((a) => `"${a}"`).join(', ')}`,
  );
}

function optionalBoolean(
  object: Record<string, unknown>,
  key: string,
  path: string,
  errors: ErrorList,
): boolean | undefined {
  const value = object[key];
  if (value === undefined || typeof value === 'boolean') return value;
  return errors.fail(join(path, key), `must be true or false, got ${show(value)}`);
}

function optionalDescription(
  object: Record<string, unknown>,
  path: string,
  errors: ErrorList,
): void {
  const value = object.description;
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length > MAX_DESCRIPTION)
    errors.fail(
      join(path, 'description'),
      `must be a string of at most ${MAX_DESCRIPTION} characters`,
    );
}

function checkKeys(
  object: Record<string, unknown>,
  path: string,
  known: readonly string[],
  errors: ErrorList,
): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key))
      errors.fail(join(path, key), `unknown field (expected one of ${known.join(', ')})`);
  }
}

/** `rules[0].id`; a key that is not a plain name is quoted, so a path cannot be misread. */
function join(path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value); // a BigInt or a cycle: not JSON, but still worth naming
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // V8 ends some messages with "JSON at position N" (plus "(line L column C)" in newer
  // versions); an "Unexpected token" message quotes the text instead, which may hold anything.
  const position = /JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(message);
  if (!position) return `not valid JSON: ${message}`;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `not valid JSON at line ${line}, column ${column}: ${message}`;
}
