// BullMQ worker for one agent queue: adapts a job to the stage runner and the runner's
// outcome back to BullMQ (a retry rethrows, a final failure is an UnrecoverableError so the
// job lands in the failed set — the DLQ — without further attempts).
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StageRunner } from '../../services/stage-runner.service.js';
import { withLogContext } from '../telemetry/log-context.js';
import type { Logger } from '../telemetry/logger.js';
import { stageJobSchema, type StageJob } from './job-payloads.js';
import { agentQueueName } from './queue-names.js';

export interface AgentWorkerOptions {
  connection: Redis;
  prefix: string;
  agentType: string;
  concurrency: number;
  runner: StageRunner;
  logger: Logger;
  workerName: string;
}

export function createAgentWorker({ connection, prefix, agentType, concurrency, runner, logger, workerName }: AgentWorkerOptions): Worker<StageJob> {
  const worker = new Worker<StageJob>(
    agentQueueName(agentType),
    async (job: Job<StageJob>, token?: string, signal?: AbortSignal) => {
      const parsed = stageJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`malformed stage job: ${parsed.error.message}`);
      const data = parsed.data;
      return withLogContext(
        { requestId: data.requestId, pipelineId: data.pipelineId, stageId: data.stageId, stageKey: data.stageKey, jobId: job.id },
        async () => {
          const outcome = await runner.run({
            stageId: data.stageId,
            pipelineId: data.pipelineId,
            jobId: job.id ?? data.stageId,
            attemptsMade: job.attemptsMade,
            maxAttempts: job.opts.attempts ?? 1,
            signal: signal ?? new AbortController().signal,
            requestId: data.requestId,
          });
          if (outcome.kind === 'interrupted') {
            // Back to the queue for another worker, without spending an attempt.
            await job.moveToDelayed(Date.now() + 1000, token);
            throw new DelayedError();
          }
          if (outcome.kind === 'retry') throw Object.assign(new Error(outcome.error.message), { code: outcome.error.code });
          if (outcome.kind === 'failed') throw new UnrecoverableError(`${outcome.error.code}: ${outcome.error.message}`);
          return outcome;
        },
      );
    },
    { connection, prefix, concurrency, name: workerName, autorun: false },
  );
  worker.on('error', (error) => logger.warn('agent worker error', { agentType, error: error.message }));
  return worker;
}
