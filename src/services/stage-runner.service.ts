// Runs one delivery of an agent job: claims the stage in Postgres, runs the handler with an
// AbortSignal, records the attempt, and asks the conductor to advance the pipeline.
// Idempotent over at-least-once delivery: a delivery for a stage that is terminal, or owned by
// another job, runs nothing. Retryable errors go back to BullMQ's backoff; the last attempt and
// unrecoverable errors fail the stage.
import type { Agent, AgentLogger, MetricValue } from '../agents/define-agent.js';
import type { AgentCatalog } from '../agents/catalog.js';
import { isUnrecoverable } from '../domain/errors.js';
import type { ClaimedStage, ControlQueue, StageErrorRecord, StageRunRepository } from './ports.js';

export const CANCEL_REASON = 'pipeline-cancelled';
/** Abort reason when the worker process stops and its grace period ran out. */
export const SHUTDOWN_REASON = 'worker-shutdown';

export interface StageDelivery {
  stageId: string;
  pipelineId: string;
  jobId: string;
  /** Attempts BullMQ has already used before this one. */
  attemptsMade: number;
  maxAttempts: number;
  signal: AbortSignal;
  requestId?: string;
}

export type RunOutcome =
  | { kind: 'succeeded' }
  | { kind: 'duplicate'; status: string }
  | { kind: 'cancelled' }
  /** Stopped by the worker's shutdown: back to the queue without using an attempt. */
  | { kind: 'interrupted' }
  | { kind: 'retry'; error: StageErrorRecord }
  | { kind: 'failed'; error: StageErrorRecord };

export interface StageRunnerDeps {
  runs: StageRunRepository;
  control: ControlQueue;
  agents: AgentCatalog;
  workerId: string;
  logger: AgentLogger;
  newId: () => string;
}

export interface StageRunner {
  run(delivery: StageDelivery): Promise<RunOutcome>;
}

function toErrorRecord(error: unknown, timedOut: boolean): StageErrorRecord {
  if (timedOut) return { code: 'STAGE_TIMEOUT', message: 'the stage exceeded its timeoutMs', retryable: true };
  if (error instanceof Error) {
    const { code } = error as Error & { code?: unknown };
    return { code: typeof code === 'string' ? code : 'AGENT_ERROR', message: error.message.slice(0, 4000), retryable: !isUnrecoverable(error) };
  }
  return { code: 'AGENT_ERROR', message: String(error).slice(0, 4000), retryable: true };
}

export function createStageRunner({ runs, control, agents, workerId, logger, newId }: StageRunnerDeps): StageRunner {
  async function execute(agent: Agent, stage: ClaimedStage, delivery: StageDelivery): Promise<RunOutcome> {
    const metrics: Record<string, MetricValue> = {};
    const timeout = stage.timeoutMs ? AbortSignal.timeout(stage.timeoutMs) : undefined;
    const signal = timeout ? AbortSignal.any([delivery.signal, timeout]) : delivery.signal;
    const started = performance.now();
    const finalMetrics = () => ({ ...metrics, durationMs: Math.round((performance.now() - started) * 1000) / 1000 });
    try {
      const output = await agent.execute(stage.input, {
        pipelineId: stage.pipelineId,
        stageId: stage.stageId,
        stageKey: stage.stageKey,
        attempt: stage.attempt,
        maxAttempts: delivery.maxAttempts,
        pipelineInput: stage.pipelineInput,
        dependencies: stage.dependencies,
        logger,
        signal,
        progress: (pct) => runs.progress({ stageId: stage.stageId, runId: stage.runId, pct: Math.max(0, Math.min(100, Math.round(pct))) }),
        reportMetrics: (values) => Object.assign(metrics, values),
      });
      const recorded = await runs.succeed({ stageId: stage.stageId, runId: stage.runId, output, metrics: finalMetrics() });
      if (!recorded) return { kind: 'duplicate', status: 'lost-ownership' };
      return { kind: 'succeeded' };
    } catch (error) {
      if (delivery.signal.aborted && delivery.signal.reason === CANCEL_REASON) {
        const record: StageErrorRecord = { code: 'STAGE_CANCELLED', message: 'the pipeline was cancelled', retryable: false };
        await runs.cancel({ stageId: stage.stageId, runId: stage.runId, error: record, metrics: finalMetrics() });
        return { kind: 'cancelled' };
      }
      if (delivery.signal.aborted && delivery.signal.reason === SHUTDOWN_REASON) {
        const record: StageErrorRecord = { code: 'WORKER_SHUTDOWN', message: 'the worker stopped before the stage finished', retryable: true };
        await runs.fail({ stageId: stage.stageId, runId: stage.runId, error: record, metrics: finalMetrics(), final: false });
        return { kind: 'interrupted' };
      }
      const record = toErrorRecord(error, timeout?.aborted === true);
      const final = !record.retryable || delivery.attemptsMade + 1 >= delivery.maxAttempts;
      await runs.fail({ stageId: stage.stageId, runId: stage.runId, error: record, metrics: finalMetrics(), final });
      logger.warn(final ? 'stage failed' : 'stage attempt failed; BullMQ will retry it', { code: record.code, attempt: stage.attempt });
      return final ? { kind: 'failed', error: record } : { kind: 'retry', error: record };
    }
  }

  return {
    async run(delivery) {
      const claim = await runs.claim({ stageId: delivery.stageId, jobId: delivery.jobId, runId: newId(), workerId });
      if (!claim.claimed) {
        // A duplicate delivery. Still ask for an advance: if the first delivery crashed between
        // recording its result and asking, this is what moves the pipeline on.
        await control.requestAdvance(delivery.pipelineId, { requestId: delivery.requestId });
        if (claim.status === 'failed' && claim.jobId === delivery.jobId && claim.error) {
          // Recorded as failed but the job was not moved to the failed set: put it there (DLQ).
          return { kind: 'failed', error: claim.error };
        }
        return { kind: 'duplicate', status: claim.status };
      }
      const agent = agents.get(claim.stage.agent);
      let outcome: RunOutcome;
      if (!agent) {
        const error: StageErrorRecord = { code: 'AGENT_UNKNOWN', message: `this worker does not know agent "${claim.stage.agent}"`, retryable: false };
        await runs.fail({ stageId: delivery.stageId, runId: claim.stage.runId, error, metrics: {}, final: true });
        outcome = { kind: 'failed', error };
      } else {
        outcome = await execute(agent, claim.stage, delivery);
      }
      if (outcome.kind !== 'retry' && outcome.kind !== 'interrupted') await control.requestAdvance(delivery.pipelineId, { requestId: delivery.requestId });
      return outcome;
    },
  };
}
