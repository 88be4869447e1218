// winston JSON logs on stdout; each line carries the ids of the request or job it belongs to.
import winston from 'winston';
import type { AgentLogger } from '../../agents/define-agent.js';
import { logContext } from './log-context.js';

export type Logger = AgentLogger & { close(): void };

const addContext = winston.format((info) => Object.assign(info, logContext.getStore()));

export function createLogger(options: { level: string; service: string; silent?: boolean }): Logger {
  const logger = winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    defaultMeta: { service: options.service },
    format: winston.format.combine(addContext(), winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
  return {
    debug: (message, meta) => logger.debug(message, meta),
    info: (message, meta) => logger.info(message, meta),
    warn: (message, meta) => logger.warn(message, meta),
    error: (message, meta) => logger.error(message, meta),
    close: () => logger.close(),
  };
}
