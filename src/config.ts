// The one environment schema: read and validated once at boot; a bad variable stops the process
// with a message naming it.
import { z } from 'zod';

const intFromEnv = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const urlWithProtocols = (protocols: string[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info'),
  PORT: intFromEnv(3000, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: urlWithProtocols(['postgresql:', 'postgres:'], 'postgresql://postgres@127.0.0.1:5432/agentic_sdlc'),
  DATABASE_POOL_SIZE: intFromEnv(10, 1, 200),
  REDIS_URL: urlWithProtocols(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  /** BullMQ key prefix; the braces make it a Redis Cluster hash tag. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9{}_.-]{1,64}$/, 'letters, digits, {}, _, . and - only (no ":")')
    .default('{sdlc}'),
  WORKER_CONCURRENCY: intFromEnv(10, 1, 1000),
  CONDUCTOR_CONCURRENCY: intFromEnv(20, 1, 1000),
  /** Comma-separated agent types a worker serves; empty means all known agents. */
  WORKER_AGENTS: z.string().default(''),
  HTTP_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'a size such as 256kb or 8mb')
    .default('8mb'),
  COMPLETED_JOBS_KEEP: intFromEnv(1000, 0),
  SHUTDOWN_GRACE_MS: intFromEnv(30_000, 0),
  TEMPLATES_DIR: z.string().min(1).default('templates'),
  /** The versioned decision policy (YAML), validated at boot. */
  DECISION_POLICY_FILE: z.string().min(1).default('policies/decision-policy.yaml'),
  /** How often SSE streams and the webhook relay read new events from Postgres. */
  EVENTS_POLL_MS: intFromEnv(200, 10, 60_000),
  /** Comma-separated URLs that receive decision.requested, clarification.requested and pipeline.finished. */
  WEBHOOK_URLS: z
    .string()
    .default('')
    .refine(
      (v) =>
        v
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean)
          .every((u) => {
            try {
              return ['http:', 'https:'].includes(new URL(u).protocol);
            } catch {
              return false;
            }
          }),
      'a comma-separated list of http(s) URLs',
    ),
  /** HMAC-SHA256 key for the webhook signature header; required when WEBHOOK_URLS is set. */
  WEBHOOK_SECRET: z.string().default(''),
  WEBHOOK_ATTEMPTS: intFromEnv(10, 1, 100),
  /** Upper bound of a stage's exponential retry delay (BullMQ custom backoff strategy). */
  RETRY_BACKOFF_CAP_MS: intFromEnv(30_000, 1, 86_400_000),
  /** Circuit breaker per agent type: opens at this failure share (percent)… */
  BREAKER_ERROR_THRESHOLD_PCT: intFromEnv(50, 1, 100),
  /** …over at least this many calls in the rolling window… */
  BREAKER_VOLUME_THRESHOLD: intFromEnv(10, 1, 100_000),
  /** …and stays open this long before one probe goes through. */
  BREAKER_RESET_MS: intFromEnv(60_000, 100, 3_600_000),
  /** BullMQ job lock: a worker that stops renewing it for this long has its job taken over. */
  LOCK_DURATION_MS: intFromEnv(30_000, 1000, 3_600_000),
  /** How often workers look for stalled jobs (jobs of crashed workers). */
  STALLED_INTERVAL_MS: intFromEnv(30_000, 1000, 3_600_000),
  /** A job stalled more often than this fails (poison job protection). */
  MAX_STALLED_COUNT: intFromEnv(1, 0, 100),
  /** How often the reconciler re-adds jobs Postgres says must exist and Redis lacks. */
  RECONCILE_EVERY_MS: intFromEnv(30_000, 1000, 3_600_000),
  /** Pipelines running at once (0: no limit); the others wait `queued` and start in order. */
  MAX_RUNNING_PIPELINES: intFromEnv(0, 0),
  /** Pipelines running at once per submitter (X-Submitter; 0: no limit). */
  MAX_RUNNING_PIPELINES_PER_SUBMITTER: intFromEnv(0, 0),
  /** Queued pipelines above which POST /pipelines answers 429 (0: never). */
  BACKLOG_HIGH_WATER: intFromEnv(0, 0),
  /** Redis maxmemory-policy other than noeviction: refuse to start, or only warn. */
  REDIS_EVICTION_CHECK: z.enum(['refuse', 'warn']).default('refuse'),
  /** Bearer token that may read GET /metrics only (a Prometheus scraper); empty: /metrics needs the operator role. */
  METRICS_TOKEN: z.string().default(''),
  /** Where the first start of a development deployment writes its admin key (mode 0600). Never used in production. */
  DEV_ADMIN_KEY_FILE: z.string().min(1).default('.agentic-sdlc/admin-key'),
  /** JWT: HMAC secret (HS256/384/512); set this or JWT_JWKS_URL to accept tokens from an identity provider. */
  JWT_SECRET: z.string().default(''),
  /** JWT: the identity provider's JWKS URL (keys cached, fetched again on an unknown `kid`). */
  JWT_JWKS_URL: z.string().default('').refine((v) => v === '' || /^https?:\/\//.test(v), 'an http(s) URL'),
  /** JWT: required `iss`. */
  JWT_ISSUER: z.string().default(''),
  /** JWT: required `aud`. */
  JWT_AUDIENCE: z.string().default(''),
  /** JWT: accepted algorithms, comma-separated (default HS256 with a secret, RS256 and ES256 with JWKS). `none` is never accepted. */
  JWT_ALGORITHMS: z.string().default(''),
  /** JWT: the claim that lists the caller's roles (a dotted path such as `realm_access.roles` works too). */
  JWT_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** JWT: leeway for `exp`/`nbf`/`iat`, in seconds. */
  JWT_CLOCK_TOLERANCE_S: intFromEnv(30, 0, 300),
  /** Worker processes serve GET /health and GET /metrics on this port (0: off). */
  WORKER_METRICS_PORT: intFromEnv(9464, 0, 65_535),
  /** `true`: no tracing at all (no spans, no trace ids in log lines). */
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
  /** OTLP/HTTP collector base URL; spans go to `<it>/v1/traces`. Unset (default): spans are not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** The full traces URL, when it is not `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** `service.name` of this process's spans (default per process: agentic-sdlc-api, -worker, or agentic-sdlc). */
  OTEL_SERVICE_NAME: z.string().regex(/^[\w.-]{1,100}$/, 'letters, digits, _, . and - (1-100)').optional(),
  /** OpenTelemetry's sampler names (read by the SDK itself; parentbased_always_on by default). */
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .optional(),
  /** The ratio of the *traceidratio samplers, 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
})
  .refine((c) => c.WEBHOOK_URLS === '' || c.WEBHOOK_SECRET.length >= 16, {
    path: ['WEBHOOK_SECRET'],
    message: 'required (16 characters at least) when WEBHOOK_URLS is set',
  })
  .refine((c) => c.METRICS_TOKEN === '' || c.METRICS_TOKEN.length >= 32, {
    path: ['METRICS_TOKEN'],
    message: '32 characters at least when set',
  })
  .refine((c) => c.JWT_SECRET === '' || c.JWT_SECRET.length >= 32, {
    path: ['JWT_SECRET'],
    message: '32 characters at least when set (HMAC keys shorter than the hash are guessable)',
  })
  .refine((c) => c.JWT_SECRET === '' || c.JWT_JWKS_URL === '', {
    path: ['JWT_JWKS_URL'],
    message: 'set JWT_SECRET or JWT_JWKS_URL, not both',
  })
  .refine((c) => (c.JWT_SECRET === '' && c.JWT_JWKS_URL === '') || (c.JWT_ISSUER !== '' && c.JWT_AUDIENCE !== ''), {
    path: ['JWT_AUDIENCE'],
    message: 'JWT_ISSUER and JWT_AUDIENCE are required when JWT_SECRET or JWT_JWKS_URL is set',
  })
  .refine((c) => !c.JWT_ALGORITHMS.split(',').some((a) => a.trim().toLowerCase() === 'none'), {
    path: ['JWT_ALGORITHMS'],
    message: '"none" is never accepted',
  });

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" so `FOO=` in an env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
  );
}

let loaded: Config | undefined;

/** The process's configuration, parsed from process.env on first use. */
export function loadConfig(): Config {
  loaded ??= parseConfig(process.env);
  return loaded;
}
