// Tracing across processes: the API (this process, spans in an in-memory exporter) continues the
// client's W3C traceparent; a worker process (spans exported over OTLP/HTTP to a stand-in
// collector, a local HTTP server) runs every stage and the control jobs in the same trace, and
// every log line of that work carries the trace id; so does every line of a worker that exports
// nothing (its agent jobs run in the trace their envelopes carry, without BullMQ's spans).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import winston from 'winston';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { startTracing, type Tracing } from '../../src/infra/telemetry/tracing.js';
import { CONTROL_QUEUE, agentQueueName } from '../../src/infra/queue/queue-names.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';
import { spawnWorker, type WorkerProcess } from '../support/processes.js';

interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

/** A stand-in OpenTelemetry collector: keeps the spans of every OTLP/HTTP JSON export it receives. */
async function startCollector(): Promise<{ url: string; spans: CollectedSpan[]; close(): Promise<void> }> {
  const spans: CollectedSpan[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        const payload = JSON.parse(body) as Loose;
        for (const rs of payload.resourceSpans ?? []) {
          const service = (rs.resource?.attributes ?? []).find((a: Loose) => a.key === 'service.name')?.value?.stringValue;
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const attributes = Object.fromEntries((s.attributes ?? []).map((a: Loose) => [a.key, Object.values(a.value ?? {})[0]]));
              spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, attributes });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const jsonLines = (text: string): Loose[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Loose);

describe('tracing across processes (e2e)', function () {
  this.timeout(90_000);
  let tracing: Tracing;
  const memory = new InMemorySpanExporter();
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let h: Harness;
  let worker: WorkerProcess;
  let apiLog = '';

  before(async () => {
    collector = await startCollector();
    tracing = startTracing({
      serviceName: 'test-api',
      disabled: false,
      tracesEndpoint: undefined,
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        apiLog += chunk.toString();
        done();
      },
    });
    h = await startHarness({
      workers: 0,
      logger: createLogger({ level: 'http', service: 'api', transports: [new winston.transports.Stream({ stream: sink })] }),
    });
    worker = spawnWorker(h.config, ['--concurrency', '4'], { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, LOG_LEVEL: 'info' });
  });
  after(async () => {
    await worker?.stop('SIGKILL');
    await h?.close();
    await tracing?.shutdown();
    await collector?.close();
  });

  it("one trace, continued from the client's traceparent, covers the request, every stage, the next stages and the control jobs", async () => {
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/pipelines',
      { template: 'smoke', input: { project: 'traced' } },
      { traceparent: `00-${traceId}-${clientSpanId}-01` },
    );
    expect(created.status).to.equal(202);
    const pipelineId = created.body.id as string;
    const done = await waitForPipeline(h.baseUrl, pipelineId);
    expect(done.status).to.equal('succeeded');
    // SIGTERM: the worker drains and its tracing shutdown flushes the batch to the collector.
    expect(await worker.stop('SIGTERM')).to.equal(0);

    // This process: the server span continues the client's span; the root stage's job is added under it.
    const apiSpans = memory.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const server = apiSpans.find((s) => s.name === 'POST /api/v1/pipelines');
    expect(server, apiSpans.map((s) => s.name).join(', ')).to.not.equal(undefined);
    expect(server!.parentSpanContext?.spanId).to.equal(clientSpanId);
    expect(server!.attributes['http.route']).to.equal('/api/v1/pipelines');
    expect(server!.attributes['http.response.status_code']).to.equal(202);
    expect(created.headers.get('traceresponse')).to.equal(`00-${traceId}-${server!.spanContext().spanId}-01`);
    const apiAdds = apiSpans.filter((s) => s.name.startsWith('add') && s.parentSpanContext?.spanId === server!.spanContext().spanId);
    expect(apiAdds.map((s) => s.attributes['bullmq.queue.name'])).to.include(agentQueueName('noop'));

    // The worker process: every stage's job, and the control jobs, processed in the same trace.
    const workerSpans = collector.spans.filter((s) => s.traceId === traceId);
    expect(workerSpans.length, `worker exported ${collector.spans.length} spans`).to.be.above(0);
    expect(new Set(workerSpans.map((s) => s.service))).to.deep.equal(new Set(['agentic-sdlc-worker']));
    const processed = workerSpans.filter((s) => s.name.startsWith('process'));
    const stageJobIds = (done.stages as Loose[]).map((s) => s.jobId ?? s.id);
    const processedJobIds = new Set(processed.map((s) => String(s.attributes['bullmq.job.id'])));
    for (const jobId of stageJobIds) expect(processedJobIds, `stage job ${jobId}`).to.include(String(jobId));
    expect(
      processed.some((s) => s.name === `process ${CONTROL_QUEUE}`),
      processed.map((s) => s.name).join(', '),
    ).to.equal(true);
    // The root stage's processing span is a child of the API's add span: the link between the processes.
    const apiAddIds = new Set(apiAdds.map((s) => s.spanContext().spanId));
    expect(processed.some((s) => apiAddIds.has(s.parentSpanId))).to.equal(true);
    // A next stage's job was added while its predecessor was processed, in the worker.
    const byId = new Map(workerSpans.map((s) => [s.spanId, s]));
    const nextStage = processed.find((s) => {
      const add = byId.get(s.parentSpanId);
      return add?.name.startsWith('add') && byId.get(add.parentSpanId)?.name.startsWith('process');
    });
    expect(nextStage, 'a stage job whose add span sits under another job’s processing span').to.not.equal(undefined);

    // Logs: every line about this pipeline, in both processes, carries the trace id.
    const workerLines = jsonLines(worker.output()).filter((l) => l.pipelineId === pipelineId);
    expect(workerLines.length).to.be.above(0);
    for (const line of workerLines) expect(line.traceId, JSON.stringify(line)).to.equal(traceId);
    const requestLine = jsonLines(apiLog).find(
      (l) => l.message === 'request completed' && l.method === 'POST' && l.path === '/api/v1/pipelines',
    );
    expect(requestLine?.traceId).to.equal(traceId);
    expect(requestLine?.requestId).to.be.a('string');
  });

  it('a worker that exports nothing still runs every stage and control job in the trace, and logs its id', async () => {
    await worker.stop('SIGKILL');
    worker = spawnWorker(h.config, ['--concurrency', '4'], { LOG_LEVEL: 'info' });
    const traceId = randomBytes(16).toString('hex');
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/pipelines',
      { template: 'smoke', input: { project: 'traced-unexported' } },
      { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    );
    expect(created.status).to.equal(202);
    const pipelineId = created.body.id as string;
    const done = await waitForPipeline(h.baseUrl, pipelineId);
    expect(done.status).to.equal('succeeded');

    const lines = jsonLines(worker.output()).filter((l) => l.pipelineId === pipelineId);
    // Each stage's run, the jobs its predecessors added, and the conductor's pass on the pipeline.
    const finished = lines.filter((l) => l.message === 'stage run finished').map((l) => l.stageKey);
    expect(new Set(finished)).to.deep.equal(new Set((done.stages as Loose[]).map((s) => s.key)));
    expect(lines.some((l) => l.stageKey === undefined)).to.equal(true);
    for (const line of lines) expect(line.traceId, JSON.stringify(line)).to.equal(traceId);
    expect(collector.spans.filter((s) => s.traceId === traceId)).to.deep.equal([]);
  });

  it('without a traceparent (or with a malformed one) the API starts a new trace', async () => {
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/pipelines',
      { template: 'smoke', input: { project: 'untraced' } },
      { traceparent: 'garbage' },
    );
    expect(created.status).to.equal(202);
    const server = memory
      .getFinishedSpans()
      .filter((s) => s.name === 'POST /api/v1/pipelines')
      .at(-1);
    expect(server).to.not.equal(undefined);
    expect(server!.parentSpanContext).to.equal(undefined);
    expect(server!.spanContext().traceId).to.match(/^[0-9a-f]{32}$/);
  });
});
