// Loads a hot-path statement from its `.sql` file once, at module load, with the lifecycle
// placeholders expanded (see lifecycle-sql.ts). The header comment of each file names its
// parameters and result columns and explains the statement step by step.
import { readFileSync } from 'node:fs';
import { expandLifecycle } from '../lifecycle-sql.js';

export function loadSql(file: string): string {
  const text = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
  // The header is for readers: the statement sent (and seen in pg_stat_statements, logs and the
  // bench's statement counts) starts at its first line of SQL.
  const body = text.replace(/^(?:\s*--[^\n]*\n|\s*\n)*/, '');
  return expandLifecycle(body, file);
}
