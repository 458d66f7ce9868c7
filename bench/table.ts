/**
 * The benchmark's tables: each row's keys are the columns, printed under a title in the CLI's
 * table format (cli/table.ts), numeric columns right-aligned and absent values as `-`.
 */
import { type Column, formatTable } from '../cli/table';

export type Cell = string | number | boolean | undefined;
type Row = Record<string, Cell>;

export function printTable(title: string, rows: readonly Row[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!).map((key): Column<Row> => ({
    header: key,
    value: (row) => (row[key] === undefined ? '-' : String(row[key])),
    align: rows.some((row) => typeof row[key] === 'number') ? 'right' : 'left',
  }));
  process.stdout.write(formatTable(columns, rows));
}
