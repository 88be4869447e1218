// Schedules in Postgres: the schedules table (the record of each schedule) and schedule_ticks
// (one row per tick, what it did). The tick is decided under the schedule row's lock
// (SELECT … FOR UPDATE, then a fresh statement that reads what is unfinished): two deliveries
// of one tick, or two ticks of one schedule, are serialised there, and the first row for a tick
// time wins (its primary key). Each change and its audit event commit together. An
// Idempotency-Key of a create is a row of schedule_idempotency_keys that outlives its schedule.
import { decideTick, type OverlapPolicy, type ScheduleTiming } from '../../domain/schedule.js';
import { TERMINAL_PIPELINE_STATUSES, type PipelineStatus, type ScheduleTickOutcome } from '../../domain/status.js';
import type { Identity } from '../../domain/identity.js';
import type { JsonObject } from '../../domain/json.js';
import type { AuditEntry } from '../../services/identity.ports.js';
import type {
  ClaimedTick,
  NewSchedule,
  ScheduleKey,
  ScheduleRecord,
  ScheduleRepository,
  ScheduleTickRecord,
} from '../../services/schedule.ports.js';
import { recordAuditIn } from './audit.repository.js';
import { inTransaction, isUniqueViolation, type Database } from './database.js';
import { idempotencyKeyTaken } from '../../domain/idempotency.js';
import type pg from 'pg';

interface ScheduleRow {
  id: string;
  name: string;
  request: JsonObject;
  cron: string | null;
  timezone: string | null;
  every_ms: string | null;
  start_at: Date | null;
  end_at: Date | null;
  overlap: string;
  state: string;
  paused_by: string | null;
  owner: string;
  owner_identity: Identity;
  created_at: Date;
  updated_at: Date;
  last_tick_at: Date | null;
}

interface TickRow {
  scheduled_for: Date;
  outcome: ScheduleTickOutcome;
  reason: string | null;
  pipeline_id: string | null;
  pipeline_status: PipelineStatus | null;
  created_at: Date;
}

const SCHEDULE_COLUMNS = `id, name, request, cron, timezone, every_ms, start_at, end_at, overlap, state, paused_by, owner, owner_identity,
  created_at, updated_at, last_tick_at`;
const TICK_COLUMNS = `t.scheduled_for, t.outcome, t.reason, t.pipeline_id, p.status::text AS pipeline_status, t.created_at`;
const TERMINAL = [...TERMINAL_PIPELINE_STATUSES];

/** An owner's Idempotency-Key, recorded with its create. $1 owner, $2 key, $3 request hash, $4 schedule id. */
const INSERT_KEY_SQL = `INSERT INTO schedule_idempotency_keys (owner, idempotency_key, request_hash, schedule_id) VALUES ($1, $2, $3, $4)`;
/** Whether the owner used the key already (its schedule may since be deleted). $1 owner, $2 key. */
const KEY_TAKEN_SQL = 'SELECT 1 FROM schedule_idempotency_keys WHERE owner = $1 AND idempotency_key = $2';

const keyTaken = (key: string) => idempotencyKeyTaken(key, 'an earlier or concurrent create');

/** Runs of a schedule started and not finished: a started tick whose run is not linked yet, or whose run is not terminal. $1 schedule id, $2 terminal statuses. */
const UNFINISHED_SQL = `
  SELECT count(*) FILTER (WHERE t.outcome = 'started' AND (t.pipeline_id IS NULL OR p.status::text <> ALL($2::text[])))::int AS unfinished,
         count(*) FILTER (WHERE t.outcome = 'waiting')::int AS waiting
  FROM schedule_ticks t LEFT JOIN pipelines p ON p.id = t.pipeline_id
  WHERE t.schedule_id = $1 AND t.outcome IN ('started', 'waiting')`;

function toRecord(row: ScheduleRow): ScheduleRecord {
  const timing: ScheduleTiming =
    row.cron !== null
      ? { kind: 'cron', cron: row.cron, timezone: row.timezone ?? 'UTC', startAt: row.start_at, endAt: row.end_at }
      : { kind: 'every', everyMs: Number(row.every_ms), startAt: row.start_at, endAt: row.end_at };
  return {
    id: row.id,
    name: row.name,
    request: row.request,
    timing,
    overlap: row.overlap as OverlapPolicy,
    state: row.state === 'paused' ? 'paused' : 'active',
    pausedBy: row.state === 'paused' ? row.paused_by : null,
    owner: row.owner,
    ownerIdentity: row.owner_identity,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastTickAt: row.last_tick_at,
  };
}

function toTick(row: TickRow): ScheduleTickRecord {
  return {
    scheduledFor: row.scheduled_for,
    outcome: row.outcome,
    reason: row.reason,
    pipelineId: row.pipeline_id,
    pipelineStatus: row.pipeline_status,
    createdAt: row.created_at,
  };
}

async function lockSchedule(client: pg.PoolClient, id: string): Promise<ScheduleRecord | null> {
  const { rows } = await client.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

async function readTick(client: pg.PoolClient | pg.Pool, id: string, tickAt: Date): Promise<ScheduleTickRecord | null> {
  const { rows } = await client.query<TickRow>(
    `SELECT ${TICK_COLUMNS} FROM schedule_ticks t LEFT JOIN pipelines p ON p.id = t.pipeline_id
     WHERE t.schedule_id = $1 AND t.scheduled_for = $2`,
    [id, tickAt],
  );
  return rows[0] ? toTick(rows[0]) : null;
}

export function createScheduleRepository({ pool }: Pick<Database, 'pool'>): ScheduleRepository {
  return {
    async create(schedule: NewSchedule, entry: AuditEntry, cap: { maxPerOwner: number; at: Date }, key?: ScheduleKey | null) {
      const { timing } = schedule;
      try {
        return await inTransaction(pool, async (client): Promise<ScheduleRecord | null> => {
          if (cap.maxPerOwner > 0) {
            // One owner's creations one at a time, so that concurrent ones cannot pass the cap together.
            await client.query("SELECT pg_advisory_xact_lock(hashtext('schedule_owner:' || $1))", [schedule.owner]);
            // A retry of a key already used is answered as a replay, not refused by the cap it filled.
            if (key && (await client.query(KEY_TAKEN_SQL, [schedule.owner, key.key])).rowCount) throw keyTaken(key.key);
            const { rows: counted } = await client.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM schedules WHERE owner = $1 AND (end_at IS NULL OR end_at > $2)',
              [schedule.owner, cap.at],
            );
            if (counted[0]!.n >= cap.maxPerOwner) return null;
          }
          const { rows } = await client.query<ScheduleRow>(
            `INSERT INTO schedules (id, name, request, cron, timezone, every_ms, start_at, end_at, overlap, owner, owner_identity)
             VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
             RETURNING ${SCHEDULE_COLUMNS}`,
            [
              schedule.id,
              schedule.name,
              JSON.stringify(schedule.request),
              timing.kind === 'cron' ? timing.cron : null,
              timing.kind === 'cron' ? timing.timezone : null,
              timing.kind === 'every' ? timing.everyMs : null,
              timing.startAt,
              timing.endAt,
              schedule.overlap,
              schedule.owner,
              JSON.stringify(schedule.ownerIdentity),
            ],
          );
          // The primary key (owner, key) decides: a concurrent create with the key waits here for
          // the first to commit, then fails, and this whole transaction with it.
          if (key) await client.query(INSERT_KEY_SQL, [schedule.owner, key.key, key.requestHash, schedule.id]);
          await recordAuditIn(client, entry);
          return toRecord(rows[0]!);
        });
      } catch (error) {
        if (key && isUniqueViolation(error)) throw keyTaken(key.key);
        throw error;
      }
    },

    async findByIdempotencyKey(owner, key) {
      const { rows } = await pool.query<{ request_hash: string; schedule_id: string | null }>(
        'SELECT request_hash, schedule_id FROM schedule_idempotency_keys WHERE owner = $1 AND idempotency_key = $2',
        [owner, key],
      );
      if (!rows[0]) return null;
      const { request_hash: requestHash, schedule_id: scheduleId } = rows[0];
      if (!scheduleId) return { requestHash, schedule: null };
      const found = await pool.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE id = $1`, [scheduleId]);
      return { requestHash, schedule: found.rows[0] ? toRecord(found.rows[0]) : null };
    },

    async get(id) {
      const { rows } = await pool.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async list({ limit, cursor }) {
      const { rows } = cursor
        ? await pool.query<ScheduleRow>(
            `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE (created_at, id) < ($1::timestamptz, $2::uuid)
             ORDER BY created_at DESC, id DESC LIMIT $3`,
            [cursor.createdAt, cursor.id, limit],
          )
        : await pool.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY created_at DESC, id DESC LIMIT $1`, [limit]);
      return rows.map(toRecord);
    },

    setState(id, state, entry, refuse = () => null) {
      return inTransaction(pool, async (client) => {
        // Judged on the row as locked: a pause committed since the caller read the schedule counts.
        const locked = await lockSchedule(client, id);
        if (!locked) return null;
        const refusal = refuse(locked);
        if (refusal) throw refusal;
        // A pause records who made it (a repeated pause keeps the first); a resume clears it.
        const { rows } = await client.query<ScheduleRow>(
          `UPDATE schedules
           SET state = $2, updated_at = now(),
               paused_by = CASE WHEN $2 = 'paused' THEN CASE WHEN state = 'paused' THEN paused_by ELSE $3 END END
           WHERE id = $1 RETURNING ${SCHEDULE_COLUMNS}`,
          [id, state, entry.actor.identity.id],
        );
        if (!rows[0]) return null;
        // Audited when it changed: a pause of a paused schedule (or a resume of an active one) is
        // answered as it stands and recorded nowhere, as a pipeline's repeated pause is.
        if (locked.state !== state) await recordAuditIn(client, entry);
        return toRecord(rows[0]);
      });
    },

    delete(id, entry) {
      return inTransaction(pool, async (client) => {
        const { rowCount } = await client.query('DELETE FROM schedules WHERE id = $1', [id]);
        if (!rowCount) return false;
        await recordAuditIn(client, entry);
        return true;
      });
    },

    async recentTicks(id, limit) {
      const { rows } = await pool.query<TickRow>(
        `SELECT ${TICK_COLUMNS} FROM schedule_ticks t LEFT JOIN pipelines p ON p.id = t.pipeline_id
         WHERE t.schedule_id = $1 ORDER BY t.scheduled_for DESC LIMIT $2`,
        [id, limit],
      );
      return rows.map(toTick);
    },

    claimTick(id, tickAt) {
      return inTransaction(pool, async (client): Promise<ClaimedTick | null> => {
        const schedule = await lockSchedule(client, id);
        if (!schedule) return null;
        const existing = await readTick(client, id, tickAt);
        if (existing) return { schedule, tick: existing };
        // A fresh statement after the lock: it sees every tick committed before the lock was ours.
        const { rows } = await client.query<{ unfinished: number; waiting: number }>(UNFINISHED_SQL, [id, TERMINAL]);
        const decision = decideTick({
          state: schedule.state,
          overlap: schedule.overlap,
          endAt: schedule.timing.endAt,
          tickAt,
          unfinished: rows[0]!.unfinished,
          waiting: rows[0]!.waiting,
        });
        await client.query(
          `WITH tick AS (INSERT INTO schedule_ticks (schedule_id, scheduled_for, outcome, reason) VALUES ($1, $2, $3, $4))
           UPDATE schedules SET last_tick_at = GREATEST(last_tick_at, $2) WHERE id = $1`,
          [id, tickAt, decision.outcome, decision.reason],
        );
        const tick = await readTick(client, id, tickAt);
        return {
          schedule: { ...schedule, lastTickAt: schedule.lastTickAt && schedule.lastTickAt > tickAt ? schedule.lastTickAt : tickAt },
          tick: tick!,
        };
      });
    },

    promoteWaiting(id) {
      return inTransaction(pool, async (client): Promise<ClaimedTick | null> => {
        const schedule = await lockSchedule(client, id);
        if (!schedule) return null;
        const { rows } = await client.query<{ unfinished: number; waiting: number }>(UNFINISHED_SQL, [id, TERMINAL]);
        if (rows[0]!.unfinished > 0 || rows[0]!.waiting === 0) return null;
        const promoted = await client.query<{ scheduled_for: Date }>(
          `UPDATE schedule_ticks SET outcome = 'started', reason = NULL, updated_at = now()
           WHERE (schedule_id, scheduled_for) = (
             SELECT schedule_id, scheduled_for FROM schedule_ticks WHERE schedule_id = $1 AND outcome = 'waiting'
             ORDER BY scheduled_for LIMIT 1)
           RETURNING scheduled_for`,
          [id],
        );
        const tickAt = promoted.rows[0]?.scheduled_for;
        if (!tickAt) return null;
        return { schedule, tick: (await readTick(client, id, tickAt))! };
      });
    },

    async linkRun(id, tickAt, pipelineId) {
      await pool.query(
        `WITH tick AS (
           UPDATE schedule_ticks SET pipeline_id = $3, updated_at = now() WHERE schedule_id = $1 AND scheduled_for = $2
         )
         UPDATE pipelines SET schedule_id = $1, scheduled_for = $2 WHERE id = $3 AND schedule_id IS NULL`,
        [id, tickAt, pipelineId],
      );
    },

    async failTick(id, tickAt, reason) {
      await pool.query(
        `UPDATE schedule_ticks SET outcome = 'failed', reason = $3, updated_at = now()
         WHERE schedule_id = $1 AND scheduled_for = $2 AND outcome = 'started' AND pipeline_id IS NULL`,
        [id, tickAt, reason],
      );
    },

    async scheduleOf(pipelineId) {
      // Named (a prepared statement, and its own line in the statement metrics): it runs once per finished pipeline.
      const { rows } = await pool.query<{ schedule_id: string | null }>({
        name: 'pipeline_schedule',
        text: 'SELECT schedule_id FROM pipelines WHERE id = $1',
        values: [pipelineId],
      });
      return rows[0]?.schedule_id ?? null;
    },

    async all() {
      const { rows } = await pool.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY created_at`);
      return rows.map(toRecord);
    },

    async unlinkedTicks(graceMs) {
      const { rows } = await pool.query<{ schedule_id: string; scheduled_for: Date }>(
        `SELECT schedule_id, scheduled_for FROM schedule_ticks
         WHERE outcome = 'started' AND pipeline_id IS NULL AND updated_at < now() - make_interval(secs => $1::float8 / 1000)
         ORDER BY scheduled_for LIMIT 100`,
        [graceMs],
      );
      return rows.map((r) => ({ scheduleId: r.schedule_id, scheduledFor: r.scheduled_for }));
    },

    async pruneTicks(olderThanMs, limit) {
      const { rowCount } = await pool.query(
        `DELETE FROM schedule_ticks WHERE (schedule_id, scheduled_for) IN (
           SELECT t.schedule_id, t.scheduled_for FROM schedule_ticks t LEFT JOIN pipelines p ON p.id = t.pipeline_id
           WHERE t.created_at < now() - make_interval(secs => $1::float8 / 1000)
             AND t.outcome <> 'waiting'
             AND NOT (t.outcome = 'started' AND (t.pipeline_id IS NULL OR (p.id IS NOT NULL AND p.status::text <> ALL($2::text[]))))
           LIMIT $3)`,
        [olderThanMs, TERMINAL, limit],
      );
      return rowCount ?? 0;
    },

    async withWaiting() {
      const { rows } = await pool.query<{ schedule_id: string }>(
        "SELECT DISTINCT schedule_id FROM schedule_ticks WHERE outcome = 'waiting' LIMIT 100",
      );
      return rows.map((r) => r.schedule_id);
    },
  };
}
