/** Prints rows as an aligned text table under a title; numeric columns are right-aligned. */
export type Cell = string | number | boolean | undefined;

export function printTable(title: string, rows: readonly Record<string, Cell>[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const text = (cell: Cell) => (cell === undefined ? '-' : String(cell));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const numeric = columns.map((c) => rows.some((r) => typeof r[c] === 'number'));
  const line = (cells: Cell[]) =>
    cells
      .map((cell, i) =>
        numeric[i] ? text(cell).padStart(widths[i]!) : text(cell).padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  console.log(line(columns));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(columns.map((c) => row[c])));
}
