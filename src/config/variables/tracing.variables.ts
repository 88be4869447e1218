// OpenTelemetry tracing (docs/observability.md#tracing); the SDK reads some of these itself.
import { decimal, httpUrl, matching, oneOf, optional } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const tracingVariables = defineGroup('Tracing', {
  OTEL_SDK_DISABLED: {
    ...oneOf(['true', 'false'] as const),
    default: 'false',
    description: '`true`: no tracing at all (no spans, no trace ids on log lines, `traceparent` ignored).',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    ...optional(httpUrl()),
    url: true,
    description:
      'OpenTelemetry collector base URL (OTLP over HTTP, JSON); spans go to `<it>/v1/traces`. Unset, spans are recorded but leave no process (trace ids are still on log lines and still travel with jobs). See [observability.md](observability.md#tracing).',
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    ...optional(httpUrl()),
    url: true,
    description: 'The full traces URL, when it is not `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`; wins over it.',
  },
  OTEL_SERVICE_NAME: {
    ...optional(matching(/^[\w.-]{1,100}$/, 'letters, digits, _, . and - (1-100)', 'letters, digits, `_`, `.`, `-` (1–100)')),
    description:
      '`service.name` of the spans; unset, each process names itself: `agentic-sdlc-api`, `agentic-sdlc-worker` or `agentic-sdlc` (`npm start`). `OTEL_RESOURCE_ATTRIBUTES` adds attributes.',
  },
  OTEL_TRACES_SAMPLER: {
    ...optional(
      oneOf([
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ] as const),
    ),
    example: 'parentbased_always_on',
    readByLibrary: true,
    description:
      "OpenTelemetry's sampler (unset: `parentbased_always_on`); validated at boot, read by the SDK. A client's sampled `traceparent` is followed by the `parentbased_*` samplers.",
  },
  OTEL_TRACES_SAMPLER_ARG: {
    ...optional(decimal(0, 1)),
    readByLibrary: true,
    description: 'The ratio of the `*traceidratio` samplers, 0 to 1 (`0.1` keeps 10% of traces).',
  },
});
