-- finish-stage: the end of an attempt, one statement and one commit, guarded by the run still
-- owning the stage: the `succeed`, `fail`, `retry`, `suspend` and `abort` transitions of
-- src/domain/stage-lifecycle.ts, and the `release` of the dependants it satisfies.
--
-- Parameters: $1 stage id, $2 run id, $3 run status (RunStatus), $4 stage status after the
-- attempt, $5 output (jsonb or null), $6 metrics (jsonb), $7 error record (jsonb or null),
-- $8 terminal (sets finished_at), $9 confidence reported (percent or null), $10 gate results
-- (jsonb array of GateResult), $11 the stage.finished event's status (a retry: "retrying"),
-- $12 auto-approval on (the `platform.auto-approval` switch; false: no dependant is released by
-- its confidence, each is left pending for a decision), $13 the contract version the output was
-- written under (its agent's; stored beside the output on success, null: unknown, read as 1).
-- Result: at least one row: recorded (false: a duplicate, nothing written), cancel_requested,
-- needs_hold (a dependant became ready but was left pending for a decision), and one row per released
-- dependant (id, key, agent, retry_attempts, retry_backoff, contract_version; null when none was released).
--
-- Step by step:
-- 1. stage: updates the stage, only while this run owns it (current_run_id = $2, running).
--    Success stores the output and progress 100; a retry leaves it queued with the error; a
--    final failure, a cancel or a suspension (waiting, its clarification inserted by the caller
--    in the same transaction) record the error. `satisfies` is the rule of
--    satisfiesDependants in domain/stage-lifecycle.ts (succeeded, or failed with
--    continueOnFailure); test/integration/lifecycle-agreement.test.ts holds the two together.
-- 2. run: the attempt's complete stage_runs row, the only write of that row, with the agent
--    version and settings variant its claim recorded on the stage row.
-- 3. gates: one gate_results row per rule evaluated on the attempt.
-- 4. events: gate.evaluated per rule, then stage.finished (payloads in domain/event-payloads.ts).
-- 5. satisfied_dependants: locks each pending dependant's row, in id order, so that concurrent finishes of
--    one fan-in's dependencies take turns: the later one sees the earlier one's decrement, and
--    exactly one of them brings waiting_on to 0.
-- 6. released: decrements waiting_on and lowers confidence to the reported one when lower; the
--    dependant reaching 0 is released (queued) when autoApproved (domain/stage-lifecycle.ts:
--    auto-approval on ($12), auto_approve_at not NULL and confidence, 100 if none, reaching it) and left pending
--    otherwise, for the conductor to hold it and open its decision.
WITH stage AS (
  UPDATE stages SET status = $4::"StageStatus",
         output = CASE WHEN $4 = 'succeeded' THEN $5::jsonb ELSE output END,
         output_contract_version = CASE WHEN $4 = 'succeeded' THEN $13::int ELSE output_contract_version END,
         error = $7::jsonb,
         progress = CASE WHEN $4 = 'succeeded' THEN 100 ELSE progress END,
         finished_at = CASE WHEN $8::boolean THEN now() ELSE NULL END
  WHERE id = $1 AND current_run_id = $2 AND @from(status; succeed, fail, retry, suspend, abort)
  RETURNING pipeline_id, key, attempts, input, run_worker_id, job_id, run_started_at, run_agent_version, run_variant, dependants,
            ($4 = 'succeeded' OR ($4 = 'failed' AND continue_on_failure)) AS satisfies
), run AS (
  INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, output, metrics, error, worker_id, job_id,
                          started_at, finished_at, agent_version, variant)
  SELECT $2, $1, pipeline_id, attempts, $3::"RunStatus", input, $5::jsonb, $6::jsonb, $7::jsonb, run_worker_id, job_id,
         run_started_at, now(), run_agent_version, run_variant
  FROM stage
), gates AS (
  INSERT INTO gate_results (run_id, stage_id, pipeline_id, attempt, metric, operator, threshold, severity, value, verdict, reason)
  SELECT $2, $1, s.pipeline_id, s.attempts, g.metric, g.operator, g.threshold, g.severity, g.value, g.verdict, g.reason
  FROM stage s, jsonb_to_recordset($10::jsonb) AS g(metric text, operator text, threshold jsonb, severity text, value jsonb,
                                                   verdict text, reason text)
), events AS (
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
  SELECT s.pipeline_id, e.type, s.key, e.actor, e.data || jsonb_build_object('attempt', s.attempts)
  FROM stage s, (
    SELECT 0 AS ord, g.n, 'gate.evaluated' AS type, 'policy' AS actor, g.value AS data
    FROM jsonb_array_elements($10::jsonb) WITH ORDINALITY AS g(value, n)
    UNION ALL
    SELECT 1, 0, 'stage.finished', 'system', jsonb_strip_nulls(jsonb_build_object('status', $11::text, 'error', $7::jsonb))
  ) e
  ORDER BY e.ord, e.n
), satisfied_dependants AS (
  SELECT d.id FROM stages d JOIN stage s ON d.pipeline_id = s.pipeline_id AND d.key = ANY(s.dependants)
  WHERE s.satisfies AND @from(d.status; release)
  ORDER BY d.id
  FOR UPDATE OF d
), released AS (
  UPDATE stages d SET waiting_on = d.waiting_on - 1,
         confidence = LEAST(d.confidence, $9::real),
         status = (CASE WHEN d.waiting_on <= 1 AND $12::boolean AND d.auto_approve_at IS NOT NULL
                             AND COALESCE(LEAST(d.confidence, $9::real), 100) >= d.auto_approve_at
                        THEN @to(release) ELSE d.status END),
         queued_at = CASE WHEN d.waiting_on <= 1 THEN now() ELSE d.queued_at END
  FROM satisfied_dependants u WHERE d.id = u.id AND @from(d.status; release)
  RETURNING d.id, d.key, d.agent, d.status, d.waiting_on, d.retry_attempts, d.retry_backoff, d.contract_version
)
SELECT EXISTS (SELECT 1 FROM stage) AS recorded,
       EXISTS (SELECT 1 FROM pipelines p JOIN stage s ON p.id = s.pipeline_id WHERE p.cancel_requested_at IS NOT NULL) AS cancel_requested,
       EXISTS (SELECT 1 FROM released WHERE status <> @to(release) AND waiting_on = 0) AS needs_hold,
       r.id, r.key, r.agent, r.retry_attempts, r.retry_backoff, r.contract_version
FROM (SELECT 1) one LEFT JOIN released r ON r.status = @to(release)
