// API entry: checks Redis, Postgres and migrations, then serves the REST API.
import { createServer } from 'node:http';
import { createAgentCatalog } from './agents/catalog.js';
import { createApiRuntime } from './composition/api-runtime.js';
import { loadConfig } from './config.js';
import { createDatabase } from './infra/db/database.js';
import { createLogger } from './infra/telemetry/logger.js';
import { assertMigrationsCurrent, checkPostgres, checkRedis, loadPolicyOrFail } from './lifecycle/boot-checks.js';
import { onShutdownSignal, runMain } from './lifecycle/process.js';

runMain(async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'api' });
  const policy = loadPolicyOrFail(config.DECISION_POLICY_FILE);
  await checkRedis(config.REDIS_URL);
  await checkPostgres(config.DATABASE_URL);
  await assertMigrationsCurrent(config.DATABASE_URL);

  const db = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const api = createApiRuntime({ config, logger, agents: createAgentCatalog(), db, policy });
  const server = createServer({ connectionsCheckingInterval: 1000 }, api.app);
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  logger.info('api listening', { url: `http://${config.HOST}:${config.PORT}` });

  onShutdownSignal(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await api.close();
    await db.close();
  }, (m) => logger.info(m));
});
