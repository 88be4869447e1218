// Wires the schedules: the service over the schedules table and the job schedulers on the
// control queue. The API builds it for its routes; a worker running the conductor builds it with
// a pipeline service of its own, which submits each tick's run as POST /pipelines would.
import type { Queue } from 'bullmq';
import type { AgentCatalog } from '../agents/catalog.js';
import type { Config } from '../config.js';
import type { DecisionPolicy } from '../domain/decision-policy.js';
import type { Logger } from '../domain/logger.js';
import type { Database } from '../infra/db/database.js';
import { createPipelineRepository } from '../infra/db/pipeline.repository.js';
import { createApiKeyRepository } from '../infra/db/api-key.repository.js';
import { createScheduleRepository } from '../infra/db/schedule.repository.js';
import type { AgentQueuesHandle } from '../infra/queue/agent.queues.js';
import { createCancelPublisher } from '../infra/queue/cancel.bus.js';
import type { ControlQueueHandle } from '../infra/queue/control.queue.js';
import type { RedisClient } from '../infra/queue/redis-connection.js';
import type { QueueRetention } from '../infra/queue/retention.js';
import { createScheduleTimers } from '../infra/queue/schedule.timers.js';
import { loadTemplates } from '../infra/templates/template.store.js';
import { currentIdentities } from '../services/api-key.service.js';
import { createPipelineService, type TemplateSource } from '../services/pipeline.service.js';
import { admissionLimitsFrom } from './admission-limits.js';
import { createScheduleService, type ScheduleLimits, type ScheduleService } from '../services/schedule.service.js';
import type { RunSubmitter } from '../services/schedule.ports.js';

export interface ScheduleRuntimeOptions {
  db: Database;
  controlQueue: Queue;
  runs: RunSubmitter;
  logger: Logger;
  retention?: QueueRetention;
  failFast?: () => void;
  /** What a new schedule may be (the API's; a worker only ticks). */
  limits?: ScheduleLimits;
}

export function createScheduleRuntime(options: ScheduleRuntimeOptions): ScheduleService {
  const { db, controlQueue, runs, logger, retention, failFast, limits } = options;
  return createScheduleService({
    repo: createScheduleRepository(db),
    timers: createScheduleTimers(controlQueue, { failFast, retention }),
    runs,
    owners: currentIdentities(createApiKeyRepository(db)),
    logger,
    limits,
  });
}

export interface WorkerScheduleOptions {
  config: Config;
  db: Database;
  catalog: AgentCatalog;
  policy: DecisionPolicy;
  connection: RedisClient;
  control: ControlQueueHandle;
  agentQueues: AgentQueuesHandle;
  logger: Logger;
  retention: QueueRetention;
  autoApproval: () => boolean;
  /** Called once per pipeline a tick created: the worker's `agentic_pipelines_started_total`. */
  onCreated?: () => void;
}

/** A worker's schedule service: its ticks submit through a pipeline service built as the API's is. */
export function createWorkerSchedules(options: WorkerScheduleOptions): ScheduleService {
  const { config, db, catalog, policy, connection, control, agentQueues, logger, retention, autoApproval, onCreated } = options;
  const runs = createPipelineService({
    repo: createPipelineRepository(db, { autoApproval }),
    control,
    agentQueues,
    cancelBus: createCancelPublisher(connection, config.QUEUE_PREFIX),
    agents: catalog,
    templates: lazyTemplates(() => loadTemplates(config.TEMPLATES_DIR, catalog)),
    policy,
    admission: {
      // The API's and the conductor's limits, aging included: a tick may be the one that fills a free slot.
      limits: admissionLimitsFrom(config),
      backlogHighWater: config.BACKLOG_HIGH_WATER,
    },
    quotas: { maxStages: config.MAX_STAGES_PER_PIPELINE, maxInputBytes: config.MAX_SUBMISSION_INPUT_BYTES },
    repositoryAllow: config.WORKSPACE_REPOSITORY_ALLOW,
    onCreated,
  });
  return createScheduleRuntime({ db, controlQueue: control.queue, runs, logger, retention });
}

/**
 * Templates read on a worker's first template tick, not at its boot: a worker that never runs a
 * scheduled template needs no TEMPLATES_DIR (the API checked the template when the schedule was made).
 */
function lazyTemplates(load: () => TemplateSource): TemplateSource {
  let loaded: TemplateSource | undefined;
  return {
    get: (name) => (loaded ??= load()).get(name),
    names: () => (loaded ??= load()).names(),
  };
}
