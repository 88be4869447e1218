// Shadow runs in Postgres (shadow_runs): one insert per compared attempt, off the hot path (after
// the incumbent's commit), and the canary report's reads over one agent type and version pair,
// served by the (agent_type, finished_at DESC) index.
import type { GateResult } from '../../domain/gates.js';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import type { ShadowStatus } from '../../domain/shadow-agreement.js';
import type { CanaryFilter, ShadowRunReader, ShadowRunRecord, ShadowRunRepository } from '../../services/shadow.ports.js';
import type { StageErrorRecord } from '../../services/stage-error-record.js';
import type { Database } from './database.js';

interface ShadowRunRow {
  id: string;
  run_id: string;
  stage_id: string;
  pipeline_id: string;
  stage_key: string;
  agent_type: string;
  incumbent_version: string;
  candidate_version: string;
  incumbent_status: ShadowStatus;
  candidate_status: ShadowStatus;
  incumbent_gates: GateResult[];
  candidate_gates: GateResult[];
  candidate_output: JsonValue | null;
  candidate_error: StageErrorRecord | null;
  candidate_metrics: JsonObject | null;
  agreed: boolean;
  disagreements: string[];
  outputs_equal: boolean;
  started_at: Date;
  finished_at: Date;
}

// A repeated record of one attempt (unique run_id) writes nothing.
const INSERT_SQL = `
  INSERT INTO shadow_runs (id, run_id, stage_id, pipeline_id, stage_key, agent_type, incumbent_version, candidate_version,
                           incumbent_status, candidate_status, incumbent_gates, candidate_gates, candidate_output,
                           candidate_error, candidate_metrics, agreed, disagreements, outputs_equal, started_at, finished_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13::jsonb, $14::jsonb, $15::jsonb, $16, $17::jsonb,
          $18, $19, $20)
  ON CONFLICT (run_id) DO NOTHING`;

// $1 agent type, $2 incumbent version, $3 candidate version, $4 since (NULL: all time).
const FILTER_SQL = `agent_type = $1 AND incumbent_version = $2 AND candidate_version = $3
  AND ($4::timestamptz IS NULL OR finished_at >= $4::timestamptz)`;

const COUNT_SQL = `
  SELECT count(*) FILTER (WHERE agreed)::int AS agreed, count(*) FILTER (WHERE NOT agreed)::int AS disagreed
  FROM shadow_runs WHERE ${FILTER_SQL}`;

const DISAGREEMENTS_SQL = `
  SELECT * FROM shadow_runs WHERE ${FILTER_SQL} AND NOT agreed
  ORDER BY finished_at DESC, id DESC LIMIT $5`;

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

function toRecord(r: ShadowRunRow): ShadowRunRecord {
  return {
    id: r.id,
    runId: r.run_id,
    stageId: r.stage_id,
    pipelineId: r.pipeline_id,
    stageKey: r.stage_key,
    agentType: r.agent_type,
    incumbentVersion: r.incumbent_version,
    candidateVersion: r.candidate_version,
    incumbent: { status: r.incumbent_status, gates: r.incumbent_gates },
    candidate: {
      status: r.candidate_status,
      gates: r.candidate_gates,
      output: r.candidate_output,
      error: r.candidate_error,
      metrics: r.candidate_metrics ?? {},
    },
    agreed: r.agreed,
    disagreements: r.disagreements,
    outputsEqual: r.outputs_equal,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

const filterValues = (f: CanaryFilter) => [f.agentType, f.incumbentVersion, f.candidateVersion, f.since ?? null];

export function createShadowRunRepository({ pool }: Pick<Database, 'pool'>): ShadowRunRepository & ShadowRunReader {
  return {
    async record(run) {
      const { rowCount } = await pool.query({
        name: 'shadow_run_insert',
        text: INSERT_SQL,
        values: [
          run.id,
          run.runId,
          run.stageId,
          run.pipelineId,
          run.stageKey,
          run.agentType,
          run.incumbentVersion,
          run.candidateVersion,
          run.incumbent.status,
          run.candidate.status,
          json(run.incumbent.gates),
          json(run.candidate.gates),
          // A JSON null output is stored as SQL NULL: the column says "no output" either way.
          json(run.candidate.output),
          json(run.candidate.error),
          json(run.candidate.metrics),
          run.agreed,
          json(run.disagreements),
          run.outputsEqual,
          run.startedAt,
          run.finishedAt,
        ],
      });
      return rowCount === 1;
    },

    async count(filter) {
      const { rows } = await pool.query<{ agreed: number; disagreed: number }>(COUNT_SQL, filterValues(filter));
      return { agreed: rows[0]?.agreed ?? 0, disagreed: rows[0]?.disagreed ?? 0 };
    },

    async disagreements(filter, limit) {
      const { rows } = await pool.query<ShadowRunRow>(DISAGREEMENTS_SQL, [...filterValues(filter), limit]);
      return rows.map(toRecord);
    },
  };
}
