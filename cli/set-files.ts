/**
 * --set <name>=<file>: a principal set read from a file instead of Parameter Store, to check
 * or explain a policy before its sets are pushed.
 */
import type { Policy } from '../core/policy';
import { principalSetNames } from '../core/policy';
import { isPrincipalSetName, SET_NAME_SHAPE } from '../core/principal-set';
import { UsageError } from './errors';
import { readSetFile } from './policy-file';

export const SET_FILES_HELP = `  --set <name>=<file>   principal set <name> from a file (one account per line) instead
                        of Parameter Store (repeat for more)`;

/** The --set values as set name → file, checked before any file is read. */
export function setFilesOption(values: readonly string[] | undefined): Map<string, string> {
  const files = new Map<string, string>();
  for (const value of values ?? []) {
    const at = value.indexOf('=');
    const name = value.slice(0, at);
    if (at <= 0 || at === value.length - 1) {
      throw new UsageError(`--set: "${value}" is not <name>=<file>`);
    }
    if (!isPrincipalSetName(name)) {
      throw new UsageError(`--set: "${name}" is not a principal set name (${SET_NAME_SHAPE})`);
    }
    if (files.has(name)) throw new UsageError(`--set: set ${name} is given twice`);
    files.set(name, value.slice(at + 1));
  }
  return files;
}

/** Reads each --set file; a set the policy does not name is a usage error. */
export async function readSetFiles(
  files: ReadonlyMap<string, string>,
  policy: Policy,
): Promise<Map<string, readonly string[]>> {
  const named = principalSetNames(policy);
  const sets = new Map<string, readonly string[]>();
  for (const [name, path] of files) {
    if (!named.includes(name)) {
      throw new UsageError(
        `--set: the policy names no principal set ${name}${named.length ? ` (it names ${named.join(', ')})` : ''}`,
      );
    }
    sets.set(name, (await readSetFile(path)).accounts);
  }
  return sets;
}
