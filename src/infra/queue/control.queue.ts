// Producer of control messages. Repeated requests for one pipeline coalesce: BullMQ keeps at
// most one waiting and one active advance per pipeline (deduplication with keepLastIfActive),
// and the conductor reads the latest state anyway.
import { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import type { ControlQueue } from '../../services/queue.ports.js';
import type { AdvanceJob, DeadlineJob, PipelineDeadlineJob } from './job-payloads.js';
import { ADVANCE_JOB, CONTROL_QUEUE, DEADLINE_JOB, PIPELINE_DEADLINE_JOB } from './queue-names.js';
import { bullmqTelemetry } from '../telemetry/bullmq-telemetry.js';
import { DEFAULT_QUEUE_RETENTION, retentionQueueOptions, type QueueRetention } from './retention.js';

export interface ControlQueueHandle extends ControlQueue {
  queue: Queue<AdvanceJob | DeadlineJob | PipelineDeadlineJob>;
  close(): Promise<void>;
}

/**
 * `failFast` runs before each add (the API passes assertRedisReady; workers wait instead);
 * `retention`: how long finished jobs stay (the Retention variables, as on every queue).
 */
export function createControlQueue(
  connection: RedisClient,
  prefix: string,
  failFast: () => void = () => undefined,
  retention: QueueRetention = DEFAULT_QUEUE_RETENTION,
): ControlQueueHandle {
  const { streams, defaultJobOptions } = retentionQueueOptions(retention);
  const queue = new Queue<AdvanceJob | DeadlineJob | PipelineDeadlineJob>(CONTROL_QUEUE, {
    connection,
    prefix,
    telemetry: bullmqTelemetry(),
    streams,
    defaultJobOptions: {
      // A conductor step fails only when Postgres or Redis is unreachable: keep trying for
      // ~15 minutes (200 ms doubling, 12 attempts); the reconciler covers longer outages.
      attempts: 12,
      backoff: { type: 'exponential', delay: 200, jitter: 0.5 },
      ...defaultJobOptions,
    },
  });
  // BullMQ prints errors of a Queue nobody listens to; the connection's own listener already
  // logs them (throttled, see redis-connection.ts).
  queue.on('error', () => undefined);
  return {
    queue,
    async requestAdvance(pipelineId, meta) {
      failFast();
      const data: AdvanceJob = { pipelineId, ...(meta?.requestId ? { requestId: meta.requestId } : {}) };
      if (meta?.redispatch) {
        // Not coalesced: deduplication drops an add while a job waits, and this flag must
        // not be dropped. Rare (duplicate deliveries), so the extra advance is cheap.
        await queue.add(ADVANCE_JOB, { ...data, redispatch: true });
        return;
      }
      await queue.add(ADVANCE_JOB, data, { deduplication: { id: pipelineId, keepLastIfActive: true } });
    },
    async scheduleDeadline(decisionId, at) {
      failFast();
      // One job per decision and deadline: re-adding it (a redelivered conductor step) is a no-op.
      await queue.add(
        DEADLINE_JOB,
        { decisionId },
        { jobId: `deadline-${decisionId}-${at.getTime()}`, delay: Math.max(0, at.getTime() - Date.now()) },
      );
    },
    async schedulePipelineDeadline(pipelineId, at) {
      failFast();
      // One job per pipeline and deadline: a repeat (a replayed submission, the reconciler) is a no-op.
      await queue.add(
        PIPELINE_DEADLINE_JOB,
        { pipelineId },
        { jobId: pipelineDeadlineJobId(pipelineId, at), delay: Math.max(0, at.getTime() - Date.now()) },
      );
    },
    close: () => queue.close(),
  };
}

/** The id of a pipeline's deadline job: one per pipeline and deadline (the reconciler looks it up). */
export function pipelineDeadlineJobId(pipelineId: string, at: Date): string {
  return `pipeline-deadline-${pipelineId}-${at.getTime()}`;
}
