// The agent queues without the bullmq-otel adapter (spans not exported in this process) still hand
// the trace on: the job carries the producer's traceparent in its envelope and in the trace
// metadata the adapter would have written, so a worker that exports spans continues the trace.
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { Worker } from 'bullmq';
import { expect } from 'chai';
import { createAgentQueues } from '../../src/infra/queue/agent.queues.js';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { bullmqTelemetry } from '../../src/infra/telemetry/bullmq-telemetry.js';
import { startTracing } from '../../src/infra/telemetry/tracing.js';
import { inJobTrace } from '../../src/infra/telemetry/traceparent.js';
import { deleteKeys, testPrefix } from '../support/harness.js';
import { openTestRedis, runRedisUrl } from '../support/test-redis.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const CARRIED = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

describe('stage jobs carry their trace without the BullMQ adapter (integration, real Redis)', function () {
  this.timeout(30_000);
  const prefix = testPrefix();
  let redis: RedisClient;

  before(() => {
    redis = openTestRedis();
  });
  after(async () => {
    await deleteKeys(runRedisUrl(), prefix);
    redis.disconnect();
  });

  it("an unexporting producer's job is continued by an exporting worker, under the producer's span", async () => {
    // Producer: tracing on, no exporter, so the agent queue has no adapter.
    const producerTracing = startTracing({ serviceName: 'producer', disabled: false, tracesEndpoint: undefined });
    const queues = createAgentQueues(redis, prefix, ['noop']);
    try {
      expect(queues.queueFor('noop').opts.telemetry).to.equal(undefined);
      const stage = {
        id: '7d1f7bde-6c1b-4a55-9e29-2a3c9b6c0f10',
        key: 'build',
        agent: 'noop',
        retry: { attempts: 1, backoff: { type: 'fixed' as const, delayMs: 100, jitter: 0 } },
        priority: 'normal' as const,
      };
      await inJobTrace(CARRIED, () => queues.dispatch('0c6f2f56-5d4b-4b7e-8f0e-3b1d2a4c5e6f', [stage]));
      const job = await queues.queueFor('noop').getJob(stage.id);
      expect(job?.data).to.include({ traceparent: CARRIED });
      expect(JSON.parse(job?.opts.telemetry?.metadata ?? '{}')).to.deep.equal({ traceparent: CARRIED });
    } finally {
      await queues.close();
      await producerTracing.shutdown();
    }

    // Consumer: a worker process that exports spans, with the adapter.
    const memory = new InMemorySpanExporter();
    const consumerTracing = startTracing({
      serviceName: 'consumer',
      disabled: false,
      tracesEndpoint: undefined,
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
    let worker: Worker | undefined;
    try {
      const seen = new Promise<string | undefined>((resolve) => {
        worker = new Worker(agentQueueName('noop'), async () => resolve(trace.getSpan(context.active())?.spanContext().traceId), {
          connection: redis,
          prefix,
          telemetry: bullmqTelemetry(),
        });
      });
      expect(await seen).to.equal(TRACE_ID);
      await worker!.close();
      // The process span ends after the job is moved to completed, which close() may not wait for.
      const processedSpan = () => memory.getFinishedSpans().find((span) => span.name === `process ${agentQueueName('noop')}`);
      for (let i = 0; i < 100 && !processedSpan(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const processed = processedSpan();
      expect(processed?.spanContext().traceId).to.equal(TRACE_ID);
      expect(processed?.parentSpanContext?.spanId).to.equal(PARENT_SPAN_ID);
    } finally {
      await worker?.close();
      await consumerTracing.shutdown();
    }
  });
});
