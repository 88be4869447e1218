// The BullMQ telemetry adapter (bullmq-otel) that every Queue and Worker gets (the agent ones
// while spans are exported, below): a job carries its producer's trace context in its options,
// and its processing span continues that trace, so one trace runs from the API request through
// every stage and control job, across processes.
//
// Made per Queue/Worker, after startTracing(): bullmq-otel is loaded as CommonJS and so gets its
// own copy of @opentelemetry/api, whose tracer, if asked for before the SDK registers its
// provider, stays a no-op for good. Hence "tracing starts before any queue exists".
import { BullMQOtel } from 'bullmq-otel';
import { spansExported } from './tracing.js';

export function bullmqTelemetry(): BullMQOtel {
  return new BullMQOtel({ tracerName: 'agentic-sdlc' });
}

/**
 * For the agent queues and workers, whose jobs are the stages: the adapter only while spans are
 * exported. Without an exporter its spans (an `add`, a `process` and a `getNextJob` per stage,
 * each with ids, context and attributes) record nothing, and they cost 2–3% of a chain stage's
 * CPU in `npm run bench`. The trace goes on without them: the queue writes the job's trace
 * metadata itself (agent.queues.ts), and the worker runs each job in the trace its envelope
 * carries (`inJobTrace`, traceparent.ts), so log lines and the jobs it adds stay in the trace,
 * and a process that does export (an API or a worker with an OTLP endpoint) continues it.
 */
export function bullmqTelemetryWhenExported(): BullMQOtel | undefined {
  return spansExported() ? bullmqTelemetry() : undefined;
}
