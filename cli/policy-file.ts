/**
 * A policy file on the operator's machine, read and checked by the guard's own validator.
 */
import { readFile } from 'node:fs/promises';
import { formatPolicyErrors, parsePolicy, type Policy, type PolicyError } from '../core/policy';
import { CliError } from './errors';

export interface PolicyFile {
  readonly path: string;
  /** The file's text, byte for byte what a push stores. */
  readonly text: string;
  readonly policy: Policy;
}

/** Throws a CliError naming every validation error with its JSON path. */
export async function readPolicyFile(path: string): Promise<PolicyFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? error})`,
    );
  }
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw invalidPolicy(path, parsed.errors);
  return { path, text, policy: parsed.policy };
}

/** The error for an invalid policy: one line, then each problem as `path: message`. */
export function invalidPolicy(where: string, errors: readonly PolicyError[]): CliError {
  const count = errors.length === 1 ? '1 error' : `${errors.length} errors`;
  return new CliError(
    `${where} is not a valid policy (${count})`,
    formatPolicyErrors(errors).split('\n'),
  );
}

/** One line about a valid policy: what it does by default and how much it says. */
export function describePolicy(policy: Policy): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    `mode ${policy.mode}`,
    `default ${policy.defaultAction}`,
    plural(policy.rules.length, 'rule'),
    `${plural(policy.deny.size, 'account')} denied`,
    `revoke ${policy.revoke ? 'on' : 'off'}`,
  ].join(', ');
}
