// Worker entry: serves the agent types it is given and runs the conductor.
//   npm run worker -- --agents validation,e2e_test --concurrency 8 [--no-conductor]
import { selectAgents, type AgentCatalog } from './agents/catalog.js';
import { boot, type WorkerRole } from './composition/boot.js';
import { splitList, type Config } from './config.js';
import { BootError } from './domain/boot-error.js';
import { parseEntryArgs } from './lifecycle/entry-args.js';
import { runMain } from './lifecycle/process.js';

const USAGE = `usage: npm run worker -- [--agents <type,type…>] [--concurrency <n>] [--no-conductor]

Runs the workers of the given agent types (default WORKER_AGENTS: every agent) and the conductor.
  --agents <list>     comma-separated agent types this process serves
  --concurrency <n>   jobs run at once per agent type (default WORKER_CONCURRENCY; AGENT_LIMITS sets it per type)
  --no-conductor      do not run the conductor (the control queue) here
  --help              this text
Each worker serves GET /health and /metrics on WORKER_METRICS_PORT (9464); a second worker on the
same machine takes the next free port, and its ready line says which.`;

const OPTIONS = {
  agents: { type: 'string' },
  concurrency: { type: 'string' },
  'no-conductor': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

type Flags = ReturnType<typeof parseEntryArgs<typeof OPTIONS>>;

/** The flags, defaulting to WORKER_AGENTS and WORKER_CONCURRENCY; a bad one stops the boot naming it. */
function workerRoleFromArgs(flags: Flags, config: Config, catalog: AgentCatalog): WorkerRole {
  const given = flags.concurrency ?? String(config.WORKER_CONCURRENCY);
  const concurrency = Number(given);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new BootError('CONFIG_INVALID', `--concurrency must be a positive integer, got "${given}"`);
  try {
    const serve = selectAgents(catalog, flags.agents === undefined ? config.WORKER_AGENTS : splitList(flags.agents));
    return { serve, concurrency, conductor: !flags['no-conductor'] };
  } catch (error) {
    throw new BootError('CONFIG_INVALID', `--agents: ${(error as Error).message}`);
  }
}

runMain(async () => {
  // Parsed before anything boots: a typo answers at once, without waiting for Redis or Postgres.
  const flags = parseEntryArgs('npm run worker', OPTIONS);
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  await boot({
    service: 'worker',
    tracingName: 'agentic-sdlc-worker',
    migrations: 'check',
    workers: (config, catalog) => workerRoleFromArgs(flags, config, catalog),
  });
});
