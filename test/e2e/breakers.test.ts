// Circuit breakers, capped retries and error bodies through the real platform (HTTP, BullMQ
// workers, Redis and Postgres): an agent whose downstream fails every call opens its breaker;
// while it is open the agent's jobs wait in the queue (rate-limited in Redis) without using
// attempts; after the reset one probe goes through, and once the downstream is back every
// stage finishes.
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { DownstreamError } from '../../src/domain/errors.js';
import type { BreakerStateChange } from '../../src/infra/breakers/breaker-registry.js';
import { CAPPED_EXPONENTIAL, computeBackoffDelay } from '../../src/infra/queue/backoff.js';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';
import { TEST_AGENTS } from '../support/agents.js';

const RESET_MS = 3000;
const VOLUME = 4;
const BACKOFF_CAP_MS = 50;

/** The test's stand-in for an LLM API or a git host: down until the test says otherwise. */
const downstream = { up: false, calls: 0 };

const downstreamAgent = defineAgent({
  type: 'downstream',
  version: '1.0.0',
  input: z.object({}).strict(),
  output: z.object({ ok: z.literal(true) }),
  handler: async () => {
    downstream.calls++;
    if (!downstream.up) throw new DownstreamError('DOWNSTREAM_ERROR', 'connect ECONNREFUSED 10.0.0.7:443');
    return { ok: true as const };
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('circuit breakers and capped retries (e2e)', () => {
  let h: Harness;
  let queue: Queue;
  const submit = async (definition: unknown) => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  };
  const stagesOf = async (id: string): Promise<Loose[]> => (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}`)).body.stages;
  const totalAttempts = (stages: Loose[]) => stages.reduce((sum, s) => sum + s.attempts, 0);
  const attemptsMade = async (stages: Loose[]) => Promise.all(stages.map(async (s) => (await queue.getJob(s.id))?.attemptsMade ?? -1));

  before(async () => {
    h = await startHarness({
      agents: [...TEST_AGENTS, downstreamAgent],
      concurrency: 1,
      env: { BREAKER_VOLUME_THRESHOLD: String(VOLUME), BREAKER_RESET_MS: String(RESET_MS), RETRY_BACKOFF_CAP_MS: String(BACKOFF_CAP_MS) },
    });
    queue = new Queue(agentQueueName('downstream'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
  });
  after(async () => {
    await queue?.close();
    await h?.close();
  });

  it('opens after the volume of failures, holds the queue without using attempts, probes once per reset, and recovers', async () => {
    // Arrange: six independent stages of an agent whose downstream refuses every call.
    const breakers = h.workers[0]!.breakers;
    const changes: (BreakerStateChange & { calls: number })[] = [];
    breakers.onStateChange((change) => changes.push({ ...change, calls: downstream.calls }));
    const waitFor = async (count: number) => {
      const deadline = Date.now() + 20_000;
      while (changes.length < count) {
        if (Date.now() > deadline) throw new Error(`breaker changes so far: ${JSON.stringify(changes)}`);
        await sleep(10);
      }
    };
    const retry = { attempts: 20, backoff: { type: 'exponential', delayMs: 10, jitter: 0 } };
    const created = await submit({
      name: 'downstream-outage',
      stages: ['s1', 's2', 's3', 's4', 's5', 's6'].map((key) => ({ key, agent: 'downstream', retry })),
    });

    // Act 1: the breaker opens after VOLUME failed calls.
    await waitFor(1);
    expect(changes[0]).to.include({ agentType: 'downstream', from: 'closed', to: 'open', calls: VOLUME });
    expect(breakers.states()).to.include({ downstream: 'open' });

    // Assert 1: while it is open nothing is attempted: the stages' attempts, the jobs'
    // attemptsMade and the handler's calls stay as they are. The hold is in Redis, so a second
    // worker process whose own breaker is closed takes none of the jobs either.
    await sleep(300); // lets the failed attempt that opened it be recorded
    const other = await h.startWorker({ conductor: false });
    const before = await stagesOf(created.id);
    const madeBefore = await attemptsMade(before);
    const callsBefore = downstream.calls;
    expect(await queue.getRateLimitTtl()).to.be.within(1, RESET_MS);
    await sleep(1000);
    expect(breakers.states().downstream, 'still inside the open period').to.equal('open');
    expect(other.breakers.states().downstream, "the other process's breaker").to.equal('closed');
    const during = await stagesOf(created.id);
    expect(totalAttempts(during)).to.equal(totalAttempts(before));
    expect(await attemptsMade(during)).to.deep.equal(madeBefore);
    expect(downstream.calls).to.equal(callsBefore);
    expect(during.every((s) => s.status === 'queued')).to.equal(true);
    // The rest runs on the first worker alone, so its breaker sees every call.
    await other.close();

    // Act 2: after the reset, exactly one probe goes through; it fails and the breaker reopens.
    await waitFor(3);
    expect(changes.slice(1, 3).map((c) => `${c.from}->${c.to}`)).to.deep.equal(['open->half_open', 'half_open->open']);
    expect(changes[2]!.calls - changes[1]!.calls, 'one probe per half-open period').to.equal(1);

    // Act 3: the downstream recovers; the next probe succeeds and closes the breaker.
    downstream.up = true;
    await waitFor(5);
    expect(changes.slice(3, 5).map((c) => `${c.from}->${c.to}`)).to.deep.equal(['open->half_open', 'half_open->closed']);
    const done = await waitForPipeline(h.baseUrl, created.id);

    // Assert 3: every stage succeeded; every handler call was one attempt and nothing else was.
    expect(done.status).to.equal('succeeded');
    expect(done.stages.map((s: Loose) => s.status)).to.deep.equal(Array(6).fill('succeeded'));
    expect(totalAttempts(done.stages)).to.equal(downstream.calls);
    expect(await attemptsMade(done.stages)).to.deep.equal(done.stages.map((s: Loose) => s.attempts));
    expect(breakers.states().downstream).to.equal('closed');

    // The failed attempts carry the hierarchy's classification, and the jobs the capped strategy.
    const runs: Loose[] = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${created.id}/runs`)).body.items;
    const failed = runs.filter((r) => r.status === 'failed');
    expect(failed).to.have.length(VOLUME + 1);
    for (const run of failed) {
      expect(run.error).to.include({ code: 'DOWNSTREAM_ERROR', category: 'downstream', retryable: true });
      expect(run.error.hint).to.be.a('string').that.contains('circuit breaker');
    }
    const job = await queue.getJob(done.stages[0].id);
    expect(job!.opts.backoff).to.deep.equal({ type: CAPPED_EXPONENTIAL, delay: 10, jitter: 0 });
  });

  it('retry delays follow the capped strategy: a 10-minute base still retries within the cap', async () => {
    // Arrange: fails twice, then succeeds; its policy asks for 10 min, then 20 min.
    const created = await submit({
      name: 'capped-retries',
      stages: [
        {
          key: 'x',
          agent: 'fail',
          input: { failAttempts: 2 },
          retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 600_000, jitter: 0 } },
        },
      ],
    });

    // Act
    const done = await waitForPipeline(h.baseUrl, created.id);

    // Assert: the job names the strategy; the delays it computes are the cap, not 10 and 20 min.
    expect(done.status).to.equal('succeeded');
    expect(done.stages[0]).to.include({ status: 'succeeded', attempts: 3 });
    const failQueue = new Queue(agentQueueName('fail'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      const job = await failQueue.getJob(done.stages[0].id);
      expect(job!.opts.backoff).to.deep.equal({ type: CAPPED_EXPONENTIAL, delay: 600_000, jitter: 0 });
      const delays = [1, 2].map((attempt) =>
        computeBackoffDelay({ attempt, type: 'exponential', baseMs: 600_000, capMs: h.config.RETRY_BACKOFF_CAP_MS, jitter: 0 }),
      );
      expect(delays).to.deep.equal([BACKOFF_CAP_MS, BACKOFF_CAP_MS]);
    } finally {
      await failQueue.close();
    }
  });

  it('errors over HTTP carry category, retryable and hint', async () => {
    const missing = await request(h.baseUrl, 'GET', '/api/v1/pipelines/6f1c2a9e-3b7d-4c1e-9a2b-8d4e5f6a7b8c');
    expect(missing.status).to.equal(404);
    expect(missing.body.error).to.include({ code: 'PIPELINE_NOT_FOUND', category: 'not_found', retryable: false });
    expect(missing.body.error.hint).to.be.a('string').with.length.greaterThan(10);

    const invalid = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { name: 'x', stages: [{ key: 'a', agent: 'nope' }] });
    expect(invalid.status).to.equal(400);
    expect(invalid.body.error).to.include({ code: 'VALIDATION_FAILED', category: 'validation', retryable: false });

    const malformed = await request(h.baseUrl, 'POST', '/api/v1/pipelines', '{"name":', { 'content-type': 'application/json' });
    expect(malformed.status).to.equal(400);
    expect(malformed.body.error).to.include({ code: 'MALFORMED_JSON', category: 'validation', retryable: false });
  });
});
