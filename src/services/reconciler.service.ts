// The reconciler: one pass compares what Postgres says must exist in Redis with what Redis
// holds, and re-adds what is missing. Run by the control worker for the scheduler's job
// (infra/queue/reconcile.scheduler.ts), every RECONCILE_EVERY_MS.
// Idempotent: every repair is an add under a fixed job id (a no-op when the job exists) or an
// advance the conductor applies with guarded writes; a stage is re-checked in Postgres right
// before its job is touched. The one record it writes: a running stage whose job BullMQ itself
// dead-lettered (stalled too often) is recorded failed, guarded by that job and attempt (if the
// advance after it is lost, the pipelines scan below advances the pipeline on a later pass).
// Bounded: each scan reads at most `maxBatches` pages of `batchSize` rows, oldest first, and the
// next pass continues where this one stopped. Errors are not retried: the pass fails and the
// next one starts over.
import type { Logger } from '../domain/logger.js';
import { describeCode } from '../domain/error-codes.js';
import { stageErrorRecord } from './stage-error-record.js';
import { afterCommitWith } from './release.js';
import type { AgentQueues, ControlQueue, DispatchedStage } from './queue.ports.js';
import type { JobPresence, ReconcileCursor, ReconcileQueues, ReconcileRepository, StageToReconcile } from './reconcile.ports.js';
import type { StageErrorRecord } from './stage-error-record.js';

/** The error record of a stage whose job BullMQ dead-lettered for stalling (a crash loop, most likely). */
function stalledTooOften(jobId: string): StageErrorRecord {
  return stageErrorRecord(
    describeCode(
      'STALLED_TOO_OFTEN',
      `job ${jobId} stalled more than MAX_STALLED_COUNT times (its worker died or froze mid-attempt each time); BullMQ moved it to the failed set`,
    ),
  );
}

export interface ReconcilerDeps {
  repo: ReconcileRepository;
  queues: ReconcileQueues;
  agentQueues: AgentQueues;
  control: ControlQueue;
  logger: Logger;
  /**
   * LOCK_DURATION_MS: a running stage's job is re-added only when its attempt began, and its
   * worker last stamped it (attempt-heartbeat.ts), longer ago than this: a worker still running
   * it records the attempt itself.
   */
  lockDurationMs: number;
  /** Queued stages and pipelines idle for less than this are left to their producers (default 5 s). */
  graceMs?: number;
  /** Rows per page (default 1000). */
  batchSize?: number;
  /** Pages per scan and pass (default 5). */
  maxBatches?: number;
  /**
   * Pauses again the agent queues Postgres records as paused whose flag Redis lost (agent-pause.service.ts);
   * returns the types it paused. Absent: not checked.
   */
  agentPauses?: { reapply(): Promise<string[]> };
}

/** What one pass found and did. */
export interface ReconcileReport {
  stagesChecked: number;
  /** Queued stages whose job was missing: added again. */
  queuedReadded: number;
  /** Queued stages whose job had failed: retried with fresh attempts. */
  queuedRetried: number;
  /** Queued stages whose job had completed, or was a hash in no list: removed and added again. */
  queuedReplaced: number;
  /**
   * Running stages whose job was gone and whose worker stopped stamping the attempt: added again
   * (the claim records the orphaned attempt as abandoned).
   */
  runningReadded: number;
  /**
   * Running stages whose job BullMQ failed on its own (stalled more than maxStalledCount): no
   * worker will finish them, so they are recorded failed (STALLED_TOO_OFTEN) and their pipeline
   * advanced (dependants skipped); the job stays in the DLQ for a replay.
   */
  runningJobFailed: number;
  /** Stages of an agent type this process has no queue for. */
  unknownAgent: number;
  /** Running pipelines sent a redispatch advance (settled but not finished, or a pending stage ready). */
  pipelinesAdvanced: number;
  decisionsChecked: number;
  /** Open decisions whose deadline job was missing (or finished): scheduled again. */
  deadlinesReadded: number;
  /** Open decisions whose deadline job had failed: retried. */
  deadlinesRetried: number;
  /** Agent types recorded paused whose queue was not paused in Redis (a flush): paused again. */
  agentPausesReapplied: number;
  /** Unfinished pipelines with a deadline whose deadline job was (re-)added: a no-op while it exists. */
  pipelineDeadlinesChecked: number;
  /** Of those, overdue ones (past the deadline by the grace period, not cancelled): a deadline job due now. */
  pipelineDeadlinesOverdue: number;
  /** Repairs that threw (each is tried again next pass). */
  errors: number;
  durationMs: number;
}

export interface Reconciler {
  /** Runs one pass now (the control worker calls it for each scheduled job; tests call it directly). */
  reconcileNow(): Promise<ReconcileReport>;
}

type Cursors = Record<'stages' | 'pipelines' | 'decisions' | 'pipelineDeadlines', ReconcileCursor | null>;

const SAMPLE = 10;

const emptyReport = (): ReconcileReport => ({
  stagesChecked: 0,
  queuedReadded: 0,
  queuedRetried: 0,
  queuedReplaced: 0,
  runningReadded: 0,
  runningJobFailed: 0,
  unknownAgent: 0,
  pipelinesAdvanced: 0,
  decisionsChecked: 0,
  deadlinesReadded: 0,
  deadlinesRetried: 0,
  agentPausesReapplied: 0,
  pipelineDeadlinesChecked: 0,
  pipelineDeadlinesOverdue: 0,
  errors: 0,
  durationMs: 0,
});

/** Creates the reconciler. Its cursors live in this process: each replica walks on from its own last page. */
export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { repo, queues, agentQueues, control, logger, lockDurationMs } = deps;
  const afterCommit = afterCommitWith({ agentQueues, control });
  const graceMs = deps.graceMs ?? 5000;
  const batchSize = deps.batchSize ?? 1000;
  const maxBatches = deps.maxBatches ?? 5;
  const cursors: Cursors = { stages: null, pipelines: null, decisions: null, pipelineDeadlines: null };

  /**
   * Reads up to `maxBatches` pages of one scan from its cursor. A short page is the end: the
   * scan goes on from the start once (when it began mid-way), and the next pass begins there.
   */
  async function scan<T extends { cursor: ReconcileCursor }>(
    name: keyof Cursors,
    read: (after: ReconcileCursor | null, limit: number) => Promise<T[]>,
    handle: (rows: T[]) => Promise<void>,
  ): Promise<void> {
    let wrapped = cursors[name] === null;
    for (let page = 0; page < maxBatches; page++) {
      const rows = await read(cursors[name], batchSize);
      if (rows.length > 0) await handle(rows);
      cursors[name] = rows.length < batchSize ? null : rows[rows.length - 1]!.cursor;
      if (cursors[name] === null) {
        if (wrapped) return;
        wrapped = true;
      }
    }
  }

  /** Runs one repair; a failure is counted and logged, and the pass goes on. */
  async function attempt(report: ReconcileReport, what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      report.errors++;
      logger.warn('reconciler repair failed; the next pass tries again', { what, error: (error as Error).message });
    }
  }

  async function checkStages(stages: readonly StageToReconcile[], report: ReconcileReport, found: string[]): Promise<void> {
    report.stagesChecked += stages.length;
    const presence = await queues.presence(stages.map((s) => ({ kind: 'stage' as const, agent: s.agent, jobId: s.jobId })));

    const suspects: { stage: StageToReconcile; state: JobPresence }[] = [];
    for (const [n, stage] of stages.entries()) {
      const state = presence[n]!;
      if (state === 'live') continue;
      if (state === 'unknown') {
        report.unknownAgent++;
        continue;
      }
      if (stage.status === 'running') {
        if (state === 'failed') {
          await attempt(report, `stage ${stage.id}`, async () => {
            if (!(await repo.failDeadLettered(stage, stalledTooOften(stage.jobId)))) return;
            report.runningJobFailed++;
            if (found.length < SAMPLE)
              found.push(`running stage ${stage.id}: job ${stage.jobId} dead-lettered by BullMQ; stage recorded failed`);
            await afterCommit({ pipelineId: stage.pipelineId, advance: 'advance' });
          });
          continue;
        }
      }
      suspects.push({ stage, state });
    }
    if (suspects.length === 0) return;

    // Postgres again, after Redis: a stage that moved on meanwhile (claimed, finished) is left alone.
    const unchanged = await repo.unchanged(suspects.map((s) => s.stage));
    const readd = new Map<string, DispatchedStage[]>();
    for (const { stage, state } of suspects) {
      if (!unchanged.has(stage.id)) continue;
      const ref = { kind: 'stage' as const, agent: stage.agent, jobId: stage.jobId };
      if (found.length < SAMPLE) found.push(`${stage.status} stage ${stage.id}: job ${stage.jobId} ${state}`);
      await attempt(report, `stage ${stage.id}`, async () => {
        if (state === 'failed') {
          if (await queues.retry(ref)) report.queuedRetried++;
          return;
        }
        // A finished or orphaned job holds the id: remove it first, or the add is a no-op.
        if (state !== 'missing' && !(await queues.remove(ref))) return;
        if (stage.status === 'running') report.runningReadded++;
        else if (state === 'missing') report.queuedReadded++;
        else report.queuedReplaced++;
        const { id, key, agent, retry, jobId, priority } = stage;
        const group = readd.get(stage.pipelineId);
        if (group) group.push({ id, key, agent, retry, jobId, priority });
        else readd.set(stage.pipelineId, [{ id, key, agent, retry, jobId, priority }]);
      });
    }
    for (const [pipelineId, group] of readd) {
      await attempt(report, `pipeline ${pipelineId} jobs`, () => afterCommit({ pipelineId, stages: group }));
    }
  }

  async function advancePipelines(pipelines: readonly { id: string }[], report: ReconcileReport): Promise<void> {
    await Promise.all(
      pipelines.map((p) =>
        attempt(report, `pipeline ${p.id} advance`, async () => {
          await afterCommit({ pipelineId: p.id, advance: 'redispatch' });
          report.pipelinesAdvanced++;
        }),
      ),
    );
  }

  async function checkDecisions(
    decisions: readonly { id: string; deadlineAt: Date }[],
    report: ReconcileReport,
    found: string[],
  ): Promise<void> {
    report.decisionsChecked += decisions.length;
    const refs = decisions.map((d) => ({ kind: 'deadline' as const, decisionId: d.id, deadlineAt: d.deadlineAt }));
    const presence = await queues.presence(refs);
    for (const [n, decision] of decisions.entries()) {
      const state = presence[n]!;
      if (state === 'live' || state === 'unknown') continue;
      if (found.length < SAMPLE) found.push(`decision ${decision.id}: deadline job ${state}`);
      await attempt(report, `decision ${decision.id}`, async () => {
        if (state === 'failed') {
          if (await queues.retry(refs[n]!)) report.deadlinesRetried++;
          return;
        }
        if (state !== 'missing' && !(await queues.remove(refs[n]!))) return;
        // Due already: the job runs at once and applies the deadline under the decision's lock.
        await control.scheduleDeadline(decision.id, decision.deadlineAt);
        report.deadlinesReadded++;
      });
    }
  }

  /**
   * A pipeline's deadline job, added again under its own id (a no-op while it exists). One that is
   * overdue yet not cancelled lost its job (or its job ran early and its successor was lost): a job
   * due now, under a new id, applies it (the deadline job is idempotent).
   */
  async function checkPipelineDeadlines(
    pipelines: readonly { id: string; deadlineAt: Date; overdue: boolean }[],
    report: ReconcileReport,
    found: string[],
  ): Promise<void> {
    report.pipelineDeadlinesChecked += pipelines.length;
    for (const pipeline of pipelines) {
      await attempt(report, `pipeline ${pipeline.id} deadline`, async () => {
        if (pipeline.overdue) {
          report.pipelineDeadlinesOverdue++;
          if (found.length < SAMPLE)
            found.push(`pipeline ${pipeline.id}: past its deadline ${pipeline.deadlineAt.toISOString()}, not cancelled`);
          await control.schedulePipelineDeadline(pipeline.id, new Date());
        } else await control.schedulePipelineDeadline(pipeline.id, pipeline.deadlineAt);
      });
    }
  }

  return {
    async reconcileNow() {
      const started = performance.now();
      const report = emptyReport();
      const found: string[] = [];
      // First: a queue Postgres says is paused must not hand out jobs while the scans below re-add them.
      const agentPauses = deps.agentPauses;
      if (agentPauses) {
        await attempt(report, 'agent pauses', async () => {
          const repaired = await agentPauses.reapply();
          report.agentPausesReapplied += repaired.length;
          for (const type of repaired)
            if (found.length < SAMPLE) found.push(`agent type ${type}: recorded paused, queue was not; paused again`);
        });
      }
      await scan(
        'stages',
        (after, limit) => repo.stagesToCheck({ after, limit, graceMs, lockDurationMs }),
        (rows) => checkStages(rows, report, found),
      );
      await scan(
        'pipelines',
        (after, limit) => repo.pipelinesToAdvance({ after, limit, idleMs: graceMs }),
        (rows) => advancePipelines(rows, report),
      );
      await scan(
        'decisions',
        (after, limit) => repo.openDecisions({ after, limit }),
        (rows) => checkDecisions(rows, report, found),
      );
      await scan(
        'pipelineDeadlines',
        (after, limit) => repo.pipelineDeadlines({ after, limit, graceMs }),
        (rows) => checkPipelineDeadlines(rows, report, found),
      );
      report.durationMs = Math.round(performance.now() - started);

      const repaired =
        report.queuedReadded +
        report.queuedRetried +
        report.queuedReplaced +
        report.runningReadded +
        report.deadlinesReadded +
        report.deadlinesRetried +
        report.agentPausesReapplied;
      if (found.length > 0 || report.runningJobFailed > 0 || report.unknownAgent > 0) {
        logger.warn('reconciler found jobs that Postgres needs and Redis lacks', { ...report, sample: found });
      }
      logger.info('reconcile pass', { repaired, ...report });
      return report;
    },
  };
}
