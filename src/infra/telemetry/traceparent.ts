// The W3C `traceparent` of the active context, for the stage envelope's header (the job's options
// carry the trace for bullmq-otel; the envelope keeps it readable as data), and the way back: a
// job run in the trace its envelope carries when its worker makes no spans of its own.
import { context, propagation, trace } from '@opentelemetry/api';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The active trace context as a `traceparent` value; undefined when tracing is off or no span is active. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const value = carrier.traceparent;
  return value && TRACEPARENT.test(value) ? value : undefined;
}

/**
 * Runs `fn` in the trace of a job's `traceparent` when no span is active (its worker has no BullMQ
 * telemetry, see bullmqTelemetryWhenExported): log lines then carry that trace id, and the jobs
 * `fn` adds carry the same traceparent on. With an active span (the adapter's), `fn` runs as is.
 */
export function inJobTrace<T>(traceparent: string | undefined, fn: () => T): T {
  if (!traceparent || trace.getActiveSpan()) return fn();
  return context.with(propagation.extract(context.active(), { traceparent }), fn);
}
