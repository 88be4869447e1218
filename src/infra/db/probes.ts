// The two statements the API's health and metrics read outside any repository: a liveness probe
// and the pending-decisions gauge. Here so the composition root holds no SQL.
import type { Database } from './database.js';

/** `SELECT 1`: Postgres answers (the readiness probe). */
export async function pingDatabase(db: Database): Promise<void> {
  await db.pool.query('SELECT 1');
}

/** Decisions waiting for a human (agentic_decisions_pending). */
export async function countPendingDecisions(db: Database): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM decisions WHERE status = 'pending'");
  return rows[0]?.n ?? 0;
}
