// BullMQ worker for one agent queue: adapts a job to the stage runner and the runner's
// outcome back to BullMQ (a retry rethrows, with the capped backoff of backoff.ts; a final
// failure is an UnrecoverableError so the job lands in the failed set — the DLQ — without
// further attempts). Each run goes through the agent type's circuit breaker: while it is open
// the job is not claimed, and the queue is rate-limited in Redis so every worker process holds
// the agent's jobs back without spending their attempts. While the agent type's kill switch
// (`agent.<type>.kill`) is on, a delivered job is not claimed either: it goes back to the queue
// delayed by `switchHoldMs` (no attempt used, the stage stays queued).
// Idempotent over redelivery (see stage-runner.service.ts); retries errors the hierarchy
// classifies retryable, and a statement timeout of the run's own statements (DATABASE_TIMEOUT).
// An agent type with a rate limit (AGENT_LIMITS) gets BullMQ's limiter, shared by every process
// of the queue; the breaker's hold works with it (see queue-hold.ts).
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../infra/queue/redis-connection.js';
import { CircuitOpenError, classifyError } from '../domain/errors.js';
import { isStatementTimeout } from '../domain/statement-timeout.js';
import type { RunOutcome, StageRunner } from '../services/stage-runner.service.js';
import type { AgentBreaker, BreakerVerdict } from '../infra/breakers/breaker-registry.js';
import { withLogContext } from '../infra/telemetry/log-context.js';
import type { Logger } from '../infra/telemetry/logger.js';
import { createBackoffStrategy } from '../infra/queue/backoff.js';
import { stageJobSchema, type StageJob } from '../infra/queue/job-payloads.js';
import { agentQueueName } from '../infra/queue/queue-names.js';
import { bullmqTelemetryWhenExported } from '../infra/telemetry/bullmq-telemetry.js';
import { holdJob } from './switch-hold.js';
import { activeTraceparent, inJobTrace } from '../infra/telemetry/traceparent.js';

/**
 * The limiter of an agent type without a rate limit (AGENT_LIMITS): BullMQ honours a queue hold
 * only on workers that have a limiter (its Lua compares the limiter key with `limiter.max`), and
 * this one is too high to ever limit by itself.
 */
const MANUAL_LIMITER = { max: 1_000_000_000, duration: 1000 };

/** BullMQ lock and stalled-job settings (LOCK_DURATION_MS, STALLED_INTERVAL_MS, MAX_STALLED_COUNT). */
export interface LockSettings {
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
}

export interface AgentWorkerOptions {
  connection: RedisClient;
  prefix: string;
  agentType: string;
  concurrency: number;
  runner: StageRunner;
  logger: Logger;
  workerName: string;
  locks: LockSettings;
  /** Upper bound of a retry delay (RETRY_BACKOFF_CAP_MS). */
  backoffCapMs: number;
  /** This process's breaker for the agent type. */
  breaker: AgentBreaker;
  /**
   * The agent type's rate limit (AGENT_LIMITS): at most `max` jobs start per `duration` ms across
   * every worker process of its queue. Absent or null: none.
   */
  rate?: { max: number; duration: number } | null;
  /** Holds the agent's queue for at least `ms` on every worker process (infra/queue/queue-hold.ts). */
  rateLimit: (ms: number) => Promise<void>;
  /** True while the agent type's kill switch is on (absent: never). */
  switchedOff?: () => boolean;
  /** How long a job of a switched-off agent is put back for (default 1 s). */
  switchHoldMs?: number;
}

/**
 * How a run counts for the breaker: a retryable failure of the agent or its downstream is a
 * failure; input and contract errors, gates, cancels, shutdowns and duplicates say nothing
 * about the downstream.
 */
export function breakerVerdict(outcome: RunOutcome): BreakerVerdict {
  switch (outcome.kind) {
    case 'succeeded':
    case 'suspended':
      return 'success';
    case 'retry':
    case 'failed': {
      const { retryable, category } = outcome.error;
      return retryable && (category === 'agent' || category === 'downstream') ? 'failure' : 'neutral';
    }
    default:
      return 'neutral';
  }
}

export function createAgentWorker(options: AgentWorkerOptions): Worker<StageJob> {
  const { connection, prefix, agentType, concurrency, runner, logger, workerName, locks, backoffCapMs, breaker, rateLimit } = options;
  const { switchedOff = () => false, switchHoldMs = 1000, rate = null } = options;
  const worker = new Worker<StageJob>(
    agentQueueName(agentType),
    async (job: Job<StageJob>, token?: string, signal?: AbortSignal) => {
      const parsed = stageJobSchema.safeParse(job.data);
      if (!parsed.success) {
        // No payload at all: BullMQ handed out an id whose hash had been deleted (a partial loss of
        // the keys). Failing it is all this worker can do; the reconciler replaces it from Postgres.
        const hollow = Object.keys(job.data ?? {}).length === 0;
        throw new UnrecoverableError(
          hollow
            ? 'malformed stage job: it has no data (its Redis hash was deleted); the reconciler adds it again from Postgres'
            : `malformed stage job: ${parsed.error.message}`,
        );
      }
      const data = parsed.data;
      // Per job, not the queue-wide rateLimit of the breaker: that one would hold every process
      // on the word of one whose flags may be stale, and would cut an open breaker's hold short.
      // The local worker is paused too (worker-runtime.ts), so this covers only a job fetched
      // before the pause took effect; no log line per job (the runtime logs the switch change).
      if (switchedOff()) throw await holdJob(job, token, switchHoldMs);
      return inJobTrace(data.traceparent, () =>
        withLogContext(
          { requestId: data.requestId, pipelineId: data.pipelineId, stageId: data.stageId, stageKey: data.stageKey, jobId: job.id },
          async () => {
            let outcome: RunOutcome;
            try {
              outcome = await breaker.run(
                () =>
                  runner.run({
                    stageId: data.stageId,
                    pipelineId: data.pipelineId,
                    jobId: job.id ?? data.stageId,
                    attemptsMade: job.attemptsMade,
                    maxAttempts: job.opts.attempts ?? 1,
                    signal: signal ?? new AbortController().signal,
                    requestId: data.requestId,
                    agentType,
                    // The envelope's header (v1 jobs have no contract version: the claim reads it).
                    header: {
                      contractVersion: data.contractVersion,
                      traceparent: data.traceparent ?? activeTraceparent(),
                      correlationId: data.correlationId,
                    },
                  }),
                breakerVerdict,
              );
            } catch (error) {
              if (isStatementTimeout(error)) {
                // One of the run's own statements (claim, finish) hit DATABASE_STATEMENT_TIMEOUT_MS:
                // BullMQ retries it with backoff; the code leads failedReason so the DLQ names it.
                const { code, message } = classifyError(error);
                throw Object.assign(new Error(`${code}: ${message}`), { code });
              }
              if (!(error instanceof CircuitOpenError)) throw error;
              // Not claimed: the stage stays queued and its attempts do not grow. The job goes
              // back to the wait list, and the whole queue waits, in Redis, on every process.
              logger.debug('circuit open: holding the agent queue', { agentType, holdMs: error.retryAfterMs });
              await rateLimit(error.retryAfterMs);
              throw Worker.RateLimitError();
            }
            if (outcome.kind === 'interrupted') {
              // Back to the queue for another worker, without spending an attempt.
              await job.moveToDelayed(Date.now() + 1000, token);
              throw new DelayedError();
            }
            if (outcome.kind === 'retry') throw Object.assign(new Error(outcome.error.message), { code: outcome.error.code });
            if (outcome.kind === 'failed') throw new UnrecoverableError(`${outcome.error.code}: ${outcome.error.message}`);
            return outcome;
          },
        ),
      );
    },
    {
      connection,
      prefix,
      telemetry: bullmqTelemetryWhenExported(),
      concurrency,
      name: workerName,
      autorun: false,
      ...locks,
      // BullMQ's limiter counts in one Redis key per queue, so the rate holds across processes.
      limiter: rate ?? MANUAL_LIMITER,
      settings: { backoffStrategy: createBackoffStrategy(backoffCapMs) },
    },
  );
  worker.on('error', (error) => logger.warn('agent worker error', { agentType, error: error.message }));
  return worker;
}
