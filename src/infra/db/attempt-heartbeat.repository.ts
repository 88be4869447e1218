// The attempt heartbeat's one statement (services/attempt-heartbeat.ts): a HOT update of an
// unindexed column, on the stages still running under this worker, which also answers the job
// ids of those whose pipeline was asked to cancel (its pipeline row read by primary key).
import type { AttemptHeartbeatRepository } from '../../services/attempt-heartbeat.js';
import type { Database } from './database.js';

const BEAT_SQL = `
  UPDATE stages s SET run_heartbeat_at = now()
  WHERE s.id = ANY($1::uuid[]) AND s.status = 'running' AND s.run_worker_id = $2
  RETURNING s.job_id,
            EXISTS (SELECT 1 FROM pipelines p WHERE p.id = s.pipeline_id AND p.cancel_requested_at IS NOT NULL) AS cancel_requested`;

export function createAttemptHeartbeatRepository({ pool }: Database): AttemptHeartbeatRepository {
  return {
    async beat(stageIds, workerId) {
      const { rows } = await pool.query<{ job_id: string | null; cancel_requested: boolean }>(BEAT_SQL, [stageIds, workerId]);
      return { cancelRequested: rows.filter((r) => r.cancel_requested && r.job_id !== null).map((r) => r.job_id!) };
    },
  };
}
