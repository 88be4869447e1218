// Submission: a pipeline, all its stages and its audit event inserted by one statement
// (SUBMIT_SQL), in a transaction under admission control's advisory lock when running limits
// are set or with the submission's clarification; else alone, so one round trip and one commit.
// Also the start of queued pipelines.
//
// Step by step, createPipeline:
// 1. under running limits: the admission lock, the start of queued pipelines that now fit, then
//    whether this one gets a slot (`admitted`); without limits it always does.
// 2. the pipeline row: `running` with started_at when admitted, else `queued`; its policy_version.
// 3. every stage in one INSERT … SELECT FROM jsonb_to_recordset (a CTE of SUBMIT_SQL): its
//    `dependants` (the reverse edges, domain/dag.ts), `waiting_on` = its number of dependencies,
//    the policy fixed at submission (gates, category, auto_approve_at, the input's confidence),
//    and its first status from initialStageStatus (domain/stage-lifecycle.ts, with the
//    `platform.auto-approval` switch as read now); a queued root gets
//    queued_at = the creation time.
// 4. the `pipeline.submitted` audit event (a CTE of SUBMIT_SQL), when the caller gives one.
// 5. the submission's clarification and its event, when the requirements check asked one.
// 6. a re-run's facts (rerun.sql.ts, in the same transaction): the link to the old pipeline, each
//    reused stage's old output and origin, the `waiting_on` of the others counting only the
//    dependencies that run, and one `stage.reused` event per reused stage (domain/rerun.ts decides
//    which stages are reused and each stage's first status).
// The unique index on (submitter, idempotency_key) settles concurrent submissions with one key:
// the loser gets IdempotencyKeyTakenError, and the service replays the winner's pipeline.
import type pg from 'pg';
import { canStart } from '../../domain/admission.js';
import { dependantsByKey } from '../../domain/dag.js';
import { DEFAULT_PRIORITY } from '../../domain/pipeline-priority.js';
import { initialStageStatus } from '../../domain/stage-lifecycle.js';
import { rerunConfidence, rerunStageStatus } from '../../domain/rerun.js';
import { insertRerunFacts } from './rerun.sql.js';
import type { PipelineDetail, PipelineRepository, StageView } from '../../services/pipeline.ports.js';
import { idempotencyKeyTaken } from '../../domain/idempotency.js';
import { insertClarification } from './clarification.sql.js';
import { lockAdmission, runningLoad, startQueuedLocked } from './admission.sql.js';
import { toNewClarificationView } from './mappers.js';
import { agentQueueName } from '../queue/queue-names.js';
import { inTransaction, isUniqueViolation, retryOnDeadlock, type Database } from './database.js';
import { insertAuditEventSql, toAuditRow } from './audit.repository.js';

/**
 * Parameters: $1 pipeline id, $2 name, $3 template, $4 input (jsonb), $5 definition (jsonb),
 * $6 idempotency key, $7 request hash, $8 policy version, $9 submitter, $10 status (`running` or
 * `queued`), $11 labels (jsonb), $12 trace id, $13 the stage rows (jsonb array, rowsFor's
 * objects), $14 the audit event (jsonb, toAuditRow's object, or null for none), $15 the priority
 * (a PipelinePriority), $16 the deadline (timestamptz or null).
 * Result: one row, the pipeline's created_at, updated_at and started_at. The stage rows' foreign
 * key is checked at the end of the statement, when the pipeline row exists. A unique violation
 * of (submitter, idempotency_key) fails the whole statement: nothing is written.
 */
const SUBMIT_SQL = `
  WITH pipeline AS (
    INSERT INTO pipelines (id, name, status, template, input, definition, idempotency_key, request_hash, policy_version,
                           submitter, labels, trace_id, started_at, updated_at, priority, deadline_at)
    VALUES ($1, $2, $10::"PipelineStatus", $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $11::jsonb, $12,
            CASE WHEN $10 = 'running' THEN now() END, now(), $15::"PipelinePriority", $16::timestamptz)
    RETURNING created_at, updated_at, started_at
  ), stages AS (
    INSERT INTO stages (id, pipeline_id, key, position, agent, depends_on, dependants, waiting_on, status, queued_at, input,
                        retry_attempts, retry_backoff, timeout_ms, continue_on_failure, gates, category, auto_approve_at, confidence,
                        contract_version)
    SELECT r.id, $1, r.key, r.position, r.agent,
           ARRAY(SELECT jsonb_array_elements_text(r.depends_on)), ARRAY(SELECT jsonb_array_elements_text(r.dependants)),
           jsonb_array_length(r.depends_on), r.status::"StageStatus", CASE WHEN r.status = 'queued' THEN now() END,
           r.input, r.retry_attempts, r.retry_backoff, r.timeout_ms, r.continue_on_failure, r.gates, r.category,
           r.auto_approve_at, r.confidence, COALESCE(r.contract_version, 1)
    FROM jsonb_to_recordset($13::jsonb) AS r(id uuid, key text, position int, agent text, depends_on jsonb, dependants jsonb,
                                             status text, input jsonb, retry_attempts int, retry_backoff jsonb, timeout_ms int,
                                             continue_on_failure boolean, gates jsonb, category text, auto_approve_at real,
                                             confidence real, contract_version int)
  ), audit AS (
    ${insertAuditEventSql('$14')}
  )
  SELECT created_at, updated_at, started_at FROM pipeline`;

/** `autoApproval`: the `platform.auto-approval` switch (default on); off, every root waits for the conductor to open its decision. */
export function createSubmissionStore(
  { pool }: Database,
  autoApproval: () => boolean = () => true,
): Pick<PipelineRepository, 'createPipeline' | 'countQueued' | 'startQueued'> {
  return {
    async createPipeline({
      id,
      definition,
      template,
      idempotencyKey,
      requestHash,
      stageIds,
      contractVersions,
      policy,
      confidence,
      clarification,
      submitter,
      labels = {},
      traceId = null,
      priority = DEFAULT_PRIORITY,
      deadlineAt = null,
      admission,
      audit,
      rerun,
    }) {
      // Hand-written: Prisma's createMany spent ~120 ms of CPU on a 500-stage pipeline; one
      // INSERT … SELECT FROM jsonb_to_recordset does it in Postgres.
      const dependants = dependantsByKey(definition.stages);
      const autoApprove = autoApproval();
      const reusedKeys = new Set(rerun?.reused.keys());
      // A re-run's stage to run starts from the confidence its reused dependencies reported.
      const confidenceOf = (dependsOn: readonly string[]): number | null =>
        rerun
          ? rerunConfidence(
              confidence,
              dependsOn.flatMap((key) => {
                const reused = rerun.reused.get(key);
                return reused ? [reused.output] : [];
              }),
            )
          : confidence;
      // A re-run's stage starts from the facts of domain/rerun.ts; any other, as a new pipeline's.
      const statusOf = (stage: (typeof definition.stages)[number], position: number, admitted: boolean) => {
        const facts = { autoApproveAt: policy.stages[position]!.autoApproveAt, confidence: confidenceOf(stage.dependsOn) };
        return rerun
          ? rerunStageStatus({ key: stage.key, dependsOn: stage.dependsOn, ...facts }, reusedKeys, { admitted, autoApproval: autoApprove })
          : initialStageStatus(
              { root: stage.dependsOn.length === 0, ...facts },
              { clarifying: clarification !== null, admitted, autoApproval: autoApprove },
            );
      };
      const reusedOf = (key: string) => {
        const reused = rerun?.reused.get(key);
        return reused && rerun ? { fromPipeline: rerun.of, fromStage: reused.stageId } : null;
      };
      // `admitted`: whether the pipeline starts now (always, without limits); decided under the admission lock.
      const stagesFor = (admitted: boolean): StageView[] =>
        definition.stages.map((stage, position) => ({
          id: stageIds[position]!,
          key: stage.key,
          agent: stage.agent,
          dependsOn: stage.dependsOn,
          input: stage.input,
          retry: stage.retry,
          timeoutMs: stage.timeoutMs ?? null,
          continueOnFailure: stage.continueOnFailure,
          gates: policy.stages[position]!.gates,
          category: policy.stages[position]!.category,
          confidence: confidenceOf(stage.dependsOn),
          status: statusOf(stage, position, admitted),
          attempts: 0,
          progress: 0,
          output: rerun?.reused.get(stage.key)?.output ?? null,
          error: null,
          queuedAt: null,
          startedAt: null,
          finishedAt: null,
          agentVersion: null,
          variant: null,
          jobId: null,
          queue: agentQueueName(stage.agent),
          reused: reusedOf(stage.key),
        }));
      const rowsFor = (stages: StageView[]) =>
        stages.map((stage, position) => ({
          id: stage.id,
          key: stage.key,
          position,
          agent: stage.agent,
          depends_on: stage.dependsOn,
          dependants: dependants.get(stage.key) ?? [],
          status: stage.status,
          gates: stage.gates,
          category: stage.category,
          auto_approve_at: policy.stages[position]!.autoApproveAt,
          confidence: stage.confidence,
          input: stage.input,
          retry_attempts: stage.retry.attempts,
          retry_backoff: stage.retry.backoff,
          timeout_ms: stage.timeoutMs,
          continue_on_failure: stage.continueOnFailure,
          contract_version: contractVersions?.[position] ?? 1,
        }));
      type Inserted = { created_at: Date; updated_at: Date; started_at: Date | null };
      const insert = async (client: Pick<pg.Pool, 'query'>, stages: StageView[], admitted: boolean): Promise<Inserted> => {
        const { rows } = await client.query<Inserted>({
          name: 'submit_pipeline',
          text: SUBMIT_SQL,
          values: [
            id,
            definition.name,
            template,
            JSON.stringify(definition.input),
            JSON.stringify(definition),
            idempotencyKey,
            requestHash,
            policy.version,
            submitter,
            admitted ? 'running' : 'queued',
            JSON.stringify(labels),
            traceId,
            JSON.stringify(rowsFor(stages)),
            audit ? JSON.stringify(toAuditRow(audit)) : null,
            priority,
            deadlineAt,
          ],
        });
        return rows[0]!;
      };
      let created: Inserted & { stages: StageView[]; started: string[] };
      try {
        created = await retryOnDeadlock(async () => {
          // Nothing else to write or to lock: the statement is its own transaction.
          if (!admission && !clarification && !rerun) {
            const stages = stagesFor(true);
            return { ...(await insert(pool, stages, true)), stages, started: [] };
          }
          return inTransaction(pool, async (client) => {
            let admitted = true;
            let started: string[] = [];
            if (admission) {
              // Queued pipelines that could start go first (a start lost in a crash is made up
              // here), then this one takes a slot only if one is left.
              await lockAdmission(client);
              started = await startQueuedLocked(client, admission);
              admitted = canStart(admission, await runningLoad(client, admission, [submitter]), submitter);
            }
            const stages = stagesFor(admitted);
            const inserted = await insert(client, stages, admitted);
            if (clarification) await insertClarification(client, clarification);
            if (rerun) await insertRerunFacts(client, id, rerun, definition.stages);
            return { ...inserted, stages, started };
          });
        });
      } catch (error) {
        if (isUniqueViolation(error) && idempotencyKey) throw idempotencyKeyTaken(idempotencyKey, 'a concurrent submission');
        throw error;
      }
      const pipeline: PipelineDetail = {
        id,
        name: definition.name,
        status: created.started_at ? 'running' : 'queued',
        template,
        input: definition.input,
        error: null,
        createdAt: created.created_at,
        updatedAt: created.updated_at,
        startedAt: created.started_at,
        finishedAt: null,
        cancelRequestedAt: null,
        policyVersion: policy.version,
        submitter,
        labels,
        traceId,
        paused: null,
        priority,
        deadlineAt,
        cancelReason: null,
        decisions: [],
        clarifications: clarification ? [toNewClarificationView(clarification, created.created_at)] : [],
        // now() is the transaction's start: the roots were queued at the pipeline's creation.
        stages: created.stages.map((stage) =>
          stage.status === 'queued'
            ? { ...stage, queuedAt: created.created_at, jobId: stage.id }
            : stage.reused
              ? { ...stage, finishedAt: created.created_at }
              : stage,
        ),
        rerunOf: rerun?.of ?? null,
        rerunFrom: rerun?.from ?? [],
        reruns: [],
      };
      return { pipeline, started: created.started };
    },

    async countQueued() {
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pipelines WHERE status = 'queued'");
      return rows[0]!.n;
    },

    async startQueued(limits) {
      // The common case (nothing waits) costs one index probe and takes no lock.
      const { rows } = await pool.query<{ waiting: boolean }>(
        "SELECT EXISTS (SELECT 1 FROM pipelines WHERE status = 'queued' AND cancel_requested_at IS NULL) AS waiting",
      );
      if (!rows[0]!.waiting) return [];
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          await lockAdmission(client);
          return startQueuedLocked(client, limits);
        }),
      );
    },
  };
}
