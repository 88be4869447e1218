// A worker process of the load and soak phases, forked by bench/worker-processes.ts with an IPC
// channel. BENCH_WORKER_MODE=platform builds the platform's worker runtime from the environment
// as `npm run worker` does (conductor included, serving the `noop` agent, no metrics port);
// BENCH_WORKER_MODE=bare runs one bare BullMQ Worker of 5-job chains, each job adding the next.
// Either way it reports its memory and finished jobs every SAMPLE_EVERY_MS, answers checkpoint
// (full GC, then memory) and hops requests, and closes on `stop`, SIGTERM or the bench going away.
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createAgentCatalog } from '../src/agents/catalog.js';
import { builtInAgents } from '../src/composition/configured-agents.js';
import { createFeatureFlagsFromConfig } from '../src/composition/feature-flags.js';
import { createWorkerRuntime } from '../src/composition/worker-runtime.js';
import { parseConfig } from '../src/config.js';
import { createDatabase, poolSettings } from '../src/infra/db/database.js';
import { loadDecisionPolicy } from '../src/infra/policy/policy-file.js';
import { CONTROL_QUEUE } from '../src/infra/queue/queue-names.js';
import { createLogger } from '../src/infra/telemetry/logger.js';
import { startTracingFromConfig } from '../src/infra/telemetry/tracing.js';
import {
  BARE_CHAIN_LENGTH,
  BARE_QUEUE,
  SAMPLE_EVERY_MS,
  bareJobSchema,
  parentMessageSchema,
  wallClockMs,
  type ChildMessage,
  type WorkerMode,
} from './worker-messages.js';

interface Running {
  /** Jobs (bare) or stage jobs (platform) finished so far, and the wall-clock ms of the latest. */
  done: number;
  lastDoneAt: number;
  hops: number[];
  close(): Promise<void>;
}

function send(message: ChildMessage): void {
  // After the bench went away the channel is closed: a send would throw.
  if (process.connected) process.send?.(message);
}

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bench worker process: ${name} is not set`);
  return value;
};

/** The platform's worker runtime, configured from the environment (the bench passes its prefix and schema). */
async function startPlatformWorker(): Promise<Running> {
  // NODE_ENV production as deployed; no metrics server (four of them would compete for ports).
  const config = parseConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'error', WORKER_METRICS_PORT: '0' });
  const tracing = startTracingFromConfig(config, 'agentic-sdlc-bench-worker');
  const logger = createLogger({ level: 'error', service: 'worker', silent: true });
  const catalog = createAgentCatalog(builtInAgents(config));
  const noop = catalog.get('noop');
  if (!noop) throw new Error('the built-in catalog has no noop agent');
  const db = createDatabase(config.DATABASE_URL, poolSettings(config));
  const flags = createFeatureFlagsFromConfig(config, logger);
  const runtime = createWorkerRuntime({
    config,
    logger,
    db,
    policy: loadDecisionPolicy(config.DECISION_POLICY_FILE),
    catalog,
    flags,
    serve: [noop],
    concurrency: config.WORKER_CONCURRENCY,
  });
  const running: Running = {
    done: 0,
    lastDoneAt: 0,
    hops: [],
    async close() {
      await runtime.close();
      await db.close();
      flags.close();
      await tracing.shutdown();
    },
  };
  for (const worker of runtime.workers) {
    if (worker.name === CONTROL_QUEUE) continue;
    const finished = () => {
      running.done++;
      running.lastDoneAt = wallClockMs();
    };
    worker.on('completed', finished);
    worker.on('failed', finished);
  }
  await runtime.start();
  return running;
}

/** One bare BullMQ Worker on BARE_QUEUE: each job of a chain adds the next, as baselines.ts's chain does. */
async function startBareWorker(): Promise<Running> {
  const redisUrl = env('REDIS_URL');
  const prefix = env('QUEUE_PREFIX');
  const concurrency = Number(env('WORKER_CONCURRENCY'));
  const keep = Number(process.env.COMPLETED_JOBS_KEEP ?? '1000');
  const connect = () => new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: 'agentic-sdlc:bench-bare' });
  const producer = connect();
  const consumer = connect();
  const queue = new Queue(BARE_QUEUE, { connection: producer, prefix });
  const opts = { removeOnComplete: { count: keep }, removeOnFail: false };
  const running: Running = {
    done: 0,
    lastDoneAt: 0,
    hops: [],
    async close() {
      await worker.close();
      await queue.close();
      producer.disconnect();
      consumer.disconnect();
    },
  };
  const worker = new Worker(
    BARE_QUEUE,
    async (job: Job) => {
      const started = wallClockMs();
      const data = bareJobSchema.parse(job.data);
      if (data.prevEnd !== undefined) running.hops.push(started - data.prevEnd);
      if (data.step < BARE_CHAIN_LENGTH) await queue.add('job', { chain: data.chain, step: data.step + 1, prevEnd: wallClockMs() }, opts);
    },
    { connection: consumer, prefix, concurrency, autorun: false },
  );
  worker.on('error', (error) => send({ type: 'failed', message: `bare worker error: ${error.message}` }));
  const finished = () => {
    running.done++;
    running.lastDoneAt = wallClockMs();
  };
  worker.on('completed', finished);
  worker.on('failed', finished);
  void worker.run();
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  return running;
}

function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function memory() {
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}

async function main(): Promise<void> {
  const mode = env('BENCH_WORKER_MODE') as WorkerMode;
  const running = mode === 'platform' ? await startPlatformWorker() : mode === 'bare' ? await startBareWorker() : undefined;
  if (!running) throw new Error(`bench worker process: BENCH_WORKER_MODE must be platform or bare, got "${mode}"`);

  let closing: Promise<void> | undefined;
  const stop = (code: number) => {
    closing ??= (async () => {
      clearInterval(sampler);
      try {
        await running.close();
      } catch (error) {
        process.stderr.write(`bench worker process: close failed: ${(error as Error).message}\n`);
        code = 1;
      }
      process.exit(code);
    })();
  };
  const sample = () => {
    const cpu = process.cpuUsage();
    send({ type: 'sample', ...memory(), done: running.done, cpuMs: (cpu.user + cpu.system) / 1000, lastDoneAt: running.lastDoneAt });
  };
  const sampler = setInterval(sample, SAMPLE_EVERY_MS);
  process.on('message', (raw) => {
    const parsed = parentMessageSchema.safeParse(raw);
    if (!parsed.success) {
      send({ type: 'failed', message: `unexpected message from the bench: ${parsed.error.message}` });
      return;
    }
    const message = parsed.data;
    if (message.type === 'stop') stop(0);
    else if (message.type === 'checkpoint') {
      fullGc();
      send({ type: 'checkpoint', id: message.id, ...memory() });
    } else {
      send({ type: 'hops', id: message.id, values: running.hops });
      running.hops = [];
    }
  });
  // The bench went away (crash, SIGKILL): nobody will stop this process, so it stops itself.
  process.on('disconnect', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  send({ type: 'ready', pid: process.pid });
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  send({ type: 'failed', message });
  process.stderr.write(`bench worker process failed: ${message}\n`);
  process.exit(1);
});
