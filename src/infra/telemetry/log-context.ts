// Per-request / per-job log context carried by AsyncLocalStorage, so every line written while
// handling one request or job carries its ids.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface LogContext {
  requestId?: string;
  pipelineId?: string;
  stageId?: string;
  stageKey?: string;
  jobId?: string;
  decisionId?: string;
}

export const logContext = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...context }, fn);
}
