// Admission control in Postgres: the advisory lock that serializes every move into `running`,
// the running counts, and the start of the queued pipelines the limits allow, taking turns across
// submitters (the choice itself is the pure `selectToStart`). Used inside the caller's transaction.
import type pg from 'pg';
import { limitsEnabled, selectToStart, type AdmissionLimits, type QueuedPipeline, type RunningLoad } from '../../domain/admission.js';

/**
 * Serializes every move into `running` under admission control (submissions and starts of
 * queued pipelines), so two of them never both count the same free slot. A transaction-level
 * advisory lock: released at COMMIT or ROLLBACK.
 */
const ADMISSION_LOCK_KEY = 4_174_223_001;
/** Queued pipelines read per start: every waiting submitter's oldest first, then their next ones. */
const ADMISSION_SCAN_ROWS = 500;

/** Takes the admission lock for the rest of the caller's transaction (waits for the holder). */
export async function lockAdmission(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [ADMISSION_LOCK_KEY]);
}

// $1 the most one submitter can start in this call (0: no bound), $2 how many to read. Each
// submitter's oldest pipelines of each priority, taken round by round (every (submitter,
// priority)'s first, then every second…) so that a submitter with one waiting pipeline is read
// beside another's thousands, and an urgent one beside a thousand normal ones; returned oldest
// first. Aging only ever lifts the oldest of a line, so the domain's choice (selectToStart) never
// needs a row past the ones read. Pipelines with a cancel request are left for the conductor.
const QUEUED_CANDIDATES_SQL = `
  WITH q AS (
    SELECT id, submitter, priority, created_at,
           row_number() OVER (PARTITION BY submitter, priority ORDER BY created_at, id) AS nth
    FROM pipelines WHERE status = 'queued' AND cancel_requested_at IS NULL
  ), candidates AS (
    SELECT id, submitter, priority, created_at FROM q WHERE $1::int = 0 OR nth <= $1::int
    ORDER BY nth, priority, created_at, id LIMIT $2
  )
  SELECT id, submitter, priority::text AS priority, created_at AS "createdAt", now() AS "now" FROM candidates ORDER BY created_at, id`;

async function countRunning(client: pg.PoolClient): Promise<number> {
  return (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pipelines WHERE status = 'running'")).rows[0]!.n;
}

/** Running pipelines of each given submitter (absent: none). */
async function runningBySubmitter(client: pg.PoolClient, submitters: readonly string[]): Promise<Map<string, number>> {
  const bySubmitter = new Map<string, number>();
  if (submitters.length === 0) return bySubmitter;
  const { rows } = await client.query<{ submitter: string; n: number }>(
    "SELECT submitter, count(*)::int AS n FROM pipelines WHERE status = 'running' AND submitter = ANY($1::text[]) GROUP BY submitter",
    [[...new Set(submitters)]],
  );
  for (const row of rows) bySubmitter.set(row.submitter, row.n);
  return bySubmitter;
}

/** Running pipelines: in total with a global limit, and for the given submitters with a per-submitter limit. */
export async function runningLoad(client: pg.PoolClient, limits: AdmissionLimits, submitters: readonly string[]): Promise<RunningLoad> {
  const total = limits.maxRunning > 0 ? await countRunning(client) : 0;
  return { total, bySubmitter: limits.maxRunningPerSubmitter > 0 ? await runningBySubmitter(client, submitters) : new Map() };
}

/** The most pipelines of one submitter this start can admit (0: no bound): its own limit, and the free slots. */
function perSubmitterReadCap(limits: AdmissionLimits, total: number): number {
  const caps = [limits.maxRunningPerSubmitter, limits.maxRunning > 0 ? limits.maxRunning - total : 0].filter((cap) => cap > 0);
  return caps.length === 0 ? 0 : Math.min(...caps);
}

/**
 * Starts the queued pipelines the limits allow, taking turns across submitters (`selectToStart`);
 * the caller holds the admission lock. A started pipeline is `running` with its stages still
 * `pending`: the conductor plans its roots (through the decision policy) when it is asked to
 * advance it. Returns the started ids.
 */
export async function startQueuedLocked(client: pg.PoolClient, limits: AdmissionLimits): Promise<string[]> {
  const total = limits.maxRunning > 0 ? await countRunning(client) : 0;
  // The common case under a backlog: every slot is taken, nothing to read.
  if (limits.maxRunning > 0 && total >= limits.maxRunning) return [];
  const { rows: queued } = await client.query<Required<QueuedPipeline> & { now: Date }>(QUEUED_CANDIDATES_SQL, [
    perSubmitterReadCap(limits, total),
    ADMISSION_SCAN_ROWS,
  ]);
  if (queued.length === 0) return [];
  // Who runs how many decides whose turn it is (not needed once limits are off: all start).
  const bySubmitter = limitsEnabled(limits)
    ? await runningBySubmitter(
        client,
        queued.map((q) => q.submitter),
      )
    : new Map<string, number>();
  // Aging reads Postgres's clock, the one created_at was written by.
  const ids = selectToStart(limits, { total, bySubmitter }, queued, queued[0]!.now);
  if (ids.length === 0) return [];
  // statement_timestamp(), not now(): the transaction may have begun before it got the admission
  // lock, that is before the finish that freed this slot committed; started_at must not precede it.
  const { rows } = await client.query<{ id: string }>(
    `UPDATE pipelines SET status = 'running', started_at = statement_timestamp(), updated_at = now()
     WHERE id = ANY($1::uuid[]) AND status = 'queued' AND cancel_requested_at IS NULL
     RETURNING id`,
    [ids],
  );
  const moved = new Set(rows.map((r) => r.id));
  return ids.filter((id) => moved.has(id));
}
