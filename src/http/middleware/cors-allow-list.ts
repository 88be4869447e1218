// CORS for the browser origins an operator lists (CORS_ORIGINS); none by default, so no page on
// another origin can read an answer. Preflights are answered here, before authentication: a
// browser sends them without credentials.
import cors from 'cors';
import type { RequestHandler } from 'express';

/** Headers a browser client sends and reads (the key, idempotency, Prefer, request ids, rate limits). */
const ALLOWED_HEADERS = ['Authorization', 'X-API-Key', 'Content-Type', 'Idempotency-Key', 'Prefer', 'X-Request-Id', 'Last-Event-ID'];
const EXPOSED_HEADERS = ['X-Request-Id', 'Location', 'Preference-Applied', 'Retry-After', 'RateLimit', 'RateLimit-Policy'];

/** Undefined when no origin is allowed: nothing is mounted and no response carries CORS headers. */
export function corsAllowList(origins: readonly string[]): RequestHandler | undefined {
  if (origins.length === 0) return undefined;
  const allowed = new Set(origins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
}
