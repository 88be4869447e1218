// Tables for people: a header row and aligned columns, two spaces apart; the last column is not
// padded, so long text (a message, an error) runs on without trailing blanks. Every cell is
// escaped (src/cli/terminal-text.ts): a cell is one line, whatever the server sent.
import { printable } from './terminal-text.js';

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Right-aligned (counts, durations). */
  right?: boolean;
}

/** The table's lines, or `empty` alone when there are no rows. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string): string {
  if (rows.length === 0) return empty;
  const cells = rows.map((row) => columns.map((c) => printable(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => {
        if (i === values.length - 1 && !columns[i]!.right) return v;
        return columns[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!);
      })
      .join('  ');
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** A date as people read it in a table: `2026-12-05 19:04:05` (UTC), or `-`. */
export function shortTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '-';
}

/** A duration in ms as `850 ms`, `12.3 s`, `4m05s`, or `-`. */
export function shortDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
