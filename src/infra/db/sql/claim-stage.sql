-- claim-stage: the `claim` (queued → running) and `reclaim` (running → running, same job)
-- transitions of src/domain/stage-lifecycle.ts, in one statement on the agent worker's hot path.
--
-- Parameters: $1 stage id, $2 job id, $3 the new attempt's run id, $4 worker id, $5 the agent
-- version it runs (null: unknown), $6 its settings variant (null: none), both chosen from the
-- feature flags before the claim (services/agent-selection.ts).
-- Result: one row when claimed (pipeline_id, key, agent, attempts, input, contract_version (the
-- version the input was written under), timeout_ms, gates, pipeline_input, upstream: by
-- dependency key, {agent, contractVersion, output}, the output with the contract version its
-- producer stored it under (NULL, an older row: 1)), none when this delivery is a duplicate (the
-- stage is not queued, or running under another job): it runs nothing.
--
-- Step by step:
-- 1. prev: locks the stage row, but only if it is queued, or running under this same job id
--    (BullMQ re-delivers a stalled job under the same id after its worker was lost).
-- 2. claimed: sets it running, increments attempts and records job_id, a fresh current_run_id,
--    the worker (run_worker_id), the attempt's start (run_started_at), its agent version
--    (run_agent_version) and settings variant (run_variant) on the stage row. No
--    stage_runs row is written: the attempt in flight lives on the stage row, and
--    GET /pipelines/:id/runs lists it from there; its stage_runs row is written whole when it ends.
-- 3. started: the stage.started event (payload: StageStartedData in domain/event-payloads.ts).
-- 4. abandoned: when the stage was still running under this job, the orphaned attempt's
--    stage_runs row, abandoned with WORKER_LOST, with the version and variant it ran (from prev,
--    before this claim overwrote them) (ON CONFLICT: a second re-claim adds nothing).
-- 5. returns the stage input, the pipeline input and the outputs of its dependencies: the data
--    half of the stage envelope (domain/stage-envelope.ts), whose header came in the job.
WITH prev AS (
  SELECT id, pipeline_id, status, attempts, input, job_id, current_run_id, run_worker_id, run_started_at, run_agent_version, run_variant
  FROM stages
  WHERE id = $1 AND (@from(status; claim) OR (@from(status; reclaim) AND job_id = $2))
  FOR UPDATE
), claimed AS (
  UPDATE stages s SET status = @to(claim), attempts = s.attempts + 1, job_id = $2, current_run_id = $3,
         run_worker_id = $4, run_started_at = now(), started_at = COALESCE(s.started_at, now()), progress = 0,
         run_agent_version = $5, run_variant = $6
  FROM prev WHERE s.id = prev.id
  RETURNING s.id, s.pipeline_id, s.key, s.agent, s.attempts, s.input, s.contract_version, s.timeout_ms, s.depends_on, s.gates
), started AS (
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, data)
  SELECT pipeline_id, 'stage.started', key, jsonb_build_object('attempt', attempts, 'workerId', $4::text) FROM claimed
), abandoned AS (
  INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, error, worker_id, job_id, started_at, finished_at,
                          agent_version, variant)
  SELECT current_run_id, id, pipeline_id, attempts, 'abandoned', input,
         '{"code":"WORKER_LOST","message":"the worker running this attempt stopped","retryable":true}'::jsonb,
         run_worker_id, job_id, run_started_at, now(), run_agent_version, run_variant
  FROM prev WHERE prev.status = 'running'
  ON CONFLICT DO NOTHING
)
SELECT c.pipeline_id, c.key, c.agent, c.attempts, c.input, c.contract_version, c.timeout_ms, c.gates, p.input AS pipeline_input,
       (SELECT jsonb_object_agg(d.key, jsonb_build_object('agent', d.agent, 'contractVersion', COALESCE(d.output_contract_version, 1),
                                                          'output', d.output))
        FROM stages d WHERE d.pipeline_id = c.pipeline_id AND d.key = ANY(c.depends_on)) AS upstream
FROM claimed c JOIN pipelines p ON p.id = c.pipeline_id
