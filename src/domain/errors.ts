// The one error hierarchy: every error has a stable `code`, a `category`, whether retrying can
// help (`retryable`) and a recovery `hint`. The HTTP status is derived from the category in one
// table (HTTP_STATUS_BY_CATEGORY, in error-codes.ts). Errors are checked by `code`/`name`, not
// only instanceof, since a job's error comes back as data.
import {
  CATEGORY_DEFAULTS,
  ERROR_CATEGORIES,
  ERROR_CODES,
  httpStatusOf,
  specOf,
  type ErrorCategory,
  type ErrorDescription,
} from './error-codes.js';

export * from './error-codes.js';

export interface ErrorDetail {
  /** The offending field, e.g. `stages[2].dependsOn[0]`; `(body)` for the whole request. */
  field: string;
  message: string;
  code?: string;
}

export interface AppErrorOptions {
  /** Overrides the retryability of the code (or category). */
  retryable?: boolean;
  /** Overrides the recovery hint of the code (or category). */
  hint?: string;
  cause?: unknown;
}

export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly category: ErrorCategory;
  readonly details: ErrorDetail[];
  /** Seconds a client should wait before retrying (sent as Retry-After), when it matters. */
  readonly retryAfterSeconds?: number;
  private readonly overrides: Pick<AppErrorOptions, 'retryable' | 'hint'>;
  constructor(message: string, details: ErrorDetail[] = [], options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = details;
    this.overrides = { retryable: options.retryable, hint: options.hint };
  }
  get retryable(): boolean {
    return this.overrides.retryable ?? specOf(this.code, this.category).retryable;
  }
  get hint(): string {
    return this.overrides.hint ?? specOf(this.code, this.category).hint;
  }
  get status(): number {
    return httpStatusOf(this);
  }
  describe(): ErrorDescription {
    return { code: this.code, category: this.category, retryable: this.retryable, hint: this.hint, message: this.message };
  }
}

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly category = 'validation';
  readonly code: string;
  constructor(message: string, details: ErrorDetail[] = [], code = 'VALIDATION_FAILED', options: AppErrorOptions = {}) {
    super(message, details, options);
    this.code = code;
  }
}

export class UnsupportedMediaTypeError extends AppError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly category = 'validation';
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  readonly category = 'not_found';
  constructor(
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, [], options);
  }
}

export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  readonly category = 'conflict';
  constructor(
    readonly code: string,
    message: string,
    details: ErrorDetail[] = [],
    options: AppErrorOptions = {},
  ) {
    super(message, details, options);
  }
}

/** A dependency (Redis, Postgres) is unreachable; the client should retry later. */
export class UnavailableError extends AppError {
  override readonly name = 'UnavailableError';
  readonly category = 'unavailable';
  constructor(
    readonly code: string,
    message: string,
    override readonly retryAfterSeconds = 5,
    options: AppErrorOptions = {},
  ) {
    super(message, [], options);
  }
}

/** Too much work is waiting (backpressure); the client should retry after `retryAfterSeconds`. */
export class TooManyRequestsError extends AppError {
  override readonly name = 'TooManyRequestsError';
  readonly category = 'rate_limited';
  constructor(
    readonly code: string,
    message: string,
    override readonly retryAfterSeconds = 5,
    options: AppErrorOptions = {},
  ) {
    super(message, [], options);
  }
}

/** No credentials, or credentials that prove nobody (401). */
export class AuthenticationError extends AppError {
  override readonly name = 'AuthenticationError';
  readonly category = 'unauthenticated';
  constructor(
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, [], options);
  }
}

/** A known caller whose roles do not allow the request (403). */
export class ForbiddenError extends AppError {
  override readonly name = 'ForbiddenError';
  readonly category = 'forbidden';
  constructor(
    readonly code: string,
    message: string,
    details: ErrorDetail[] = [],
    options: AppErrorOptions = {},
  ) {
    super(message, details, options);
  }
}

/** The deployment is misconfigured (a variable, a missing agent); retrying cannot help. */
export class ConfigurationError extends AppError {
  override readonly name = 'ConfigurationError';
  readonly category = 'configuration';
  constructor(
    readonly code: string,
    message: string,
    details: ErrorDetail[] = [],
    options: AppErrorOptions = {},
  ) {
    super(message, details, options);
  }
}

/** A pipeline's own rules ended it or one of its stages (failed stages, gates, a rejection). */
export class PipelineError extends AppError {
  override readonly name = 'PipelineError';
  readonly category = 'pipeline';
  constructor(
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, [], options);
  }
}

/** A programmer error or anything unexpected: a plain 500, no details. */
export class InternalError extends AppError {
  override readonly name = 'InternalError';
  readonly category = 'internal';
  readonly code = 'INTERNAL';
  constructor(message = 'An unexpected error occurred.', options: AppErrorOptions = {}) {
    super(message, [], options);
  }
}

export interface AgentErrorOptions extends AppErrorOptions {
  code?: string;
  /** Default: the code's category in ERROR_CODES, else `agent`. */
  category?: ErrorCategory;
}

/**
 * Thrown by an agent handler: retryable by default (the stage uses its remaining attempts with
 * backoff). Pass `retryable: false`, or throw UnrecoverableStageError, when retrying cannot help.
 */
export class AgentError extends AppError {
  override readonly name: string = 'AgentError';
  readonly category: ErrorCategory;
  readonly code: string;
  constructor(message: string, options: AgentErrorOptions = {}) {
    super(message, [], options);
    this.code = options.code ?? 'AGENT_ERROR';
    this.category = options.category ?? ERROR_CODES[this.code]?.category ?? 'agent';
  }
}

/** A service the agent calls (an LLM API, a git host) failed or timed out: retryable, and counted by the agent's circuit breaker. */
export class DownstreamError extends AgentError {
  override readonly name: string = 'DownstreamError';
  constructor(message: string, options: Omit<AgentErrorOptions, 'category'> = {}) {
    super(message, { ...options, code: options.code ?? 'DOWNSTREAM_ERROR', category: 'downstream' });
  }
}

/**
 * Thrown by an agent handler when retrying cannot help (bad input, a permanent refusal):
 * the stage fails at once instead of using its remaining attempts.
 */
export class UnrecoverableStageError extends AgentError {
  override readonly name = 'UnrecoverableStageError';
  constructor(message: string, code = 'AGENT_UNRECOVERABLE', options: Omit<AgentErrorOptions, 'code' | 'retryable'> = {}) {
    super(message, { ...options, code, retryable: false });
  }
}

/** The agent type's circuit breaker is open: the job waits in its queue, using no attempt. */
export class CircuitOpenError extends AppError {
  override readonly name = 'CircuitOpenError';
  readonly category = 'downstream';
  readonly code = 'AGENT_CIRCUIT_OPEN';
  constructor(
    readonly agentType: string,
    /** How long until the breaker lets a probe through. */
    readonly retryAfterMs: number,
  ) {
    super(`the circuit breaker of agent "${agentType}" is open`);
  }
}

/** Node and undici codes of a failed network call: the downstream, not the agent, failed. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

const MAX_MESSAGE = 4000;
const isCategory = (value: unknown): value is ErrorCategory =>
  typeof value === 'string' && (ERROR_CATEGORIES as readonly string[]).includes(value);
const stringProp = (value: unknown, key: string): string | undefined => {
  const v = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
};

/**
 * Classifies anything an agent handler (or a job) threw. An AppError describes itself; an error
 * that crossed a process boundary as data keeps its `category`/`retryable` or is recognised by
 * its name; a network failure is `downstream`; anything else is a retryable `agent` error that
 * keeps its own string `code`.
 */
export function classifyError(error: unknown): ErrorDescription {
  if (error instanceof AppError) return { ...error.describe(), message: error.message.slice(0, MAX_MESSAGE) };
  const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_MESSAGE);
  const name = stringProp(error, 'name');
  const ownCode = stringProp(error, 'code');
  const carried = error !== null && typeof error === 'object' ? (error as Record<string, unknown>) : {};
  if (name === 'UnrecoverableStageError') {
    const code = ownCode ?? 'AGENT_UNRECOVERABLE';
    const known = specOf(code, 'agent');
    return { code, category: known.category, retryable: false, hint: stringProp(error, 'hint') ?? known.hint, message };
  }
  if (isCategory(carried.category) && typeof carried.retryable === 'boolean' && ownCode) {
    return {
      code: ownCode,
      category: carried.category,
      retryable: carried.retryable,
      hint: stringProp(error, 'hint') ?? specOf(ownCode, carried.category).hint,
      message,
    };
  }
  const causeCode = stringProp(carried.cause, 'code');
  if ((ownCode && NETWORK_CODES.has(ownCode)) || (causeCode && NETWORK_CODES.has(causeCode))) {
    return {
      code: ownCode ?? causeCode ?? 'DOWNSTREAM_ERROR',
      category: 'downstream',
      retryable: true,
      hint: CATEGORY_DEFAULTS.downstream.hint,
      message,
    };
  }
  const code = ownCode ?? 'AGENT_ERROR';
  // A handler's own code is its business; only our catalogue's hint applies to our codes.
  const known = ERROR_CODES[code];
  return { code, category: 'agent', retryable: true, hint: known?.hint ?? CATEGORY_DEFAULTS.agent.hint, message };
}

/** True when retrying cannot help: an UnrecoverableStageError (also one that crossed a process boundary as data) or any non-retryable error of the hierarchy. */
export function isUnrecoverable(error: unknown): boolean {
  return !classifyError(error).retryable;
}
