// `npm start`: the whole platform in one process (API + conductor + workers for every agent),
// creating the database and applying migrations first. For a laptop or a demo.
import { createAgentCatalog } from './agents/catalog.js';
import { createApiRuntime } from './composition/api-runtime.js';
import { loadConfig } from './config.js';
import { createDatabase } from './infra/db/database.js';
import { createLogger } from './infra/telemetry/logger.js';
import { configSecrets } from './infra/telemetry/config-secrets.js';
import { startTracingFromConfig } from './infra/telemetry/tracing.js';
import { checkPostgres, checkRedis, loadPolicyOrFail, migrateDatabase } from './lifecycle/boot-checks.js';
import { stopHttpServer } from './lifecycle/http-shutdown.js';
import { createHttpServer, httpServerLimits } from './http/http-server.js';
import { onShutdownSignal, runMain } from './lifecycle/process.js';
import { createWorkerRuntime } from '../workers/worker-runtime.js';
import { ensureDevAdminKey } from './composition/dev-admin-key.js';

runMain(async () => {
  const config = loadConfig();
  // Before any queue exists, so the first job already carries its trace.
  const tracing = startTracingFromConfig(config, 'agentic-sdlc');
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'all-in-one', secrets: configSecrets(config) });
  const policy = loadPolicyOrFail(config.DECISION_POLICY_FILE);
  await checkRedis(config.REDIS_URL, { mode: config.REDIS_EVICTION_CHECK, warn: (m) => logger.warn(m) });
  await checkPostgres(config.DATABASE_URL);
  const applied = await migrateDatabase(config.DATABASE_URL);
  if (applied.length > 0) logger.info('migrations applied', { migrations: applied });

  const catalog = createAgentCatalog();
  const db = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const api = createApiRuntime({ config, logger, agents: catalog, db, policy });
  // Development only: nothing is anonymous, so the first start makes the admin key the tour uses.
  const devKey = config.NODE_ENV === 'development' ? await ensureDevAdminKey(api.keys, config.DEV_ADMIN_KEY_FILE) : undefined;
  const workers = createWorkerRuntime({
    config,
    logger,
    db,
    policy,
    catalog,
    serve: [...catalog.values()],
    concurrency: config.WORKER_CONCURRENCY,
  });
  await workers.start();
  const server = createHttpServer(api.app, httpServerLimits(config));
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  onShutdownSignal(
    async () => {
      api.beginShutdown();
      // Both drain within SHUTDOWN_GRACE_MS, side by side.
      await Promise.all([stopHttpServer(server, config.SHUTDOWN_GRACE_MS), workers.close()]);
      await api.close();
      await db.close();
      await tracing.shutdown();
    },
    (m) => logger.info(m),
  );
  const base = `http://127.0.0.1:${config.PORT}`;
  const auth = devKey ? `-H "Authorization: Bearer $(cat ${devKey.path})" ` : '-H "Authorization: Bearer $SDLC_API_KEY" ';
  logger.info('agentic-sdlc is up', {
    api: `${base}/api/v1`,
    ...(devKey ? { adminKeyFile: devKey.path, adminKeyCreated: devKey.created } : {}),
    bullBoard: `${base}/admin/queues (user: any, password: the API key)`,
    health: `${base}/health/detailed`,
    metrics: `${base}/metrics`,
    tryIt: `curl -s -X POST ${base}/api/v1/pipelines ${auth}-H 'content-type: application/json' -d '{"template":"smoke","input":{"project":"demo"}}'`,
  });
});
