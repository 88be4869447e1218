// Wires a worker process: the conductor (control-queue worker) and one BullMQ worker per agent
// type it serves, the cancel subscription that turns cancels into AbortSignals, and the
// producers they use (retrying through Redis blips rather than failing jobs).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import type { Agent } from '../src/agents/define-agent.js';
import type { AgentCatalog } from '../src/agents/catalog.js';
import type { Config } from '../src/config.js';
import { createPipelineRepository } from '../src/infra/db/pipeline.repository.js';
import type { Database } from '../src/infra/db/database.js';
import { createStageRunRepository } from '../src/infra/db/stage-run.repository.js';
import { createAgentQueues } from '../src/infra/queue/agent.queues.js';
import { createAgentWorker } from '../src/infra/queue/agent.worker.js';
import { subscribeToCancels } from '../src/infra/queue/cancel.bus.js';
import { createControlQueue } from '../src/infra/queue/control.queue.js';
import { createControlWorker } from '../src/infra/queue/control.worker.js';
import { createRedisConnection } from '../src/infra/queue/redis-connection.js';
import { createWebhookRuntime } from '../src/infra/webhooks/webhook-runtime.js';
import type { Logger } from '../src/infra/telemetry/logger.js';
import { closeInOrder } from '../src/lifecycle/close-in-order.js';
import { createConductor } from '../src/services/conductor.service.js';
import { createDecisionService } from '../src/services/decision.service.js';
import { createDecisionRepository } from '../src/infra/db/decision.repository.js';
import type { DecisionPolicy } from '../src/domain/decision-policy.js';
import { coalesceByKey } from '../src/services/coalesce-calls.js';
import { CANCEL_REASON, createStageRunner, SHUTDOWN_REASON } from '../src/services/stage-runner.service.js';

const SETTLED_CHECK_WINDOW_MS = 2;

export interface WorkerRuntimeOptions {
  config: Config;
  logger: Logger;
  db: Database;
  policy: DecisionPolicy;
  /** Every agent the deployment knows (the conductor dispatches to all of them). */
  catalog: AgentCatalog;
  /** The agents this process runs. */
  serve: readonly Agent[];
  concurrency: number;
  /** Run the conductor here too (default true). */
  conductor?: boolean;
}

export interface WorkerRuntime {
  workerId: string;
  workers: Worker[];
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createWorkerRuntime(options: WorkerRuntimeOptions): WorkerRuntime {
  const { config, logger, db, policy, catalog, serve, concurrency } = options;
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const connection = createRedisConnection(config.REDIS_URL, 'worker', logger);
  const subscriber = createRedisConnection(config.REDIS_URL, 'subscriber', logger);
  const prefix = config.QUEUE_PREFIX;
  const control = createControlQueue(connection, prefix);
  const agentQueues = createAgentQueues(connection, prefix, [...catalog.keys()], config.COMPLETED_JOBS_KEEP);

  const stageRuns = createStageRunRepository(db);
  const runner = createStageRunner({
    // Finishes of one pipeline's stages often land together: one "settled?" read serves them.
    runs: { ...stageRuns, settled: coalesceByKey((pipelineId) => stageRuns.settled(pipelineId), SETTLED_CHECK_WINDOW_MS) },
    control,
    agentQueues,
    agents: catalog,
    workerId,
    logger,
    newId: randomUUID,
  });
  const agentWorkers = serve.map((agent) =>
    createAgentWorker({ connection, prefix, agentType: agent.type, concurrency, runner, logger, workerName: workerId }),
  );
  const workers: Worker[] = [...agentWorkers];
  if (options.conductor ?? true) {
    const conductor = createConductor({ repo: createPipelineRepository(db), agentQueues, control, policy, logger });
    const decisions = createDecisionService({ repo: createDecisionRepository(db), agentQueues, control, policy, logger });
    workers.push(
      createControlWorker({ connection, prefix, concurrency: config.CONDUCTOR_CONCURRENCY, conductor, decisions, logger, workerName: workerId }),
    );
  }

  // The webhook outbox relay and delivery worker (a no-op without WEBHOOK_URLS).
  const webhooks = createWebhookRuntime({ connection, prefix, db, config, logger, workerName: workerId });

  let unsubscribe: (() => Promise<void>) | undefined;
  let closing: Promise<void> | undefined;

  return {
    workerId,
    workers,
    async start() {
      unsubscribe = await subscribeToCancels(
        subscriber,
        prefix,
        (jobIds) => {
          for (const worker of agentWorkers) for (const id of jobIds) worker.cancelJob(id, CANCEL_REASON);
        },
        logger,
      );
      for (const worker of workers) {
        worker.run().catch((error: Error) => logger.error('worker stopped unexpectedly', { error: error.message }));
      }
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      await webhooks.start();
      logger.info('worker process ready', { workerId, agents: serve.map((a) => a.type), concurrency, conductor: options.conductor ?? true });
    },
    close() {
      closing ??= (async () => {
        // Running handlers get SHUTDOWN_GRACE_MS to finish; then their AbortSignal fires and
        // their jobs go back to the queue for another worker.
        const grace = setTimeout(() => {
          logger.warn('shutdown grace period over: aborting running stages', { graceMs: config.SHUTDOWN_GRACE_MS });
          for (const worker of agentWorkers) worker.cancelAllJobs(SHUTDOWN_REASON);
        }, config.SHUTDOWN_GRACE_MS);
        await closeInOrder(
          [
            () => Promise.all(workers.map((w) => w.close())).finally(() => clearTimeout(grace)),
            async () => unsubscribe?.(),
            () => webhooks.close(),
            () => control.close(),
            () => agentQueues.close(),
            () => subscriber.quit(),
            () => connection.quit(),
          ],
          (error) => logger.warn('worker close step failed', { error: error.message }),
        );
      })();
      return closing;
    },
  };
}
