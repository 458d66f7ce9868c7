/**
 * The unified diff a push shows: what the live policy becomes. Made by the `diff` package
 * (jsdiff), coloured on a terminal.
 */
import { createTwoFilesPatch } from 'diff';
import type { Style } from './style';

export interface DiffSide {
  readonly label: string;
  readonly text: string;
}

export function unifiedDiff(before: DiffSide, after: DiffSide, style: Style): string {
  const patch = createTwoFilesPatch(before.label, after.label, before.text, after.text, '', '', {
    context: 3,
  });
  return patch
    .split('\n')
    .filter((line) => !line.startsWith('====')) // jsdiff's separator line is not part of the format
    .map((line) => colour(line, style))
    .join('\n');
}

function colour(line: string, style: Style): string {
  if (line.startsWith('+++') || line.startsWith('---')) return style.bold(line);
  if (line.startsWith('+')) return style.green(line);
  if (line.startsWith('-')) return style.red(line);
  if (line.startsWith('@@')) return style.cyan(line);
  return line;
}
