// The development log format (LOG_FORMAT=pretty): one line per event, `time level message
// key=value…`, readable in a terminal; an error's stack follows on indented lines. Production
// keeps JSON (logger.ts). Runs after masking, so it prints only what JSON would have printed.
import winston from 'winston';

const COLOURS: Record<string, string> = {
  error: '\u001b[31m',
  warn: '\u001b[33m',
  info: '\u001b[32m',
  http: '\u001b[36m',
  debug: '\u001b[90m',
};
const RESET = '\u001b[0m';
// Where winston's transports read the finished line (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message');
/** Keys printed elsewhere on the line, or the same on every line of the process. */
const SKIPPED = new Set(['level', 'message', 'timestamp', 'service', 'stack']);

/** A value as it goes after `key=`: bare when it has no space, quote or `=`, else JSON-quoted. */
export function prettyValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"'=]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? String(value);
}

/** One event as a line: `19:20:01.123 info  message key=value …` (time in UTC), then the stack if any. */
export function prettyLine(info: Record<string, unknown>, colour: boolean): string {
  const time = typeof info.timestamp === 'string' ? info.timestamp.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const level = String(info.level);
  const shown = colour ? `${COLOURS[level] ?? ''}${level.padEnd(5)}${RESET}` : level.padEnd(5);
  const fields = Object.keys(info)
    .filter((key) => !SKIPPED.has(key) && info[key] !== undefined)
    .map((key) => `${key}=${prettyValue(info[key])}`);
  const stack = typeof info.stack === 'string' ? `\n    ${info.stack.split('\n').join('\n    ')}` : '';
  return [time, shown, String(info.message), ...fields].join(' ') + stack;
}

/** The winston format writing prettyLine into the line winston prints. */
export const prettyFormat = (colour: boolean) =>
  winston.format((info) => {
    (info as unknown as Record<symbol, string>)[MESSAGE] = prettyLine(info as Record<string, unknown>, colour);
    return info;
  })();
