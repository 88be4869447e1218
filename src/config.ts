// The one environment schema: read and validated once at boot; a bad variable stops the process
// with a message naming it.
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigurationError } from './domain/errors.js';

const intFromEnv = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const urlWithProtocols = (protocols: string[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const isProxyAddress = (item: string) => {
  if (PROXY_NAMES.has(item)) return true;
  const [address = '', bits, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};

/** Express's `trust proxy`, in the forms it accepts less `true`: false, a hop count, or addresses. */
const trustProxyFromEnv = () =>
  z
    .string()
    .trim()
    .refine((v) => v !== 'true', "`true` would let any client choose its address: give the hop count (e.g. 1) or the proxies' addresses")
    .refine(
      // `true` has its own message above.
      (v) => v === 'false' || v === 'true' || /^\d{1,2}$/.test(v) || v.split(',').every((item) => isProxyAddress(item.trim())),
      'false, a hop count (1, 2…), or comma-separated proxy addresses/CIDRs (or loopback, linklocal, uniquelocal)',
    )
    .transform((v): false | number | string => (v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v))
    .default(false);

/** The items of a comma-separated value, trimmed, empty ones dropped (`a, b,` is `[a, b]`). */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A comma-separated list (empty: none), parsed here so no other module splits an env value. */
const commaList = () => z.string().default('').transform(splitList);

/** A comma-separated list of http(s) URLs (empty: none), each also passing `check`. */
const commaSeparated = (check: (url: URL, item: string) => boolean, message: string) =>
  commaList().refine(
    (items) =>
      items.every((item) => {
        try {
          const url = new URL(item);
          return ['http:', 'https:'].includes(url.protocol) && check(url, item);
        } catch {
          return false;
        }
      }),
    message,
  );

export const envSchema = z
  .object({
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
    WORKER_AGENTS: commaList(),
    HTTP_BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'a size such as 256kb or 8mb')
      // Room for MAX_SUBMISSION_INPUT_BYTES of inputs plus MAX_STAGES_PER_PIPELINE stage definitions.
      .default('2mb'),
    /** A client must send all its request headers within this time (slow-header clients are cut off with 408). */
    HTTP_HEADERS_TIMEOUT_MS: intFromEnv(10_000, 1000, 300_000),
    /** A client must send its whole request (headers and body) within this time; SSE responses are not limited by it. */
    HTTP_REQUEST_TIMEOUT_MS: intFromEnv(30_000, 1000, 600_000),
    /** An idle keep-alive connection is closed after this time; keep it above your load balancer's idle timeout. */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: intFromEnv(65_000, 1000, 600_000),
    /** Open connections the API accepts at once (event streams included); new ones beyond are dropped. */
    HTTP_MAX_CONNECTIONS: intFromEnv(4096, 1, 1_000_000),
    /** Deepest nesting of arrays and objects in a JSON body (`{}` is 1; a pipeline with stage inputs needs 4 plus its inputs' own depth), checked before parsing; deeper gets 400 JSON_TOO_DEEP. */
    JSON_MAX_DEPTH: intFromEnv(32, 4, 512),
    /** Longest key in a JSON body, and longest query parameter name, in characters; longer gets 400 KEY_TOO_LONG. */
    JSON_MAX_KEY_LENGTH: intFromEnv(256, 64, 65_536),
    /** Longest string in a JSON body or query string, in characters (256 Ki: a stage input's own cap); longer gets 400 STRING_TOO_LONG. */
    JSON_MAX_STRING_LENGTH: intFromEnv(262_144, 4096, 104_857_600),
    /** Browser origins allowed to call the API (CORS), comma-separated, e.g. `https://ops.example.com`; empty: none. */
    CORS_ORIGINS: commaSeparated(
      (url, item) => url.origin === item,
      'a comma-separated list of origins such as https://ops.example.com (scheme, host and port only, no path or trailing slash)',
    ),
    COMPLETED_JOBS_KEEP: intFromEnv(1000, 0),
    SHUTDOWN_GRACE_MS: intFromEnv(30_000, 0),
    TEMPLATES_DIR: z.string().min(1).default('templates'),
    /** The versioned decision policy (YAML), validated at boot. */
    DECISION_POLICY_FILE: z.string().min(1).default('policies/decision-policy.yaml'),
    /** How often SSE streams and the webhook relay read new events from Postgres. */
    EVENTS_POLL_MS: intFromEnv(200, 10, 60_000),
    /** Comma-separated URLs that receive decision.requested, clarification.requested and pipeline.finished. */
    WEBHOOK_URLS: commaSeparated(() => true, 'a comma-separated list of http(s) URLs'),
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
    /**
     * Queued pipelines at which POST /pipelines answers 429 BACKLOG_FULL (0: never). Checked only
     * while a running limit is set (without one nothing waits). Sized in docs/performance.md.
     */
    BACKLOG_HIGH_WATER: intFromEnv(1000, 0),
    /** Stages one pipeline may have; more is refused with 413 TOO_MANY_STAGES (500 is the definition language's own ceiling). */
    MAX_STAGES_PER_PIPELINE: intFromEnv(100, 1, 500),
    /** Bytes of JSON in a submission's `input` and all its stages' inputs together; more is refused with 413 INPUT_TOO_LARGE. */
    MAX_SUBMISSION_INPUT_BYTES: intFromEnv(1024 * 1024, 1024, 256 * 1024 * 1024),
    /** A pipeline in a response holds its stages while its JSON stays under this size (at least one); the rest are paged (GET /pipelines/:id/stages). */
    RESPONSE_PAGE_BYTES: intFromEnv(1024 * 1024, 1024, 256 * 1024 * 1024),
    /** Event streams (SSE) one identity may hold open at once, counted per API replica; more get 429 STREAM_QUOTA_EXCEEDED. */
    MAX_EVENT_STREAMS_PER_IDENTITY: intFromEnv(10, 1, 10_000),
    /** Event streams (SSE) one API replica holds open at once, all identities together; more get 429 STREAM_QUOTA_EXCEEDED. */
    MAX_EVENT_STREAMS: intFromEnv(1000, 1, 1_000_000),
    /** The window of every rate limit below (fixed windows, counted in Redis and shared by all API replicas). */
    RATE_LIMIT_WINDOW_MS: intFromEnv(60_000, 1000, 86_400_000),
    /** Requests per window from one source address, counted before authentication (0: off). Behind a proxy, set TRUST_PROXY. */
    RATE_LIMIT_PER_ADDRESS: intFromEnv(1200, 0),
    /** Requests per window from one authenticated identity (0: off). */
    RATE_LIMIT_PER_IDENTITY: intFromEnv(600, 0),
    /** `POST /api/v1/pipelines` per window from one identity, on top of the per-identity budget (0: off). */
    RATE_LIMIT_SUBMIT: intFromEnv(30, 0),
    /** Failed authentications (401) per window from one source address; over it, the address is refused before its credentials are checked (0: off). */
    RATE_LIMIT_AUTH_FAILURES: intFromEnv(20, 0),
    /**
     * Which proxies in front of the API to believe about the client's address (`X-Forwarded-For`):
     * `false` (default: the connection's address is the client's), a hop count (`1` behind one load
     * balancer), or the proxies' addresses/CIDRs (`loopback`, `linklocal`, `uniquelocal` too),
     * comma-separated. `true` is refused: it would let any client choose its address.
     */
    TRUST_PROXY: trustProxyFromEnv(),
    /** Redis maxmemory-policy other than noeviction: refuse to start, or only warn. */
    REDIS_EVICTION_CHECK: z.enum(['refuse', 'warn']).default('refuse'),
    /** Bearer token that may read GET /metrics only (a Prometheus scraper); empty: /metrics needs the operator role. */
    METRICS_TOKEN: z.string().default(''),
    /** Where the first start of a development deployment writes its admin key (mode 0600). Never used in production. */
    DEV_ADMIN_KEY_FILE: z.string().min(1).default('.agentic-sdlc/admin-key'),
    /** JWT: HMAC secret (HS256/384/512); set this or JWT_JWKS_URL to accept tokens from an identity provider. */
    JWT_SECRET: z.string().default(''),
    /** JWT: the identity provider's JWKS URL (keys cached, fetched again on an unknown `kid`). */
    JWT_JWKS_URL: z
      .string()
      .default('')
      .refine((v) => v === '' || /^https?:\/\//.test(v), 'an http(s) URL'),
    /** JWT: required `iss`. */
    JWT_ISSUER: z.string().default(''),
    /** JWT: required `aud`. */
    JWT_AUDIENCE: z.string().default(''),
    /** JWT: accepted algorithms, comma-separated (default HS256 with a secret, RS256 and ES256 with JWKS). `none` is never accepted. */
    JWT_ALGORITHMS: commaList(),
    /** JWT: the claim that lists the caller's roles (a dotted path such as `realm_access.roles` works too). */
    JWT_ROLES_CLAIM: z.string().min(1).default('roles'),
    /** JWT: leeway for `exp`/`nbf`/`iat`, in seconds. */
    JWT_CLOCK_TOLERANCE_S: intFromEnv(30, 0, 300),
    /** Worker processes serve GET /health and GET /metrics on this port (0: off). */
    WORKER_METRICS_PORT: intFromEnv(9464, 0, 65_535),
    /** Unleash server's API base (e.g. `http://unleash:4242/api`) the feature flags come from; unset: FLAGS_FILE alone. */
    UNLEASH_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** A client API token of that Unleash server (sent as its Authorization header). */
    UNLEASH_API_TOKEN: z.string().default(''),
    /** The appName this platform reports to Unleash (strategies may constrain on it). */
    UNLEASH_APP_NAME: z.string().min(1).default('agentic-sdlc'),
    /** The environment this platform evaluates flags in (a context field of Unleash strategies). */
    UNLEASH_ENVIRONMENT: z.string().min(1).default('default'),
    /** How often the flags are fetched from the Unleash server, in milliseconds. */
    UNLEASH_REFRESH_MS: intFromEnv(15_000, 500, 3_600_000),
    /** Flags in Unleash's client-features format (an export of the server): served without a server, and while it is unreachable. */
    FLAGS_FILE: z.string().min(1).default('flags/flags.json'),
    /** `true`: no tracing at all (no spans, no trace ids in log lines). */
    OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
    /** OTLP/HTTP collector base URL; spans go to `<it>/v1/traces`. Unset (default): spans are not exported. */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** The full traces URL, when it is not `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** `service.name` of this process's spans (default per process: agentic-sdlc-api, -worker, or agentic-sdlc). */
    OTEL_SERVICE_NAME: z
      .string()
      .regex(/^[\w.-]{1,100}$/, 'letters, digits, _, . and - (1-100)')
      .optional(),
    /** OpenTelemetry's sampler names (read by the SDK itself; parentbased_always_on by default). */
    OTEL_TRACES_SAMPLER: z
      .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
      .optional(),
    /** The ratio of the *traceidratio samplers, 0 to 1. */
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  })
  .refine((c) => c.WEBHOOK_URLS.length === 0 || c.WEBHOOK_SECRET.length >= 16, {
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
  .refine((c) => !c.JWT_ALGORITHMS.some((a) => a.toLowerCase() === 'none'), {
    path: ['JWT_ALGORITHMS'],
    message: '"none" is never accepted',
  });

export type Config = z.infer<typeof envSchema>;

/** The environment does not parse (CONFIG_INVALID): `details` name each bad variable. */
export class ConfigError extends ConfigurationError {
  override readonly name = 'ConfigError';
  /** One `VARIABLE: problem` line per detail, as printed. */
  get problems(): string[] {
    return this.details.map((detail) => `${detail.field}: ${detail.message}`);
  }
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" so `FOO=` in an env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(env)', message: issue.message }));
  const lines = details.map(({ field, message }) => `  - ${field}: ${message}`).join('\n');
  throw new ConfigError('CONFIG_INVALID', `Invalid configuration:\n${lines}`, { details });
}

let loaded: Config | undefined;

/** The process's configuration, parsed from process.env on first use. */
export function loadConfig(): Config {
  loaded ??= parseConfig(process.env);
  return loaded;
}
