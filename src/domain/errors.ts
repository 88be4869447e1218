// Errors with stable codes that carry their HTTP status and survive process boundaries
// (checked by `code`/`name`, not only instanceof, since a job's error comes back as data).

export interface ErrorDetail {
  /** The offending field, e.g. `stages[2].dependsOn[0]`; `(body)` for the whole request. */
  field: string;
  message: string;
  code?: string;
}

export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly details: ErrorDetail[];
  constructor(message: string, details: ErrorDetail[] = []) {
    super(message);
    this.details = details;
  }
}

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly code: string;
  readonly status = 400;
  constructor(message: string, details: ErrorDetail[] = [], code = 'VALIDATION_FAILED') {
    super(message, details);
    this.code = code;
  }
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  readonly status = 409;
  constructor(
    readonly code: string,
    message: string,
    details: ErrorDetail[] = [],
  ) {
    super(message, details);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}

/** A dependency (Redis, Postgres) is unreachable; the client should retry later. */
export class UnavailableError extends AppError {
  override readonly name = 'UnavailableError';
  readonly status = 503;
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}

/**
 * Thrown by an agent handler when retrying cannot help (bad input, a permanent refusal):
 * the stage fails at once instead of using its remaining attempts.
 */
export class UnrecoverableStageError extends Error {
  override readonly name = 'UnrecoverableStageError';
  constructor(
    message: string,
    readonly code = 'AGENT_UNRECOVERABLE',
  ) {
    super(message);
  }
}

/** True for an UnrecoverableStageError, also one that crossed a process boundary as data. */
export function isUnrecoverable(error: unknown): boolean {
  return error instanceof UnrecoverableStageError || (error instanceof Error && error.name === 'UnrecoverableStageError');
}
