// The catalogue behind the error hierarchy: the categories, the HTTP status of each (the one
// place statuses are decided), and every stable code with its category, retryability and hint.
export const ERROR_CATEGORIES = [
  'validation',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'agent',
  'pipeline',
  'downstream',
  'configuration',
  'unavailable',
  'rate_limited',
  'internal',
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** The HTTP status of each category: the one place statuses are decided. */
export const HTTP_STATUS_BY_CATEGORY: Readonly<Record<ErrorCategory, number>> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  agent: 502,
  pipeline: 422,
  downstream: 502,
  configuration: 500,
  unavailable: 503,
  rate_limited: 429,
  internal: 500,
};

/** Codes whose status is more precise than their category's. */
export const HTTP_STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_STAGES: 413,
  INPUT_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
  // Downstream for a worker (retried, like any slow service), but over HTTP the API's own
  // database was too slow: 503 with Retry-After, as for Postgres unreachable, not 502.
  DATABASE_TIMEOUT: 503,
};

/** What every error of the hierarchy says about itself; also the shape kept in stage error records. */
export interface ErrorDescription {
  code: string;
  category: ErrorCategory;
  retryable: boolean;
  hint: string;
  message: string;
}

export interface ErrorSpec {
  category: ErrorCategory;
  retryable: boolean;
  hint: string;
}

/** What an error of a category means when its code has no entry of its own in ERROR_CODES. */
export const CATEGORY_DEFAULTS: Readonly<Record<ErrorCategory, Omit<ErrorSpec, 'category'>>> = {
  validation: { retryable: false, hint: 'Fix the request as `details` describe; sending it unchanged gets the same answer.' },
  unauthenticated: {
    retryable: false,
    hint: 'Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>` (or a JWT from the configured identity provider).',
  },
  forbidden: { retryable: false, hint: "The caller's roles do not allow this; ask an admin for a key with the role the message names." },
  not_found: { retryable: false, hint: 'Check the id or name; list the collection to find existing ones.' },
  conflict: {
    retryable: false,
    hint: 'Read the current state of the resource and decide again; repeating the request unchanged gets the same answer.',
  },
  agent: {
    retryable: true,
    hint: "The agent's handler failed; the stage is retried with backoff. If every attempt fails, read the stage's runs and the worker logs.",
  },
  pipeline: {
    retryable: false,
    hint: "The pipeline's own rules stopped this stage; read the stage's error and runs, fix the cause, then submit again.",
  },
  downstream: {
    retryable: true,
    hint: "A service the agent calls failed or timed out; the stage is retried with backoff, and the agent's circuit breaker opens if failures persist.",
  },
  configuration: { retryable: false, hint: 'Fix the deployment (the message names the variable or agent), then restart the process.' },
  unavailable: {
    retryable: true,
    hint: 'A backing service (Redis or Postgres) is unreachable for now; retry after the Retry-After delay.',
  },
  rate_limited: { retryable: true, hint: 'Too much work is waiting; retry after the Retry-After delay.' },
  internal: { retryable: false, hint: 'An unexpected error; give the requestId to the operators, who find the stack in the logs.' },
};

// Generic in the category so that CodeOf<category> can tell each code's category at compile time.
const spec = <C extends ErrorCategory>(category: C, hint?: string, retryable = CATEGORY_DEFAULTS[category].retryable) => ({
  category,
  retryable,
  hint: hint ?? CATEGORY_DEFAULTS[category].hint,
});

/**
 * Every stable code the platform produces, over HTTP or in a stage's error record. The classes of
 * src/domain/errors.ts take only these (CodeOf), so a code outside the catalogue does not compile;
 * docs/error-handling.md lists them in this order (test/unit/errors.test.ts).
 */
export const ERROR_CODES = {
  // Requests
  VALIDATION_FAILED: spec('validation'),
  MALFORMED_JSON: spec('validation', 'Send a JSON object as the body.'),
  BAD_REQUEST: spec('validation', 'The body could not be read (aborted, or shorter than its Content-Length); send it again whole.'),
  UNSUPPORTED_MEDIA_TYPE: spec(
    'validation',
    'Send the body as JSON with Content-Type: application/json (UTF-8, no unsupported Content-Encoding).',
  ),
  PAYLOAD_TOO_LARGE: spec('validation', 'Send a smaller body (HTTP_BODY_LIMIT); keep large data in an artifact store and pass its URL.'),
  TOO_MANY_STAGES: spec(
    'validation',
    'Split the work into smaller pipelines (MAX_STAGES_PER_PIPELINE, named in the message); nothing was recorded.',
  ),
  INPUT_TOO_LARGE: spec(
    'validation',
    'Send smaller inputs (MAX_SUBMISSION_INPUT_BYTES, named in the message, counts `input` and every stage input together); keep large data in an artifact store and pass its URL. Nothing was recorded.',
  ),
  MALFORMED_PATH: spec('validation', 'Percent-encode the path as UTF-8 (%XX pairs of hex digits); ids are UUIDs and need no encoding.'),
  HEADERS_TOO_LARGE: spec('validation', 'Send smaller headers (16 KB in all): drop large cookies or custom headers.'),
  REQUEST_TIMEOUT: spec(
    'validation',
    'Send the headers and the whole body within HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS, on a new connection.',
    true,
  ),
  MALFORMED_REQUEST: spec('validation', 'The bytes sent are not a valid HTTP/1.1 request; check the client or proxy.'),
  JSON_TOO_DEEP: spec(
    'validation',
    'Nest arrays and objects at most JSON_MAX_DEPTH levels deep (the message gives the limit); flatten deep structures or pass them as a string or an artifact URL.',
  ),
  INVALID_CHARACTER: spec(
    'validation',
    'Remove NUL characters (\\u0000) and unpaired surrogate escapes (\\ud800-\\udfff) from the fields `details` name; send binary data base64-encoded.',
  ),
  KEY_TOO_LONG: spec('validation', 'Shorten the keys or query parameter names `details` name to JSON_MAX_KEY_LENGTH characters.'),
  STRING_TOO_LONG: spec(
    'validation',
    'Shorten the strings `details` name to JSON_MAX_STRING_LENGTH characters; keep large data in an artifact store and pass its URL.',
  ),
  SCHEDULE_NOT_FOUND: spec('not_found', 'Check the schedule id; GET /api/v1/schedules lists the schedules.'),
  PIPELINE_NOT_FOUND: spec('not_found', 'Check the pipeline id; GET /api/v1/pipelines lists existing pipelines.'),
  STAGE_NOT_FOUND: spec('not_found', 'Check the stage key; GET /api/v1/pipelines/:id/stages lists the pipeline’s stages.'),
  DECISION_NOT_FOUND: spec('not_found', 'Check the decision id; GET /api/v1/decisions lists decisions.'),
  CLARIFICATION_NOT_FOUND: spec('not_found', 'Check the clarification id; the pipeline events name the clarifications it asked.'),
  TEMPLATE_NOT_FOUND: spec('not_found', 'GET /api/v1/templates lists the known templates.'),
  AGENT_NOT_FOUND: spec('not_found', 'GET /api/v1/agents lists the agent types this deployment knows.'),
  ROUTE_NOT_FOUND: spec('not_found', 'Check the method and path against docs/api.md.'),
  IDEMPOTENCY_KEY_REUSED: spec('conflict', 'Use a new Idempotency-Key for a different request body, or resend the original body.'),
  PIPELINE_FINISHED: spec('conflict', 'The pipeline already finished; nothing is left to cancel, pause or resume.'),
  PIPELINE_CANCELLING: spec('conflict', 'The pipeline is being cancelled: it cannot be paused; it ends cancelled.'),
  PIPELINE_NOT_FINISHED: spec('conflict', 'A pipeline is re-run once it has finished; wait for it (or cancel it), then re-run.'),
  RERUN_DEFINITION_INVALID: spec(
    'conflict',
    'The old definition no longer validates here (`details` names why); submit a corrected definition with POST /api/v1/pipelines.',
  ),
  SCHEDULE_LIMIT_REACHED: spec(
    'conflict',
    'The identity owns as many schedules as SCHEDULE_MAX_PER_OWNER allows (ended ones not counted); delete one it no longer needs.',
  ),
  SCHEDULE_ENDED: spec('conflict', 'The schedule is past its end date: it runs no more. Create a new schedule to run again.'),
  SCHEDULE_DELETED: spec(
    'conflict',
    'The schedule this Idempotency-Key created was deleted; a retry does not create it again. Send a new key to create a new schedule.',
  ),
  DECISION_CLOSED: spec('conflict', 'The decision is no longer open; GET it to see how it ended.'),
  DECISION_ALREADY_ANSWERED: spec('conflict', 'Each actor answers a decision once; another actor may still answer it.'),
  CLARIFICATION_CLOSED: spec('conflict', 'The clarification was already answered or cancelled; GET it to see its answers.'),
  DLQ_JOB_NOT_FOUND: spec('not_found', 'No agent queue holds that job; GET /api/v1/dlq lists the failed jobs.'),
  DLQ_JOB_NOT_FAILED: spec('conflict', 'The job is no longer in the failed set (completed, or already replayed); GET /api/v1/dlq again.'),
  WEBHOOK_DELIVERY_NOT_FOUND: spec(
    'not_found',
    'The webhooks queue holds no such delivery (never added, or removed by the retention); GET /api/v1/webhooks/failed lists the failed ones.',
  ),
  WEBHOOK_DELIVERY_NOT_FAILED: spec(
    'conflict',
    'The delivery is not failed (delivered, waiting, or already redelivered): only a failed delivery is sent again.',
  ),
  // The guards of a DLQ replay (REPLAY_BLOCKS in src/domain/dlq-replay.ts, docs/dead-letter-queue.md#guards).
  DLQ_JOB_MALFORMED: spec('conflict', "The job's data is not a stage job: nothing can replay it; inspect it, then DELETE it."),
  STAGE_MISSING: spec('conflict', 'The stage of this job is not in Postgres (its pipeline was deleted); DELETE the job.'),
  STAGE_NOT_FAILED: spec('conflict', 'The stage is not failed (it succeeded or was skipped since); nothing is left to replay.'),
  DLQ_JOB_STALE: spec(
    'conflict',
    "The stage's latest attempt ran under another job; replay that one (GET /api/v1/dlq), not this older one.",
  ),
  CONTINUED_ON_FAILURE: spec(
    'conflict',
    'The stage has continueOnFailure: its dependants already ran with its failure; submit the pipeline again to rerun it.',
  ),
  PIPELINE_CANCELLED: spec('conflict', 'The pipeline was cancelled; submit it again to rerun.'),
  PIPELINE_RERUN: spec('conflict', 'The pipeline was re-run: the re-run is its live attempt; replay the re-run’s failures instead.'),
  PIPELINE_NOT_FAILED: spec('conflict', 'The pipeline is neither failed nor running (it succeeded, say); submit it again to rerun.'),
  STAGES_IN_FLIGHT: spec('conflict', 'A stage the restored stages depend on is running now; replay once it finishes.', true),
  DLQ_REPLAY_INCOMPLETE: spec(
    'unavailable',
    'The replay is recorded but Redis refused to move the job; repeat the request, which resumes it.',
  ),
  REPLAY_FAILED: spec(
    'internal',
    'A bulk replay met an unexpected error for this pipeline (logged); the other jobs went on. Replay it again alone.',
  ),
  QUEUE_UNAVAILABLE: spec(
    'unavailable',
    'Redis is unreachable; repeat the request after Retry-After (with the same Idempotency-Key for a submission). The message says whether anything was recorded.',
  ),
  DEPENDENCY_UNAVAILABLE: spec('unavailable'),
  DATABASE_TIMEOUT: spec(
    'downstream',
    'Postgres cancelled a statement that ran longer than DATABASE_STATEMENT_TIMEOUT_MS, or a read transaction ran past its own 5 s limit (its transaction was rolled back); retry after Retry-After, a submission with the same Idempotency-Key. If it persists, look for slow queries or locks (agentic_db_statement_timeouts_total names the statement).',
  ),
  BACKLOG_FULL: spec('rate_limited', 'Too many pipelines wait to start and nothing was recorded; submit again after Retry-After.'),
  RATE_LIMITED: spec(
    'rate_limited',
    'This identity or address used its request budget for the window (the message names it, the RateLimit header shows it); slow down and retry after Retry-After.',
  ),
  SUBMIT_RATE_LIMITED: spec(
    'rate_limited',
    'This identity submitted as many pipelines as RATE_LIMIT_SUBMIT allows per window and nothing was recorded; submit again after Retry-After.',
  ),
  AUTH_RATE_LIMITED: spec(
    'rate_limited',
    'Too many failed authentications came from this address (RATE_LIMIT_AUTH_FAILURES); it is refused, valid credentials included, until Retry-After. Fix the client sending bad credentials.',
  ),
  STREAM_QUOTA_EXCEEDED: spec(
    'rate_limited',
    'Too many event streams are open (the message names MAX_EVENT_STREAMS_PER_IDENTITY or MAX_EVENT_STREAMS); close one you no longer read, or retry after Retry-After.',
  ),
  EVENTS_UNAVAILABLE: spec('unavailable', 'Reconnect after the Retry-After delay, sending Last-Event-ID to resume.'),
  INTERNAL: spec('internal'),
  CONFIG_INVALID: spec('configuration', 'Fix the variables the message names, then restart the process.'),
  CONFIG_REFUSED: spec(
    'configuration',
    'The production profile refuses these settings (weak or example secrets, plaintext backends, unsafe limits): fix each variable the message names, then start again.',
  ),
  CONFIG_DECRYPT_FAILED: spec(
    'configuration',
    'An enc:v1 value does not decrypt (the message names each variable and why): set the master key it names in CONFIG_MASTER_KEY (or CONFIG_MASTER_KEY_PREVIOUS during a rotation), or encrypt the value again for that variable (docs/configuration.md, "Encrypted values").',
  ),
  // Identity (docs/security.md)
  AUTHENTICATION_REQUIRED: spec('unauthenticated'),
  CREDENTIALS_AMBIGUOUS: spec('unauthenticated', 'Send one credential: either Authorization or X-API-Key, not two different ones.'),
  API_KEY_MALFORMED: spec(
    'unauthenticated',
    'The key is not a complete agentic-sdlc key (sdlc_…, 55 characters, checksum included): copy it again whole.',
  ),
  API_KEY_INVALID: spec('unauthenticated', 'No such key: it was mistyped, or deleted. Ask an admin for a key.'),
  API_KEY_REVOKED: spec('unauthenticated', 'The key was revoked; ask an admin for a new one.'),
  API_KEY_EXPIRED: spec('unauthenticated', 'The key expired; ask an admin to rotate it or create a new one.'),
  TOKEN_INVALID: spec(
    'unauthenticated',
    'The bearer token was refused (signature, algorithm, issuer, audience or lifetime); get a fresh token from the identity provider.',
  ),
  FORBIDDEN: spec('forbidden'),
  NOT_AN_APPROVER: spec(
    'forbidden',
    "The decision policy names who approves this category; the caller's name and roles are not among them.",
  ),
  BOARD_ACTION_REFUSED: spec(
    'forbidden',
    'Bull Board only retries failed jobs (as DLQ replays), promotes delayed ones and pauses or resumes queues; use the REST API for the rest.',
  ),
  PRIORITY_FORBIDDEN: spec(
    'forbidden',
    "Submitters may ask for up to `high`; `urgent`, and changing a pipeline's priority, need the operator role.",
  ),
  CATEGORY_FORBIDDEN: spec(
    'forbidden',
    'A stage of an agent type that implies a decision category (scaffold, integration, deployment, migration) may declare another category only with the operator role; drop `category` or declare the implied one.',
  ),
  SCHEDULE_OWNER_INACTIVE: spec(
    'forbidden',
    "The schedule's creator has no active API key any more (revoked or expired): its ticks submit nothing. Delete the schedule, or have it re-created by an identity that still has a key.",
  ),
  SELF_APPROVAL_FORBIDDEN: spec(
    'forbidden',
    'Separation of duties: whoever submitted the pipeline cannot answer its decisions of this category; another approver must.',
  ),
  API_KEY_NOT_FOUND: spec('not_found', 'GET /api/v1/keys lists the keys.'),
  API_KEY_NAME_TAKEN: spec('conflict', 'An active key has this name: rotate it (POST /api/v1/keys/:id/rotate) or revoke it first.'),
  API_KEY_INACTIVE: spec('conflict', 'The key is revoked or expired already; create a new one.'),
  API_KEY_ALREADY_ROTATED: spec(
    'conflict',
    'The key was rotated already and its successor is active (details name it): rotate the successor, or revoke it first.',
  ),
  // Stage error records
  AGENT_ERROR: spec('agent'),
  AGENT_UNRECOVERABLE: spec('agent', 'The agent refused the work for good; fix the stage input or the agent, then submit again.', false),
  AGENT_FAILED_ON_PURPOSE: spec('agent', 'The `fail` agent was asked to fail; change its input.', false),
  AGENT_INPUT_INVALID: spec('validation', "Fix the stage input so it matches the agent's input schema (GET /api/v1/agents)."),
  AGENT_OUTPUT_INVALID: spec(
    'agent',
    "The agent's output breaks its own contract; fix the agent (a new attempt would return the same).",
    false,
  ),
  AGENT_OUTPUT_TOO_LARGE: spec('agent', 'Return under 1 MB of JSON; keep large results in an artifact store and return their URL.', false),
  CONTRACT_VERSION_UNSUPPORTED: spec(
    'validation',
    "The stage's data was written under a contract version the agent no longer (or does not yet) accept: run a worker whose agent accepts it (GET /api/v1/agents shows acceptsContracts), or submit the pipeline again.",
    false,
  ),
  WORKSPACE_PATH_ESCAPE: spec('agent', 'A path in the stage input leads outside the pipeline workspace; use a path inside it.', false),
  WORKSPACE_CLONE_FAILED: spec(
    'agent',
    "Cloning `input.repository` (or checking out its ref) failed; the stage log has git's output. Check the URL, the ref and the worker's access to it.",
  ),
  REPOSITORY_NOT_ALLOWED: spec(
    'agent',
    "`input.repository.url` is not allowed by the workers' WORKSPACE_REPOSITORY_ALLOW (the list changed after the pipeline was submitted, or the workers' list differs from the API's); the stage ran nothing on it. Ask the operator to list its prefix, or build an allowed repository.",
    false,
  ),
  INTEGRATION_GIT_FAILED: spec(
    'agent',
    "A git command in the workspace failed (not a repository, a missing branch); read the stage log for git's output.",
    false,
  ),
  INTEGRATION_PUSH_FAILED: spec(
    'downstream',
    "git push to the workspace's origin failed; the stage is retried. Check the remote's URL and credentials in the stage log.",
  ),
  FORGE_REQUEST_REJECTED: spec(
    'agent',
    "The forge (GitHub) refused the request; the message holds the API's reason (token scope, a pull request that exists already).",
    false,
  ),
  FORGE_UNAVAILABLE: spec('downstream', 'The forge (GitHub) API failed or timed out; the stage is retried with backoff.'),
  DEPLOY_BUILD_FAILED: spec(
    'agent',
    '`npm run build` (or installing dependencies) failed in the workspace; read the stage log, fix the project, then submit again.',
    false,
  ),
  DEPLOY_HOOK_REJECTED: spec(
    'agent',
    'The deploy hook refused the release (4xx) or gave no URL to check; fix the hook or set input.url.',
    false,
  ),
  DEPLOY_HOOK_UNAVAILABLE: spec('downstream', 'The deploy hook failed or timed out; the stage is retried with backoff.'),
  RELEASE_PATH_ESCAPE: spec('agent', 'A release path led outside the configured releases root; use a plain app name.', false),
  VALIDATION_INSTALL_FAILED: spec(
    'agent',
    "Installing the project's dependencies (npm ci / npm install) failed; the stage is retried. If it keeps failing, read the stage log (a lockfile out of sync with package.json, a registry that cannot be reached).",
  ),
  VALIDATION_TOOL_FAILED: spec(
    'agent',
    'A check (typecheck, lint or tests) failed without reporting what it found: it crashed, timed out or printed nothing the agent can count. Read the excerpt in the message or the stage log, fix the project or set input.commands.',
    false,
  ),
  SCAFFOLD_TEMPLATE_NOT_FOUND: spec(
    'agent',
    'No project template of that name ships with the platform (the message lists the known ones); set input.template to one of them.',
    false,
  ),
  SCAFFOLD_TARGET_NOT_EMPTY: spec(
    'agent',
    'The target folder (input.path, or the workspace root) already holds files; scaffold into an empty path, or set input.overwrite.',
    false,
  ),
  SCAFFOLD_GIT_FAILED: spec(
    'agent',
    "git init, add or commit failed in the new project; read git's output in the message or the stage log.",
    false,
  ),
  E2E_BUILD_FAILED: spec(
    'agent',
    'Installing dependencies or `npm run build` failed before the end-to-end checks; read the stage log, fix the project, then submit again.',
    false,
  ),
  E2E_START_FAILED: spec(
    'agent',
    'The service could not be started (no start script or main), exited, or did not answer within startTimeoutMs; the message holds the end of its output.',
    false,
  ),
  E2E_NO_CHECKS: spec('agent', 'Name the HTTP checks in input.checks, or ship an e2e-checks.json in the project.', false),
  // Tool agents: command, http, llm (docs/agents.md)
  COMMAND_FAILED: spec(
    'agent',
    'The command exited with another code than expectExitCode (or could not start); read the output excerpt in the message or the stage log, fix the project or the command. Set retryOnFailure for a flaky command.',
    false,
  ),
  COMMAND_TIMEOUT: spec(
    'agent',
    'The command ran longer than its timeoutMs and was killed with its process group; raise timeoutMs (at most 1 h) or find what it waits for in the stage log.',
    false,
  ),
  COMMAND_NOT_ALLOWED: spec(
    'agent',
    "The program is not in the workers' COMMAND_ALLOWED_PROGRAMS (the list changed after the stage was submitted, or the workers' list differs from the API's); ask the operator to list it, or run an allowed one.",
    false,
  ),
  HTTP_HOST_NOT_ALLOWED: spec(
    'agent',
    'The http agent calls only the hosts its allowedHosts list names (a redirect included); ask the operator to add the host, or call an allowed one.',
    false,
  ),
  HTTP_ADDRESS_REFUSED: spec(
    'agent',
    'The host resolved to a private, loopback or link-local address, which only an exact allowedHosts entry may reach; list the host exactly, or fix its DNS.',
    false,
  ),
  HTTP_REDIRECT_REFUSED: spec(
    'agent',
    'The server redirected to another host (or over 5 times); call the final URL directly if its host is allowed.',
    false,
  ),
  HTTP_CLIENT_ERROR: spec(
    'agent',
    'The server refused the request (4xx other than 408 and 429): fix the method, URL, headers or body in the stage input.',
    false,
  ),
  HTTP_UNEXPECTED_STATUS: spec(
    'agent',
    'The server answered with another status than expectStatus; fix expectStatus or the request.',
    false,
  ),
  HTTP_SERVER_ERROR: spec(
    'downstream',
    "The server answered 5xx, 408 or 429; the stage is retried with backoff, and the agent's circuit breaker opens if it persists.",
  ),
  HTTP_UNREACHABLE: spec(
    'downstream',
    'No answer: the connection was refused or reset, the name did not resolve, or the call timed out; the stage is retried with backoff.',
  ),
  LLM_NOT_CONFIGURED: spec(
    'configuration',
    'Set LLM_BASE_URL and LLM_MODEL (and LLM_API_KEY when the endpoint needs a key) for the workers, then restart them and submit again.',
  ),
  LLM_BUDGET_EXCEEDED: spec(
    'pipeline',
    "The call would exceed the pipeline's token budget (input.llm.tokenBudget or the stage's tokenBudget) and was not sent; raise the budget, lower maxTokens, or approve the overspend when asked.",
  ),
  LLM_REQUEST_REFUSED: spec(
    'agent',
    'The LLM endpoint refused the request (4xx other than 408 and 429: a bad key, an unknown model, a too long prompt); the message holds its answer.',
    false,
  ),
  LLM_DOWNSTREAM_ERROR: spec(
    'downstream',
    "The LLM endpoint failed, timed out or rate-limited the call; the stage is retried with backoff, and the agent's circuit breaker opens if it persists.",
  ),
  LLM_RESPONSE_INVALID: spec(
    'downstream',
    'The LLM endpoint answered with something other than an OpenAI-compatible chat completion; check LLM_BASE_URL (it should end before /chat/completions).',
  ),
  AGENT_UNKNOWN: spec('configuration', 'Deploy workers that know this agent type (WORKER_AGENTS), then resubmit the pipeline.'),
  DOWNSTREAM_ERROR: spec('downstream'),
  AGENT_CIRCUIT_OPEN: spec(
    'downstream',
    "The agent's downstream keeps failing; its jobs wait in the queue until a probe succeeds. Check the downstream service.",
    true,
  ),
  STAGE_TIMEOUT: spec(
    'agent',
    'The attempt took longer than the stage timeoutMs; it is retried. Raise timeoutMs or check what the agent waits for.',
  ),
  STAGE_CANCELLED: spec('pipeline', 'The pipeline was cancelled; submit it again to rerun.'),
  DEADLINE_EXCEEDED: spec(
    'pipeline',
    'The pipeline had not finished by its deadline and was cancelled (its cancelReason); submit it again with a later deadline, or a higher priority.',
    false,
  ),
  WORKER_LOST: spec('unavailable', 'The worker running the attempt stopped; another delivery took the stage over. No action needed.'),
  STALLED_TOO_OFTEN: spec(
    'agent',
    "The stage's job stalled (its worker died or froze mid-attempt) more than MAX_STALLED_COUNT times and BullMQ dead-lettered it: likely an input that crashes workers. Inspect it in the DLQ (GET /api/v1/dlq), fix the cause, then replay it.",
    false,
  ),
  JOB_FAILED: spec(
    'agent',
    'BullMQ failed the job without a code of ours (its lock was lost, say); read its failedReason in the DLQ, then replay it.',
    false,
  ),
  WORKER_SHUTDOWN: spec('unavailable', 'The worker was stopped mid-attempt; the stage runs again elsewhere without using an attempt.'),
  GATE_FAILED: spec('pipeline', "A blocking quality gate did not hold; see `gates` for the metrics, fix the work or the stage's gates."),
  DECISION_REJECTED: spec('pipeline', 'A person rejected the stage; read the comment, change the pipeline and submit it again.'),
  DECISION_EXPIRED: spec('pipeline', "The decision's deadline passed unanswered; submit the pipeline again or change the decision policy."),
  STAGES_FAILED: spec('pipeline', "Read each failed stage's error (`reasons`); fix the causes and submit the pipeline again."),
} satisfies Record<string, ErrorSpec>;

/** A stable code of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The catalogued codes of one category: what the error class of that category accepts. */
export type CodeOf<C extends ErrorCategory> = { [K in ErrorCode]: (typeof ERROR_CODES)[K]['category'] extends C ? K : never }[ErrorCode];

/** True when `code` is in the catalogue (an agent's own codes are not). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The catalogue entry of a code, if it has one. */
export function catalogued(code: string): ErrorSpec | undefined {
  return isErrorCode(code) ? ERROR_CODES[code] : undefined;
}

/** The category, retryability and hint of a code (its category's defaults when it is not in ERROR_CODES). */
export function specOf(code: string, category: ErrorCategory = 'internal'): ErrorSpec {
  return catalogued(code) ?? spec(category);
}

/** The HTTP status of an error: its code's exception, else its category's. */
export function httpStatusOf({ code, category }: { code: string; category: ErrorCategory }): number {
  return (isErrorCode(code) ? HTTP_STATUS_BY_CODE[code] : undefined) ?? HTTP_STATUS_BY_CATEGORY[category];
}

/** A description of one of our codes, for records built without an error object (e.g. STAGE_CANCELLED). */
export function describeCode(code: ErrorCode, message: string): ErrorDescription {
  return { code, message, ...ERROR_CODES[code] };
}
