// Tracing settings, the trace ids log lines get, and the rule that every BullMQ Queue and Worker
// is built with the bullmq-otel adapter (a queue without it would cut traces in two); the agent
// workers only while spans are exported, running each job in the trace its envelope carries.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { expect } from 'chai';
import { parseConfig } from '../../src/config.js';
import { bullmqTelemetryWhenExported } from '../../src/infra/telemetry/bullmq-telemetry.js';
import { activeTraceIds, spansExported, startTracing, tracesEndpoint } from '../../src/infra/telemetry/tracing.js';
import { activeTraceparent, inJobTrace } from '../../src/infra/telemetry/traceparent.js';

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });

describe('tracing (unit)', () => {
  it('traces go to the signal-specific endpoint, else <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces, else nowhere', () => {
    expect(tracesEndpoint({})).to.equal(undefined);
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).to.equal('http://collector:4318/v1/traces');
    expect(
      tracesEndpoint({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://x.example/otlp/traces',
      }),
    ).to.equal('https://x.example/otlp/traces');
  });

  it('the OTEL_* variables are validated with the rest of the configuration, export off by default', () => {
    const defaults = parseConfig({});
    expect(defaults.OTEL_SDK_DISABLED).to.equal('false');
    expect(defaults.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal(undefined);
    expect(() => parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).to.throw(
      /OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\) URL/,
    );
    expect(() => parseConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).to.throw(/OTEL_TRACES_SAMPLER/);
    expect(() => parseConfig({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).to.throw(/OTEL_TRACES_SAMPLER_ARG/);
    expect(
      parseConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).OTEL_TRACES_SAMPLER_ARG,
    ).to.equal(0.1);
  });

  it('log lines get the ids of the active span, and none outside a span or with tracing disabled', async () => {
    expect(activeTraceIds()).to.equal(undefined);
    const disabled = startTracing({ serviceName: 'unit', disabled: true, tracesEndpoint: undefined });
    trace.getTracer('unit').startActiveSpan('off', (span) => {
      expect(activeTraceIds()).to.equal(undefined);
      span.end();
    });
    await disabled.shutdown();

    const tracing = startTracing({ serviceName: 'unit', disabled: false, tracesEndpoint: undefined });
    try {
      trace.getTracer('unit').startActiveSpan('on', (span) => {
        const ids = activeTraceIds();
        expect(ids?.traceId)
          .to.equal(span.spanContext().traceId)
          .and.match(/^[0-9a-f]{32}$/);
        expect(ids?.spanId).to.equal(span.spanContext().spanId);
        span.end();
      });
    } finally {
      await tracing.shutdown();
    }
  });

  it('without an exporter spans carry ids but record nothing, unless their caller sampled the trace', async () => {
    const tracing = startTracing({ serviceName: 'unit', disabled: false, tracesEndpoint: undefined });
    try {
      const tracer = trace.getTracer('unit');
      tracer.startActiveSpan('root', (root) => {
        expect(root.isRecording()).to.equal(false);
        expect(root.spanContext().traceFlags & TraceFlags.SAMPLED).to.equal(0);
        expect(activeTraceIds()?.traceId).to.match(/^[0-9a-f]{32}$/);
        // A child (a job's span) continues the same trace.
        const child = tracer.startSpan('child');
        expect(child.spanContext().traceId).to.equal(root.spanContext().traceId);
        child.end();
        root.end();
      });
      const sampledCaller = trace.setSpanContext(context.active(), {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
      const continued = tracer.startSpan('continued', {}, sampledCaller);
      expect(continued.isRecording()).to.equal(true);
      expect(continued.spanContext().traceFlags & TraceFlags.SAMPLED).to.equal(TraceFlags.SAMPLED);
      continued.end();
    } finally {
      await tracing.shutdown();
    }
  });

  it('with an exporter every span is recorded and handed to it', async () => {
    const ended: string[] = [];
    const processor: SpanProcessor = {
      onStart: () => undefined,
      onEnd: (span) => void ended.push(span.name),
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const tracing = startTracing({ serviceName: 'unit', disabled: false, tracesEndpoint: undefined, spanProcessors: [processor] });
    try {
      const span = trace.getTracer('unit').startSpan('exported');
      expect(span.isRecording()).to.equal(true);
      span.end();
      expect(ended).to.deep.equal(['exported']);
    } finally {
      await tracing.shutdown();
    }
  });

  it('the agent workers get the bullmq-otel adapter only while spans are exported', async () => {
    const unexported = startTracing({ serviceName: 'unit', disabled: false, tracesEndpoint: undefined });
    expect(spansExported()).to.equal(false);
    expect(bullmqTelemetryWhenExported()).to.equal(undefined);
    await unexported.shutdown();
    const processor: SpanProcessor = {
      onStart: () => undefined,
      onEnd: () => undefined,
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const exported = startTracing({ serviceName: 'unit', disabled: false, tracesEndpoint: undefined, spanProcessors: [processor] });
    try {
      expect(spansExported()).to.equal(true);
      expect(bullmqTelemetryWhenExported()).to.not.equal(undefined);
    } finally {
      await exported.shutdown();
    }
    expect(spansExported()).to.equal(false);
  });

  it("a job runs in its envelope's trace when no span is active, and in the active span's otherwise", async () => {
    const tracing = startTracing({ serviceName: 'unit', disabled: false, tracesEndpoint: undefined });
    try {
      const carried = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
      const seen = await inJobTrace(carried, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        // Across an await: the log lines' ids, and the traceparent of the jobs the run adds.
        return { ids: activeTraceIds(), traceparent: activeTraceparent() };
      });
      expect(seen).to.deep.equal({
        ids: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' },
        traceparent: carried,
      });
      expect(activeTraceIds()).to.equal(undefined);
      expect(inJobTrace(undefined, () => activeTraceIds())).to.equal(undefined);
      trace.getTracer('unit').startActiveSpan('adapter', (span) => {
        expect(inJobTrace(carried, () => activeTraceIds()?.spanId)).to.equal(span.spanContext().spanId);
        span.end();
      });
    } finally {
      await tracing.shutdown();
    }
  });

  it('every BullMQ Queue and Worker in src/ is built with the bullmq-otel adapter', () => {
    const constructions: string[] = [];
    for (const file of ['src'].flatMap(sourceFiles)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/new (Queue|Worker)<[^>]*>\(/g)) {
        // The options object ends the call: the construction runs to the matching parenthesis.
        let depth = 0;
        let end = match.index + match[0].length - 1;
        for (; end < text.length; end++) {
          if (text[end] === '(') depth++;
          else if (text[end] === ')' && --depth === 0) break;
        }
        const call = text.slice(match.index, end + 1);
        constructions.push(file);
        expect(call, `${file}: ${match[0]}`).to.match(/telemetry: bullmqTelemetry(WhenExported)?\(\)/);
      }
    }
    expect(constructions.length).to.be.at.least(7);
  });
});
