// API entry: checks Redis (reachable, no eviction), Postgres and migrations, then serves the
// REST API; on SIGTERM/SIGINT it drains: readiness 503, no new connections, in-flight requests finish.
import { createAgentCatalog } from './agents/catalog.js';
import { createApiRuntime } from './composition/api-runtime.js';
import { loadConfig } from './config.js';
import { createDatabase } from './infra/db/database.js';
import { createLogger } from './infra/telemetry/logger.js';
import { configSecrets } from './infra/telemetry/config-secrets.js';
import { redactUrl } from './domain/redact.js';
import { startTracingFromConfig } from './infra/telemetry/tracing.js';
import { assertMigrationsCurrent, checkPostgres, checkRedis, loadPolicyOrFail } from './lifecycle/boot-checks.js';
import { stopHttpServer } from './lifecycle/http-shutdown.js';
import { createHttpServer, httpServerLimits } from './http/http-server.js';
import { onShutdownSignal, runMain } from './lifecycle/process.js';
import { ensureDevAdminKey } from './composition/dev-admin-key.js';

runMain(async () => {
  const config = loadConfig();
  // Before any queue exists, so the first job already carries its trace.
  const tracing = startTracingFromConfig(config, 'agentic-sdlc-api');
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'api', secrets: configSecrets(config) });
  const policy = loadPolicyOrFail(config.DECISION_POLICY_FILE);
  await checkRedis(config.REDIS_URL, { mode: config.REDIS_EVICTION_CHECK, warn: (m) => logger.warn(m) });
  await checkPostgres(config.DATABASE_URL);
  await assertMigrationsCurrent(config.DATABASE_URL);

  const db = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const api = createApiRuntime({ config, logger, agents: createAgentCatalog(), db, policy });
  // Development only: nothing is anonymous, so the first start makes an admin key (never in production).
  const devKey = config.NODE_ENV === 'development' ? await ensureDevAdminKey(api.keys, config.DEV_ADMIN_KEY_FILE) : undefined;
  const server = createHttpServer(api.app, httpServerLimits(config));
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  // Before the line that says it is up: a SIGTERM sent on that line must find the handler.
  onShutdownSignal(
    async () => {
      api.beginShutdown();
      await stopHttpServer(server, config.SHUTDOWN_GRACE_MS);
      await api.close();
      await db.close();
      await tracing.shutdown();
    },
    (m) => logger.info(m),
  );
  logger.info('api listening', {
    url: `http://${config.HOST}:${config.PORT}`,
    redis: redactUrl(config.REDIS_URL),
    database: redactUrl(config.DATABASE_URL),
    ...(devKey ? { adminKeyFile: devKey.path } : {}),
  });
});
