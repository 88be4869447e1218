// BullMQ worker for the control queue: runs the conductor for each advance message, the
// reconciler for each of its scheduler's jobs (then the schedules' rebuild), a pipeline's
// deadline, the aging passes of the agent queues' priorities, and each schedule's tick (from
// that schedule's job scheduler; idempotent, see schedule.service.ts).
// Idempotent (see conductor.service.ts); a failure (Postgres or Redis down) is retried with
// backoff by BullMQ.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../infra/queue/redis-connection.js';
import type { Conductor } from '../services/conductor.service.js';
import type { DecisionService } from '../services/decision.service.js';
import type { Reconciler } from '../services/reconciler.service.js';
import type { PipelineDeadlineService } from '../services/pipeline-deadline.service.js';
import type { ScheduleService } from '../services/schedule.service.js';
import { withLogContext } from '../infra/telemetry/log-context.js';
import type { Logger } from '../infra/telemetry/logger.js';
import type { LockSettings } from './agent.worker.js';
import {
  advanceJobSchema,
  deadlineJobSchema,
  pipelineDeadlineJobSchema,
  scheduleTickJobSchema,
  tickTimeOf,
  type AdvanceJob,
  type DeadlineJob,
  type PipelineDeadlineJob,
  type PriorityAgingJob,
  type ReconcileJob,
  type ScheduleTickJob,
} from '../infra/queue/job-payloads.js';
import {
  CONTROL_QUEUE,
  DEADLINE_JOB,
  PIPELINE_DEADLINE_JOB,
  PRIORITY_AGING_JOB,
  RECONCILE_JOB,
  SCHEDULE_TICK_JOB,
} from '../infra/queue/queue-names.js';
import type { PriorityAging } from '../infra/queue/priority-aging.js';
import { bullmqTelemetry } from '../infra/telemetry/bullmq-telemetry.js';
import { scheduleRequestId } from '../domain/schedule.js';

type ControlJob = AdvanceJob | DeadlineJob | ReconcileJob | PipelineDeadlineJob | PriorityAgingJob | ScheduleTickJob;

export interface ControlWorkerOptions {
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  conductor: Conductor;
  decisions: Pick<DecisionService, 'applyDeadline'>;
  /** Runs the reconciler's scheduled passes (without it, they complete doing nothing). */
  reconciler?: Reconciler;
  /** Applies pipelines' deadlines (without it, their jobs complete doing nothing). */
  pipelineDeadlines?: Pick<PipelineDeadlineService, 'applyDeadline'>;
  /** Runs the aging passes of the agent queues (without it, they complete doing nothing). */
  aging?: PriorityAging;
  /** Runs the schedules' ticks, and their rebuild after each reconciler pass (without it, ticks fail and are retried). */
  schedules?: Pick<ScheduleService, 'tick' | 'sync'>;
  logger: Logger;
  workerName: string;
  /** BullMQ lock and stalled-job settings from config (BullMQ's defaults without them). */
  locks?: LockSettings;
}

export function createControlWorker({
  connection,
  prefix,
  concurrency,
  conductor,
  decisions,
  reconciler,
  pipelineDeadlines,
  aging,
  schedules,
  logger,
  workerName,
  locks,
}: ControlWorkerOptions): Worker<ControlJob> {
  const worker = new Worker<ControlJob>(
    CONTROL_QUEUE,
    async (job: Job<ControlJob>) => {
      if (job.name === RECONCILE_JOB) {
        return withLogContext({ jobId: job.id }, async () => {
          const report = reconciler ? await reconciler.reconcileNow() : { skipped: 'no reconciler here' };
          // Redis is transport: the schedules' job schedulers it lost are installed again from Postgres.
          if (!schedules) return report;
          // Its own failure (Postgres down mid-pass) is logged and reported, not the pass's: the next pass tries again.
          const rebuilt = await schedules.sync().catch((error: Error) => {
            logger.warn('schedule rebuild failed; the next reconciler pass tries again', { error: error.message });
            return { error: error.message };
          });
          return { ...report, schedules: rebuilt };
        });
      }
      if (job.name === SCHEDULE_TICK_JOB) {
        const tick = scheduleTickJobSchema.safeParse(job.data);
        const tickAt = tickTimeOf(job.id);
        if (!tick.success || !tickAt) throw new UnrecoverableError(`malformed schedule tick: ${job.id}`);
        if (!schedules) throw new Error('no schedule service in this worker');
        return withLogContext({ requestId: scheduleRequestId(tick.data.scheduleId), jobId: job.id }, () =>
          schedules.tick(tick.data.scheduleId, tickAt),
        );
      }
      if (job.name === PRIORITY_AGING_JOB) {
        return withLogContext({ jobId: job.id }, async () => (aging ? aging.ageNow() : { skipped: 'no aging here' }));
      }
      if (job.name === PIPELINE_DEADLINE_JOB) {
        const parsed = pipelineDeadlineJobSchema.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`malformed pipeline deadline job: ${parsed.error.message}`);
        const { pipelineId } = parsed.data;
        return withLogContext({ pipelineId, jobId: job.id }, async () => ({
          pipelineId,
          outcome: pipelineDeadlines ? await pipelineDeadlines.applyDeadline(pipelineId) : 'skipped',
        }));
      }
      if (job.name === DEADLINE_JOB) {
        const deadline = deadlineJobSchema.safeParse(job.data);
        if (!deadline.success) throw new UnrecoverableError(`malformed deadline job: ${deadline.error.message}`);
        await withLogContext({ decisionId: deadline.data.decisionId, jobId: job.id }, () =>
          decisions.applyDeadline(deadline.data.decisionId),
        );
        return { decisionId: deadline.data.decisionId };
      }
      const parsed = advanceJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`malformed control job: ${parsed.error.message}`);
      const { pipelineId, requestId, redispatch } = parsed.data;
      return withLogContext({ requestId, pipelineId, jobId: job.id }, async () => {
        const redelivered = redispatch === true || job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0;
        const result = await conductor.advance(pipelineId, { requestId, redelivered });
        return result ? { status: result.status, dispatched: result.dispatched.length } : { status: 'missing' };
      });
    },
    { connection, prefix, telemetry: bullmqTelemetry(), concurrency, name: workerName, autorun: false, ...locks },
  );
  worker.on('error', (error) => logger.warn('control worker error', { error: error.message }));
  worker.on('failed', (job, error) => logger.warn('control step failed; BullMQ retries it', { jobId: job?.id, error: error.message }));
  return worker;
}
