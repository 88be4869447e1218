// Lets Postgres settle between the bench's phases, so each starts from the same quiet server.
import type pg from 'pg';

/**
 * Lets Postgres settle between phases: a checkpoint now (instead of one that lands inside the
 * next phase) and no autovacuum still cleaning up after the previous phase. Each phase then
 * starts from the same quiet server, whatever ran before it.
 */
export async function settlePostgres(observer: pg.Pool): Promise<void> {
  await observer.query('CHECKPOINT').catch(() => undefined); // needs superuser or pg_checkpoint
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { rows } = await observer.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database()",
    );
    if (Number(rows[0]!.n) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
