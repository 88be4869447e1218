// The ports of the reconciler: what Postgres says must exist in Redis (infra/db,
// reconcile.repository.ts) and what Redis holds, job by job (infra/queue, reconcile.queues.ts).
import type { DispatchedStage } from './queue.ports.js';
import type { StageErrorRecord } from './stage-error-record.js';

/** Where a job is in Redis: `live` is waiting, delayed, active, prioritized or waiting for children;
 * `orphaned` is a job hash in no list, or one without its payload (nothing would run it: both are left
 * by a partial deletion of the keys); `unknown` is a queue this process lacks. */
export type JobPresence = 'live' | 'completed' | 'failed' | 'missing' | 'orphaned' | 'unknown';

/** Where a reconciler scan stopped: the last row's sort time (ISO or `-infinity`) and id. */
export interface ReconcileCursor {
  at: string;
  id: string;
}

/** A stage whose job must exist: queued, or running with its worker possibly lost. */
export interface StageToReconcile extends DispatchedStage {
  pipelineId: string;
  status: 'queued' | 'running';
  /** The job id Redis must hold: `stages.job_id`, else the stage id. */
  jobId: string;
  currentRunId: string | null;
}

/** What Postgres says must exist in Redis, in pages, oldest first (see reconciler.service.ts). */
export interface ReconcileRepository {
  /**
   * Stages of running pipelines queued more than `graceMs` ago, or running in an attempt that
   * began, and that its worker last stamped, more than `lockDurationMs` ago; ordered by queue
   * time, after `after`.
   */
  stagesToCheck(args: {
    after: ReconcileCursor | null;
    limit: number;
    graceMs: number;
    lockDurationMs: number;
  }): Promise<(StageToReconcile & { cursor: ReconcileCursor })[]>;
  /** The ids of those stages still as they were read (status, job id, attempt in flight). */
  unchanged(stages: readonly StageToReconcile[]): Promise<Set<string>>;
  /**
   * Records a running stage whose job BullMQ dead-lettered as failed (its attempt `abandoned`,
   * a `stage.finished` event), if it is still running that job and attempt. False: it moved on.
   */
  failDeadLettered(stage: StageToReconcile, error: StageErrorRecord): Promise<boolean>;
  /**
   * Running pipelines untouched for `idleMs` that the conductor could move: settled but not
   * finished, or a pending stage whose dependencies are all done. Oldest first, after `after`.
   */
  pipelinesToAdvance(args: {
    after: ReconcileCursor | null;
    limit: number;
    idleMs: number;
  }): Promise<{ id: string; cursor: ReconcileCursor }[]>;
  /** Open decisions (pending or escalated), each of which needs its deadline job. Oldest first. */
  openDecisions(args: {
    after: ReconcileCursor | null;
    limit: number;
  }): Promise<{ id: string; deadlineAt: Date; cursor: ReconcileCursor }[]>;
  /**
   * Unfinished pipelines with a deadline and no cancel request, each of which needs its deadline
   * job (issue 17); `overdue` when Postgres's clock is past the deadline by more than `graceMs`.
   */
  pipelineDeadlines(args: {
    after: ReconcileCursor | null;
    limit: number;
    graceMs: number;
  }): Promise<{ id: string; deadlineAt: Date; overdue: boolean; cursor: ReconcileCursor }[]>;
}

/** A job the reconciler looks for: a stage's agent job, or a decision's deadline job. */
export type ReconcileJobRef = { kind: 'stage'; agent: string; jobId: string } | { kind: 'deadline'; decisionId: string; deadlineAt: Date };

/** What the reconciler reads and repairs in Redis, job by job. */
export interface ReconcileQueues {
  /** One state per ref, in order, read as one snapshot per queue. */
  presence(refs: readonly ReconcileJobRef[]): Promise<JobPresence[]>;
  /** Moves a failed job back to waiting with fresh attempts; false when it is no longer failed. */
  retry(ref: ReconcileJobRef): Promise<boolean>;
  /** Removes a finished or orphaned job so its id can be added again; false when a worker holds it. */
  remove(ref: ReconcileJobRef): Promise<boolean>;
}
