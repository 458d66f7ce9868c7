/**
 * A yes/no question on the terminal. Only a terminal is asked: with stdin from a pipe or a
 * file, a typed "y" could not be told from a script's, so the caller wants --yes instead.
 */
import { createInterface } from 'node:readline';
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
