// The one logging interface: agents, services, jobs and infra write through it, and the process
// logger (infra/telemetry/logger.ts) implements it. Here so no layer imports another to log.

export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  /** Between info and debug: routine request lines. Optional: a logger without it logs them at debug. */
  http?(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}
