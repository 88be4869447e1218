// The one error handler: AppErrors answer with their status and code; body-parser errors get
// a JSON 400/413; anything else is a plain 500 with no details. Never HTML, never a stack.
import type { NextFunction, Request, Response } from 'express';
import { AppError, UnavailableError, type ErrorDetail } from '../../domain/errors.js';
import type { Logger } from '../../infra/telemetry/logger.js';

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details: ErrorDetail[] };
}

export function sendError(req: Request, res: Response, status: number, code: string, message: string, details: ErrorDetail[] = []) {
  const body: ErrorBody = { error: { code, message, requestId: req.requestId, details } };
  res.status(status).json(body);
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/** True when a dependency connection failed (Redis or Postgres unreachable). */
function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /ECONNREFUSED|Connection is closed|Stream isn't writeable|enableOfflineQueue|ETIMEDOUT|Can't reach database|ENOTFOUND/i.test(message);
}

export function errorHandler({ logger }: { logger: Logger }) {
  return function handleError(error: unknown, req: Request, res: Response, _next: NextFunction) {
    if (res.headersSent) return;
    if (error instanceof AppError) {
      if (error instanceof UnavailableError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
      sendError(req, res, error.status, error.code, error.message, error.details);
      return;
    }
    const http = error as HttpishError;
    const status = http.status ?? http.statusCode;
    if (http.type === 'entity.too.large') {
      sendError(req, res, 413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than the server accepts.', [{ field: '(body)', message: 'too large' }]);
      return;
    }
    if (http.type === 'entity.parse.failed') {
      sendError(req, res, 400, 'MALFORMED_JSON', 'The request body is not valid JSON.', [{ field: '(body)', message: (error as Error).message }]);
      return;
    }
    if (status === 415) {
      sendError(req, res, 415, 'UNSUPPORTED_MEDIA_TYPE', (error as Error).message, [{ field: 'Content-Type', message: (error as Error).message }]);
      return;
    }
    if (status && status >= 400 && status < 500 && http.expose) {
      sendError(req, res, status, 'BAD_REQUEST', (error as Error).message);
      return;
    }
    if (isConnectionError(error)) {
      logger.warn('dependency unavailable', { error: (error as Error).message });
      res.setHeader('Retry-After', '5');
      sendError(req, res, 503, 'DEPENDENCY_UNAVAILABLE', 'A backing service (Redis or Postgres) is unreachable; retry shortly.');
      return;
    }
    logger.error('unhandled error in request', { error: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) });
    sendError(req, res, 500, 'INTERNAL', 'An unexpected error occurred.');
  };
}

export function notFoundHandler() {
  return function handleNotFound(req: Request, res: Response) {
    sendError(req, res, 404, 'ROUTE_NOT_FOUND', `No route for ${req.method} ${req.path}.`);
  };
}
