// The one error handler: every error becomes an error of the hierarchy (src/domain/errors.ts)
// and answers with the status of its category (HTTP_STATUS_BY_CATEGORY), as JSON
// `{ error: { code, message, requestId, details, category, retryable, hint } }`. Body-parser
// errors get a JSON 400/413/415, a statement timeout 503 DATABASE_TIMEOUT, an unreachable
// dependency 503 DEPENDENCY_UNAVAILABLE; anything else is a plain 500 with no details. Never
// HTML, never a stack.
import type { NextFunction, Request, Response } from 'express';
import {
  AppError,
  DatabaseTimeoutError,
  InternalError,
  NotFoundError,
  UnavailableError,
  ValidationError,
  type ErrorCategory,
  type ErrorDetail,
} from '../../domain/errors.js';
import { isNetworkError } from '../../domain/network-errors.js';
import { isStatementTimeout, isTransactionTimeout } from '../../domain/statement-timeout.js';
import type { Logger } from '../../domain/logger.js';

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    requestId: string;
    details: ErrorDetail[];
    category: ErrorCategory;
    retryable: boolean;
    hint: string;
  };
}

/**
 * Details an answer lists at most: a body with 60,000 unknown keys would otherwise be answered
 * with one detail each, an answer four times the request's size. The rest are counted in one.
 */
export const MAX_ERROR_DETAILS = 100;

function listedDetails(details: ErrorDetail[]): ErrorDetail[] {
  if (details.length <= MAX_ERROR_DETAILS) return details;
  const more = details.length - MAX_ERROR_DETAILS;
  return [
    ...details.slice(0, MAX_ERROR_DETAILS),
    {
      field: '(more)',
      code: 'too_many_problems',
      message: `${more} more problem${more === 1 ? '' : 's'} not listed; fix these and send again`,
    },
  ];
}

/** The JSON body of an error of the hierarchy (also written by the server for Node's own refusals). */
export function errorBody(error: AppError, requestId: string): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      requestId,
      details: listedDetails(error.details),
      category: error.category,
      retryable: error.retryable,
      hint: error.hint,
    },
  };
}

/** Writes an error of the hierarchy: its status, its Retry-After when it has one, and the JSON body. */
export function sendAppError(req: Request, res: Response, error: AppError) {
  if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  res.status(error.status).json(errorBody(error, req.requestId));
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  /** body-parser's parse failure: the raw body. */
  body?: unknown;
  /** body-parser's 413: the configured limit and the announced length, in bytes. */
  limit?: number;
  length?: number;
}

/** The JSON type of a body that parses but is not an object or array (`null`, `"x"`, `42`); undefined otherwise. */
function bareJsonPrimitive(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(body);
    if (value === null) return 'null';
    return typeof value === 'object' ? undefined : typeof value;
  } catch {
    return undefined;
  }
}

/** Body-parser and other http-errors exposed to clients, as errors of the hierarchy; undefined for anything else. */
function fromHttpError(error: unknown): AppError | undefined {
  const http = error as HttpishError;
  const message = error instanceof Error ? error.message : String(error);
  if (http.type === 'entity.too.large') {
    const size = typeof http.length === 'number' ? `${http.length} bytes` : 'larger than that';
    return new ValidationError(
      'PAYLOAD_TOO_LARGE',
      `The request body is ${size}; HTTP_BODY_LIMIT is ${http.limit ?? '?'} bytes. Nothing was recorded.`,
      { details: [{ field: '(body)', message: `at most ${http.limit ?? '?'} bytes (HTTP_BODY_LIMIT)` }] },
    );
  }
  if (http.type === 'entity.parse.failed') {
    const primitive = bareJsonPrimitive(http.body);
    // body-parser's strict mode reports `null` or `42` as "not valid JSON", which they are.
    if (primitive) {
      return new ValidationError('MALFORMED_JSON', 'The request body must be a JSON object.', {
        details: [{ field: '(body)', message: `expected a JSON object, received ${primitive}` }],
      });
    }
    return new ValidationError('MALFORMED_JSON', 'The request body is not valid JSON.', { details: [{ field: '(body)', message }] });
  }
  const status = http.status ?? http.statusCode;
  // The router could not decode a path parameter (`/pipelines/%E0%A4%A`): the client's mistake.
  if (error instanceof URIError && status === 400) {
    return new ValidationError('MALFORMED_PATH', 'The path is not valid percent-encoded UTF-8.', {
      details: [{ field: '(path)', message: 'bad percent-encoding' }],
    });
  }
  if (status === 415) return new ValidationError('UNSUPPORTED_MEDIA_TYPE', message, { details: [{ field: 'Content-Type', message }] });
  if (status && status >= 400 && status < 500 && http.expose) return new ValidationError('BAD_REQUEST', message);
  return undefined;
}

export function errorHandler({ logger }: { logger: Logger }) {
  return function handleError(error: unknown, req: Request, res: Response, _next: NextFunction) {
    if (res.headersSent) return;
    if (error instanceof AppError) {
      sendAppError(req, res, error);
      return;
    }
    const known = fromHttpError(error);
    if (known) {
      sendAppError(req, res, known);
      return;
    }
    // Postgres cancelled a statement at DATABASE_STATEMENT_TIMEOUT_MS: the log names the statement, the client gets a code.
    if (isStatementTimeout(error)) {
      logger.warn('database statement timed out', { error: (error as Error).message });
      const message = 'A database statement ran longer than the statement timeout and was cancelled; retry shortly.';
      sendAppError(req, res, new DatabaseTimeoutError('DATABASE_TIMEOUT', message, { cause: error }));
      return;
    }
    // Prisma's own limit on a transaction (5 s) came first: as slow a database, answered the same way.
    if (isTransactionTimeout(error)) {
      logger.warn('database transaction timed out', { error: (error as Error).message });
      const message = 'A database transaction ran past its time limit and was rolled back; retry shortly.';
      sendAppError(req, res, new DatabaseTimeoutError('DATABASE_TIMEOUT', message, { cause: error }));
      return;
    }
    // Redis or Postgres unreachable, or Postgres stopping under a request in flight.
    if (isNetworkError(error)) {
      logger.warn('dependency unavailable', { error: (error as Error).message });
      sendAppError(
        req,
        res,
        new UnavailableError('DEPENDENCY_UNAVAILABLE', 'A backing service (Redis or Postgres) is unreachable; retry shortly.', {
          cause: error,
        }),
      );
      return;
    }
    logger.error('unhandled error in request', {
      error: error instanceof Error ? { message: error.message, stack: error.stack } : String(error),
    });
    sendAppError(req, res, new InternalError('INTERNAL', 'An unexpected error occurred.'));
  };
}

export function notFoundHandler() {
  return function handleNotFound(req: Request, res: Response) {
    sendAppError(req, res, new NotFoundError('ROUTE_NOT_FOUND', `No route for ${req.method} ${req.path}.`));
  };
}
