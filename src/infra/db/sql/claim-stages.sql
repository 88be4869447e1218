-- claim-stages: the `claim` (queued → running) and `reclaim` (running → running, same job)
-- transitions of src/domain/stage-lifecycle.ts for a batch of deliveries, in one statement and one
-- commit on the agent worker's hot path (group commit: infra/group-commit.ts gathers the claims
-- of jobs picked up together; a delivery alone is a batch of one).
--
-- Parameter: $1 the deliveries, a jsonb array of {stageId, jobId, runId, workerId, agentVersion,
-- variant} (stage ids distinct within a batch): the stage, the job delivering it, the new attempt's
-- run id, the worker, the agent version it runs and its settings variant (null: unknown, none),
-- both chosen from the feature flags before the claim (services/agent-selection.ts).
-- Result: one row per claimed delivery (stage_id, pipeline_id, key, agent, attempts, input,
-- contract_version (the version the input was written under), timeout_ms, gates, pipeline_input,
-- upstream: by dependency key, {agent, contractVersion, output}, the output with the contract
-- version its producer stored it under (NULL, an older row: 1)); none for a duplicate delivery (the
-- stage is not queued, or running under another job) or a delivery the pause held: it runs nothing.
--
-- Step by step:
-- 1. req: the deliveries, one row each. Plans: Postgres keeps a generic plan for this statement
--    per connection from its sixth run, costed against the tables as they are then (in a new
--    deployment, a few rows) and kept until an analyse of the table. Every lookup below is
--    therefore one row at a time, by a unique index, in a LATERAL subquery with LIMIT 1 (never
--    flattened into a join): a probe is cheaper than a scan whatever the table's size. And `req`
--    is filtered by a condition that always holds (each element is an object) and whose
--    selectivity the planner cannot know: it then counts on one row instead of the 100 it assumes
--    of jsonb_array_elements, and probes by primary key instead of hashing a sequential scan of
--    `stages` for the updates below, which a small table made the cheaper plan.
-- 2. prev: locks each delivery's stage row, found by primary key, in id order (`req` sorted by
--    stage id drives the probes; two batches touching the same rows take turns, never deadlock),
--    but only a stage that is queued, or running under this same job id (BullMQ re-delivers a
--    stalled job under the same id after its worker was lost). `hold`: a queued stage whose
--    pipeline is paused (pipelines.paused_at, read by primary key). A paused pipeline's row is
--    locked FOR KEY SHARE, which reads it as last committed: a resume that committed while this
--    statement ran is seen (the stage runs), and a resume still to come waits for this commit
--    (its FOR UPDATE, pipeline-pause.repository.ts) and then finds the stage paused and queues it
--    again. Without the lock a claim could hold a stage in a pipeline just resumed, and nothing
--    would queue it again. A pipeline that is not paused is neither matched nor locked.
-- 2b. held: the `pause` transition for those (queued → paused): a stage released after its
--    pipeline was paused runs nothing, and its job ends as a duplicate delivery does; its
--    stage.paused event (held_events). A resume queues it again under a job id of its own. A
--    re-claim (running) is never held: the stage was running when the pause came, and running
--    stages finish.
-- 3. claimed: sets each running, increments attempts and records job_id, a fresh current_run_id,
--    the worker (run_worker_id), the attempt's start (run_started_at), its agent version
--    (run_agent_version) and settings variant (run_variant) on the stage row. No
--    stage_runs row is written: the attempt in flight lives on the stage row, and
--    GET /pipelines/:id/runs lists it from there; its stage_runs row is written whole when it ends.
-- 4. started: the stage.started events (payload: StageStartedData in domain/event-payloads.ts).
-- 5. abandoned: for a stage still running under its job, the orphaned attempt's stage_runs row,
--    abandoned with WORKER_LOST, with the version and variant it ran (from prev, before this claim
--    overwrote them) (ON CONFLICT: a second re-claim adds nothing).
-- 6. returns each stage's input, the pipeline input and the outputs of its dependencies (each
--    found by the unique (pipeline_id, key) index): the data half of the stage envelope
--    (domain/stage-envelope.ts), whose header came in the job.
WITH req AS (
  SELECT (e->>'stageId')::uuid AS stage_id, e->>'jobId' AS job_id, (e->>'runId')::uuid AS run_id,
         e->>'workerId' AS worker_id, e->>'agentVersion' AS agent_version, e->>'variant' AS variant
  FROM jsonb_array_elements($1::jsonb) AS e
  -- Always true (the batch is an array of objects); see the header, step 1.
  WHERE jsonb_typeof(e) = 'object'
), prev AS (
  SELECT s.id, s.pipeline_id, s.status, s.attempts, s.input, s.job_id, s.current_run_id, s.run_worker_id, s.run_started_at,
         s.run_agent_version, s.run_variant, r.job_id AS new_job_id, r.run_id AS new_run_id, r.worker_id AS new_worker_id, r.agent_version AS new_agent_version,
         r.variant AS new_variant,
         (@from(s.status; pause) AND EXISTS (SELECT 1 FROM pipelines p WHERE p.id = s.pipeline_id AND p.paused_at IS NOT NULL
                                               FOR KEY SHARE OF p)) AS hold
  FROM (SELECT * FROM req ORDER BY stage_id) r
  CROSS JOIN LATERAL (
    SELECT s.id, s.pipeline_id, s.status, s.attempts, s.input, s.job_id, s.current_run_id, s.run_worker_id, s.run_started_at,
           s.run_agent_version, s.run_variant
    FROM stages s
    WHERE s.id = r.stage_id AND (@from(s.status; claim) OR (@from(s.status; reclaim) AND s.job_id = r.job_id))
    LIMIT 1
    FOR UPDATE OF s
  ) s
), held AS (
  UPDATE stages s SET status = @to(pause) FROM prev WHERE s.id = prev.id AND prev.hold
  RETURNING s.pipeline_id, s.key
), held_events AS (
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, data) SELECT pipeline_id, 'stage.paused', key, '{}'::jsonb FROM held
), claimed AS (
  UPDATE stages s SET status = @to(claim), attempts = s.attempts + 1, job_id = prev.new_job_id, current_run_id = prev.new_run_id,
         run_worker_id = prev.new_worker_id, run_started_at = now(), started_at = COALESCE(s.started_at, now()), progress = 0,
         run_agent_version = prev.new_agent_version, run_variant = prev.new_variant
  FROM prev WHERE s.id = prev.id AND NOT prev.hold
  RETURNING s.id, s.pipeline_id, s.key, s.agent, s.attempts, s.input, s.contract_version, s.timeout_ms, s.depends_on, s.gates,
            s.run_worker_id
), started AS (
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, data)
  SELECT pipeline_id, 'stage.started', key, jsonb_build_object('attempt', attempts, 'workerId', run_worker_id) FROM claimed
), abandoned AS (
  INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, error, worker_id, job_id, started_at, finished_at,
                          agent_version, variant)
  SELECT current_run_id, id, pipeline_id, attempts, 'abandoned', input,
         '{"code":"WORKER_LOST","message":"the worker running this attempt stopped","retryable":true}'::jsonb,
         run_worker_id, job_id, run_started_at, now(), run_agent_version, run_variant
  FROM prev WHERE prev.status = 'running'
  ON CONFLICT DO NOTHING
)
SELECT c.id AS stage_id, c.pipeline_id, c.key, c.agent, c.attempts, c.input, c.contract_version, c.timeout_ms, c.gates,
       p.input AS pipeline_input,
       (SELECT jsonb_object_agg(d.key, jsonb_build_object('agent', d.agent, 'contractVersion', COALESCE(d.output_contract_version, 1),
                                                          'output', d.output))
        FROM unnest(c.depends_on) AS k(key)
        CROSS JOIN LATERAL (SELECT d.key, d.agent, d.output_contract_version, d.output FROM stages d
                            WHERE d.pipeline_id = c.pipeline_id AND d.key = k.key LIMIT 1) d) AS upstream
FROM claimed c JOIN pipelines p ON p.id = c.pipeline_id
