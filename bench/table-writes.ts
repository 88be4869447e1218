// What the bench wrote to each table of its schema, from Postgres's own counters: rows inserted
// and updated, and the share of updates that were HOT (heap-only: no index entry written). A
// stage row is updated at its claim, its finish and its release; when its page has no room, each
// of those updates writes a new entry in every index of `stages`, which is Postgres CPU per stage.
import type pg from 'pg';

export interface TableWrites {
  table: string;
  inserted: number;
  updated: number;
  hotUpdated: number;
  indexes: number;
}

/**
 * The counters for `schema`'s tables with any write. Backends report their counters when their
 * transaction ends (at most once a second) and when they exit: call it after the pools closed.
 */
export async function tableWrites(observer: pg.Pool, schema: string): Promise<TableWrites[]> {
  // A fresh snapshot: within one transaction the statistics views are cached.
  await observer.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await observer.query<{ table: string; inserted: string; updated: string; hot: string; indexes: string }>(
    `SELECT t.relname AS table, t.n_tup_ins AS inserted, t.n_tup_upd AS updated, t.n_tup_hot_upd AS hot,
            (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.relid) AS indexes
     FROM pg_stat_user_tables t WHERE t.schemaname = $1 AND (t.n_tup_ins > 0 OR t.n_tup_upd > 0)
     ORDER BY t.n_tup_ins + t.n_tup_upd DESC`,
    [schema],
  );
  return rows.map((r) => ({
    table: r.table,
    inserted: Number(r.inserted),
    updated: Number(r.updated),
    hotUpdated: Number(r.hot),
    indexes: Number(r.indexes),
  }));
}

export function describeTableWrites(writes: readonly TableWrites[]): string {
  const fmt = (n: number) => n.toLocaleString('en-US');
  return writes
    .map(
      (w) =>
        `  ${w.table} (${w.indexes} indexes): ${fmt(w.inserted)} inserted, ${fmt(w.updated)} updated` +
        (w.updated > 0 ? ` (${Math.round((100 * w.hotUpdated) / w.updated)}% HOT)` : ''),
    )
    .join('\n');
}
