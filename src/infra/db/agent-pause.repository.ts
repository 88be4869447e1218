// The record of agent types an operator paused (agent_pauses): Postgres is the record, the
// queue's pause flag in Redis follows it (the reconciler sets it again after a flush). A pause
// or resume writes its audit event in its own transaction: the two commit together or not at all.
import type { AgentPauseRecord, AgentPauseStore, RecordedAgentPause } from '../../services/agent-pause.ports.js';
import { audited } from './audit.repository.js';
import { inTransaction, type Database } from './database.js';

interface Row {
  agent_type: string;
  paused_at: Date;
  paused_by: string;
  reason: string | null;
  created?: boolean;
}

const toRecord = (row: Row): AgentPauseRecord => ({
  agentType: row.agent_type,
  pausedAt: row.paused_at,
  pausedBy: row.paused_by,
  reason: row.reason,
});

// $1 agent type, $2 who, $3 reason. A second pause keeps the first one's time, author and reason
// (the row says since when the type has been paused); `created` tells the two apart.
const RECORD_SQL = `
  WITH inserted AS (
    INSERT INTO agent_pauses (agent_type, paused_by, reason) VALUES ($1, $2, $3)
    ON CONFLICT (agent_type) DO NOTHING
    RETURNING agent_type, paused_at, paused_by, reason
  )
  SELECT *, true AS created FROM inserted
  UNION ALL
  SELECT agent_type, paused_at, paused_by, reason, false AS created FROM agent_pauses
  WHERE agent_type = $1 AND NOT EXISTS (SELECT 1 FROM inserted)`;

export function createAgentPauseRepository({ pool }: Pick<Database, 'pool'>): AgentPauseStore {
  return {
    record: ({ agentType, by, reason }, audit) =>
      inTransaction(pool, async (client): Promise<RecordedAgentPause> => {
        let row: Row | undefined;
        for (let attempt = 0; !row; attempt++) {
          // A pause committed by another request while this INSERT waited for it is invisible
          // to this statement's snapshot: no row. The next statement sees it (or, resumed
          // meanwhile, inserts again); two rounds always settle it unless pauses and resumes race on.
          if (attempt === 3) throw new Error(`agent type ${agentType}: its pause changed under three attempts to record one`);
          row = (await client.query<Row>(RECORD_SQL, [agentType, by, reason])).rows[0];
        }
        return audited(client, audit, { record: toRecord(row), created: row.created === true });
      }),
    clear: (agentType, audit) =>
      inTransaction(pool, async (client) => {
        const { rowCount } = await client.query('DELETE FROM agent_pauses WHERE agent_type = $1', [agentType]);
        return audited(client, audit, (rowCount ?? 0) > 0);
      }),
    async list() {
      const { rows } = await pool.query<Row>('SELECT agent_type, paused_at, paused_by, reason FROM agent_pauses ORDER BY agent_type');
      return rows.map(toRecord);
    },
  };
}
