// Runtime: the profile, logging, the .env file, shutdown and the files every process reads at boot.
import { int, oneOf, text } from '../field-types.js';
import { PROFILES } from '../profile.js';
import { defineGroup } from '../variable.js';

export const runtimeVariables = defineGroup('Runtime', {
  NODE_ENV: {
    ...oneOf(PROFILES),
    default: 'development',
    example: 'production',
    description:
      'The profile: `development` (a laptop; the first start writes an admin key), `test` (the test suites) or `production` ' +
      '(refuses to start on weak or example secrets, plaintext backends, unsafe limits; see "Production refusals"). ' +
      'Read first: the defaults of the other variables depend on it.',
  },
  LOG_LEVEL: {
    ...oneOf(['error', 'warn', 'info', 'http', 'debug'] as const),
    default: { development: 'info', test: 'warn', production: 'info' },
    description:
      "Least severe log level written to stdout, with the request's correlation id and secrets masked; `error` is kept for what an operator must act on. " +
      'A request answered 2xx/3xx in under a second is logged at `http`, a refused, failed or slow one at `info`: set `http` to see every request, `debug` for health probes too (see [observability.md](observability.md#logging)).',
  },
  LOG_FORMAT: {
    ...oneOf(['pretty', 'json'] as const),
    default: { development: 'pretty', test: 'json', production: 'json' },
    description:
      '`pretty`: one readable line per event (`time level message key=value…`, time in UTC, coloured on a terminal), and `npm start` prints its try-it command as a plain line; ' +
      '`json`: one JSON object per line, for log shippers. See [observability.md](observability.md#logging).',
  },
  ENV_FILE: {
    ...text(1),
    default: '.env',
    // Named in the real environment only: a line in the file itself would be ignored.
    example: '',
    description:
      "An env file read at start when it exists (relative to the working directory), with Node's own parser (`util.parseEnv`). " +
      'Its values never override the real environment. Only the real environment can name it.',
  },
  SHUTDOWN_GRACE_MS: {
    ...int(0),
    default: 30_000,
    production: {
      min: 1000,
      max: 600_000,
      why: 'between 1 s (running work needs time to finish) and 10 min (orchestrators kill long before)',
    },
    description:
      "How long a stopping process (SIGTERM or SIGINT) lets in-flight work finish. A worker lets running stage handlers finish; after it, their AbortSignal fires (reason `worker-shutdown`), each interrupted attempt is recorded `failed` with `WORKER_SHUTDOWN`, and its job goes back to the queue without using one of the stage's attempts, for another worker to run. The API lets in-flight HTTP requests finish, those whose client hung up included (their handlers' writes to Postgres and Redis complete before those connections close; readiness answers 503 and new connections are refused from the first signal); after it, the connections still open are closed. Set the orchestrator's kill timeout higher, for example `stop_grace_period` in Compose or `terminationGracePeriodSeconds` in Kubernetes.",
  },
  TEMPLATES_DIR: {
    ...text(1),
    default: 'templates',
    description: 'Directory of pipeline templates. A relative path is resolved from the working directory.',
  },
  DECISION_POLICY_FILE: {
    ...text(1),
    default: 'policies/decision-policy.yaml',
    description:
      'The decision policy, a YAML file (see [human-in-the-loop.md](human-in-the-loop.md#the-decision-policy)), validated at boot: a missing or invalid file stops the process naming each bad field. A relative path is resolved from the working directory. Give every process the same file.',
  },
  DEV_ADMIN_KEY_FILE: {
    ...text(1),
    default: '.agentic-sdlc/admin-key',
    description:
      'Where the first start of a development deployment (`NODE_ENV=development`) writes its admin key, mode 0600; the CLI reads it when `SDLC_API_KEY` is unset. Never used in production or test.',
  },
});
