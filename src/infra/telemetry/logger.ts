// winston logs on stdout, JSON (production) or one readable line per event (LOG_FORMAT=pretty,
// pretty-format.ts); each line carries the ids of the request or job it belongs to, and secrets
// are masked before a line is written (src/domain/redact.ts says how).
import winston from 'winston';
import type { Logger as LoggerPort } from '../../domain/logger.js';
import { logContext } from './log-context.js';
import { activeTraceIds } from './tracing.js';
import { createRedactor, MASK, redactText } from '../../domain/redact.js';
import { prettyFormat } from './pretty-format.js';

export type Logger = LoggerPort & { close(): void };

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
type Redact = (text: string) => string;

/**
 * A copy of `value` with secret-named keys masked and every string redacted (URLs without userinfo
 * or query, API keys, Bearer credentials, JWTs, and whatever `redact` knows), at any depth.
 */
export function maskSecrets(value: unknown, redact: Redact = redactText, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, redact, seen));
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message), ...(value.stack ? { stack: redact(value.stack) } : {}) };
  }
  if (value instanceof Date) return value;
  // A URL object has no own keys: it would be written as {} (or, through toJSON, whole).
  if (value instanceof URL) return redact(value.href);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY_PATTERN.test(key) && item !== undefined && item !== null ? MASK : maskSecrets(item, redact, seen);
  }
  return out;
}

/**
 * Masks the line in place (winston's info object carries symbol keys that must be kept). Every
 * string key but `level` goes through it (message, meta, an error's message and stack), so no
 * call site can forget.
 */
const maskFormat = (redact: Redact) =>
  winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (key === 'level') continue;
      info[key] = SECRET_KEY_PATTERN.test(key) && info[key] !== undefined && info[key] !== null ? MASK : maskSecrets(info[key], redact);
    }
    return info;
  })();

export interface LoggerOptions {
  level: string;
  service: string;
  silent?: boolean;
  transports?: winston.LoggerOptions['transports'];
  /** Values masked wherever they appear in a line: configSecrets(config), every variable the registry marks secret. */
  secrets?: readonly string[];
  /** `json` (default) or `pretty`: `time level message key=value…`, coloured when stdout is a terminal. */
  format?: 'json' | 'pretty';
}

export function createLogger(options: LoggerOptions): Logger {
  const logger = winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      addContext(),
      winston.format.errors({ stack: true }),
      maskFormat(createRedactor(options.secrets)),
      winston.format.timestamp(),
      options.format === 'pretty' ? prettyFormat(process.stdout.isTTY) : winston.format.json(),
    ),
    transports: options.transports ?? [new winston.transports.Console()],
  });
  // winston runs every format (context, masking, JSON) on each line before its transports drop
  // the lines below their level: the `http` line of every request, at the default `info`, cost
  // that for nothing. Asked first, a disabled level costs a comparison.
  const at =
    (level: 'debug' | 'info' | 'http' | 'warn' | 'error') =>
    (message: string, meta?: Record<string, unknown>): void => {
      if (logger.isLevelEnabled(level)) logger.log(level, message, meta);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    http: at('http'),
    warn: at('warn'),
    error: at('error'),
    close: () => logger.close(),
  };
}
