// Wires the API process: a fail-fast Redis producer (so a Redis outage answers 503 at once),
// the repositories, the pipeline service and the Express app.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import type { AgentCatalog } from '../agents/catalog.js';
import type { Config } from '../config.js';
import { maskedConfig } from '../config/masking.js';
import { createApp, PROBE_PATHS } from '../http/app.js';
import { createInFlightRequests, type InFlightRequests } from '../http/middleware/in-flight.js';
import { createStreamQuota } from '../http/stream-quota.js';
import { createRateLimiters } from '../http/middleware/rate-limit.js';
import { redisRateLimitStores } from '../infra/rate-limit/redis-rate-limit-store.js';
import { createPipelineRepository } from '../infra/db/pipeline.repository.js';
import type { Database } from '../infra/db/database.js';
import { createMigrationsCheck } from '../infra/db/migration-status.js';
import { countPendingDecisions, pingDatabase } from '../infra/db/probes.js';
import { createAgentQueues } from '../infra/queue/agent.queues.js';
import { createCancelPublisher } from '../infra/queue/cancel.bus.js';
import { createControlQueue } from '../infra/queue/control.queue.js';
import { queueRetentionFrom } from '../infra/queue/retention.js';
import { assertRedisReady, createRedisConnection, watchRedisAvailability, whenRedisReady } from '../infra/queue/redis-connection.js';
import { redisTargetOf } from './redis-target.js';
import type { UnleashFlags } from '../infra/flags/unleash-flags.js';
import type { Logger } from '../infra/telemetry/logger.js';
import { closeInOrder } from '../lifecycle/close-in-order.js';
import { loadTemplates } from '../infra/templates/template.store.js';
import { createPipelineService, type PipelineService } from '../services/pipeline.service.js';
import { createRerunService } from '../services/rerun.service.js';
import { createRerunSourceReader } from '../infra/db/pipeline-rerun.repository.js';
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
import { readBreakerStates } from '../infra/breakers/breaker-state.store.js';
import { createApiMetrics, mergeMetrics, type BreakerOverview, type MetricsSource } from '../infra/telemetry/metrics.js';
import { createBullBoardMount } from '../dashboard/bull-board.js';
import { admissionLimitsFrom } from './admission-limits.js';
import { createDashboardMount } from '../http/dashboard-app.js';
import { createWebhookQueue } from '../infra/webhooks/webhook.queue.js';
import { createFailedDeliveries } from '../infra/webhooks/failed-deliveries.js';
import { createWebhookDeliveryService } from '../services/webhook-delivery.service.js';
import { createApiKeyRepository } from '../infra/db/api-key.repository.js';
import { createAuditRepository } from '../infra/db/audit.repository.js';
import { createApiKeyService, type ApiKeyService } from '../services/api-key.service.js';
import { createAgentDirectory } from '../services/agent-directory.service.js';
import { createAgentPauseService } from '../services/agent-pause.service.js';
import { createPipelinePauseService } from '../services/pipeline-pause.service.js';
import { createAgentPauseRepository } from '../infra/db/agent-pause.repository.js';
import { createPipelinePauseRepository } from '../infra/db/pipeline-pause.repository.js';
import { createAgentQueuePause } from '../infra/queue/agent-queue-pause.js';
import { createCanaryReports } from '../services/canary-report.service.js';
import { createFlagOverview } from '../services/flag-overview.service.js';
import { createShadowRunRepository } from '../infra/db/shadow-run.repository.js';
import { agentQueueName } from '../infra/queue/queue-names.js';
import { createWorkersOnline } from '../infra/queue/workers-online.js';
import { workspaceDiskProbeFrom } from '../infra/workspaces/workspace-disk.js';
import { agentFlagNames } from '../domain/feature-flags.js';
import { platformSwitchOn, platformSwitchStates, stageWaiting, switchedOffAgents } from '../services/flag-switches.js';
import { withLogContext } from '../infra/telemetry/log-context.js';
import { activeTraceIds } from '../infra/telemetry/tracing.js';
import { createCredentialVerifier } from './credential-verifier.js';
import { createStageLogRepository } from '../infra/db/stage-log.repository.js';
import { createStageLogService } from '../services/stage-log.service.js';
import { createScheduleRuntime } from './schedule-runtime.js';

// BullMQ 6 has no paused list (pausing is a flag on the queue), so there is no 'paused' count.
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;
/** How old a count of workers online /health/ready may answer with (/health/detailed reads afresh). */
const READY_WORKERS_MAX_AGE_MS = 5000;
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface ApiRuntime {
  app: Express;
  /** The requests whose handler has not answered yet: the shutdown waits for them before closing Redis and Postgres. */
  inFlight: InFlightRequests;
  pipelines: PipelineService;
  keys: ApiKeyService;
  /** The feature flags its routes read. */
  flags: UnleashFlags;
  /**
   * Resolves true once the producer connection to Redis is ready; false after `timeoutMs` or at
   * its first error. The entry waits here before it listens (a cluster's connection takes longer).
   */
  queueConnected(timeoutMs: number): Promise<boolean>;
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
  /** This process's feature flags (src/composition/feature-flags.ts). */
  flags: UnleashFlags;
  /** Mount Bull Board at /admin/queues and the pipeline dashboard at /dashboard (default true). */
  dashboard?: boolean;
  /**
   * Served by GET /metrics beside the API's own (npm start: the in-process workers' registry),
   * which then counts the pipelines the API's submissions create.
   */
  moreMetrics?: MetricsSource & { pipelineStarted(): void };
}

export function createApiRuntime({
  config,
  logger,
  agents,
  db,
  policy,
  flags,
  dashboard = true,
  moreMetrics,
}: ApiRuntimeOptions): ApiRuntime {
  // Named with this process's `<host>:<pid>`, like its workers' connections (docs/connections.md).
  const redis = createRedisConnection(redisTargetOf(config), 'producer', logger, `${hostname()}:${process.pid}`);
  // Fail fast while Redis is down: the client gets a 503 with Retry-After, not a hung request.
  const failFast = () => assertRedisReady(redis);
  const retention = queueRetentionFrom(config);
  const control = createControlQueue(redis, config.QUEUE_PREFIX, failFast, retention);
  const agentQueues = createAgentQueues(redis, config.QUEUE_PREFIX, [...agents.keys()], retention, failFast);
  // Failed deliveries are listed and redelivered over the API (/webhooks/failed) whatever this
  // process's WEBHOOK_URLS (the workers deliver); Bull Board shows the queue when it is set.
  const webhookQueue = createWebhookQueue(redis, config.QUEUE_PREFIX, { attempts: config.WEBHOOK_ATTEMPTS, retention });
  const webhookDeliveries = config.WEBHOOK_URLS.length > 0 ? webhookQueue : undefined;
  const templates = loadTemplates(config.TEMPLATES_DIR, agents);
  const agentTypes = [...agents.keys()];
  // Breaker states as the worker processes publish them, with each agent queue's hold.
  const readBreakers = async (): Promise<BreakerOverview> => {
    const [states, holds] = await Promise.all([
      readBreakerStates(redis, config.QUEUE_PREFIX, agentTypes),
      Promise.all(agentTypes.map(async (type) => Math.max(0, await agentQueues.queueFor(type).getRateLimitTtl()))),
    ]);
    const holdOf = new Map(agentTypes.map((type, i) => [type, holds[i]!]));
    return Object.fromEntries(Object.entries(states).map(([type, s]) => [type, { ...s, holdMs: holdOf.get(type) ?? 0 }]));
  };
  // Workers online per agent type, and the control queue's as `conductor` (CLIENT LIST).
  const workersOnline = createWorkersOnline({
    queues: [['conductor', control.queue], ...agentTypes.map((type) => [type, agentQueues.queueFor(type)] as const)],
    failFast,
  });
  // The filesystem of WORKSPACE_ROOT as this machine sees it (the workers' machines may differ).
  const workspaceDisk = workspaceDiskProbeFrom(config);
  const queueCounts = async () => {
    failFast();
    const queues = [control.queue, ...agentQueues.all()];
    const counts = await Promise.all(queues.map((queue) => queue.getJobCounts(...JOB_STATES)));
    return Object.fromEntries(queues.map((queue, i) => [queue.name, counts[i]!]));
  };
  // Under npm start the workers' registry (moreMetrics) counts every pipeline started, the
  // schedule ticks' and the submissions' alike: one family in the merged /metrics.
  const metrics = createApiMetrics(
    { readBreakers, queueCounts, pendingDecisions: () => countPendingDecisions(db) },
    { pipelinesStarted: moreMetrics === undefined },
  );
  const audit = createAuditRepository(db);
  const keys = createApiKeyService({ repo: createApiKeyRepository(db) });
  const verify = createCredentialVerifier({ config, keys });
  const pipelines = createPipelineService({
    // The `platform.auto-approval` switch as this process reads it: off, no root starts by its confidence.
    repo: createPipelineRepository(db, { autoApproval: () => platformSwitchOn(flags, 'autoApproval') }),
    control,
    agentQueues,
    cancelBus: createCancelPublisher(redis, config.QUEUE_PREFIX),
    agents,
    templates,
    policy,
    admission: {
      limits: admissionLimitsFrom(config),
      backlogHighWater: config.BACKLOG_HIGH_WATER,
    },
    quotas: { maxStages: config.MAX_STAGES_PER_PIPELINE, maxInputBytes: config.MAX_SUBMISSION_INPUT_BYTES },
    onCreated: () => (moreMetrics ?? metrics).pipelineStarted(),
    traceId: () => activeTraceIds()?.traceId,
    deadlineMaxMs: config.PIPELINE_DEADLINE_MAX_MS,
    repositoryAllow: config.WORKSPACE_REPOSITORY_ALLOW,
  });
  const pipelinePauses = createPipelinePauseService({
    repo: createPipelinePauseRepository(db),
    pipelines,
    agentQueues,
    control,
  });
  const agentPauses = createAgentPauseService({
    store: createAgentPauseRepository(db),
    queues: createAgentQueuePause(agentQueues.queueFor, failFast),
    types: agentTypes,
  });
  const reruns = createRerunService({ source: createRerunSourceReader(db), pipelines, agents });
  // Schedules: their job schedulers on the control queue; each tick runs in a worker (schedule-runtime.ts).
  const schedules = createScheduleRuntime({
    db,
    controlQueue: control.queue,
    runs: pipelines,
    logger,
    retention,
    failFast,
    limits: { minIntervalMs: config.SCHEDULE_MIN_INTERVAL_MS, maxPerOwner: config.SCHEDULE_MAX_PER_OWNER },
  });
  const decisions = createDecisionService({ repo: createDecisionRepository(db), agentQueues, control, policy, logger });
  const clarifications = createClarificationService({ repo: createClarificationRepository(db), agentQueues, control });
  const dlq = createDlqService({
    audit,
    dlq: createDeadLetters({ queues: new Map([...agents.keys()].map((type) => [type, agentQueues.queueFor(type)])), failFast }),
    replays: createReplayRepository(db),
    agentQueues,
    logger,
  });
  const webhooks = createWebhookDeliveryService({
    deliveries: createFailedDeliveries({ queue: webhookQueue.queue, failFast }),
    urls: config.WEBHOOK_URLS,
    audit,
    logger,
  });
  // One event poller for every SSE stream of this process; it reads only while a stream is open.
  const eventReader = createEventReader(db, logger);
  const eventFeed = createEventFeed({ reader: eventReader, pollMs: config.EVENTS_POLL_MS, logger });
  void eventFeed.start();
  // The probes' own calls are timed (agentic_db_query_duration_seconds, agentic_redis_command_duration_seconds).
  const readiness = [
    { name: 'postgres', check: () => metrics.timeDb('select_1', () => pingDatabase(db)) },
    { name: 'redis', check: async () => void (await metrics.timeRedis('ping', () => redis.ping())) },
  ];
  // Not in /health/detailed's components (those are the dependencies, with their latency).
  const migrations = { name: 'migrations', check: createMigrationsCheck(db.pool), publicErrors: true };
  let shuttingDown = false;
  // Counted in the producer connection's Redis, so every API replica spends the same budgets.
  const rateLimits = createRateLimiters({
    budgets: {
      windowMs: config.RATE_LIMIT_WINDOW_MS,
      perAddress: config.RATE_LIMIT_PER_ADDRESS,
      perIdentity: config.RATE_LIMIT_PER_IDENTITY,
      submit: config.RATE_LIMIT_SUBMIT,
      authFailures: config.RATE_LIMIT_AUTH_FAILURES,
    },
    storeFor: redisRateLimitStores(redis, config.QUEUE_PREFIX),
    publicPaths: PROBE_PATHS,
    onLimited: (limiter) => metrics.rateLimited(limiter),
    onBypassed: (limiter) => metrics.rateLimitBypassed(limiter),
    logger,
  });
  const inFlight = createInFlightRequests();
  const app = createApp({
    inFlight,
    auth: { verify, metricsToken: config.METRICS_TOKEN },
    keys,
    audit,
    pipelines,
    reruns,
    schedules,
    stageLogs: createStageLogService({ reader: createStageLogRepository(db) }),
    decisions,
    clarifications,
    agentDirectory: createAgentDirectory({
      agents: [...agents.values()],
      queueName: agentQueueName,
      queues: agentQueues,
      pauses: agentPauses,
    }),
    pipelinePauses,
    agentPauses,
    canary: createCanaryReports({ agents: [...agents.values()], reader: createShadowRunRepository(db), flags }),
    templates,
    logger,
    requestContext: { run: withLogContext, traceIds: activeTraceIds },
    version: VERSION,
    bodyLimit: config.HTTP_BODY_LIMIT,
    responsePageBytes: config.RESPONSE_PAGE_BYTES,
    // Read per answer from this process's flags: a queued stage of a switched-off agent says why it waits.
    stageWaiting: (stage) => stageWaiting(flags, stage),
    inputLimits: {
      maxDepth: config.JSON_MAX_DEPTH,
      maxKeyLength: config.JSON_MAX_KEY_LENGTH,
      maxStringLength: config.JSON_MAX_STRING_LENGTH,
    },
    rateLimits,
    trustProxy: config.TRUST_PROXY,
    corsOrigins: config.CORS_ORIGINS,
    shuttingDown: () => shuttingDown,
    queueReady: watchRedisAvailability(redis),
    readiness: [...readiness, migrations],
    readinessInfo: {
      // Probes come every few seconds from each load balancer: a count up to this old will do.
      workers: () => workersOnline.read(READY_WORKERS_MAX_AGE_MS),
      workspaceDisk: () => workspaceDisk.read(),
      pausedAgents: () => agentPauses.pausedTypes(),
    },
    events: {
      feed: eventFeed,
      reader: eventReader,
      pipelineExists: (id) => eventReader.pipelineExists(id),
      logger,
      // Counted in this process: each API replica allows these many (docs/security.md).
      streamQuota: createStreamQuota({ perIdentity: config.MAX_EVENT_STREAMS_PER_IDENTITY, total: config.MAX_EVENT_STREAMS }),
      credentialCheckMs: config.EVENT_STREAM_CREDENTIAL_CHECK_MS,
    },
    dlq,
    webhooks,
    flags: createFlagOverview({ source: flags, flags, agents: [...agents.values()] }),
    detailedHealth: {
      version: VERSION,
      components: readiness,
      queues: queueCounts,
      workers: () => workersOnline.read(),
      workspaceDisk: () => workspaceDisk.read(),
      breakers: async () => {
        failFast();
        return readBreakers();
      },
      flags: () => ({
        agentsSwitchedOff: switchedOffAgents(flags, agentTypes).map((agent) => ({ agent, flag: agentFlagNames(agent).kill })),
        platform: platformSwitchStates(flags),
      }),
      // Masked here, once: the route only serves it (operators only).
      config: () => maskedConfig(config),
      pausedAgents: async () =>
        (await agentPauses.states())
          .filter((s) => s.paused || s.pause)
          .map((s) => ({
            agent: s.type,
            since: s.pause?.pausedAt.toISOString() ?? null,
            by: s.pause?.pausedBy ?? null,
            reason: s.pause?.reason ?? null,
          })),
    },
    // The pool's metrics beside the API's (and, under npm start, the in-process workers').
    metrics: mergeMetrics(metrics, db.metrics, ...(moreMetrics ? [moreMetrics] : [])),
    observeHttp: (sample) => metrics.observeHttp(sample),
    dashboard: dashboard ? createDashboardMount({ distDir: fileURLToPath(new URL('../../dashboard/dist/', import.meta.url)) }) : undefined,
    bullBoard: !dashboard
      ? undefined
      : createBullBoardMount({
          agentQueues: agentQueues.all(),
          controlQueue: control.queue,
          otherQueues: webhookDeliveries
            ? [{ queue: webhookDeliveries.queue, description: 'Webhook deliveries (retry re-sends one)' }]
            : [],
          replays: dlq,
          pauses: agentPauses,
          agentTypes,
          agentQueueName,
          audit,
          logger,
        }),
  });
  let closing: Promise<void> | undefined;
  return {
    app,
    inFlight,
    pipelines,
    keys,
    flags,
    queueConnected: (timeoutMs) => whenRedisReady(redis, timeoutMs),
    beginShutdown() {
      shuttingDown = true;
    },
    close() {
      closing ??= (async () => {
        // A connection that never came up cannot QUIT, and BullMQ's close waits for it: drop it first.
        if (redis.status !== 'ready') redis.disconnect();
        await closeInOrder(
          [
            () => keys.close(),
            () => eventFeed.close(),
            () => control.close(),
            () => agentQueues.close(),
            () => webhookQueue.close(),
            () => redis.quit(),
          ],
          (error) => logger.warn('api close step failed', { error: error.message }),
        );
      })();
      return closing;
    },
  };
}
