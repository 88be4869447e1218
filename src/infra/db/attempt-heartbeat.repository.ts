// The attempt heartbeat's one statement (services/attempt-heartbeat.ts): a HOT update of an
// unindexed column, on the stages still running under this worker.
import type { AttemptHeartbeatRepository } from '../../services/attempt-heartbeat.js';
import type { Database } from './database.js';

const BEAT_SQL = `
  UPDATE stages SET run_heartbeat_at = now()
  WHERE id = ANY($1::uuid[]) AND status = 'running' AND run_worker_id = $2`;

export function createAttemptHeartbeatRepository({ pool }: Database): AttemptHeartbeatRepository {
  return {
    async beat(stageIds, workerId) {
      await pool.query(BEAT_SQL, [stageIds, workerId]);
    },
  };
}
