// Execution semantics over HTTP against real Redis and Postgres: fan-out, fan-in, retries,
// failure propagation, continueOnFailure, cancellation, timeouts and progress.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';
import { TEST_AGENTS } from '../support/agents.js';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { Queue } from 'bullmq';

const fastRetry = (attempts: number) => ({ attempts, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } });
const at = (iso: string) => new Date(iso).getTime();
const byKey = (p: Loose): Record<string, Loose> => Object.fromEntries(p.stages.map((s: Loose) => [s.key, s]));

describe('execution semantics (e2e)', () => {
  let h: Harness;
  const submit = async (definition: unknown, headers: Record<string, string> = {}) => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition, headers);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  };
  const runs = async (id: string): Promise<Loose[]> => (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}/runs`)).body.items;

  before(async () => {
    h = await startHarness({ agents: TEST_AGENTS, concurrency: 20 });
  });
  after(async () => {
    await h.close();
  });

  it('diamond: the fan-in stage starts only after both branches succeed and sees both outputs', async () => {
    const created = await submit({
      name: 'diamond',
      input: { repo: 'checkout' },
      stages: [
        { key: 'a', agent: 'noop', input: { from: 'a' } },
        { key: 'b', agent: 'sleep', dependsOn: ['a'], input: { ms: 50 } },
        { key: 'c', agent: 'sleep', dependsOn: ['a'], input: { ms: 150 } },
        { key: 'd', agent: 'inspect', dependsOn: ['b', 'c'] },
      ],
    });
    const done = await waitForPipeline(h.baseUrl, created.id);
    const s = byKey(done);
    expect(done.status).to.equal('succeeded');
    expect(at(s.d!.startedAt)).to.be.at.least(Math.max(at(s.b!.finishedAt), at(s.c!.finishedAt)));
    expect(at(s.b!.startedAt)).to.be.at.least(at(s.a!.finishedAt));
    expect(s.d!.output.dependencies).to.have.keys(['b', 'c']);
    expect(s.d!.output.dependencies.c.sleptMs).to.be.a('number');
    expect(s.d!.output.pipelineInput).to.deep.equal({ repo: 'checkout' });
    const dRuns = (await runs(created.id)).filter((r) => r.stageKey === 'd');
    expect(dRuns).to.have.length(1);
    expect(dRuns[0]!.metrics).to.include({ coverage: 91.5, lintErrors: 0 });
    expect(dRuns[0]!.metrics.durationMs).to.be.a('number');
  });

  it('wide fan-out: 50 parallel stages all run once and the sink waits for all of them', async () => {
    const branches = Array.from({ length: 50 }, (_, i) => ({ key: `b${i}`, agent: 'noop', dependsOn: ['root'], input: { i } }));
    const created = await submit({
      name: 'fan-out-50',
      stages: [{ key: 'root', agent: 'noop' }, ...branches, { key: 'sink', agent: 'noop', dependsOn: branches.map((b) => b.key) }],
    });
    const done = await waitForPipeline(h.baseUrl, created.id);
    expect(done.status).to.equal('succeeded');
    const sink = byKey(done).sink!;
    const lastBranch = Math.max(...done.stages.filter((s: Loose) => s.key.startsWith('b')).map((s: Loose) => at(s.finishedAt)));
    expect(at(sink.startedAt)).to.be.at.least(lastBranch);
    const all = await runs(created.id);
    expect(all).to.have.length(52);
    expect(new Set(all.map((r) => r.stageKey)).size).to.equal(52);
  });

  it('failing stage: retried with backoff until attempts run out, then failed; downstream skipped; job in the DLQ', async () => {
    const created = await submit({
      name: 'failing',
      stages: [
        { key: 'build', agent: 'noop' },
        { key: 'flaky', agent: 'fail', dependsOn: ['build'], input: { message: 'boom' }, retry: fastRetry(3) },
        { key: 'deploy', agent: 'noop', dependsOn: ['flaky'] },
        { key: 'notify', agent: 'noop', dependsOn: ['deploy'] },
        { key: 'docs', agent: 'noop', dependsOn: ['build'] },
      ],
    });
    const done = await waitForPipeline(h.baseUrl, created.id);
    const s = byKey(done);
    expect(done.status).to.equal('failed');
    expect(done.error).to.deep.equal({
      code: 'STAGES_FAILED',
      message: 'failed stage(s): flaky (boom)',
      failedStages: ['flaky'],
      reasons: { flaky: 'boom' },
    });
    expect(s.flaky).to.include({ status: 'failed', attempts: 3 });
    expect(s.flaky!.error).to.include({ message: 'boom', retryable: true });
    expect(s.deploy!.status).to.equal('skipped');
    expect(s.notify!.status).to.equal('skipped');
    expect(s.deploy!.startedAt).to.equal(null);
    expect(s.docs!.status).to.equal('succeeded');
    const flakyRuns = (await runs(created.id)).filter((r) => r.stageKey === 'flaky');
    expect(flakyRuns.map((r) => [r.attempt, r.status])).to.deep.equal([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    const queue = new Queue(agentQueueName('fail'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      const job = await queue.getJob(s.flaky!.id);
      expect(await job?.getState()).to.equal('failed');
      expect(job?.attemptsMade).to.equal(3);
    } finally {
      await queue.close();
    }
  });

  it('a stage that fails twice then succeeds ends succeeded on its third attempt', async () => {
    const created = await submit({
      name: 'flaky-then-ok',
      stages: [{ key: 'x', agent: 'fail', input: { failAttempts: 2 }, retry: fastRetry(3) }],
    });
    const done = await waitForPipeline(h.baseUrl, created.id);
    expect(done.status).to.equal('succeeded');
    expect(done.stages[0]).to.include({ status: 'succeeded', attempts: 3 });
    expect(done.stages[0].output).to.deep.equal({ succeededOnAttempt: 3 });
  });

  it('an unrecoverable error fails the stage at once, without using its other attempts', async () => {
    const created = await submit({
      name: 'unrecoverable',
      stages: [
        { key: 'x', agent: 'fail', input: { unrecoverable: true, message: 'bad credentials' }, retry: fastRetry(5) },
        { key: 'y', agent: 'bad_output', retry: fastRetry(5) },
      ],
    });
    const done = await waitForPipeline(h.baseUrl, created.id);
    const s = byKey(done);
    expect(done.status).to.equal('failed');
    expect(s.x).to.include({ status: 'failed', attempts: 1 });
    expect(s.x!.error).to.include({ code: 'AGENT_FAILED_ON_PURPOSE', retryable: false });
    expect(s.y).to.include({ status: 'failed', attempts: 1 });
    expect(s.y!.error).to.include({ code: 'AGENT_OUTPUT_INVALID', retryable: false });
  });

  it('continueOnFailure: dependants of the failed stage still run and the pipeline succeeds', async () => {
    const created = await submit({
      name: 'continue-on-failure',
      stages: [
        { key: 'optional', agent: 'fail', retry: fastRetry(1), continueOnFailure: true },
        { key: 'next', agent: 'inspect', dependsOn: ['optional'] },
      ],
    });
    const done = await waitForPipeline(h.baseUrl, created.id);
    const s = byKey(done);
    expect(done.status).to.equal('succeeded');
    expect(s.optional!.status).to.equal('failed');
    expect(s.next!.status).to.equal('succeeded');
    expect(s.next!.output.dependencies).to.deep.equal({ optional: null });
  });

  it('cancel mid-run: the running stage gets its AbortSignal, waiting stages never start', async () => {
    const created = await submit({
      name: 'cancel-me',
      stages: [
        { key: 'long', agent: 'sleep', input: { ms: 20_000 } },
        { key: 'after', agent: 'noop', dependsOn: ['long'] },
        { key: 'parallel', agent: 'sleep', input: { ms: 20_000 } },
      ],
    });
    await waitUntil(h.baseUrl, created.id, (p) => p.stages.every((s: Loose) => s.key === 'after' || s.status === 'running'));
    const cancelledAt = Date.now();
    const res = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${created.id}/cancel`);
    expect(res.status).to.equal(202);
    expect(res.body.cancelRequestedAt).to.be.a('string');
    const done = await waitForPipeline(h.baseUrl, created.id);
    const s = byKey(done);
    expect(done.status).to.equal('cancelled');
    expect(s.long!.status).to.equal('cancelled');
    expect(s.parallel!.status).to.equal('cancelled');
    expect(s.after!.status).to.equal('cancelled');
    expect(s.after!.startedAt).to.equal(null);
    // Aborted, not slept out: the handler stopped long before its 20 s.
    expect(at(s.long!.finishedAt) - cancelledAt).to.be.below(10_000);
    const longRuns = (await runs(created.id)).filter((r) => r.stageKey === 'long');
    expect(longRuns.map((r) => r.status)).to.deep.equal(['cancelled']);
    const again = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${created.id}/cancel`);
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('PIPELINE_FINISHED');
  });

  it('timeoutMs aborts a stage that runs too long and records STAGE_TIMEOUT', async () => {
    const created = await submit({
      name: 'timeout',
      stages: [{ key: 'slow', agent: 'sleep', input: { ms: 20_000 }, timeoutMs: 100, retry: fastRetry(2) }],
    });
    const done = await waitForPipeline(h.baseUrl, created.id);
    expect(done.status).to.equal('failed');
    expect(done.stages[0]).to.include({ status: 'failed', attempts: 2 });
    expect(done.stages[0].error.code).to.equal('STAGE_TIMEOUT');
  });

  it('progress reported by a handler shows in the API while the stage runs', async () => {
    const created = await submit({ name: 'progress', stages: [{ key: 'nap', agent: 'sleep', input: { ms: 1500 } }] });
    const seen = await waitUntil(h.baseUrl, created.id, (p) => p.stages[0].status === 'running' && p.stages[0].progress > 0);
    expect(seen.stages[0].progress).to.be.within(1, 100);
    const done = await waitForPipeline(h.baseUrl, created.id);
    expect(done.stages[0].progress).to.equal(100);
  });

  it('a template runs by name with an input', async () => {
    const created = await submit({ template: 'smoke', input: { project: 'demo' } });
    expect(created.template).to.equal('smoke');
    const done = await waitForPipeline(h.baseUrl, created.id);
    expect(done.status).to.equal('succeeded');
    expect(done.stages.map((s: Loose) => s.key)).to.deep.equal(['scaffold', 'validation', 'e2e_test', 'integration', 'deployment']);
  });

  it('lists pipelines filtered by status and name, page by page with a cursor', async () => {
    const name = `list-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit({ name, stages: [{ key: 'a', agent: 'noop' }] })).id);
    await Promise.all(ids.map((id) => waitForPipeline(h.baseUrl, id)));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/v1/pipelines?name=${name}&status=succeeded&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await request(h.baseUrl, 'GET', query);
      expect(page.status).to.equal(200);
      expect(page.body.items.length).to.be.at.most(2);
      seen.push(...page.body.items.map((p: Loose) => p.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).to.have.members(ids);
    expect(seen).to.have.length(5);
    const none = await request(h.baseUrl, 'GET', `/api/v1/pipelines?name=${name}&status=failed`);
    expect(none.body.items).to.deep.equal([]);
  });
});
