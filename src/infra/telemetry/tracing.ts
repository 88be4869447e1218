// OpenTelemetry tracing for one process: the NodeSDK (W3C trace context, AsyncLocalStorage
// context), so traces propagate through jobs and every log line of a request or job carries its
// trace id; spans are recorded and leave the process only when an OTLP endpoint is configured.
// Started by each entry point before any queue exists.
import { context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';

export interface TracingSettings {
  /** `service.name` of the spans. */
  serviceName: string;
  /** OTEL_SDK_DISABLED: no provider at all (no spans, no trace ids in logs). */
  disabled: boolean;
  /** Where spans go (OTLP/HTTP JSON), e.g. http://otel-collector:4318/v1/traces; undefined: nowhere. */
  tracesEndpoint: string | undefined;
  /** Tests add their own (an in-memory exporter); replaces the OTLP exporter. */
  spanProcessors?: SpanProcessor[];
}

export interface Tracing {
  /** Flushes pending spans and unregisters the provider. */
  shutdown(): Promise<void>;
}

/** The traces URL from the OTLP settings: the signal-specific one wins, else `<base>/v1/traces`. */
export function tracesEndpoint(config: {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
}): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT) return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/** The OTEL_* part of the configuration. */
export interface TracingConfig {
  OTEL_SDK_DISABLED: 'true' | 'false';
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

/** Starts tracing as configured; `serviceName` names the process's role unless OTEL_SERVICE_NAME does. */
export function startTracingFromConfig(config: TracingConfig, serviceName: string): Tracing {
  return startTracing({
    serviceName: config.OTEL_SERVICE_NAME ?? serviceName,
    disabled: config.OTEL_SDK_DISABLED === 'true',
    tracesEndpoint: tracesEndpoint(config),
  });
}

/** Whether this process's spans go anywhere (set by startTracing): see spansExported. */
let exportingSpans = false;

/**
 * True while tracing runs with an exporter. Without one, spans record nothing, so code on a hot
 * path may skip making them and only carry the trace context (bullmq-telemetry.ts).
 */
export function spansExported(): boolean {
  return exportingSpans;
}

export function startTracing(settings: TracingSettings): Tracing {
  if (settings.disabled) return { shutdown: async () => undefined };
  const exporting = settings.spanProcessors !== undefined || settings.tracesEndpoint !== undefined;
  exportingSpans = exporting;
  // NodeSDK registers a tracer provider only when it has a span processor, so without an exporter
  // a no-op one keeps the provider: its spans carry ids (trace ids in logs, context through jobs)
  // but record nothing, since nothing would read what they record; a caller's sampled trace is
  // still recorded (parent-based). With an exporter, the SDK's sampler (OTEL_TRACES_SAMPLER).
  const spanProcessors = settings.spanProcessors ?? [
    settings.tracesEndpoint
      ? new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.tracesEndpoint }) })
      : new NoopSpanProcessor(),
  ];
  const sampler: Sampler | undefined = exporting ? undefined : new ParentBasedSampler({ root: new AlwaysOffSampler() });
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    spanProcessors,
    ...(sampler ? { sampler } : {}),
    // Metrics are prom-client's (/metrics) and logs winston's (stdout): the SDK takes neither.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return {
    async shutdown() {
      exportingSpans = false;
      await sdk.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The ids of the span active in this async context, for log lines; undefined outside any. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : undefined;
}
