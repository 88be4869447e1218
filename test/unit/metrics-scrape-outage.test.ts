// A scrape during a Redis or Postgres outage: the families read from them at scrape time are left
// without samples, and the rest of the registry is still served, so Prometheus sees the API up
// and answering 503s (AgenticApiErrors) rather than a failed scrape (AgenticApiDown). A value that
// could not be read is never reported as 0.
import { expect } from 'chai';
import { createApiMetrics, createWorkerMetrics, METRIC_NAMES } from '../../src/infra/telemetry/metrics.js';
import { promtool, sampleValue } from '../support/promtool.js';

/** The sample lines (not HELP/TYPE) of one family. */
const samples = (text: string, name: string) =>
  text.split('\n').filter((line) => !line.startsWith('#') && (line.startsWith(`${name} `) || line.startsWith(`${name}{`)));

describe('metrics scrape while Redis or Postgres is unreachable', () => {
  it("the API's /metrics still answers, without samples for the queue, breaker and decision gauges, and has them back after", async () => {
    let down = true;
    const whenUp =
      <T>(value: T) =>
      async () => {
        if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
        return value;
      };
    const api = createApiMetrics({
      readBreakers: whenUp({
        noop: {
          closed: 0,
          open: 2,
          half_open: 0,
          holdMs: 5000,
          workers: [
            { workerId: 'a', state: 'open' as const },
            { workerId: 'b', state: 'open' as const },
          ],
        },
      }),
      queueCounts: whenUp({ 'agent.noop': { waiting: 3, failed: 1 } }),
      pendingDecisions: whenUp(4),
    });
    api.observeHttp({ method: 'GET', route: '/api/v1/pipelines', status: 503, seconds: 0.01 });

    const during = await api.metrics();
    expect(sampleValue(during, `${METRIC_NAMES.httpRequestDuration}_count`, { status: '503' })).to.equal(1);
    for (const name of [METRIC_NAMES.queueJobs, METRIC_NAMES.breakerState, METRIC_NAMES.breakerHold, METRIC_NAMES.decisionsPending])
      expect(samples(during, name), name).to.deep.equal([]);
    const lint = await promtool(['check', 'metrics'], during);
    expect(lint.code, lint.stdout + lint.stderr).to.equal(0);

    down = false;
    const after = await api.metrics();
    expect(sampleValue(after, METRIC_NAMES.queueJobs, { queue: 'agent.noop', state: 'waiting' })).to.equal(3);
    expect(sampleValue(after, METRIC_NAMES.breakerState, { agent_type: 'noop', state: 'open' })).to.equal(2);
    expect(sampleValue(after, METRIC_NAMES.breakerHold, { agent_type: 'noop' })).to.equal(5);
    expect(samples(after, METRIC_NAMES.decisionsPending)).to.deep.equal([`${METRIC_NAMES.decisionsPending} 4`]);
  });

  it("a worker's workspace disk that cannot be measured has no sample, not 0 bytes free", async () => {
    let measurable = false;
    const worker = createWorkerMetrics({
      processMetrics: false,
      workspaceDisk: async () => {
        if (!measurable) throw Object.assign(new Error('EACCES: permission denied, statfs'), { code: 'EACCES' });
        return { freeBytes: 100, totalBytes: 400 };
      },
    });
    const during = await worker.metrics();
    expect(samples(during, METRIC_NAMES.workspaceDiskFree)).to.deep.equal([]);
    expect(samples(during, METRIC_NAMES.workspaceDiskSize)).to.deep.equal([]);

    measurable = true;
    const after = await worker.metrics();
    expect(samples(after, METRIC_NAMES.workspaceDiskFree)).to.deep.equal([`${METRIC_NAMES.workspaceDiskFree} 100`]);
    expect(samples(after, METRIC_NAMES.workspaceDiskSize)).to.deep.equal([`${METRIC_NAMES.workspaceDiskSize} 400`]);
  });
});
