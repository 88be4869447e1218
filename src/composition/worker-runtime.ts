// Wires a worker process: the conductor (control-queue worker) and one BullMQ worker per agent
// type it serves, the cancel subscription that turns cancels into AbortSignals, and the
// producers they use (retrying through Redis blips rather than failing jobs).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import type { Agent } from '../agents/define-agent.js';
import type { AgentCatalog } from '../agents/catalog.js';
import type { Config } from '../config.js';
import { redactUrl } from '../domain/redact.js';
import { createPipelineRepository } from '../infra/db/pipeline.repository.js';
import { isDatabaseUnavailable, type Database } from '../infra/db/database.js';
import { createStageRunRepository } from '../infra/db/stage-run.repository.js';
import { createShadowRunRepository } from '../infra/db/shadow-run.repository.js';
import { createShadowRunner } from '../services/shadow-runner.js';
import { createAgentQueues } from '../infra/queue/agent.queues.js';
import { createAgentWorker } from '../jobs/agent.worker.js';
import { throttleFor, unknownLimitedTypes } from '../domain/agent-limits.js';
import { holdQueue } from '../infra/queue/queue-hold.js';
import { createBreakerRegistry, type BreakerRegistry } from '../infra/breakers/breaker-registry.js';
import { createBreakerStatePublisher } from '../infra/breakers/breaker-state.store.js';
import { createCancelPublisher, subscribeToCancels } from '../infra/queue/cancel.bus.js';
import { createPriorityAging } from '../infra/queue/priority-aging.js';
import { PRIORITY_AGING_JOB } from '../infra/queue/queue-names.js';
import { createPipelineDeadlineService } from '../services/pipeline-deadline.service.js';
import { createControlQueue } from '../infra/queue/control.queue.js';
import { createControlWorker } from '../jobs/control.worker.js';
import { createReconcileQueues } from '../infra/queue/reconcile.queues.js';
import { createControlScheduler, createReconcileScheduler, PRIORITY_AGING_SCHEDULER_ID } from '../infra/queue/reconcile.scheduler.js';
import { queueRetentionFrom } from '../infra/queue/retention.js';
import { createReconcileRepository } from '../infra/db/reconcile.repository.js';
import { createReconciler, type Reconciler } from '../services/reconciler.service.js';
import { reapplyAgentPauses } from '../services/agent-pause.service.js';
import { createAgentPauseRepository } from '../infra/db/agent-pause.repository.js';
import { createAgentQueuePause } from '../infra/queue/agent-queue-pause.js';
import { createRedisConnection } from '../infra/queue/redis-connection.js';
import { redisTargetOf } from './redis-target.js';
import { redisConnectionsOf } from '../infra/queue/redis-connection-count.js';
import { createWebhookRuntime } from './webhook-runtime.js';
import type { Logger } from '../infra/telemetry/logger.js';
import type { UnleashFlags } from '../infra/flags/unleash-flags.js';
import { closeInOrder } from '../lifecycle/close-in-order.js';
import { createConductor } from '../services/conductor.service.js';
import { createWorkerSchedules } from './schedule-runtime.js';
import { admissionLimitsFrom } from './admission-limits.js';
import { createDecisionService } from '../services/decision.service.js';
import { createDecisionRepository } from '../infra/db/decision.repository.js';
import type { DecisionPolicy } from '../domain/decision-policy.js';
import { createAttemptHeartbeat } from '../services/attempt-heartbeat.js';
import { createAttemptHeartbeatRepository } from '../infra/db/attempt-heartbeat.repository.js';
import { CANCEL_REASON, createStageRunner, SHUTDOWN_REASON, type StageRunner } from '../services/stage-runner.service.js';
import { createWorkerMetrics, mergeMetrics, type WorkerMetrics } from '../infra/telemetry/metrics.js';
import { holdWhileDatabaseDown } from '../jobs/database-down-hold.js';
import { measureStages } from '../jobs/stage-metrics.js';
import { createMetricsServer, MetricsPortsInUseError, type MetricsServer } from '../infra/telemetry/metrics-server.js';
import { reachableHost } from '../domain/reachable-host.js';
import { BootError } from '../domain/boot-error.js';
import { agentSwitchedOff, platformSwitchOn, watchSwitches } from '../services/flag-switches.js';
import { followSwitch } from '../jobs/switch-hold.js';
import { agentFlagNames } from '../domain/feature-flags.js';
import { createLocalWorkspaceProvider } from '../infra/workspaces/local-workspace-provider.js';
import { workspaceDiskProbeFrom } from '../infra/workspaces/workspace-disk.js';
import { createStageLogRepository } from '../infra/db/stage-log.repository.js';
import { createStageLogWriter } from '../services/stage-log-writer.js';
import { createWorkspaceSweeper } from '../services/workspace-retention.service.js';

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
  /** This process's feature flags (src/composition/feature-flags.ts). */
  flags: UnleashFlags;
  /**
   * Port of GET /health and /metrics, overriding WORKER_METRICS_PORT (0 here: an ephemeral port,
   * for tests; null: no server, as under `npm start`, whose API serves this registry).
   */
  metricsPort?: number | null;
  /** The registry to record into (default a new one with the process metrics). */
  metrics?: WorkerMetrics;
}

export interface WorkerRuntime {
  workerId: string;
  workers: Worker[];
  /** This process's circuit breakers, one per agent type it serves (`states()` for health and metrics). */
  breakers: BreakerRegistry;
  /** The reconciler this process's control worker runs (null without the conductor). */
  reconciler: Reconciler | null;
  /** This process's Prometheus registry (stage and pipeline metrics). */
  metrics: WorkerMetrics;
  /** Stage handlers running in this process now (said when a shutdown starts). */
  runningStages(): number;
  /** The bound port of GET /health and /metrics once started; null when off. */
  metricsPort(): number | null;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createWorkerRuntime(options: WorkerRuntimeOptions): WorkerRuntime {
  const { config, logger, db, policy, catalog, serve, concurrency, flags } = options;
  // A limit on a type nobody serves would limit nothing: refuse it by name before connecting.
  const unknownLimited = unknownLimitedTypes(config.AGENT_LIMITS, catalog.keys());
  if (unknownLimited.length > 0)
    throw new BootError(
      'CONFIG_INVALID',
      `AGENT_LIMITS names unknown agent type(s): ${unknownLimited.join(', ')}; known: ${[...catalog.keys()].join(', ')}`,
    );
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  // Named with the worker id, as BullMQ names each Worker's blocking connection: CLIENT LIST
  // shows every connection of this runtime (docs/connections.md).
  const connection = createRedisConnection(redisTargetOf(config), 'worker', logger, workerId);
  const subscriber = createRedisConnection(redisTargetOf(config), 'subscriber', logger, workerId);
  const prefix = config.QUEUE_PREFIX;
  const retention = queueRetentionFrom(config);
  const control = createControlQueue(connection, prefix, undefined, retention);
  const agentQueues = createAgentQueues(connection, prefix, [...catalog.keys()], retention);

  // Workers create the workspaces: their /health and /metrics say how much room is left.
  const workspaceDisk = workspaceDiskProbeFrom(config);
  const metrics = options.metrics ?? createWorkerMetrics({ workspaceDisk: () => workspaceDisk.read() });
  const listenPort =
    options.metricsPort !== undefined ? options.metricsPort : config.WORKER_METRICS_PORT === 0 ? null : config.WORKER_METRICS_PORT;
  const metricsServer =
    listenPort === null
      ? null
      : createMetricsServer({
          port: listenPort,
          // It answers without credentials: loopback outside production (WORKER_METRICS_HOST).
          host: config.WORKER_METRICS_HOST,
          // The pool's metrics too (under npm start the API's /metrics serves them).
          metrics: mergeMetrics(metrics, db.metrics),
          health: () =>
            workspaceDisk.read().then(
              (disk) => ({ workspaceDisk: disk }),
              (error: Error) => ({ workspaceDisk: { error: error.message } }),
            ),
          onError: (error) => logger.warn('metrics scrape failed', { error: error.message }),
        });
  // The `platform.auto-approval` switch, read by the finish statement and the conductor each time.
  const autoApproval = () => platformSwitchOn(flags, 'autoApproval');
  const stageRuns = createStageRunRepository(db, { autoApproval });
  // Workspaces live on this machine (WORKSPACE_ROOT); stage logs in Postgres, readable from any API.
  const workspaces = createLocalWorkspaceProvider({ root: config.WORKSPACE_ROOT, repositoryAllow: config.WORKSPACE_REPOSITORY_ALLOW });
  const stageLogs = createStageLogRepository(db);
  const workspaceSweeper = createWorkspaceSweeper({ workspaces, store: stageLogs, retentionMs: config.WORKSPACE_RETENTION, logger });
  // A third of the lock duration: the reconciler waits a whole one before it takes a stage back.
  const heartbeat = createAttemptHeartbeat({
    repo: createAttemptHeartbeatRepository(db),
    workerId,
    everyMs: Math.max(1, Math.floor(config.LOCK_DURATION_MS / 3)),
    logger,
    // A cancel whose message this process missed (its subscriber was reconnecting) reaches the handler here.
    onCancelRequested: (jobIds) => abortCancelled(jobIds),
  });
  const runner = createStageRunner({
    runs: {
      ...stageRuns,
      // Progress is best effort: Postgres going away must not fail the handler's attempt.
      progress: (args) =>
        stageRuns.progress(args).catch((error: unknown) => {
          if (!isDatabaseUnavailable(error)) throw error;
        }),
    },
    control,
    agentQueues,
    agents: catalog,
    workerId,
    logger,
    newId: randomUUID,
    flags,
    shadows: createShadowRunner({ flags, records: createShadowRunRepository(db), logger, newId: randomUUID }),
    workspace: { workspaces, logs: createStageLogWriter({ store: stageLogs, maxBytes: config.STAGE_LOG_MAX_BYTES, logger }) },
    policy,
    heartbeat,
  });
  const breakers = createBreakerRegistry(
    {
      errorThresholdPct: config.BREAKER_ERROR_THRESHOLD_PCT,
      volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
      resetMs: config.BREAKER_RESET_MS,
    },
    logger,
    serve.map((agent) => agent.type),
  );
  // Writes the states to Redis for the API's /health/detailed and /metrics.
  const breakerStates = createBreakerStatePublisher({ redis: connection, prefix, workerId, breakers, logger });
  const locks = {
    lockDuration: config.LOCK_DURATION_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    maxStalledCount: config.MAX_STALLED_COUNT,
  };
  let running = 0;
  const countRunning = (inner: StageRunner): StageRunner => ({
    async run(delivery) {
      running++;
      try {
        return await inner.run(delivery);
      } finally {
        running--;
      }
    },
  });
  // A hold (open breaker, Postgres down) on every process; never shorter than the limiter window it replaces.
  const holdAgentQueue = async (agentType: string, ms: number) => {
    await holdQueue(connection, agentQueues.queueFor(agentType), ms);
  };
  const throttles = new Map(serve.map((agent) => [agent.type, throttleFor(config.AGENT_LIMITS, agent.type, concurrency)]));
  const agentWorkers = serve.map((agent) =>
    createAgentWorker({
      connection,
      prefix,
      agentType: agent.type,
      concurrency: throttles.get(agent.type)!.concurrency,
      rate: throttles.get(agent.type)!.rate,
      runner: countRunning(
        measureStages(
          holdWhileDatabaseDown(runner, {
            agentType: agent.type,
            hold: (ms) => holdAgentQueue(agent.type, ms),
            isDatabaseUnavailable,
            logger,
          }),
          agent.type,
          metrics,
        ),
      ),
      logger,
      workerName: workerId,
      locks,
      backoffCapMs: config.RETRY_BACKOFF_CAP_MS,
      breaker: breakers.forAgent(agent.type),
      rateLimit: (ms) => holdAgentQueue(agent.type, ms),
      switchedOff: () => agentSwitchedOff(flags, agent.type),
      // A released switch is seen within one refresh; a held job comes back as soon.
      switchHoldMs: config.UNLEASH_REFRESH_MS,
    }),
  );
  // Kill switches: the local worker of a switched-off agent type is paused, so it fetches nothing.
  const agentSwitches = new Map(
    serve.map((agent, i) => [
      agent.type,
      followSwitch(agentWorkers[i]!, (error) =>
        logger.warn('agent worker pause or resume failed', { agentType: agent.type, error: error.message }),
      ),
    ]),
  );
  const applyKillSwitch = (agentType: string, off: boolean) => {
    logger.info(off ? 'agent switched off by flag' : 'agent switched on', { agentType, flag: agentFlagNames(agentType).kill });
    return agentSwitches.get(agentType)!.set(!off);
  };
  const workers: Worker[] = [...agentWorkers];
  /** Aborts the local attempts of these jobs (a cancel message, or the heartbeat's read-back); others are not here. */
  function abortCancelled(jobIds: readonly string[]): void {
    for (const worker of agentWorkers) for (const id of jobIds) worker.cancelJob(id, CANCEL_REASON);
  }
  let reconciler: Reconciler | null = null;
  if (options.conductor ?? true) {
    reconciler = createReconciler({
      repo: createReconcileRepository(db),
      queues: createReconcileQueues({ connection, agentQueues: agentQueues.all(), controlQueue: control.queue }),
      agentQueues,
      control,
      logger,
      lockDurationMs: config.LOCK_DURATION_MS,
      // Short intervals (tests) heal as fast as they run.
      graceMs: Math.min(config.RECONCILE_EVERY_MS, 5000),
      // Agent types an operator paused stay paused after Redis lost the flag.
      agentPauses: {
        reapply: () =>
          reapplyAgentPauses({
            store: createAgentPauseRepository(db),
            queues: createAgentQueuePause(agentQueues.queueFor),
            types: [...catalog.keys()],
          }),
      },
    });
    const admission = admissionLimitsFrom(config);
    // Schedules' ticks run beside the conductor (docs/pipeline-operations.md, "Schedules").
    const schedules = createWorkerSchedules({
      config,
      db,
      catalog,
      policy,
      connection,
      control,
      agentQueues,
      logger,
      retention,
      autoApproval,
      onCreated: () => metrics.pipelineStarted(),
    });
    const conductor = createConductor({
      repo: createPipelineRepository(db),
      agentQueues,
      control,
      policy,
      logger,
      admission,
      onFinished: (result) => {
        metrics.pipelineFinished(result.status);
        // A scheduled run waiting behind this one (overlap queue_one) starts now; the reconciler's
        // pass starts it if this is lost.
        schedules
          .pipelineFinished(result.pipelineId)
          .catch((error: Error) => logger.warn('could not start a waiting scheduled run', { error: error.message }));
      },
      autoApproval,
    });
    const decisions = createDecisionService({
      repo: createDecisionRepository(db),
      agentQueues,
      control,
      policy,
      logger,
    });
    workers.push(
      createControlWorker({
        connection,
        prefix,
        concurrency: config.CONDUCTOR_CONCURRENCY,
        conductor,
        decisions,
        reconciler,
        // A pipeline's deadline cancels it like a person's cancel (running stages get the abort).
        pipelineDeadlines: createPipelineDeadlineService({
          repo: createPipelineRepository(db),
          control,
          agentQueues,
          cancelBus: createCancelPublisher(connection, prefix),
          logger,
        }),
        aging: createPriorityAging({ queues: () => agentQueues.all(), stepMs: config.PRIORITY_AGING_MS, logger }),
        schedules,
        logger,
        workerName: workerId,
        locks,
      }),
    );
  }

  // The webhook outbox relay and delivery worker (a no-op without WEBHOOK_URLS).
  const webhooks = createWebhookRuntime({
    connection,
    prefix,
    db,
    config,
    logger,
    workerName: workerId,
    flags,
    switchHoldMs: config.UNLEASH_REFRESH_MS,
    retention,
  });
  // Every process upserts the one reconciler scheduler, and again each interval (a FLUSHALL deletes it).
  const reconcileScheduler = createReconcileScheduler({ connection, prefix, everyMs: config.RECONCILE_EVERY_MS, logger, retention });
  // Likewise the aging passes of the agent queues' priorities (none with PRIORITY_AGING_MS=0).
  const agingScheduler =
    config.PRIORITY_AGING_MS > 0
      ? createControlScheduler({
          connection,
          prefix,
          everyMs: config.PRIORITY_AGING_MS,
          logger,
          retention,
          schedulerId: PRIORITY_AGING_SCHEDULER_ID,
          jobName: PRIORITY_AGING_JOB,
          what: 'priority aging',
        })
      : null;

  let unsubscribe: (() => Promise<void>) | undefined;
  let stopWatchingSwitches: (() => void) | undefined;
  let closing: Promise<void> | undefined;

  return {
    workerId,
    workers,
    breakers,
    reconciler,
    metrics,
    runningStages: () => running,
    metricsPort: () => (metricsServer ? metricsServer.port() : null),
    async start() {
      await startMetricsServer(metricsServer, config.WORKER_METRICS_PORT);
      if (metricsServer && listenPort !== null && listenPort !== 0 && metricsServer.port() !== listenPort) {
        logger.info('worker metrics port in use: took the next free one', { wanted: listenPort, port: metricsServer.port() });
      }
      unsubscribe = await subscribeToCancels(subscriber, prefix, abortCancelled, logger);
      // Paused before they run, so a switched-off agent's worker fetches nothing at all.
      const types = serve.map((agent) => agent.type);
      const offAtStart = new Set(types.filter((type) => agentSwitchedOff(flags, type)));
      await Promise.all([...offAtStart].map((type) => applyKillSwitch(type, true)));
      for (const worker of workers) {
        worker.run().catch((error: Error) => logger.error('worker stopped unexpectedly', { error: error.message }));
      }
      // Watched once they run (a resume before run() would start a worker twice); a switch that
      // changed meanwhile is applied here, since the watcher starts from the state it reads now.
      stopWatchingSwitches = watchSwitches(
        flags,
        types,
        (type) => agentSwitchedOff(flags, type),
        (type, off) => void applyKillSwitch(type, off),
      );
      for (const type of types) {
        const off = agentSwitchedOff(flags, type);
        if (off !== offAtStart.has(type)) void applyKillSwitch(type, off);
      }
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      await webhooks.start();
      await reconcileScheduler.start();
      await agingScheduler?.start();
      breakerStates.start();
      workspaceSweeper.start();
      heartbeat.start();
      logger.info('worker process ready', {
        workerId,
        agents: serve.map((a) => a.type),
        concurrency,
        // The served agent types whose concurrency or rate AGENT_LIMITS sets.
        ...(Object.keys(config.AGENT_LIMITS).length > 0
          ? { limits: Object.fromEntries([...throttles].filter(([type]) => Object.hasOwn(config.AGENT_LIMITS, type))) }
          : {}),
        conductor: options.conductor ?? true,
        // What this runtime holds open in Redis (the formula of docs/connections.md).
        redisConnections: redisConnectionsOf({
          api: false,
          worker: { agentTypes: serve.length, conductor: options.conductor ?? true, webhooks: config.WEBHOOK_URLS.length > 0 },
        }),
        // Which services it runs against, without credentials or query.
        redis: redactUrl(config.REDIS_URL),
        database: redactUrl(config.DATABASE_URL),
        // Where to scrape this worker (several on one machine each take the next free port).
        metrics: metricsServer
          ? `http://${reachableHost(config.WORKER_METRICS_HOST)}:${metricsServer.port()}/metrics`
          : options.metricsPort === null
            ? "the API's /metrics"
            : 'off',
      });
    },
    close() {
      closing ??= (async () => {
        // Running handlers get SHUTDOWN_GRACE_MS to finish; then their AbortSignal fires and
        // their jobs go back to the queue for another worker.
        const grace = setTimeout(() => {
          logger.warn('shutdown grace period over: aborting running stages', { graceMs: config.SHUTDOWN_GRACE_MS });
          for (const worker of agentWorkers) worker.cancelAllJobs(SHUTDOWN_REASON);
        }, config.SHUTDOWN_GRACE_MS);
        stopWatchingSwitches?.();
        await closeInOrder(
          [
            () => Promise.all(workers.map((w) => w.close())).finally(() => clearTimeout(grace)),
            () => heartbeat.close(),
            () => breakerStates.close(),
            () => workspaceSweeper.close(),
            async () => metricsServer?.close(),
            async () => breakers.close(),
            async () => unsubscribe?.(),
            () => webhooks.close(),
            () => reconcileScheduler.close(),
            async () => agingScheduler?.close(),
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

/** Starts the worker's metrics server; every port of its range taken stops the boot with one line naming the variable. */
async function startMetricsServer(server: MetricsServer | null, configured: number): Promise<void> {
  try {
    await server?.start();
  } catch (error) {
    if (!(error instanceof MetricsPortsInUseError)) throw error;
    throw new BootError(
      'CONFIG_INVALID',
      `WORKER_METRICS_PORT: ${error.message} (each worker on this machine takes the next free port from ${configured}). ` +
        'Set WORKER_METRICS_PORT to another free port for this worker, or 0 to run it without a metrics server.',
    );
  }
}
