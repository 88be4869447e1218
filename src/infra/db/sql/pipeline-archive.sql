-- pipeline-archive: one JSON document per pipeline for `pipelines prune --archive`
-- (infra/db/pipeline-prune.repository.ts, docs/retention.md): its rows of every table that holds
-- them, whole and as stored (Postgres column names, json of each row), under `tables`, so a line
-- can be read back with json_populate_recordset(NULL::<table>, doc->'tables'-><table>).
--
-- Parameters: $1 the pipeline ids.
-- Result: one row per pipeline, oldest first: id, document (json as text; one line: json escapes
-- newlines inside strings).
--
-- Rows without a foreign key to the pipeline are found as the prune deletes them: gate_results
-- and pipeline_events by pipeline_id, shadow_runs by the stage runs they shadow (run_id is
-- indexed, their pipeline_id is not), stage_logs and decision_votes through their parents.
-- audit_events are not archived: they stay in Postgres.
SELECT p.id::text AS id,
       json_build_object(
         'format', 'agentic-sdlc/pipeline-archive',
         'version', 1,
         'pipelineId', p.id,
         'archivedAt', now(),
         'tables', json_build_object(
           'pipelines', json_build_array(to_json(p)),
           'stages', COALESCE((SELECT json_agg(to_json(s) ORDER BY s.position) FROM stages s WHERE s.pipeline_id = p.id), '[]'::json),
           'stage_runs', COALESCE((SELECT json_agg(to_json(r) ORDER BY r.started_at, r.id) FROM stage_runs r WHERE r.pipeline_id = p.id), '[]'::json),
           'gate_results', COALESCE((SELECT json_agg(to_json(g) ORDER BY g.id) FROM gate_results g WHERE g.pipeline_id = p.id), '[]'::json),
           'shadow_runs', COALESCE((SELECT json_agg(to_json(x) ORDER BY x.finished_at, x.id) FROM shadow_runs x
                                    WHERE x.run_id IN (SELECT r.id FROM stage_runs r WHERE r.pipeline_id = p.id)), '[]'::json),
           'stage_logs', COALESCE((SELECT json_agg(to_json(l) ORDER BY l.stage_id, l.attempt, l.run_id, l.seq) FROM stage_logs l
                                   WHERE l.stage_id IN (SELECT s.id FROM stages s WHERE s.pipeline_id = p.id)), '[]'::json),
           'decisions', COALESCE((SELECT json_agg(to_json(d) ORDER BY d.created_at, d.id) FROM decisions d WHERE d.pipeline_id = p.id), '[]'::json),
           'decision_votes', COALESCE((SELECT json_agg(to_json(v) ORDER BY v.id) FROM decision_votes v
                                       WHERE v.decision_id IN (SELECT d.id FROM decisions d WHERE d.pipeline_id = p.id)), '[]'::json),
           'clarifications', COALESCE((SELECT json_agg(to_json(c) ORDER BY c.created_at, c.id) FROM clarifications c WHERE c.pipeline_id = p.id), '[]'::json),
           'pipeline_events', COALESCE((SELECT json_agg(to_json(e) ORDER BY e.id) FROM pipeline_events e WHERE e.pipeline_id = p.id), '[]'::json)
         )
       )::text AS document
FROM pipelines p
WHERE p.id = ANY($1::uuid[])
ORDER BY p.created_at, p.id
