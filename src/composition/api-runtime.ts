// Wires the API process: a fail-fast Redis producer (so a Redis outage answers 503 at once),
// the repositories, the pipeline service and the Express app.
import type { Express } from 'express';
import type { AgentCatalog } from '../agents/catalog.js';
import type { Config } from '../config.js';
import { createApp } from '../http/app.js';
import { createPipelineRepository } from '../infra/db/pipeline.repository.js';
import type { Database } from '../infra/db/database.js';
import { createAgentQueues } from '../infra/queue/agent.queues.js';
import { createCancelPublisher } from '../infra/queue/cancel.bus.js';
import { createControlQueue } from '../infra/queue/control.queue.js';
import { assertRedisReady, createRedisConnection } from '../infra/queue/redis-connection.js';
import type { Logger } from '../infra/telemetry/logger.js';
import { closeInOrder } from '../lifecycle/close-in-order.js';
import { loadTemplates } from '../infra/templates/template.store.js';
import { createPipelineService, type PipelineService } from '../services/pipeline.service.js';

export interface ApiRuntime {
  app: Express;
  pipelines: PipelineService;
  close(): Promise<void>;
}

export function createApiRuntime({ config, logger, agents, db }: { config: Config; logger: Logger; agents: AgentCatalog; db: Database }): ApiRuntime {
  const redis = createRedisConnection(config.REDIS_URL, 'producer', logger);
  // Fail fast while Redis is down: the client gets a 503 with Retry-After, not a hung request.
  const failFast = () => assertRedisReady(redis);
  const control = createControlQueue(redis, config.QUEUE_PREFIX, failFast);
  const agentQueues = createAgentQueues(redis, config.QUEUE_PREFIX, [...agents.keys()], config.COMPLETED_JOBS_KEEP, failFast);
  const templates = loadTemplates(config.TEMPLATES_DIR, agents);
  const pipelines = createPipelineService({
    repo: createPipelineRepository(db),
    control,
    agentQueues,
    cancelBus: createCancelPublisher(redis, config.QUEUE_PREFIX),
    agents,
    templates,
  });
  const app = createApp({
    pipelines,
    agents,
    agentQueues,
    templates,
    logger,
    bodyLimit: config.HTTP_BODY_LIMIT,
    readiness: [
      { name: 'postgres', check: async () => void (await db.pool.query('SELECT 1')) },
      { name: 'redis', check: async () => void (await redis.ping()) },
    ],
  });
  let closing: Promise<void> | undefined;
  return {
    app,
    pipelines,
    close() {
      closing ??= (async () => {
        // A connection that never came up cannot QUIT, and BullMQ's close waits for it: drop it first.
        if (redis.status !== 'ready') redis.disconnect();
        await closeInOrder([() => control.close(), () => agentQueues.close(), () => redis.quit()], (error) =>
          logger.warn('api close step failed', { error: error.message }),
        );
      })();
      return closing;
    },
  };
}
