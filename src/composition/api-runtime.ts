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
import { assertRedisReady, createRedisConnection, watchRedisAvailability } from '../infra/queue/redis-connection.js';
import type { Logger } from '../infra/telemetry/logger.js';
import { closeInOrder } from '../lifecycle/close-in-order.js';
import { loadTemplates } from '../infra/templates/template.store.js';
import { createPipelineService, type PipelineService } from '../services/pipeline.service.js';
import type { DecisionPolicy } from '../domain/decision-policy.js';
import { createClarificationRepository } from '../infra/db/clarification.repository.js';
import { createDecisionRepository } from '../infra/db/decision.repository.js';
import { createClarificationService } from '../services/clarification.service.js';
import { createDecisionService } from '../services/decision.service.js';
import { createEventFeed } from '../infra/events/event-feed.js';
import { createEventReader } from '../infra/events/event.repository.js';
import { createDeadLetters } from '../infra/queue/dead-letters.js';
import { createReplayRepository } from '../infra/db/replay.repository.js';
import { createDlqService } from '../services/dlq.service.js';

export interface ApiRuntime {
  app: Express;
  pipelines: PipelineService;
  /** Marks the process as stopping: /health/ready answers 503 `shuttingDown: true` from now on. */
  beginShutdown(): void;
  close(): Promise<void>;
}

export interface ApiRuntimeOptions {
  config: Config;
  logger: Logger;
  agents: AgentCatalog;
  db: Database;
  policy: DecisionPolicy;
}

export function createApiRuntime({ config, logger, agents, db, policy }: ApiRuntimeOptions): ApiRuntime {
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
    policy,
    admission: {
      limits: { maxRunning: config.MAX_RUNNING_PIPELINES, maxRunningPerSubmitter: config.MAX_RUNNING_PIPELINES_PER_SUBMITTER },
      backlogHighWater: config.BACKLOG_HIGH_WATER,
    },
  });
  const decisions = createDecisionService({ repo: createDecisionRepository(db), agentQueues, control, policy, logger });
  const clarifications = createClarificationService({ repo: createClarificationRepository(db), agentQueues, control });
  const dlq = createDlqService({
    dlq: createDeadLetters({ queues: new Map([...agents.keys()].map((type) => [type, agentQueues.queueFor(type)])), failFast }),
    replays: createReplayRepository(db),
    agentQueues,
    logger,
  });
  // One event poller for every SSE stream of this process; it reads only while a stream is open.
  const eventReader = createEventReader(db);
  const eventFeed = createEventFeed({ reader: eventReader, pollMs: config.EVENTS_POLL_MS, logger });
  void eventFeed.start();
  let shuttingDown = false;
  const app = createApp({
    pipelines,
    decisions,
    clarifications,
    agents,
    agentQueues,
    templates,
    logger,
    bodyLimit: config.HTTP_BODY_LIMIT,
    shuttingDown: () => shuttingDown,
    queueReady: watchRedisAvailability(redis),
    readiness: [
      { name: 'postgres', check: async () => void (await db.pool.query('SELECT 1')) },
      { name: 'redis', check: async () => void (await redis.ping()) },
    ],
    events: { feed: eventFeed, reader: eventReader, pipelineExists: (id) => eventReader.pipelineExists(id), logger },
    dlq,
  });
  let closing: Promise<void> | undefined;
  return {
    app,
    pipelines,
    beginShutdown() {
      shuttingDown = true;
    },
    close() {
      closing ??= (async () => {
        // A connection that never came up cannot QUIT, and BullMQ's close waits for it: drop it first.
        if (redis.status !== 'ready') redis.disconnect();
        await closeInOrder([() => eventFeed.close(), () => control.close(), () => agentQueues.close(), () => redis.quit()], (error) =>
          logger.warn('api close step failed', { error: error.message }),
        );
      })();
      return closing;
    },
  };
}
