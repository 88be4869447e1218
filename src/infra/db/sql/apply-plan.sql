-- apply-plan: the conductor's write, one statement applying a plan of domain/planner.ts and
-- domain/stage-admission.ts (computed by the conductor from the rows of readState, in
-- infra/db/pipeline-advance.repository.ts): the
-- `release`, `skip`, `cancel` and `hold` transitions of src/domain/stage-lifecycle.ts, the
-- decisions the holds open, and the pipeline's terminal status.
--
-- Parameters: $1 pipeline id, $2 stage ids to release (queue), $3 ids to skip, $4 ids to
-- cancel, $5 the pipeline's status after the plan, $6 finishing (the status is terminal),
-- $7 the pipeline's error when it fails (jsonb or null), $8 ids to hold for a decision, $9 their
-- hold requests (jsonb array: stage_id, category, status, confidence, threshold, quorum,
-- approvers, on_deadline, deadline_ms, reason), $10 the version of the policy deciding the holds,
-- $11 the one the pipeline was submitted under (which fixed its auto-approve thresholds).
-- Result: at least one row: pipeline_updated (this statement moved the pipeline), opened (jsonb
-- array of { id, deadlineAt } of the decisions it opened), and one row per stage it released,
-- skipped or cancelled (id, key, agent, status, retry_attempts, retry_backoff, contract_version; null
-- when none), each with the pipeline's priority (the BullMQ priority of the released stages' jobs).
--
-- Every write is guarded by the state it expects, so of two advances racing on one pipeline
-- (rare: control messages coalesce) each effect happens once, and only the rows a statement
-- changed come back:
-- 1. changed: a stage is released or skipped only while pending, cancelled only while pending,
--    queued or waiting (the from-statuses of the lifecycle table); stage.finished for the
--    skipped and cancelled ones.
-- 2. closed_questions / closed_decisions: a stage cancelled while it waited takes its open
--    clarification or decision with it, closed as cancelled, with their events.
-- 3. held: a held stage becomes waiting only while pending, and its decision is inserted by the
--    same statement, joined to that update: a stage never waits without its decision, and a
--    second advance racing the first finds it waiting and opens nothing.
-- 4. opened: the decision, its id DEC-<year>-<n> (at least five digits, more once the sequence
--    passes 99999: lpad alone would truncate), its evidence (each upstream's last attempt output,
--    also when it failed under continueOnFailure, and its gate verdicts), and its deadline.
-- 5. before / moved: the pipeline row is locked for this statement's own duration; it reaches a
--    terminal status (with its error) only if it is not terminal already, so exactly one advance
--    reports the finish. started_at is left alone (NULL for one cancelled while queued); a queued
--    pipeline is moved to running only by admission control, never here.
-- 6. finished_event: pipeline.finished, once.
WITH changed AS (
  UPDATE stages SET
    status = (CASE WHEN id = ANY($2::uuid[]) THEN @to(release)
                   WHEN id = ANY($3::uuid[]) THEN @to(skip)
                   ELSE @to(cancel) END),
    queued_at = CASE WHEN id = ANY($2::uuid[]) THEN now() ELSE queued_at END,
    finished_at = CASE WHEN id = ANY($2::uuid[]) THEN finished_at ELSE now() END
  WHERE pipeline_id = $1
    AND ((id = ANY($2::uuid[]) AND @from(status; release))
         OR (id = ANY($3::uuid[]) AND @from(status; skip))
         OR (id = ANY($4::uuid[]) AND @from(status; cancel)))
  RETURNING id, key, agent, status, retry_attempts, retry_backoff, contract_version
), stage_events AS (
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, data)
  SELECT $1, 'stage.finished', key, jsonb_build_object('status', status) FROM changed WHERE status <> @to(release)
), closed_questions AS (
  UPDATE clarifications c SET status = 'cancelled', answered_at = now()
  FROM changed ch WHERE ch.status = @to(cancel) AND c.stage_id = ch.id AND c.status = 'open'
  RETURNING c.id, c.stage_key
), closed_decisions AS (
  UPDATE decisions d SET status = 'cancelled', resolved_at = now(), resolved_by = 'system', updated_at = now()
  FROM changed ch WHERE ch.status = @to(cancel) AND d.stage_id = ch.id AND d.status IN ('pending', 'escalated')
  RETURNING d.id, d.stage_key
), closed_events AS (
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, data)
  SELECT $1, 'clarification.resolved', stage_key,
         jsonb_build_object('clarificationId', id, 'status', 'cancelled', 'after', '{"status":"cancelled"}'::jsonb)
  FROM closed_questions
  UNION ALL
  SELECT $1, 'decision.resolved', stage_key,
         jsonb_build_object('decisionId', id, 'status', 'cancelled', 'after', '{"status":"cancelled"}'::jsonb)
  FROM closed_decisions
), held AS (
  UPDATE stages SET status = @to(hold)
  WHERE pipeline_id = $1 AND id = ANY($8::uuid[]) AND @from(status; hold)
  RETURNING id, key, agent, input, depends_on
), opened AS (
  INSERT INTO decisions (id, pipeline_id, stage_id, stage_key, category, status, confidence, threshold, policy_version, quorum,
                         approvers, evidence, on_deadline, deadline_at)
  SELECT @newDecisionId(),
         $1, h.id, h.key, r.category, r.status::"DecisionStatus", r.confidence, r.threshold, $10::text, r.quorum,
         ARRAY(SELECT jsonb_array_elements_text(r.approvers)),
         jsonb_build_object(
           'reason', r.reason, 'category', r.category, 'confidence', r.confidence, 'threshold', r.threshold,
           'policyVersion', $10::text, 'submittedUnderPolicy', $11::text, 'stage', jsonb_build_object('key', h.key, 'agent', h.agent, 'input', h.input),
           'upstream', COALESCE((SELECT jsonb_object_agg(u.key, COALESCE(u.output, sr.output)) FROM stages u
                                 LEFT JOIN stage_runs sr ON sr.id = u.current_run_id
                                 WHERE u.pipeline_id = $1 AND u.key = ANY(h.depends_on)), '{}'::jsonb),
           'gates', COALESCE((SELECT jsonb_agg(jsonb_build_object('stage', u.key, 'metric', g.metric, 'operator', g.operator,
                                                                  'threshold', g.threshold, 'value', g.value,
                                                                  'severity', g.severity, 'verdict', g.verdict) ORDER BY g.id)
                              FROM stages u JOIN gate_results g ON g.run_id = u.current_run_id
                              WHERE u.pipeline_id = $1 AND u.key = ANY(h.depends_on)), '[]'::jsonb)),
         r.on_deadline, now() + make_interval(secs => r.deadline_ms / 1000.0)
  FROM held h JOIN jsonb_to_recordset($9::jsonb) AS r(stage_id uuid, category text, status text, confidence real, threshold real,
                                                      quorum int, approvers jsonb, on_deadline text, deadline_ms bigint,
                                                      reason text)
    ON r.stage_id = h.id
  RETURNING id, stage_key, status, category, confidence, approvers, deadline_at
), decision_events AS (
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
  SELECT $1, 'decision.requested', stage_key, 'policy',
         jsonb_build_object('decisionId', id, 'category', category, 'confidence', confidence, 'approvers', to_jsonb(approvers),
                            'deadlineAt', deadline_at, 'after', jsonb_build_object('status', status))
  FROM opened
), before AS (
  SELECT status FROM pipelines WHERE id = $1 FOR UPDATE
), moved AS (
  UPDATE pipelines p SET
    status = CASE WHEN m.moves THEN $5::"PipelineStatus" ELSE p.status END,
    finished_at = CASE WHEN m.moves AND $6::boolean THEN now() ELSE p.finished_at END,
    error = CASE WHEN m.moves THEN $7::jsonb ELSE p.error END,
    updated_at = now()
  FROM (SELECT NOT @terminalPipeline(status) AND ($6::boolean OR status = 'queued') AS moves FROM before) m
  WHERE p.id = $1
  RETURNING m.moves
), finished_event AS (
  INSERT INTO pipeline_events (pipeline_id, type, data)
  SELECT $1, 'pipeline.finished', jsonb_strip_nulls(jsonb_build_object('status', $5::text, 'error', $7::jsonb))
  FROM moved WHERE moves AND $6::boolean
)
SELECT COALESCE((SELECT moves FROM moved), false) AS pipeline_updated,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', id, 'deadlineAt', deadline_at)), '[]'::jsonb) FROM opened) AS opened,
       (SELECT priority::text FROM pipelines WHERE id = $1) AS priority,
       changed.*
FROM (SELECT 1) one LEFT JOIN changed ON true
