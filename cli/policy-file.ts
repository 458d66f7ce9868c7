/**
 * Files on the operator's machine: a policy, read and checked by the guard's own validator,
 * and a principal set's list of accounts.
 */
import { readFile } from 'node:fs/promises';
import {
  formatPolicyErrors,
  parsePolicy,
  type Policy,
  type PolicyError,
  principalSetNames,
} from '../core/policy';
import { parseAccountList } from '../core/principal-set';
import { stripByteOrderMark } from '../core/text';
import { CliError } from './errors';

export interface PolicyFile {
  readonly path: string;
  /** The file's text, without a byte-order mark: byte for byte what a push stores. */
  readonly text: string;
  readonly policy: Policy;
}

/** Throws a CliError naming every validation error with its JSON path. */
export async function readPolicyFile(path: string): Promise<PolicyFile> {
  const text = await readTextFile(path);
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw invalidPolicy(path, parsed.errors);
  return { path, text, policy: parsed.policy };
}

/** A file's text, without the byte-order mark some editors write first. */
async function readTextFile(path: string): Promise<string> {
  try {
    return stripByteOrderMark(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? error})`,
    );
  }
}

/** The most line errors a set file's error lists. */
const MAX_LINE_ERRORS = 20;

/**
 * The accounts of a set file (one account ID or account root ARN per line; blank lines and
 * `#` comments skipped): a CliError naming the lines that are not accounts.
 */
export async function readSetFile(
  path: string,
): Promise<{ readonly accounts: readonly string[]; readonly repeats: number }> {
  const { accounts, errors, repeats } = parseAccountList(await readTextFile(path));
  if (errors.length > 0) {
    const shown = errors.slice(0, MAX_LINE_ERRORS).map((e) => `line ${e.line}: ${e.message}`);
    if (errors.length > shown.length) shown.push(`… and ${errors.length - shown.length} more`);
    throw new CliError(
      `${path} is not a list of accounts (${errors.length === 1 ? '1 error' : `${errors.length} errors`})`,
      shown,
    );
  }
  return { accounts, repeats };
}

/** The error for an invalid policy: one line, then each problem as `path: message`. */
export function invalidPolicy(where: string, errors: readonly PolicyError[]): CliError {
  const count = errors.length === 1 ? '1 error' : `${errors.length} errors`;
  return new CliError(
    `${where} is not a valid policy (${count})`,
    formatPolicyErrors(errors).split('\n'),
  );
}

/**
 * One line about a valid policy: what it does by default and how much it says; its principal
 * sets' accounts once loaded.
 */
export function describePolicy(policy: Policy): string {
  const sets = principalSetNames(policy);
  const setAccounts = [...(policy.principalSets?.values() ?? [])].reduce((n, s) => n + s.size, 0);
  return [
    `mode ${policy.mode}`,
    `default ${policy.defaultAction}`,
    plural(policy.rules.length, 'rule'),
    `${plural(policy.deny.size, 'account')} denied`,
    `revoke ${policy.revoke ? 'on' : 'off'}`,
    ...(sets.length === 0
      ? []
      : [
          `${plural(sets.length, 'principal set')} (${sets.join(', ')}${policy.principalSets ? `: ${count(setAccounts)} accounts` : ''})`,
        ]),
  ].join(', ');
}

export const plural = (n: number, word: string): string =>
  `${count(n)} ${word}${n === 1 ? '' : 's'}`;

/** 100,000: the thousands separated, whatever the locale. */
export const count = (n: number): string => n.toLocaleString('en-US');
