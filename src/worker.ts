// Worker entry: serves the agent types it is given and runs the conductor.
//   npm run worker -- --agents validation,e2e_test --concurrency 8 [--no-conductor]
import { parseArgs } from 'node:util';
import { selectAgents, type AgentCatalog } from './agents/catalog.js';
import { boot, type WorkerRole } from './composition/boot.js';
import { splitList, type Config } from './config.js';
import { BootError } from './domain/boot-error.js';
import { runMain } from './lifecycle/process.js';

/** The flags, defaulting to WORKER_AGENTS and WORKER_CONCURRENCY; a bad one stops the boot naming it. */
function workerRoleFromArgs(config: Config, catalog: AgentCatalog): WorkerRole {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string' },
      concurrency: { type: 'string', default: String(config.WORKER_CONCURRENCY) },
      'no-conductor': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new BootError('CONFIG_INVALID', `--concurrency must be a positive integer, got "${values.concurrency}"`);
  try {
    const serve = selectAgents(catalog, values.agents === undefined ? config.WORKER_AGENTS : splitList(values.agents));
    return { serve, concurrency, conductor: !values['no-conductor'] };
  } catch (error) {
    throw new BootError('CONFIG_INVALID', `--agents: ${(error as Error).message}`);
  }
}

runMain(() => boot({ service: 'worker', tracingName: 'agentic-sdlc-worker', migrations: 'check', workers: workerRoleFromArgs }));
