// A re-run's facts (services/rerun.service.ts), written by the submission right after its
// SUBMIT_SQL, in the same transaction (pipeline-submission.repository.ts): the link to the old
// pipeline, the reused stages' outputs and origin, waiting_on, and the stage.reused events.
import type pg from 'pg';
import { rerunNotFinished, rerunWaitingOn } from '../../domain/rerun.js';
import type { PipelineStatus } from '../../domain/status.js';
import type { NewRerun } from '../../services/rerun.ports.js';

/**
 * A re-run's facts, after SUBMIT_SQL in its transaction. Parameters: $1 the new pipeline id,
 * $2 the old pipeline id, $3 the stages chosen to run again (text[]), $4 one object per stage
 * {position, key, waiting_on, reused_from (old stage id, null: it runs), output, output_contract_version}.
 * Sets rerun_of and rerun_from on the pipeline, the reused stages' output, origin and
 * finished_at, every stage's waiting_on, and writes a `stage.reused` event per reused stage
 * (payload: domain/event-payloads.ts), in definition order. No result rows.
 */
const REUSE_SQL = `
  WITH facts AS (
    SELECT * FROM jsonb_to_recordset($4::jsonb)
      AS f(position int, key text, waiting_on int, reused_from uuid, output jsonb, output_contract_version int)
  ), pipeline AS (
    UPDATE pipelines SET rerun_of = $2::uuid, rerun_from = $3::text[] WHERE id = $1::uuid
  ), stages AS (
    UPDATE stages s SET waiting_on = f.waiting_on, reused_from = f.reused_from,
           reused_from_pipeline = CASE WHEN f.reused_from IS NOT NULL THEN $2::uuid END,
           output = CASE WHEN f.reused_from IS NOT NULL THEN f.output END,
           output_contract_version = CASE WHEN f.reused_from IS NOT NULL THEN f.output_contract_version END,
           finished_at = CASE WHEN f.reused_from IS NOT NULL THEN now() END
    FROM facts f WHERE s.pipeline_id = $1::uuid AND s.key = f.key
  )
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, data)
  SELECT $1::uuid, 'stage.reused', f.key, jsonb_build_object('fromPipeline', $2::text, 'fromStage', f.reused_from::text)
  FROM facts f WHERE f.reused_from IS NOT NULL ORDER BY f.position`;

/**
 * Writes a re-run's facts (REUSE_SQL) for the new pipeline `id`, whose stages are `stages`. First
 * the old pipeline's row is locked (FOR SHARE, against a DLQ replay's FOR UPDATE) and its status
 * asked again: a replay that reopened it since the service read it refuses the re-run (409
 * PIPELINE_NOT_FINISHED), and a replay still to come waits for this commit, then finds the re-run
 * (replay.repository.ts, PIPELINE_RERUN). One live attempt per lineage.
 */
export async function insertRerunFacts(
  client: Pick<pg.PoolClient, 'query'>,
  id: string,
  rerun: NewRerun,
  stages: readonly { key: string; dependsOn: readonly string[] }[],
): Promise<void> {
  const { rows } = await client.query<{ status: PipelineStatus }>({
    name: 'rerun_lock_source',
    text: 'SELECT status FROM pipelines WHERE id = $1::uuid FOR SHARE',
    values: [rerun.of],
  });
  // Deleted since it was read (pruned): nothing to link to, and nothing of it to revive either.
  const notFinished = rows[0] ? rerunNotFinished(rerun.of, rows[0].status) : null;
  if (notFinished) throw notFinished;
  const reused = new Set(rerun.reused.keys());
  const facts = stages.map((stage, position) => {
    const from = rerun.reused.get(stage.key);
    return {
      position,
      key: stage.key,
      waiting_on: rerunWaitingOn(stage.dependsOn, reused),
      reused_from: from?.stageId ?? null,
      output: from?.output ?? null,
      output_contract_version: from?.outputContractVersion ?? null,
    };
  });
  await client.query({ name: 'rerun_facts', text: REUSE_SQL, values: [id, rerun.of, rerun.from, JSON.stringify(facts)] });
}
