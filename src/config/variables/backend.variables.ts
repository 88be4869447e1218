// Postgres and Redis: where they are, how they are reached (TLS), and what Redis must promise.
import { int, matching, oneOf, optional, urlWith } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const backendVariables = defineGroup('Postgres and Redis', {
  DATABASE_URL: {
    ...urlWith(['postgresql:', 'postgres:']),
    url: true,
    default: 'postgresql://postgres@127.0.0.1:5432/agentic_sdlc',
    example: 'postgresql://agentic:change-me-database-password@db.internal.example.com:5432/agentic_sdlc?sslmode=verify-full',
    description:
      "Postgres connection string. Prisma's `?schema=name` is honoured: it also becomes the session's `search_path`. `?sslmode=require` (or `verify-ca`, `verify-full`) turns TLS on. Production refuses a URL without a password, and plaintext (no `sslmode`, or `disable`, `allow`, `prefer`) to a host that is not loopback unless `BACKEND_TLS=optional`.",
  },
  DATABASE_POOL_SIZE: {
    ...int(1, 200),
    default: 10,
    production: { max: 100, why: "processes × pool size must stay under the server's max_connections" },
    description:
      "Maximum Postgres connections per process, in one `pg` pool shared by Prisma and the hand-written hot-path statements. Budget `processes × pool size` against the server's `max_connections`. Requests beyond it wait for a free connection (`agentic_db_pool_wait_seconds`), at most `DATABASE_CONNECT_TIMEOUT_MS`.",
  },
  DATABASE_POOL_IDLE_TIMEOUT_MS: {
    ...int(0, 86_400_000),
    default: { development: '10000', test: '10000', production: '30000' },
    production: { max: 600_000, why: 'an idle connection keeps a Postgres backend (its memory and a max_connections slot) for nothing' },
    description:
      'A pooled Postgres connection idle this long is closed; the pool opens a new one when it needs it again. `0` keeps idle connections open. Production keeps them longer by default, since a new connection costs a TLS handshake and a backend start.',
  },
  DATABASE_CONNECT_TIMEOUT_MS: {
    ...int(100, 120_000),
    default: 5000,
    production: {
      min: 1000,
      max: 60_000,
      why: 'shorter fails on a slow TLS handshake; longer holds requests while Postgres is unreachable',
    },
    description:
      'How long a query may wait for a pooled connection: for a new connection to open, or, with all `DATABASE_POOL_SIZE` in use, for one to come free. Then it fails with `timeout exceeded when trying to connect`, which counts as Postgres unavailable (the API answers 503, the agent queues are held). See [connections.md](connections.md).',
  },
  DATABASE_STATEMENT_TIMEOUT_MS: {
    ...int(0, 86_400_000),
    default: 30_000,
    production: { max: 600_000, why: 'a runaway statement holds its connection, and its locks, this long' },
    description:
      "Postgres' `statement_timeout` for every connection of the pools (API, workers, CLI): the server cancels a statement that runs longer, with SQLSTATE `57014`, and the error names the statement and this variable. `0` leaves the server's own setting (the role's or database's; for PgBouncer, which refuses the startup parameter). Migrations run without it.",
  },
  DATABASE_JIT: {
    ...oneOf(['off', 'server'] as const),
    default: 'off',
    description:
      "Postgres' JIT compilation for the pools' sessions. `off` adds `-c jit=off` to each connection's startup `options`: the platform's statements are short, and JIT compiles a statement again on every execution once the planner's estimate passes `jit_above_cost`; with a large `stages` table that made each stage finish spend 80–90 ms compiling. `server` keeps the server's setting (behind PgBouncer, which refuses `options`: then set `ALTER ROLE … SET jit = off`).",
  },
  REDIS_URL: {
    ...urlWith(['redis:', 'rediss:']),
    url: true,
    default: 'redis://127.0.0.1:6379',
    example: 'rediss://default:change-me-redis-password@redis.internal.example.com:6380',
    description:
      'Redis connection string, `redis://` or `rediss://` (TLS). Redis must run with `maxmemory-policy noeviction`; turn on AOF (`appendonly yes`) so queued jobs survive a restart. Production refuses a URL without a password, and `redis://` to a host that is not loopback unless `BACKEND_TLS=optional`.',
  },
  REDIS_EVICTION_CHECK: {
    ...oneOf(['refuse', 'warn'] as const),
    default: { development: 'warn', test: 'warn', production: 'refuse' },
    description:
      "What a process does at boot when Redis' `maxmemory-policy` is not `noeviction` (evicted keys are lost jobs and locks): `refuse` stops with exit code 1, saying why and how to fix it; `warn` logs a warning and starts. Production refuses `warn` itself. A Redis that does not allow `CONFIG GET` (managed services) is started with a warning that it could not be checked.",
  },
  BACKEND_TLS: {
    ...oneOf(['required', 'optional'] as const),
    default: { development: 'optional', test: 'optional', production: 'required' },
    description:
      '`required`: production refuses a plaintext connection to Postgres or Redis on a host that is not loopback. `optional`: allows it, for a private network you trust (docker compose sets it: its services talk over the compose network only).',
  },
  NODE_TLS_REJECT_UNAUTHORIZED: {
    ...optional(oneOf(['0', '1'] as const)),
    example: '',
    description:
      "Node's own switch (read by Node, listed here so it is checked): `0` accepts any TLS certificate, so anyone on the path can read and change the traffic. Production refuses `0`. Leave it unset.",
  },
  QUEUE_PREFIX: {
    ...matching(/^[A-Za-z0-9{}_.-]{1,64}$/, 'letters, digits, {}, _, . and - only (no ":")', 'letters, digits, `{}`, `_`, `.`, `-` (1–64)'),
    default: '{sdlc}',
    description:
      "BullMQ key prefix: no `:`. The braces make it a Redis Cluster hash tag, so all of a queue's keys land in one slot. Processes with different prefixes do not see each other's jobs.",
  },
});
