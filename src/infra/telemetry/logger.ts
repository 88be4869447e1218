// winston JSON logs on stdout; each line carries the ids of the request or job it belongs to,
// and secrets are masked before a line is written.
import winston from 'winston';
import type { AgentLogger } from '../../agents/define-agent.js';
import { logContext } from './log-context.js';
import { activeTraceIds } from './tracing.js';

export type Logger = AgentLogger & { close(): void };

// The trace id of the span active when the line is written (a line written after the span's
// async context is gone, such as "request completed", passes its own).
const addContext = winston.format((info) => {
  Object.assign(info, logContext.getStore());
  const ids = activeTraceIds();
  if (ids) {
    info.traceId ??= ids.traceId;
    info.spanId ??= ids.spanId;
  }
  return info;
});

/** Keys whose values never reach a log line, at any depth. */
export const SECRET_KEY_PATTERN = /(secret|token|password|passwd|authorization|api[-_]?key|cookie)/i;
export const MASK = '***';
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]*):([^@/?#\s]*)@/gi;

/** `redis://user:pass@host` → `redis://user:***@host`, wherever it appears in a string. */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${MASK}@`);
}

/** A copy of `value` with secret-named keys masked and URL credentials hidden, at any depth. */
export function maskSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, seen));
  if (value instanceof Error) {
    return { name: value.name, message: maskUrlCredentials(value.message), ...(value.stack ? { stack: maskUrlCredentials(value.stack) } : {}) };
  }
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY_PATTERN.test(key) && item !== undefined && item !== null ? MASK : maskSecrets(item, seen);
  }
  return out;
}

/** Masks the line in place (winston's info object carries symbol keys that must be kept). */
const maskFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    info[key] = SECRET_KEY_PATTERN.test(key) && info[key] !== undefined && info[key] !== null ? MASK : maskSecrets(info[key]);
  }
  return info;
});

export function createLogger(options: { level: string; service: string; silent?: boolean; transports?: winston.LoggerOptions['transports'] }): Logger {
  const logger = winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    defaultMeta: { service: options.service },
    format: winston.format.combine(addContext(), winston.format.errors({ stack: true }), maskFormat(), winston.format.timestamp(), winston.format.json()),
    transports: options.transports ?? [new winston.transports.Console()],
  });
  return {
    debug: (message, meta) => logger.debug(message, meta),
    info: (message, meta) => logger.info(message, meta),
    warn: (message, meta) => logger.warn(message, meta),
    error: (message, meta) => logger.error(message, meta),
    close: () => logger.close(),
  };
}
