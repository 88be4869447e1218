// The conductor's two statements: readState (one read of the pipeline and its stages) and
// applyPlan (one guarded statement, sql/apply-plan.sql). The conductor plans between them with
// the pure domain functions.
//
// Why no lock is held while planning (kept from the design before the split): every fact the
// planner acts on only moves forward (a terminal stage never changes again, a cancel request is
// never withdrawn), so a plan made from a slightly old read is still right for the rows it
// changes, and apply-plan's guards (the lifecycle table's from-statuses) make a racing second
// advance change nothing. A BEGIN … SELECT FOR UPDATE … COMMIT unit of work would hold the
// pipeline row across the planning for no extra guarantee, and cost two more round trips.
import type { PipelineStatus, StageStatus } from '../../domain/status.js';
import type { ConductorPlan } from '../../domain/stage-admission.js';
import type { AdvanceResult, PipelineState } from '../../services/conductor.ports.js';
import { pipelineFailure } from '../../domain/pipeline-failure.js';
import { retryOnDeadlock, type Database } from './database.js';
import { toCategory, toDispatched } from './mappers.js';
import { loadSql } from './sql/load.js';

const APPLY_PLAN_SQL = loadSql('apply-plan.sql');

const READ_STATE_SQL = `
  SELECT p.status AS p_status, p.cancel_requested_at IS NOT NULL AS p_cancel_requested, p.policy_version,
         s.id, s.key, s.status, s.depends_on, s.continue_on_failure, s.category, s.auto_approve_at, s.confidence,
         s.approved_at IS NOT NULL AS approved, s.error
  FROM pipelines p LEFT JOIN stages s ON s.pipeline_id = p.id
  WHERE p.id = $1`;

const QUEUED_SQL = `SELECT s.id, s.key, s.agent, s.retry_attempts, s.retry_backoff, s.job_id, s.contract_version, p.priority::text AS priority
  FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE s.pipeline_id = $1 AND s.status = 'queued'`;
const OPEN_DECISIONS_SQL = "SELECT id, deadline_at FROM decisions WHERE pipeline_id = $1 AND status IN ('pending', 'escalated')";

interface StageStateRow {
  p_status: PipelineStatus;
  p_cancel_requested: boolean;
  policy_version: string | null;
  id: string | null;
  key: string | null;
  status: StageStatus | null;
  depends_on: string[] | null;
  continue_on_failure: boolean | null;
  category: string | null;
  auto_approve_at: number | null;
  confidence: number | null;
  approved: boolean | null;
  error: { message?: string } | null;
}

interface AppliedRow {
  pipeline_updated: boolean;
  opened: { id: string; deadlineAt: string }[];
  id: string | null;
  key: string | null;
  agent: string | null;
  status: StageStatus | null;
  retry_attempts: number | null;
  retry_backoff: unknown;
  contract_version: number | null;
  /** The pipeline's priority (every row carries it). */
  priority: string | null;
}

/** The pipeline's error when it fails: the stages that failed it, and each one's reason. */
function failureRecord(failedStages: string[], state: PipelineState) {
  const byKey = new Map(state.stages.map((s) => [s.key, s.errorMessage]));
  return pipelineFailure(failedStages, (key) => byKey.get(key));
}

export function createAdvanceStore({ pool }: Database) {
  async function redispatchSet(pipelineId: string, redispatch: boolean) {
    if (!redispatch) return { queued: [], decisions: [] };
    const [queued, decisions] = await Promise.all([
      pool.query<Parameters<typeof toDispatched>[0]>(QUEUED_SQL, [pipelineId]),
      pool.query<{ id: string; deadline_at: Date }>(OPEN_DECISIONS_SQL, [pipelineId]),
    ]);
    return { queued: queued.rows.map(toDispatched), decisions: decisions.rows.map((r) => ({ id: r.id, deadlineAt: r.deadline_at })) };
  }

  return {
    async readState(pipelineId: string): Promise<PipelineState | null> {
      const { rows } = await pool.query<StageStateRow>({ name: 'pipeline_state', text: READ_STATE_SQL, values: [pipelineId] });
      const first = rows[0];
      if (!first) return null;
      return {
        pipelineId,
        status: first.p_status,
        cancelRequested: first.p_cancel_requested,
        policyVersion: first.policy_version,
        stages: rows
          .filter((r) => r.id !== null)
          .map((r) => ({
            id: r.id!,
            key: r.key!,
            status: r.status!,
            dependsOn: r.depends_on ?? [],
            continueOnFailure: r.continue_on_failure ?? false,
            category: toCategory(r.category),
            autoApproveAt: r.auto_approve_at,
            confidence: r.confidence,
            approved: r.approved ?? false,
            errorMessage: r.error?.message ?? null,
          })),
      };
    },

    async applyPlan(expected: PipelineState, plan: ConductorPlan, options: { redispatchQueued?: boolean } = {}): Promise<AdvanceResult> {
      const { pipelineId } = expected;
      // Read before the statement: a stage it queues comes back from it, not twice.
      const again = await redispatchSet(pipelineId, options.redispatchQueued ?? false);
      const finishing = plan.status !== 'running';
      const nothing: AdvanceResult = {
        pipelineId,
        status: expected.status,
        dispatched: again.queued,
        skipped: [],
        cancelled: [],
        finished: false,
        decisions: again.decisions,
      };
      if (
        plan.dispatch.length + plan.skip.length + plan.cancel.length + plan.hold.length === 0 &&
        !finishing &&
        expected.status !== 'queued'
      ) {
        return nothing;
      }
      const idByKey = new Map(expected.stages.map((s) => [s.key, s.id]));
      const ids = (keys: readonly string[]) => keys.map((k) => idByKey.get(k)!);
      const error = plan.status === 'failed' ? failureRecord(plan.failedStages, expected) : null;
      const holds = plan.hold.map(({ key, deadlineMs, onDeadline, ...rest }) => ({
        ...rest,
        stage_id: idByKey.get(key),
        deadline_ms: deadlineMs,
        on_deadline: onDeadline,
      }));
      const { rows: applied } = await retryOnDeadlock(() =>
        pool.query<AppliedRow>({
          name: 'pipeline_apply_plan',
          text: APPLY_PLAN_SQL,
          values: [
            pipelineId,
            ids(plan.dispatch),
            ids(plan.skip),
            ids(plan.cancel),
            plan.status,
            finishing,
            error && JSON.stringify(error),
            ids(plan.hold.map((h) => h.key)),
            JSON.stringify(holds),
            plan.policyVersion,
            expected.policyVersion,
          ],
        }),
      );
      const changed = applied.filter((r): r is AppliedRow & { id: string } => r.id !== null);
      const pipelineMoved = applied[0]?.pipeline_updated === true;
      const opened = (applied[0]?.opened ?? []).map((d) => ({ id: d.id, deadlineAt: new Date(d.deadlineAt) }));
      return {
        pipelineId,
        status: pipelineMoved ? plan.status : expected.status === 'queued' ? 'running' : expected.status,
        dispatched: [...again.queued, ...changed.filter((r) => r.status === 'queued').map(toDispatched)],
        skipped: changed.filter((r) => r.status === 'skipped').map((r) => r.key!),
        cancelled: changed.filter((r) => r.status === 'cancelled').map((r) => r.key!),
        // Only the call whose guarded update moved the pipeline reports the finish.
        finished: finishing && pipelineMoved,
        decisions: [...again.decisions, ...opened],
      };
    },
  };
}
