// Worker entry: serves the agent types it is given and runs the conductor.
//   npm run worker -- --agents validation,e2e_test --concurrency 8 [--no-conductor]
import { parseArgs } from 'node:util';
import { createAgentCatalog, selectAgents } from '../src/agents/catalog.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/infra/db/database.js';
import { createLogger } from '../src/infra/telemetry/logger.js';
import { configSecrets } from '../src/infra/telemetry/config-secrets.js';
import { startTracingFromConfig } from '../src/infra/telemetry/tracing.js';
import { assertMigrationsCurrent, BootError, checkPostgres, checkRedis, loadPolicyOrFail } from '../src/lifecycle/boot-checks.js';
import { onShutdownSignal, runMain } from '../src/lifecycle/process.js';
import { createWorkerRuntime } from './worker-runtime.js';

runMain(async () => {
  const config = loadConfig();
  // Before any queue exists, so the first job already carries its trace.
  const tracing = startTracingFromConfig(config, 'agentic-sdlc-worker');
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: config.WORKER_AGENTS },
      concurrency: { type: 'string', default: String(config.WORKER_CONCURRENCY) },
      'no-conductor': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new BootError(`--concurrency must be a positive integer, got "${values.concurrency}"`);
  const catalog = createAgentCatalog();
  let serve;
  try {
    serve = selectAgents(
      catalog,
      values.agents
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  } catch (error) {
    throw new BootError(`--agents: ${(error as Error).message}`);
  }

  const logger = createLogger({ level: config.LOG_LEVEL, service: 'worker', secrets: configSecrets(config) });
  const policy = loadPolicyOrFail(config.DECISION_POLICY_FILE);
  await checkRedis(config.REDIS_URL, { mode: config.REDIS_EVICTION_CHECK, warn: (m) => logger.warn(m) });
  await checkPostgres(config.DATABASE_URL);
  await assertMigrationsCurrent(config.DATABASE_URL);

  const db = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const runtime = createWorkerRuntime({ config, logger, db, policy, catalog, serve, concurrency, conductor: !values['no-conductor'] });
  const started = runtime.start();
  // Registered before the start logs "ready": a signal during the start waits for it, then stops.
  onShutdownSignal(
    async () => {
      await started.catch(() => undefined);
      await runtime.close();
      await db.close();
      await tracing.shutdown();
    },
    (m) => logger.info(m),
  );
  await started;
});
