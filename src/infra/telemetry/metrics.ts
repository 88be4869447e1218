// The Prometheus registries, one per process. The API's: default process metrics (no prefix),
// HTTP request latency, pipelines created by submissions, queue depth per queue and state (read from
// getJobCounts() on each scrape), decisions pending (a COUNT on each scrape), Postgres and Redis
// call latency of the health checks and scrape-time reads, and the circuit breaker gauges (read
// from Redis on each scrape; the breakers live in the worker processes). A worker's: default
// process metrics, pipelines created by schedule ticks, pipelines finished, stage duration/attempts/failures by agent, agent version
// and settings variant, and the free and total bytes of its workspace disk. Under npm start both
// are served merged by the API's /metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BREAKER_STATES } from '../breakers/breaker-registry.js';
import type { AgentBreakerStates } from '../breakers/breaker-state.store.js';
import { createFailureCodeLabel, MAX_AGENT_FAILURE_CODES } from './failure-code-label.js';

export type BreakerOverview = Record<string, AgentBreakerStates & { holdMs: number }>;

/** Every metric family this code registers besides the default process metrics (dashboards may use only these). */
export const METRIC_NAMES = {
  httpRequestDuration: 'http_request_duration_seconds',
  pipelinesStarted: 'agentic_pipelines_started_total',
  pipelinesFinished: 'agentic_pipelines_finished_total',
  stageDuration: 'agentic_stage_duration_seconds',
  stageAttempts: 'agentic_stage_attempts_total',
  stageFailures: 'agentic_stage_failures_total',
  queueJobs: 'agentic_queue_jobs',
  decisionsPending: 'agentic_decisions_pending',
  dbQueryDuration: 'agentic_db_query_duration_seconds',
  dbPoolWait: 'agentic_db_pool_wait_seconds',
  dbPoolClients: 'agentic_db_pool_clients',
  dbPoolWaiting: 'agentic_db_pool_waiting_requests',
  dbPoolMax: 'agentic_db_pool_max_clients',
  dbStatementDuration: 'agentic_db_statement_duration_seconds',
  dbStatementTimeouts: 'agentic_db_statement_timeouts_total',
  redisCommandDuration: 'agentic_redis_command_duration_seconds',
  breakerState: 'agentic_breaker_state',
  breakerHold: 'agentic_breaker_hold_seconds',
  rateLimited: 'agentic_rate_limited_total',
  rateLimitBypassed: 'agentic_rate_limit_bypassed_total',
  workspaceDiskFree: 'agentic_workspace_disk_free_bytes',
  workspaceDiskSize: 'agentic_workspace_disk_size_bytes',
} as const;

const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STAGE_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export interface MetricsSource {
  registry: Registry;
  contentType: string;
  metrics(): Promise<string>;
}

export interface HttpRequestSample {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

export interface ApiMetricsSources {
  readBreakers(): Promise<BreakerOverview>;
  /** Job counts per queue name and state (getJobCounts). */
  queueCounts(): Promise<Record<string, Record<string, number>>>;
  /** Open decisions (a COUNT in Postgres). */
  pendingDecisions(): Promise<number>;
}

export interface ApiMetrics extends MetricsSource {
  observeHttp(sample: HttpRequestSample): void;
  pipelineStarted(): void;
  /** Times a Postgres call (label `operation`). */
  timeDb<T>(operation: string, call: () => Promise<T>): Promise<T>;
  /** Times a Redis call (label `command`). */
  timeRedis<T>(command: string, call: () => Promise<T>): Promise<T>;
  /** A request refused with 429 by a rate limiter (label `limiter`). */
  rateLimited(limiter: string): void;
  /** A request let through unlimited because the limiter's store (Redis) failed (label `limiter`). */
  rateLimitBypassed(limiter: string): void;
}

/**
 * prom-client's default metrics, less the three gauges named `*_total` (promtool's lint rejects a
 * `_total` suffix on anything but a counter).
 */
function defaultMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
}

/**
 * Leaves a gauge without labels without any sample: its reset() alone reports 0, a made-up
 * reading (0 bytes free, 0 decisions pending) where the truth is "could not be read".
 */
function withoutSample(gauge: Gauge): void {
  gauge.reset();
  gauge.remove();
}

/** Scrapes that land this close together share one Redis read. */
const READ_REUSE_MS = 1000;

function timer(histogram: Histogram<'operation'> | Histogram<'command'>, label: 'operation' | 'command') {
  return async <T>(name: string, call: () => Promise<T>): Promise<T> => {
    const end = (histogram as Histogram<string>).startTimer({ [label]: name });
    try {
      return await call();
    } finally {
      end();
    }
  };
}

/** Pipelines are created by the API's submissions and by the schedule ticks the workers run. */
const PIPELINES_STARTED_HELP = 'Pipelines created by a submission or a schedule tick (idempotent replays not counted).';

/** Counts each pipeline created into `registry`; a process's share, summed across the API and the workers. */
function pipelinesStartedCounter(registry: Registry): () => void {
  const started = new Counter({ name: METRIC_NAMES.pipelinesStarted, help: PIPELINES_STARTED_HELP, registers: [registry] });
  return () => started.inc();
}

export interface ApiMetricsOptions {
  /**
   * False: this registry does not count the pipelines started (`pipelineStarted` does nothing);
   * under npm start the workers' registry, served beside it, counts them. Default true.
   */
  pipelinesStarted?: boolean;
}

export function createApiMetrics(sources: ApiMetricsSources, { pipelinesStarted = true }: ApiMetricsOptions = {}): ApiMetrics {
  const registry = new Registry();
  defaultMetrics(registry);

  const dbDuration = new Histogram({
    name: METRIC_NAMES.dbQueryDuration,
    help: 'Postgres calls of the health checks and metric scrapes, in seconds.',
    labelNames: ['operation'] as const,
    buckets: FAST_BUCKETS,
    registers: [registry],
  });
  const redisDuration = new Histogram({
    name: METRIC_NAMES.redisCommandDuration,
    help: 'Redis calls of the health checks and metric scrapes, in seconds.',
    labelNames: ['command'] as const,
    buckets: FAST_BUCKETS,
    registers: [registry],
  });
  const timeDb = timer(dbDuration, 'operation');
  const timeRedis = timer(redisDuration, 'command');

  let last: { at: number; read: Promise<BreakerOverview> } | undefined;
  const read = () => {
    if (!last || Date.now() - last.at > READ_REUSE_MS) {
      last = { at: Date.now(), read: timeRedis('breaker_states', () => sources.readBreakers()) };
      // A failed read is not reused.
      last.read.catch(() => (last = undefined));
    }
    return last.read;
  };

  new Gauge({
    name: METRIC_NAMES.breakerState,
    help: 'Worker processes whose circuit breaker for the agent type is in the state (closed, open, half_open).',
    labelNames: ['agent_type', 'state'] as const,
    registers: [registry],
    async collect() {
      // Redis unreachable: no samples for this family, and the scrape still answers (the HTTP,
      // pool and process metrics are what show the outage; readiness names it).
      const overview = await read().catch(() => undefined);
      this.reset();
      for (const [agentType, states] of Object.entries(overview ?? {})) {
        for (const state of BREAKER_STATES) this.set({ agent_type: agentType, state }, states[state]);
      }
    },
  });
  new Gauge({
    name: METRIC_NAMES.breakerHold,
    help: "Time left on the agent queue's hold (rate limit set by an open breaker), in seconds; 0 when not held.",
    labelNames: ['agent_type'] as const,
    registers: [registry],
    async collect() {
      const overview = await read().catch(() => undefined);
      this.reset();
      for (const [agentType, { holdMs }] of Object.entries(overview ?? {})) this.set({ agent_type: agentType }, holdMs / 1000);
    },
  });
  new Gauge({
    name: METRIC_NAMES.queueJobs,
    help: 'Jobs per queue and state, read with getJobCounts() on each scrape.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await timeRedis('get_job_counts', () => sources.queueCounts()).catch(() => undefined);
      this.reset();
      for (const [queue, states] of Object.entries(counts ?? {})) {
        for (const [state, count] of Object.entries(states)) this.set({ queue, state }, count);
      }
    },
  });
  new Gauge({
    name: METRIC_NAMES.decisionsPending,
    help: 'Open decisions (pending or escalated) that a human has to answer (COUNT in Postgres on each scrape).',
    registers: [registry],
    async collect() {
      // Postgres unreachable: no sample rather than a failed scrape (or a made-up 0).
      const pending = await timeDb('count_pending_decisions', () => sources.pendingDecisions()).catch(() => undefined);
      if (pending === undefined) withoutSample(this);
      else this.set(pending);
    },
  });

  const http = new Histogram({
    name: METRIC_NAMES.httpRequestDuration,
    help: 'HTTP requests by method, route template and status, in seconds.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  const pipelineStarted = pipelinesStarted ? pipelinesStartedCounter(registry) : () => undefined;
  const limited = new Counter({
    name: METRIC_NAMES.rateLimited,
    help: 'Requests refused with 429 by a rate limiter (per-address, per-identity, submit, auth-failures).',
    labelNames: ['limiter'] as const,
    registers: [registry],
  });
  const bypassed = new Counter({
    name: METRIC_NAMES.rateLimitBypassed,
    help: "Requests let through without a rate limit because the limiter's store (Redis) failed.",
    labelNames: ['limiter'] as const,
    registers: [registry],
  });

  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    observeHttp: ({ method, route, status, seconds }) => http.observe({ method, route, status: String(status) }, seconds),
    pipelineStarted,
    timeDb,
    timeRedis,
    rateLimited: (limiter) => limited.inc({ limiter }),
    rateLimitBypassed: (limiter) => bypassed.inc({ limiter }),
  };
}

/** What a worker records; the services see only these callbacks, never prom-client. */
export interface WorkerMetrics extends MetricsSource {
  /** A pipeline a schedule tick created (under npm start, the API's submissions too). */
  pipelineStarted(): void;
  pipelineFinished(status: string): void;
  /**
   * `version`: the agent version the attempt ran (`unknown`); `variant`: its settings variant
   * (`none`); `failureCode` is labelled as failure-code-label.ts bounds it.
   */
  stageRun(sample: { agent: string; status: string; seconds: number; failureCode?: string; version: string; variant: string }): void;
}

export interface WorkerMetricsOptions {
  /** False leaves out the default process metrics (the API's registry has them when both share a process). Default true. */
  processMetrics?: boolean;
  /** The filesystem holding WORKSPACE_ROOT, read on each scrape; absent: no workspace disk gauges. */
  workspaceDisk?: () => Promise<{ freeBytes: number; totalBytes: number }>;
}

export function createWorkerMetrics({ processMetrics = true, workspaceDisk }: WorkerMetricsOptions = {}): WorkerMetrics {
  const registry = new Registry();
  if (processMetrics) defaultMetrics(registry);
  if (workspaceDisk) {
    // A disk that cannot be measured (EACCES) leaves its gauges without a sample rather than failing the scrape.
    const diskGauge = (name: string, help: string, pick: (disk: { freeBytes: number; totalBytes: number }) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const disk = await workspaceDisk().catch(() => undefined);
          if (disk) this.set(pick(disk));
          else withoutSample(this);
        },
      });
    diskGauge(
      METRIC_NAMES.workspaceDiskFree,
      'Bytes a worker can still write on the filesystem holding WORKSPACE_ROOT (statfs on each scrape).',
      (disk) => disk.freeBytes,
    );
    diskGauge(METRIC_NAMES.workspaceDiskSize, 'Size in bytes of the filesystem holding WORKSPACE_ROOT.', (disk) => disk.totalBytes);
  }
  const pipelineStarted = pipelinesStartedCounter(registry);
  const finished = new Counter({
    name: METRIC_NAMES.pipelinesFinished,
    help: 'Pipelines that reached a terminal state, by status (counted by the conductor).',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: METRIC_NAMES.stageDuration,
    help: 'Stage attempts by agent type, outcome, agent version and settings variant, in seconds.',
    labelNames: ['agent', 'status', 'version', 'variant'] as const,
    buckets: STAGE_BUCKETS,
    registers: [registry],
  });
  const attempts = new Counter({
    name: METRIC_NAMES.stageAttempts,
    help: 'Stage attempts run by agent type, agent version and settings variant (duplicate deliveries not counted).',
    labelNames: ['agent', 'version', 'variant'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: METRIC_NAMES.stageFailures,
    help: `Stage attempts that failed (retried or final), by agent type, error code (the catalogue's, an agent type's first ${MAX_AGENT_FAILURE_CODES} others, then other), agent version and settings variant.`,
    labelNames: ['agent', 'code', 'version', 'variant'] as const,
    registers: [registry],
  });
  // An agent's own codes are not declared anywhere: bounded here (failure-code-label.ts).
  const failureCodeLabel = createFailureCodeLabel();
  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    pipelineStarted,
    pipelineFinished: (status) => finished.inc({ status }),
    stageRun({ agent, status, seconds, failureCode, version, variant }) {
      attempts.inc({ agent, version, variant });
      duration.observe({ agent, status, version, variant }, seconds);
      if (failureCode) failures.inc({ agent, code: failureCodeLabel(agent, failureCode), version, variant });
    },
  };
}

/**
 * One scrape of several registries (npm start: the API's and the workers' in one /metrics). The
 * families must not overlap: create the second without its process metrics.
 */
export function mergeMetrics(first: MetricsSource, ...others: MetricsSource[]): MetricsSource {
  const registry = Registry.merge([first.registry, ...others.map((source) => source.registry)]);
  return { registry, contentType: registry.contentType, metrics: () => registry.metrics() };
}
