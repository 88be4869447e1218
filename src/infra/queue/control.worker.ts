// BullMQ worker for the control queue: runs the conductor for each advance message.
// Idempotent (see conductor.service.ts); a failure (Postgres or Redis down) is retried with
// backoff by BullMQ.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Conductor } from '../../services/conductor.service.js';
import type { DecisionService } from '../../services/decision.service.js';
import { withLogContext } from '../telemetry/log-context.js';
import type { Logger } from '../telemetry/logger.js';
import { advanceJobSchema, deadlineJobSchema, type AdvanceJob, type DeadlineJob } from './job-payloads.js';
import { CONTROL_QUEUE, DEADLINE_JOB } from './queue-names.js';

export interface ControlWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  conductor: Conductor;
  decisions: Pick<DecisionService, 'applyDeadline'>;
  logger: Logger;
  workerName: string;
}

export function createControlWorker({ connection, prefix, concurrency, conductor, decisions, logger, workerName }: ControlWorkerOptions): Worker<AdvanceJob | DeadlineJob> {
  const worker = new Worker<AdvanceJob | DeadlineJob>(
    CONTROL_QUEUE,
    async (job: Job<AdvanceJob | DeadlineJob>) => {
      if (job.name === DEADLINE_JOB) {
        const deadline = deadlineJobSchema.safeParse(job.data);
        if (!deadline.success) throw new UnrecoverableError(`malformed deadline job: ${deadline.error.message}`);
        await withLogContext({ decisionId: deadline.data.decisionId, jobId: job.id }, () => decisions.applyDeadline(deadline.data.decisionId));
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
    { connection, prefix, concurrency, name: workerName, autorun: false },
  );
  worker.on('error', (error) => logger.warn('control worker error', { error: error.message }));
  worker.on('failed', (job, error) => logger.warn('control step failed; BullMQ retries it', { jobId: job?.id, error: error.message }));
  return worker;
}
