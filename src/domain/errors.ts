// The one error hierarchy: every error has a stable `code`, a `category`, whether retrying can
// help (`retryable`) and a recovery `hint`. The HTTP status is derived from the category in one
// table (HTTP_STATUS_BY_CATEGORY, in error-codes.ts). Errors are checked by `code`/`name`, not
// only instanceof, since a job's error comes back as data. Every class takes
// `(code, message, options?)`: the code first, as in the response body.
import {
  CATEGORY_DEFAULTS,
  ERROR_CATEGORIES,
  catalogued,
  describeCode,
  httpStatusOf,
  specOf,
  type CodeOf,
  type ErrorCategory,
  type ErrorDescription,
} from './error-codes.js';
import { classifyNetworkError } from './network-errors.js';
import { isStatementTimeout, isTransactionTimeout } from './statement-timeout.js';

export * from './error-codes.js';

export interface ErrorDetail {
  /** The offending field, e.g. `stages[2].dependsOn[0]`; `(body)` for the whole request. */
  field: string;
  message: string;
  code?: string;
}

/** What every error class takes after its code and message. */
export interface AppErrorOptions {
  /** The offending fields, or the state that refused the request (default none). */
  details?: ErrorDetail[];
  /** Seconds a client should wait before retrying, sent as Retry-After (default none; 5 for 503 and 429). */
  retryAfterSeconds?: number;
  /** Overrides the retryability of the code (or category). */
  retryable?: boolean;
  /** Overrides the recovery hint of the code (or category). */
  hint?: string;
  cause?: unknown;
}

/**
 * The base of the hierarchy. A subclass fixes the category and takes only the catalogue codes of
 * that category (CodeOf), so a code outside ERROR_CODES, or in the wrong class, does not compile.
 */
export abstract class AppError<C extends string = string> extends Error {
  abstract readonly category: ErrorCategory;
  readonly code: C;
  readonly details: ErrorDetail[];
  readonly retryAfterSeconds?: number;
  private readonly overrides: Pick<AppErrorOptions, 'retryable' | 'hint'>;
  constructor(code: C, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
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

/** A bad request: VALIDATION_FAILED with `details`, or a more precise request code (415, 413, 431…). */
export class ValidationError extends AppError<CodeOf<'validation'>> {
  override readonly name = 'ValidationError';
  readonly category = 'validation';
}

export class NotFoundError extends AppError<CodeOf<'not_found'>> {
  override readonly name = 'NotFoundError';
  readonly category = 'not_found';
}

/** A state that forbids the request (a closed decision, a reused Idempotency-Key, a replay guard). */
export class ConflictError extends AppError<CodeOf<'conflict'>> {
  override readonly name = 'ConflictError';
  readonly category = 'conflict';
}

/**
 * A repository found the Idempotency-Key taken by a concurrent submission; the service then
 * answers with that submission, or with IDEMPOTENCY_KEY_REUSED when the bodies differ.
 */
export class IdempotencyKeyTakenError extends AppError<'IDEMPOTENCY_KEY_REUSED'> {
  override readonly name = 'IdempotencyKeyTakenError';
  readonly category = 'conflict';
}

/** Seconds a 503 or 429 asks the client to wait when the thrower does not say. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** A dependency (Redis, Postgres) is unreachable; the client should retry later. */
export class UnavailableError extends AppError<CodeOf<'unavailable'>> {
  override readonly name = 'UnavailableError';
  readonly category = 'unavailable';
  constructor(code: CodeOf<'unavailable'>, message: string, options: AppErrorOptions = {}) {
    super(code, message, { ...options, retryAfterSeconds: options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS });
  }
}

/** Too much work is waiting, or a budget is used up; the client should retry after `retryAfterSeconds`. */
export class TooManyRequestsError extends AppError<CodeOf<'rate_limited'>> {
  override readonly name = 'TooManyRequestsError';
  readonly category = 'rate_limited';
  constructor(code: CodeOf<'rate_limited'>, message: string, options: AppErrorOptions = {}) {
    super(code, message, { ...options, retryAfterSeconds: options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS });
  }
}

/** No credentials, or credentials that prove nobody (401). */
export class AuthenticationError extends AppError<CodeOf<'unauthenticated'>> {
  override readonly name = 'AuthenticationError';
  readonly category = 'unauthenticated';
}

/** A known caller whose roles do not allow the request (403). */
export class ForbiddenError extends AppError<CodeOf<'forbidden'>> {
  override readonly name = 'ForbiddenError';
  readonly category = 'forbidden';
}

/** The deployment is misconfigured (a variable, a missing agent); retrying cannot help. */
export class ConfigurationError extends AppError<CodeOf<'configuration'>> {
  override readonly name: string = 'ConfigurationError';
  readonly category = 'configuration';
}

/** A programmer error or anything unexpected: a plain 500, no details. */
export class InternalError extends AppError<CodeOf<'internal'>> {
  override readonly name = 'InternalError';
  readonly category = 'internal';
}

/**
 * Postgres cancelled a statement that ran past DATABASE_STATEMENT_TIMEOUT_MS: retryable, 503 with
 * Retry-After over HTTP (HTTP_STATUS_BY_CODE), a downstream failure in a stage record.
 */
export class DatabaseTimeoutError extends AppError<'DATABASE_TIMEOUT'> {
  override readonly name = 'DatabaseTimeoutError';
  readonly category = 'downstream';
  constructor(code: 'DATABASE_TIMEOUT', message: string, options: AppErrorOptions = {}) {
    super(code, message, { ...options, retryAfterSeconds: options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS });
  }
}

export interface AgentErrorOptions extends AppErrorOptions {
  /** Default: the code's category in ERROR_CODES, else `agent`. */
  category?: ErrorCategory;
}

/**
 * Thrown by an agent handler, with a code of the catalogue (AGENT_ERROR) or the handler's own:
 * retryable by default (the stage uses its remaining attempts with backoff). Pass
 * `retryable: false`, or throw UnrecoverableStageError, when retrying cannot help.
 */
export class AgentError extends AppError {
  override readonly name: string = 'AgentError';
  readonly category: ErrorCategory;
  constructor(code: string, message: string, options: AgentErrorOptions = {}) {
    super(code, message, options);
    this.category = options.category ?? catalogued(code)?.category ?? 'agent';
  }
}

/** A service the agent calls (an LLM API, a git host) failed or timed out: retryable, and counted by the agent's circuit breaker. */
export class DownstreamError extends AgentError {
  override readonly name: string = 'DownstreamError';
  constructor(code: string, message: string, options: Omit<AgentErrorOptions, 'category'> = {}) {
    super(code, message, { ...options, category: 'downstream' });
  }
}

/**
 * Thrown by an agent handler when retrying cannot help (bad input, a permanent refusal):
 * the stage fails at once instead of using its remaining attempts.
 */
export class UnrecoverableStageError extends AgentError {
  override readonly name = 'UnrecoverableStageError';
  constructor(code: string, message: string, options: Omit<AgentErrorOptions, 'retryable'> = {}) {
    super(code, message, { ...options, retryable: false });
  }
}

export interface CircuitOpenErrorOptions extends AppErrorOptions {
  agentType: string;
  /** How long until the breaker lets a probe through. */
  retryAfterMs: number;
}

/** The agent type's circuit breaker is open: the job waits in its queue, using no attempt. */
export class CircuitOpenError extends AppError<'AGENT_CIRCUIT_OPEN'> {
  override readonly name = 'CircuitOpenError';
  readonly category = 'downstream';
  readonly agentType: string;
  readonly retryAfterMs: number;
  constructor(code: 'AGENT_CIRCUIT_OPEN', message: string, options: CircuitOpenErrorOptions) {
    super(code, message, options);
    this.agentType = options.agentType;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The longest free text an agent puts into an event, and so into a webhook body: an error message
 * (stage.finished, pipeline.finished's reasons) and a clarification question are cut to it.
 */
export const MAX_MESSAGE = 4000;
const isCategory = (value: unknown): value is ErrorCategory =>
  typeof value === 'string' && (ERROR_CATEGORIES as readonly string[]).includes(value);
const stringProp = (value: unknown, key: string): string | undefined => {
  const v = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
};

/**
 * Classifies anything an agent handler (or a job) threw. An AppError describes itself; an error
 * that crossed a process boundary as data keeps its `category`/`retryable` or is recognised by
 * its name; a Postgres statement timeout is DATABASE_TIMEOUT and a network failure `downstream`
 * (both retryable); anything else is a retryable `agent` error that keeps its own string `code`.
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
  // Before the network check: its own code, not the SQLSTATE (57014) nor `agent`.
  if (isStatementTimeout(error) || isTransactionTimeout(error)) return describeCode('DATABASE_TIMEOUT', message);
  const network = classifyNetworkError(error);
  if (network) {
    return {
      code: ownCode ?? network.code ?? 'DOWNSTREAM_ERROR',
      category: 'downstream',
      retryable: true,
      hint: CATEGORY_DEFAULTS.downstream.hint,
      message,
    };
  }
  const code = ownCode ?? 'AGENT_ERROR';
  // A handler's own code is its business; only our catalogue's hint applies to our codes.
  const known = catalogued(code);
  return { code, category: 'agent', retryable: true, hint: known?.hint ?? CATEGORY_DEFAULTS.agent.hint, message };
}

/** True when retrying cannot help: an UnrecoverableStageError (also one that crossed a process boundary as data) or any non-retryable error of the hierarchy. */
export function isUnrecoverable(error: unknown): boolean {
  return !classifyError(error).retryable;
}
