// What the fuzz suite compares before and after each request to prove that a refused request
// wrote nothing: the Postgres rows its identities and seeded pipelines own, and every BullMQ
// queue's job lists and event stream under the harness's prefix (any add, move or removal of a
// job appends to the queue's event stream). Nothing else may write while it runs: no worker.
import type { Database } from '../../../src/infra/db/database.js';
import type { RedisTarget } from '../../../src/infra/queue/redis-connection.js';
import { openTestRedis } from '../test-redis.js';

export interface WriteWatchOptions {
  db: Database;
  /** The harness's Redis: one server or a cluster (the prefix's hash tag keeps the pipeline in one slot). */
  redis: RedisTarget;
  prefix: string;
  queueNames: readonly string[];
  /** Identity ids whose pipelines and audit rows are counted. */
  identities: readonly string[];
  /** Pipelines whose stages, decisions, votes, clarifications and events are compared. */
  pipelineIds: readonly string[];
}

export interface WriteWatch {
  snapshot(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

const SNAPSHOT_SQL = `
  WITH watched AS (SELECT id FROM pipelines WHERE submitter = ANY($1::text[]) OR id = ANY($2::uuid[]))
  SELECT
    (SELECT count(*) FROM pipelines WHERE submitter = ANY($1::text[]))::int AS pipelines,
    (SELECT count(*) FROM audit_events WHERE identity_id = ANY($1::text[]))::int AS "auditEvents",
    (SELECT count(*) FROM pipeline_events WHERE pipeline_id IN (SELECT id FROM watched))::int AS events,
    (SELECT count(*) FROM decision_votes v JOIN decisions d ON d.id = v.decision_id WHERE d.pipeline_id IN (SELECT id FROM watched))::int AS votes,
    (SELECT coalesce(string_agg(id || '=' || status::text, ',' ORDER BY id), '') FROM decisions WHERE pipeline_id IN (SELECT id FROM watched)) AS decisions,
    (SELECT coalesce(string_agg(id::text || '=' || status::text, ',' ORDER BY id), '') FROM clarifications WHERE pipeline_id IN (SELECT id FROM watched)) AS clarifications,
    (SELECT coalesce(string_agg(id::text || '=' || status::text, ',' ORDER BY id), '') FROM stages WHERE pipeline_id = ANY($2::uuid[])) AS stages,
    (SELECT coalesce(string_agg(id::text || '=' || status::text, ',' ORDER BY id), '') FROM pipelines WHERE id = ANY($2::uuid[])) AS "seededPipelines"`;

const LIST_KEYS = ['wait', 'active'] as const;
const SET_KEYS = ['delayed', 'prioritized', 'failed', 'completed', 'waiting-children'] as const;

export function createWriteWatch(options: WriteWatchOptions): WriteWatch {
  const redis = openTestRedis(options.redis);
  return {
    async snapshot() {
      const pipeline = redis.pipeline();
      for (const name of options.queueNames) {
        const key = (suffix: string) => `${options.prefix}:${name}:${suffix}`;
        pipeline.xlen(key('events'));
        for (const suffix of LIST_KEYS) pipeline.llen(key(suffix));
        for (const suffix of SET_KEYS) pipeline.zcard(key(suffix));
      }
      const [rows, replies] = await Promise.all([
        options.db.pool.query<Record<string, unknown>>(SNAPSHOT_SQL, [options.identities, options.pipelineIds]),
        pipeline.exec(),
      ]);
      // A reply error (MOVED from a wrong node, say) would compare equal on both sides: fail instead.
      const counts = (replies ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
      const perQueue = Object.fromEntries(
        options.queueNames.map((name, i) => {
          const width = 1 + LIST_KEYS.length + SET_KEYS.length;
          return [name, counts.slice(i * width, (i + 1) * width).join('/')];
        }),
      );
      return { ...rows.rows[0], redis: perQueue };
    },
    async close() {
      redis.disconnect();
    },
  };
}
