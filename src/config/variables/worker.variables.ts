// Worker processes and the queues they serve: concurrency, retries, breakers, locks, the reconciler.
import { commaList, int, text } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const workerVariables = defineGroup('Workers and queues', {
  WORKER_CONCURRENCY: {
    ...int(1, 1000),
    default: 10,
    description:
      'Agent jobs a worker process runs at the same time **per agent type it serves**. The process starts one BullMQ Worker per agent type, each with this concurrency, so a process serving three types runs up to three times as many jobs. `npm run worker -- --concurrency N` overrides it; `AGENT_LIMITS` sets it per agent type.',
  },
  CONDUCTOR_CONCURRENCY: {
    ...int(1, 1000),
    default: 20,
    description: 'Control-queue (conductor) jobs one worker process runs at the same time.',
  },
  WORKER_AGENTS: {
    ...commaList(),
    default: '',
    description: 'Comma-separated agent types this worker serves, for example `scaffold,validation`. Empty means every known agent.',
  },
  RETRY_BACKOFF_CAP_MS: {
    ...int(1, 86_400_000),
    default: 30_000,
    description:
      "Longest wait before a stage's retry. A stage's `retry.backoff` (exponential from `delayMs`, 1 s by default, or fixed) is capped at this, then its `jitter` share is randomised downwards. Read by the worker processes, so it applies to retries of jobs already queued. See [error-handling.md](error-handling.md#retries-and-backoff).",
  },
  BREAKER_ERROR_THRESHOLD_PCT: {
    ...int(1, 100),
    default: 50,
    description: "An agent type's circuit breaker opens when failed calls reach this share (%) of its calls in the last 60 s…",
  },
  BREAKER_VOLUME_THRESHOLD: {
    ...int(1, 100_000),
    default: 10,
    description:
      '…once those 60 s hold at least this many calls. Only retryable failures of the agent or its downstream count; bad input, gates, cancels and shutdowns do not. One breaker per agent type per worker process.',
  },
  BREAKER_RESET_MS: {
    ...int(100, 3_600_000),
    default: 60_000,
    description:
      "How long an open breaker stays open. Meanwhile the agent's queue is rate-limited in Redis, so its jobs wait on every worker process without using attempts; then one probe goes through, and its outcome closes or reopens the breaker. See [error-handling.md](error-handling.md#circuit-breakers).",
  },
  LOCK_DURATION_MS: {
    ...int(1000, 3_600_000),
    default: 30_000,
    description:
      'BullMQ job lock of agent and control workers, renewed every half of it while a job runs. A worker that stops renewing it (crash, blocked event loop) loses the job to another worker when the stalled check next runs. It also paces the attempt heartbeat: each worker stamps the stages it runs in Postgres every third of it, and the reconciler takes back a running stage whose job Redis lost only once its stamp is older than this. See [reconciler.md](reconciler.md).',
  },
  STALLED_INTERVAL_MS: {
    ...int(1000, 3_600_000),
    default: 30_000,
    description:
      "How often each agent and control worker looks for stalled jobs, those whose lock lapsed. A crashed worker's job is taken over between `LOCK_DURATION_MS` and `LOCK_DURATION_MS + STALLED_INTERVAL_MS` after the crash.",
  },
  MAX_STALLED_COUNT: {
    ...int(0, 100),
    default: 1,
    description:
      'Stalls a job survives; one more and BullMQ fails it ("job stalled more than allowable limit"), which protects against a job that crashes every worker that takes it. A stall does not use one of the stage\'s `retry.attempts`.',
  },
  RECONCILE_EVERY_MS: {
    ...int(1000, 3_600_000),
    default: 30_000,
    description:
      'How often the reconciler (a BullMQ job scheduler on the control queue, one per deployment) re-adds the jobs Postgres says must exist and Redis lacks; each worker process also re-upserts the scheduler at this interval, so a FLUSHALL that deleted it heals. See [reconciler.md](reconciler.md).',
  },
  WORKER_METRICS_PORT: {
    ...int(0, 65_535),
    default: 9464,
    description:
      'Port on which each worker process serves `GET /health` (liveness) and `GET /metrics` (its own Prometheus registry); `0` turns the server off. The API serves both on its own port. See [observability.md](observability.md).',
  },
  WORKER_METRICS_HOST: {
    ...text(1),
    default: { development: '127.0.0.1', test: '127.0.0.1', production: '0.0.0.0' },
    description:
      "Interface the worker's `WORKER_METRICS_PORT` server binds to. It answers `GET /health` and `GET /metrics` without credentials, so outside production it listens on loopback only; in production every interface, for a scraper on the container network. Production refuses a public IP address here. See [security.md](security.md#threat-model).",
  },
});
