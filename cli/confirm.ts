/**
 * A yes/no question on the terminal. Only a terminal is asked: with stdin from a pipe or a
 * file, a typed "y" could not be told from a script's, so the caller wants --yes instead.
 */
import { createInterface } from 'node:readline';
import { UsageError } from './errors';
import type { CliIo } from './io';

export function canAsk(io: CliIo): boolean {
  return io.stdin.isTTY === true;
}

/** Asks on stderr (stdout may be redirected) and reads one line; only "y" or "yes" is yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const lines = createInterface({ input: io.stdin });
  try {
    const answer = await new Promise<string>((resolve) => {
      lines.once('line', resolve);
      lines.once('close', () => resolve('')); // end of input: no
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    lines.close();
  }
}

/**
 * Whether to `action` (push, share): `--yes`, or a yes at the terminal. Without a terminal
 * nothing can confirm: a usage error (exit 2) that says to pass --yes; a no is `Not pushed.`
 * (or shared) on stderr.
 */
export async function confirmed(
  io: CliIo,
  yes: boolean,
  question: string,
  action: 'push' | 'share',
) {
  if (yes) return true;
  const done = `${action}${action === 'push' ? 'ed' : 'd'}`;
  if (!canAsk(io)) {
    throw new UsageError(
      `not ${done}: stdin is not a terminal, so nothing can confirm; pass --yes to ${action}`,
    );
  }
  if (await confirm(io, question)) return true;
  io.stderr.write(`Not ${done}.\n`);
  return false;
}
