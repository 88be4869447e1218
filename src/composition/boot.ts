// The one boot sequence of every entry (src/main.ts, src/server.ts, src/worker.ts), which differ
// only in the roles they start: config → tracing → agents (built-in and AGENT_MODULES) → logger →
// policy → Redis check (in production with every refusal of the profile at once) → Postgres check →
// migrations (applied or checked) → database → runtimes → start → signal handler → ready line; a
// signal closes in order: HTTP and workers drain side by side, then the API's producers, the
// database, the tracer.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgentCatalog, type AgentCatalog } from '../agents/catalog.js';
import type { Agent } from '../agents/define-agent.js';
import { loadedConfiguration, type Config } from '../config.js';
import { repositoryAllowNotice } from '../domain/repository-allow.js';
import { assertProductionReady } from '../config/production-refusals.js';
import { BootError } from '../domain/boot-error.js';
import { redactUrl } from '../domain/redact.js';
import { DASHBOARD_PATH } from '../http/dashboard-app.js';
import { createHttpServer, httpServerLimits } from '../http/http-server.js';
import {
  assertMigrationsCurrent,
  checkPostgres,
  enforceEvictionPolicy,
  loadPolicyOrFail,
  migrateDatabase,
  probeRedis,
  type RedisFacts,
} from '../infra/boot/boot-checks.js';
import { createDatabase, poolSettings } from '../infra/db/database.js';
import { configSecrets } from '../infra/telemetry/config-secrets.js';
import { createLogger } from '../infra/telemetry/logger.js';
import { startTracingFromConfig } from '../infra/telemetry/tracing.js';
import { stopHttpServer } from '../lifecycle/http-shutdown.js';
import { onShutdownSignal } from '../lifecycle/process.js';
import { loadAgentModules } from './agent-modules.js';
import { builtInAgents } from './configured-agents.js';
import { createApiRuntime, type ApiRuntime } from './api-runtime.js';
import { createFeatureFlagsFromConfig, waitForFlags } from './feature-flags.js';
import { ensureDevAdminKey, type DevAdminKey } from './dev-admin-key.js';
import { createWorkerRuntime, type WorkerRuntime } from './worker-runtime.js';
import { redisTargetOf } from './redis-target.js';
import { createWorkerMetrics } from '../infra/telemetry/metrics.js';
import { workspaceDiskProbeFrom } from '../infra/workspaces/workspace-disk.js';
import { shellQuote } from '../domain/shell-quote.js';
import { reachableHost } from '../domain/reachable-host.js';

/** How long the API waits for its producer connection to Redis before it listens anyway. */
const QUEUE_CONNECT_WAIT_MS = 5000;

/** What a worker role runs: these agents' queues, at this concurrency, and the conductor or not. */
export interface WorkerRole {
  serve: readonly Agent[];
  concurrency: number;
  conductor: boolean;
}

export interface BootOptions {
  /** The `service` of every log line. */
  service: 'all-in-one' | 'api' | 'worker';
  /** The spans' default service.name (OTEL_SERVICE_NAME overrides it). */
  tracingName: string;
  /** `apply`: create the database and apply pending migrations (npm start); `check`: refuse to start when they are behind. */
  migrations: 'apply' | 'check';
  /** Serve the REST API, with Bull Board at /admin/queues when `dashboard`. */
  api?: { dashboard: boolean };
  /** Run agent workers and the conductor; a function because the entry's flags default to the config. Throws BootError on bad flags. */
  workers?: (config: Config, catalog: AgentCatalog) => WorkerRole;
}

export async function boot(options: BootOptions): Promise<void> {
  const { config, warnings: configWarnings } = loadedConfiguration();
  // Before any queue exists, so the first job already carries its trace.
  const tracing = startTracingFromConfig(config, options.tracingName);
  // The built-ins and the custom agents of AGENT_MODULES: the API validates with them, workers run them.
  const builtIns = builtInAgents(config);
  const custom = await loadAgentModules(config.AGENT_MODULES, { builtIns });
  const catalog = createAgentCatalog([...builtIns, ...custom]);
  const workerRole = options.workers?.(config, catalog);
  const logger = createLogger({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    service: options.service,
    secrets: configSecrets(config),
  });
  for (const warning of configWarnings) logger.warn(warning);
  // Development and tests clone anything by design; in production the operator should see the choice.
  const repositories = config.NODE_ENV === 'production' ? repositoryAllowNotice(config.WORKSPACE_REPOSITORY_ALLOW) : undefined;
  if (repositories) logger[repositories.level](repositories.message);
  const policy = loadPolicyOrFail(config.DECISION_POLICY_FILE);
  await checkRedisForProfile(config, (m) => logger.warn(m));
  await checkPostgres(config.DATABASE_URL);
  if (options.migrations === 'apply') {
    const applied = await migrateDatabase(config.DATABASE_URL);
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
  } else {
    await assertMigrationsCurrent(config.DATABASE_URL);
  }

  const db = createDatabase(config.DATABASE_URL, poolSettings(config));
  const flags = createFeatureFlagsFromConfig(config, logger);
  await waitForFlags(flags, logger);
  const workspaceDisk = workspaceDiskProbeFrom(config);
  // In one process (npm start) the API's /metrics serves the workers' registry too, and no second port opens.
  const shared =
    options.api && workerRole ? createWorkerMetrics({ processMetrics: false, workspaceDisk: () => workspaceDisk.read() }) : undefined;
  const api: ApiRuntime | undefined = options.api
    ? createApiRuntime({ config, logger, agents: catalog, db, policy, flags, dashboard: options.api.dashboard, moreMetrics: shared })
    : undefined;
  // Development only: nothing is anonymous, so the first start makes an admin key (never in production).
  const devKey: DevAdminKey | undefined =
    api && config.NODE_ENV === 'development' ? await ensureDevAdminKey(api.keys, config.DEV_ADMIN_KEY_FILE) : undefined;
  const workers: WorkerRuntime | undefined = workerRole
    ? createWorkerRuntime({
        config,
        logger,
        db,
        policy,
        catalog,
        flags,
        ...workerRole,
        ...(shared ? { metrics: shared, metricsPort: null } : {}),
      })
    : undefined;

  let server: Server | undefined;
  const started = (async () => {
    await workers?.start();
    if (api) {
      // Redis answered the boot check; its producer connection (a cluster's takes longer) should be
      // ready before the first request, which would otherwise get 503. Not up in time: listen anyway.
      if (!(await api.queueConnected(QUEUE_CONNECT_WAIT_MS)))
        logger.warn('the queue connection (Redis) is not ready yet: requests that queue work answer 503 until it is', {
          waitedMs: QUEUE_CONNECT_WAIT_MS,
        });
      const listening = createHttpServer(api.app, httpServerLimits(config));
      try {
        await listen(listening, config.PORT, config.HOST);
      } catch (error) {
        // The workers started first: stop them before the process exits, so they hand back what they took.
        await workers?.close().catch(() => undefined);
        throw error;
      }
      server = listening;
    }
  })();
  // Registered before the ready line: a signal sent on that line (or during the start) must find
  // the handler, which lets the start finish and then stops everything.
  onShutdownSignal({
    stop: async () => {
      api?.beginShutdown();
      await started.catch(() => undefined);
      // HTTP and workers drain within SHUTDOWN_GRACE_MS, side by side.
      await Promise.all([server ? stopHttpServer(server, config.SHUTDOWN_GRACE_MS, api?.inFlight) : undefined, workers?.close()]);
      await api?.close();
      await db.close();
      flags.close();
      await tracing.shutdown();
    },
    log: (message, meta) => logger.info(message, meta),
    graceMs: config.SHUTDOWN_GRACE_MS,
    waitingFor: () => waitingFor(workers, api !== undefined),
  });
  await started;
  // A worker-only process has said "worker process ready" when its start resolved.
  // The port the server took: PORT=0 picks a free one, and the ready line must name that one.
  if (api && server) logReady(config, logger, { workers: workers !== undefined, devKey, port: (server.address() as AddressInfo).port });
}

/**
 * Listens on HOST:PORT. A port already taken (another `npm start`, another program on 3000) or
 * an address that cannot be bound stops the boot with one line naming the variable to change,
 * instead of an unhandled 'error' event and its stack.
 */
async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      switch (error.code) {
        case 'EADDRINUSE':
          reject(
            new BootError(
              'CONFIG_INVALID',
              `PORT: ${where} is already in use (another agentic-sdlc, or another program, listens there). ` +
                'Stop it, or set PORT to a free port (PORT=0 picks one).',
            ),
          );
          return;
        case 'EACCES':
          reject(
            new BootError(
              'CONFIG_INVALID',
              `PORT: not allowed to listen on ${where} (ports below 1024 need privileges): set PORT to 1024 or above.`,
            ),
          );
          return;
        case 'EADDRNOTAVAIL':
          reject(
            new BootError(
              'CONFIG_INVALID',
              `HOST: ${host} is not an address of this machine, so ${where} cannot be listened on: set HOST to one (127.0.0.1, 0.0.0.0).`,
            ),
          );
          return;
        default:
          reject(error);
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** What a stop waits for, in words: "2 running stages and in-flight HTTP requests". */
function waitingFor(workers: WorkerRuntime | undefined, http: boolean): string {
  const parts: string[] = [];
  if (workers) {
    const n = workers.runningStages();
    parts.push(`${n} running stage${n === 1 ? '' : 's'}`);
  }
  if (http) parts.push('in-flight HTTP requests');
  return parts.join(' and ');
}

/**
 * Redis reachable, and its eviction policy judged by the profile: production adds it to its list
 * of refusals (every reason at once, Redis unreachable among them); development and test refuse
 * or warn as REDIS_EVICTION_CHECK says.
 */
async function checkRedisForProfile(config: Config, warn: (message: string) => void): Promise<void> {
  if (config.NODE_ENV !== 'production') {
    const facts = await probeRedis(redisTargetOf(config), warn);
    enforceEvictionPolicy(redisTargetOf(config), facts.evictionPolicy, { mode: config.REDIS_EVICTION_CHECK, warn }, facts.node);
    return;
  }
  let facts: RedisFacts | undefined;
  let unreachable: unknown;
  try {
    facts = await probeRedis(redisTargetOf(config), warn);
  } catch (error) {
    unreachable = error;
  }
  const firstLine = unreachable instanceof Error ? unreachable.message.split('\n')[0] : undefined;
  assertProductionReady(config, { redisEvictionPolicy: facts?.evictionPolicy, redisUnreachable: firstLine });
  if (unreachable !== undefined) throw unreachable;
}

function logReady(
  config: Config,
  logger: { info(message: string, meta?: Record<string, unknown>): void },
  ctx: { workers: boolean; devKey: DevAdminKey | undefined; port: number },
): void {
  const { devKey, port } = ctx;
  const base = `http://${reachableHost(config.HOST)}:${port}`;
  // What an operator opens, for the API alone (npm run api) as for npm start.
  const links = {
    dashboard: `${base}${DASHBOARD_PATH} (sign in with the API key)`,
    bullBoard: `${base}/admin/queues (user: any, password: the API key)`,
    health: `${base}/health/detailed`,
    metrics: `${base}/metrics`,
  };
  if (!ctx.workers) {
    logger.info('api listening', {
      url: base,
      ...links,
      redis: redactUrl(config.REDIS_URL),
      database: redactUrl(config.DATABASE_URL),
      ...(devKey ? { adminKeyFile: devKey.path } : {}),
    });
    return;
  }
  const auth = devKey ? `-H "Authorization: Bearer $(cat ${shellQuote(devKey.path)})" ` : '-H "Authorization: Bearer $SDLC_API_KEY" ';
  const tryIt = `curl -s -X POST ${base}/api/v1/pipelines ${auth}-H 'content-type: application/json' -d '{"template":"smoke","input":{"project":"demo"}}'`;
  const pretty = config.LOG_FORMAT === 'pretty';
  logger.info('agentic-sdlc is up', {
    api: `${base}/api/v1`,
    dashboard: links.dashboard,
    ...(devKey ? { adminKeyFile: devKey.path, adminKeyCreated: devKey.created } : {}),
    bullBoard: links.bullBoard,
    health: links.health,
    // One scrape has everything here: the API's, the stages' and the workers' metrics.
    metrics: links.metrics,
    // A JSON line keeps it as a field; a person reads it below, as a plain line to copy.
    ...(pretty ? {} : { tryIt }),
  });
  if (pretty) process.stdout.write(`\nTry it (copy the next line into a shell):\n${tryIt}\n\n`);
}
