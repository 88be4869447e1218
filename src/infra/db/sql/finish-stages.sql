-- finish-stages: the ends of a batch of attempts, one statement and one commit (group commit:
-- infra/group-commit.ts gathers the finishes of stages ending together; an attempt alone is a
-- batch of one), each guarded by its run still owning the stage: the `succeed`, `fail`, `retry`,
-- `suspend` and `abort` transitions of src/domain/stage-lifecycle.ts, and the `release` of the
-- dependants they satisfy.
--
-- Parameters: $1 the attempts, a jsonb array of {stageId, runId, runStatus (RunStatus),
-- stageStatus (after the attempt), output (absent: none; JSON null is stored as such), metrics,
-- error (absent: none), terminal (sets finished_at), confidence (percent, absent: none), gates
-- (array of GateResult), eventStatus (the stage.finished event's status; a retry: "retrying"),
-- outputContractVersion (the agent's, stored beside the output on success; absent: unknown, read
-- as 1)} (stage ids distinct within a batch); $2 auto-approval on (the `platform.auto-approval`
-- switch; false: no dependant is released by its confidence, each is left pending for a decision).
-- Result: one row per attempt and released dependant: stage_id (the attempt's), recorded (false: a
-- duplicate, nothing written), cancel_requested, needs_hold (a dependant it satisfied became ready
-- but was left pending for a decision), settled (nothing of its pipeline is left pending, queued
-- or running in this statement's snapshot: see below), and the released dependant (id, key, agent,
-- retry_attempts, retry_backoff, contract_version; null when it released none), with priority, the
-- pipeline's (read from the pipeline row the statement joins anyway: the released job's BullMQ priority).
--
-- Step by step:
-- 1. req: the attempts, one row each, in the order given (idx). Every lookup below is a one-row
--    probe by a unique index, and `req` counts as one row to the planner: see claim-stages.sql,
--    step 1, for why.
-- 2. owned: locks the stages still owned by their run (current_run_id, running), by primary key,
--    in id order.
-- 3. stage: updates them. Success stores the output and progress 100; a retry leaves the stage
--    queued with the error; a final failure, a cancel or a suspension (waiting, its clarification
--    inserted by the caller in the same transaction) record the error. `satisfies` is the rule of
--    satisfiesDependants in domain/stage-lifecycle.ts (succeeded, or failed with
--    continueOnFailure); test/integration/lifecycle-agreement.test.ts holds the two together.
-- 4. run: each attempt's complete stage_runs row, the only write of that row, with the agent
--    version and settings variant its claim recorded on the stage row.
-- 5. gates: one gate_results row per rule evaluated on an attempt.
-- 6. events: per attempt, gate.evaluated per rule, then stage.finished (payloads in
--    domain/event-payloads.ts), attempts in the order given.
-- 7. satisfied: one row per (attempt, pending dependant it satisfies), each dependant found by
--    the unique (pipeline_id, key) index; tally: per dependant, how
--    many of this batch's attempts satisfy it and their lowest reported confidence, and the first
--    such attempt, which the released dependant is reported with (its runner queues the job).
-- 8. held: locks those dependants, in id order, so that concurrent finishes of one fan-in's
--    dependencies take turns: the later one sees the earlier one's decrement, and exactly one of
--    them brings waiting_on to 0.
-- 9. released: decrements waiting_on by the tally and lowers confidence to the lowest reported
--    when lower; the dependant reaching 0 is released (queued) when autoApproved
--    (domain/stage-lifecycle.ts: auto-approval on ($2), auto_approve_at not NULL and confidence,
--    100 if none, reaching it) and left pending otherwise, for the conductor to hold it and open
--    its decision.
-- 10. settled: for an attempt recorded that released nothing, whether nothing of its pipeline is
--    still moving (MOVING_STAGE_STATUSES in domain/status.ts) once this batch is written, as this
--    statement's snapshot sees it: true holds for sure (stages that moved meanwhile were moving
--    here too); false may be stale (one finishing concurrently), so the caller checks again after
--    the commit (StageRunRepository.settled).
--    The check walks the pipeline's stages from the last position backwards
--    (`@stillMoving`, lifecycle-sql.ts stillMovingSql), the batch's own stages judged by their
--    new status.
WITH req AS (
  SELECT (e->>'stageId')::uuid AS stage_id, (e->>'runId')::uuid AS run_id, e->>'runStatus' AS run_status,
         e->>'stageStatus' AS stage_status, e->'output' AS output, e->'metrics' AS metrics, e->'error' AS error,
         (e->>'terminal')::boolean AS terminal, (e->>'confidence')::real AS confidence, COALESCE(e->'gates', '[]') AS gates,
         e->>'eventStatus' AS event_status, (e->>'outputContractVersion')::int AS output_contract_version, idx
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(e, idx)
  -- Always true (the batch is an array of objects); see claim-stages.sql, step 1.
  WHERE jsonb_typeof(e) = 'object'
), owned AS (
  SELECT o.id FROM (SELECT stage_id, run_id FROM req ORDER BY stage_id) r
  CROSS JOIN LATERAL (
    SELECT s.id FROM stages s
    WHERE s.id = r.stage_id AND s.current_run_id = r.run_id AND @from(s.status; succeed, fail, retry, suspend, abort)
    LIMIT 1
    FOR UPDATE OF s
  ) o
), stage AS (
  UPDATE stages s SET status = r.stage_status::"StageStatus",
         output = CASE WHEN r.stage_status = 'succeeded' THEN r.output ELSE s.output END,
         output_contract_version = CASE WHEN r.stage_status = 'succeeded' THEN r.output_contract_version ELSE s.output_contract_version END,
         error = r.error,
         progress = CASE WHEN r.stage_status = 'succeeded' THEN 100 ELSE s.progress END,
         finished_at = CASE WHEN r.terminal THEN now() ELSE NULL END
  FROM owned o JOIN req r ON r.stage_id = o.id
  WHERE s.id = o.id
  RETURNING s.id, s.pipeline_id, s.key, s.status, s.attempts, s.input, s.run_worker_id, s.job_id, s.run_started_at, s.run_agent_version,
            s.run_variant, s.dependants, (r.stage_status = 'succeeded' OR (r.stage_status = 'failed' AND s.continue_on_failure)) AS satisfies,
            r.run_id, r.run_status, r.output, r.metrics, r.error, r.gates, r.event_status, r.confidence, r.idx
), run AS (
  INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, output, metrics, error, worker_id, job_id,
                          started_at, finished_at, agent_version, variant)
  SELECT run_id, id, pipeline_id, attempts, run_status::"RunStatus", input, output, metrics, error, run_worker_id, job_id,
         run_started_at, now(), run_agent_version, run_variant
  FROM stage
), gates AS (
  INSERT INTO gate_results (run_id, stage_id, pipeline_id, attempt, metric, operator, threshold, severity, value, verdict, reason)
  SELECT s.run_id, s.id, s.pipeline_id, s.attempts, g.metric, g.operator, g.threshold, g.severity, g.value, g.verdict, g.reason
  FROM stage s, jsonb_to_recordset(s.gates) AS g(metric text, operator text, threshold jsonb, severity text, value jsonb,
                                                 verdict text, reason text)
), events AS (
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
  SELECT s.pipeline_id, e.type, s.key, e.actor, e.data || jsonb_build_object('attempt', s.attempts)
  FROM stage s, LATERAL (
    SELECT 0 AS ord, g.n, 'gate.evaluated' AS type, 'policy' AS actor, g.value AS data
    FROM jsonb_array_elements(s.gates) WITH ORDINALITY AS g(value, n)
    UNION ALL
    SELECT 1, 0, 'stage.finished', 'system', jsonb_strip_nulls(jsonb_build_object('status', s.event_status, 'error', s.error))
  ) e
  ORDER BY s.idx, e.ord, e.n
), satisfied AS (
  SELECT d.id, s.id AS by_stage, s.idx, s.confidence
  FROM stage s CROSS JOIN LATERAL unnest(s.dependants) AS k(key)
  CROSS JOIN LATERAL (
    SELECT d.id FROM stages d WHERE d.pipeline_id = s.pipeline_id AND d.key = k.key AND @from(d.status; release) LIMIT 1
  ) d
  WHERE s.satisfies
), tally AS (
  SELECT id, count(*)::int AS n, min(confidence) AS confidence, (array_agg(by_stage ORDER BY idx))[1] AS by_stage
  FROM satisfied GROUP BY id
), held AS (
  SELECT d.id FROM (SELECT id FROM tally ORDER BY id) t
  CROSS JOIN LATERAL (SELECT d.id FROM stages d WHERE d.id = t.id AND @from(d.status; release) LIMIT 1 FOR UPDATE OF d) d
), released AS (
  UPDATE stages d SET waiting_on = d.waiting_on - t.n,
         confidence = LEAST(d.confidence, t.confidence),
         status = (CASE WHEN d.waiting_on <= t.n AND $2::boolean AND d.auto_approve_at IS NOT NULL
                             AND COALESCE(LEAST(d.confidence, t.confidence), 100) >= d.auto_approve_at
                        THEN @to(release) ELSE d.status END),
         queued_at = CASE WHEN d.waiting_on <= t.n THEN now() ELSE d.queued_at END
  FROM held h JOIN tally t ON t.id = h.id WHERE d.id = h.id AND @from(d.status; release)
  RETURNING d.id, d.key, d.agent, d.status, d.waiting_on, d.retry_attempts, d.retry_backoff, d.contract_version, t.by_stage
)
SELECT r.stage_id, s.id IS NOT NULL AS recorded,
       COALESCE(p.cancel_requested_at IS NOT NULL, false) AS cancel_requested,
       EXISTS (SELECT 1 FROM released x WHERE x.by_stage = r.stage_id AND x.status <> @to(release) AND x.waiting_on = 0) AS needs_hold,
       CASE WHEN s.id IS NULL OR EXISTS (SELECT 1 FROM released x WHERE x.by_stage = r.stage_id) THEN false
            -- The batch's own stages by their new status (`stage`), the others as the snapshot has them.
            ELSE NOT EXISTS (SELECT 1 FROM stage b WHERE b.pipeline_id = s.pipeline_id AND @moving(b.status))
                 AND NOT @stillMoving(s.pipeline_id; stage)
            END AS settled,
       rl.id, rl.key, rl.agent, rl.retry_attempts, rl.retry_backoff, rl.contract_version, p.priority::text AS priority
FROM req r
LEFT JOIN stage s ON s.id = r.stage_id
LEFT JOIN pipelines p ON p.id = s.pipeline_id
LEFT JOIN released rl ON rl.by_stage = r.stage_id AND rl.status = @to(release)
