/**
 * Plain-text tables for terminals and logs alike: upper-case headers, columns two spaces
 * apart, no trailing spaces, so that output stays readable in a pipe and easy to grep.
 */

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  /** Numbers read better right-aligned. @default 'left' */
  readonly align?: 'left' | 'right';
}

const GAP = '  ';

export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = [
    columns.map((c) => c.header.toUpperCase()),
    ...rows.map((row) => columns.map((c) => c.value(row))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const lines = cells.map((line) =>
    line
      .map((cell, i) =>
        columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
      )
      .join(GAP)
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}
