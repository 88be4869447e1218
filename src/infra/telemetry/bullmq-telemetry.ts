// The BullMQ telemetry adapter (bullmq-otel) that every Queue and Worker gets: a job carries its
// producer's trace context in its options, and its processing span continues that trace, so one
// trace runs from the API request through every stage and control job, across processes.
//
// Made per Queue/Worker, after startTracing(): bullmq-otel is loaded as CommonJS and so gets its
// own copy of @opentelemetry/api, whose tracer, if asked for before the SDK registers its
// provider, stays a no-op for good. Hence "tracing starts before any queue exists".
import { BullMQOtel } from 'bullmq-otel';

export function bullmqTelemetry(): BullMQOtel {
  return new BullMQOtel({ tracerName: 'agentic-sdlc' });
}
