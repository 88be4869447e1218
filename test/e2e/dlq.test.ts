// The dead-letter queue API over HTTP against real Redis and Postgres: poison stages listed with
// their fingerprints and groups, single and bulk replays that continue their pipelines, the
// guards (cancelled pipeline, job not failed), removal, and the 400s and 404s.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { UnrecoverableStageError } from '../../src/domain/errors.js';
import { TEST_AGENTS } from '../support/agents.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

/** Downstreams that are back: a `downstream` stage whose input `key` is here succeeds. */
const fixed = new Set<string>();

/** Fails (its message carrying a fresh order id and a number) until its key is fixed. */
function downstreamAgent(type: string) {
  return defineAgent({
    type,
    version: '1.0.0',
    input: z.object({ key: z.string(), unrecoverable: z.boolean().default(false) }).strict(),
    output: z.object({ key: z.string() }),
    handler: async ({ input }) => {
      if (fixed.has(input.key)) return { key: input.key };
      const message = `downstream ${input.key} refused order ${randomUUID()} after ${Math.floor(Math.random() * 1000)} ms`;
      if (input.unrecoverable) throw new UnrecoverableStageError('DOWNSTREAM_REFUSED', message);
      throw Object.assign(new Error(message), { code: 'DOWNSTREAM_REFUSED' });
    },
  });
}

const fastRetry = (attempts: number) => ({ attempts, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } });
const byKey = (p: Loose): Record<string, Loose> => Object.fromEntries(p.stages.map((s: Loose) => [s.key, s]));

describe('dead-letter queue API (e2e)', () => {
  let h: Harness;
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    request(h.baseUrl, method, `/api/v1${path}`, body, headers);
  const submit = async (definition: unknown) => {
    const res = await api('POST', '/pipelines', definition);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  };
  /** One poison stage (`charge`, unrecoverable) between a root and two dependants. */
  const poisonPipeline = (key: string, agent = 'downstream') => ({
    name: `dlq-${key}`,
    stages: [
      { key: 'build', agent: 'noop' },
      { key: 'charge', agent, dependsOn: ['build'], input: { key, unrecoverable: true } },
      { key: 'ship', agent: 'noop', dependsOn: ['charge'] },
      { key: 'notify', agent: 'noop', dependsOn: ['ship'] },
    ],
  });
  const failedPipeline = async (definition: unknown) => {
    const created = await submit(definition);
    const done = await waitForPipeline(h.baseUrl, created.id);
    expect(done.status, JSON.stringify(done.stages)).to.equal('failed');
    return done;
  };
  const dlqOf = async (pipelineId: string) => {
    const res = await api('GET', `/dlq?pipelineId=${pipelineId}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  const runsOf = async (pipelineId: string, stageKey: string): Promise<Loose[]> =>
    (await api('GET', `/pipelines/${pipelineId}/runs`)).body.items
      .filter((r: Loose) => r.stageKey === stageKey)
      .sort((a: Loose, b: Loose) => a.attempt - b.attempt);

  before(async () => {
    h = await startHarness({
      agents: [...TEST_AGENTS, downstreamAgent('downstream'), downstreamAgent('downstream_b')],
      // These tests fail the same agent on purpose many times: keep its circuit breaker closed.
      env: { BREAKER_VOLUME_THRESHOLD: '100000' },
    });
  });
  after(async () => {
    await h.close();
  });

  it('poison stage: lands in the DLQ at once, listed with its error, fingerprint, group and replayability', async () => {
    const done = await failedPipeline(poisonPipeline('poison'));
    const charge = byKey(done).charge!;

    const page = await dlqOf(done.id);

    expect(page.items).to.have.length(1);
    const item = page.items[0];
    expect(item).to.include({
      jobId: charge.id,
      agent: 'downstream',
      pipelineId: done.id,
      stageId: charge.id,
      stageKey: 'charge',
      attemptsMade: 1,
      replayable: true,
      replayBlockedBy: null,
    });
    expect(item.error.code).to.equal('DOWNSTREAM_REFUSED');
    expect(item.error.message).to.equal(charge.error.message);
    expect(item.fingerprint).to.match(/^[0-9a-f]{16}$/);
    expect(new Date(item.failedAt).getTime()).to.be.closeTo(new Date(charge.finishedAt).getTime(), 1000);
    expect(page.groups).to.deep.equal([
      {
        fingerprint: item.fingerprint,
        agent: 'downstream',
        code: 'DOWNSTREAM_REFUSED',
        message: 'downstream poison refused order <uuid> after <n> ms',
        count: 1,
        newestFailedAt: item.failedAt,
      },
    ]);
    expect(page).to.include({ total: 1, nextCursor: null });
    expect(page.scan).to.deep.equal({ perQueueCap: 1000, truncated: false });
    const all = await api('GET', '/dlq?limit=100');
    expect(all.body.items.map((i: Loose) => i.jobId)).to.include(charge.id);
  });

  it('failures that differ only in ids and numbers: one fingerprint, one group, newest first, paginated', async () => {
    const pipelines = [];
    for (let i = 0; i < 3; i++) pipelines.push(await failedPipeline(poisonPipeline('twins')));
    const [first] = (await dlqOf(pipelines[0]!.id)).items;
    const messages = new Set<string>();

    const one = await api('GET', `/dlq?fingerprint=${first.fingerprint}&limit=2`);
    const two = await api('GET', `/dlq?fingerprint=${first.fingerprint}&limit=2&cursor=${one.body.nextCursor}`);

    expect(one.status).to.equal(200);
    expect(one.body.items.map((i: Loose) => i.pipelineId)).to.deep.equal([pipelines[2]!.id, pipelines[1]!.id]);
    expect(two.body.items.map((i: Loose) => i.pipelineId)).to.deep.equal([pipelines[0]!.id]);
    expect(two.body.nextCursor).to.equal(null);
    for (const item of [...one.body.items, ...two.body.items]) messages.add(item.error.message);
    expect(messages.size, 'the raw messages differ').to.equal(3);
    expect(one.body.total).to.equal(3);
    expect(one.body.groups).to.have.length(1);
    expect(one.body.groups[0]).to.include({ fingerprint: first.fingerprint, count: 3, newestFailedAt: one.body.items[0].failedAt });
  });

  it('replay after the downstream is fixed: the stage runs again, the skipped stages run, the pipeline succeeds', async () => {
    const done = await failedPipeline({
      name: 'dlq-replay',
      stages: [
        { key: 'build', agent: 'noop' },
        { key: 'charge', agent: 'downstream', dependsOn: ['build'], input: { key: 'replay-fixed' }, retry: fastRetry(2) },
        { key: 'ship', agent: 'noop', dependsOn: ['charge'] },
        { key: 'notify', agent: 'noop', dependsOn: ['ship'] },
        { key: 'docs', agent: 'noop', dependsOn: ['build'] },
      ],
    });
    expect(done.error.code).to.equal('STAGES_FAILED');
    expect(byKey(done).ship!.status).to.equal('skipped');
    const charge = byKey(done).charge!;
    expect((await dlqOf(done.id)).items[0]).to.include({ jobId: charge.id, attemptsMade: 2 });
    fixed.add('replay-fixed');

    // An operator's key: the replay is audited under its identity.
    const opsAlice = await h.createKey('ops.alice', ['operator']);
    const replay = await api('POST', `/dlq/${charge.id}/retry`, undefined, bearer(opsAlice.key));

    expect(replay.status, JSON.stringify(replay.body)).to.equal(202);
    expect(replay.body).to.deep.include({
      jobId: charge.id,
      agent: 'downstream',
      pipelineId: done.id,
      stageId: charge.id,
      stageKey: 'charge',
      mode: 'reopened',
    });
    expect(replay.body.restored).to.have.members(['ship', 'notify']);
    const after = await waitForPipeline(h.baseUrl, done.id);
    expect(after.status).to.equal('succeeded');
    expect(after.error).to.equal(null);
    expect(after.stages.map((s: Loose) => s.status)).to.deep.equal(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(byKey(after).charge!.attempts).to.equal(3);
    expect((await runsOf(done.id, 'charge')).map((r) => [r.attempt, r.status])).to.deep.equal([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'succeeded'],
    ]);
    expect(await runsOf(done.id, 'notify')).to.have.length(1);
    expect((await dlqOf(done.id)).items).to.deep.equal([]);
    const audit = (await api('GET', `/pipelines/${done.id}/audit`)).body.items.filter((e: Loose) => e.type === 'dlq.replayed');
    expect(audit).to.have.length(1);
    expect(audit[0]).to.deep.include({ actor: opsAlice.id, stageKey: 'charge' });
    expect(audit[0].data).to.deep.include({
      jobId: charge.id,
      mode: 'reopened',
      via: 'api',
      before: { stage: 'failed', pipeline: 'failed' },
      after: { stage: 'queued', pipeline: 'running' },
    });
    const again = await api('POST', `/dlq/${charge.id}/retry`);
    expect(again.status).to.equal(409);
    expect(again.body.error).to.include({ code: 'DLQ_JOB_NOT_FAILED' });
  });

  it('replay while the downstream is still down: the stage gets its attempts again, then is back in the DLQ', async () => {
    const done = await failedPipeline({
      name: 'dlq-still-down',
      stages: [
        { key: 'charge', agent: 'downstream', input: { key: 'still-down' }, retry: fastRetry(2) },
        { key: 'ship', agent: 'noop', dependsOn: ['charge'] },
      ],
    });
    const charge = byKey(done).charge!;

    const replay = await api('POST', `/dlq/${charge.id}/retry`);
    const after = await waitForPipeline(h.baseUrl, done.id);

    expect(replay.status, JSON.stringify(replay.body)).to.equal(202);
    expect(after.status).to.equal('failed');
    expect(byKey(after).ship!.status).to.equal('skipped');
    // Two more attempts, not one: BullMQ's attemptsMade was reset by the replay.
    expect((await runsOf(done.id, 'charge')).map((r) => r.status)).to.deep.equal(['failed', 'failed', 'failed', 'failed']);
    expect((await dlqOf(done.id)).items[0]).to.include({ jobId: charge.id, attemptsMade: 2, replayable: true });
  });

  it('bulk replay by fingerprint: every matching job replayed, the others untouched', async () => {
    const matching = [await failedPipeline(poisonPipeline('bulk-fp')), await failedPipeline(poisonPipeline('bulk-fp'))];
    const other = await failedPipeline(poisonPipeline('bulk-fp-other'));
    const { fingerprint } = (await dlqOf(matching[0]!.id)).items[0];
    fixed.add('bulk-fp');
    fixed.add('bulk-fp-other');

    const opsBob = await h.createKey('ops.bob', ['operator']);
    const bulk = await api('POST', '/dlq/retry', { fingerprint }, bearer(opsBob.key));

    expect(bulk.status, JSON.stringify(bulk.body)).to.equal(202);
    expect(bulk.body).to.deep.include({ matched: 2, replayed: 2, skipped: [] });
    expect(bulk.body.replayedJobIds).to.have.members(matching.map((p) => byKey(p).charge!.id));
    for (const p of matching) expect((await waitForPipeline(h.baseUrl, p.id)).status).to.equal('succeeded');
    expect((await api('GET', `/pipelines/${other.id}`)).body.status).to.equal('failed');
    expect((await dlqOf(other.id)).items).to.have.length(1);
  });

  it('bulk replay by agent: two failed stages of one pipeline reopen together; a cancelled pipeline is skipped', async () => {
    const fanIn = await failedPipeline({
      name: 'dlq-agent-fan-in',
      stages: [
        { key: 'left', agent: 'downstream_b', input: { key: 'agent-left', unrecoverable: true } },
        { key: 'right', agent: 'downstream_b', input: { key: 'agent-right', unrecoverable: true } },
        { key: 'sink', agent: 'noop', dependsOn: ['left', 'right'] },
      ],
    });
    const single = await failedPipeline(poisonPipeline('agent-single', 'downstream_b'));
    const cancelled = await submit({
      name: 'dlq-agent-cancelled',
      stages: [
        { key: 'slow', agent: 'sleep', input: { ms: 20_000 } },
        { key: 'charge', agent: 'downstream_b', input: { key: 'agent-cancelled', unrecoverable: true } },
      ],
    });
    await waitUntil(h.baseUrl, cancelled.id, (p) => byKey(p).charge!.status === 'failed' && byKey(p).slow!.status === 'running');
    expect((await api('POST', `/pipelines/${cancelled.id}/cancel`)).status).to.equal(202);
    expect((await waitForPipeline(h.baseUrl, cancelled.id)).status).to.equal('cancelled');
    for (const key of ['agent-left', 'agent-right', 'agent-single', 'agent-cancelled']) fixed.add(key);

    const bulk = await api('POST', '/dlq/retry', { agent: 'downstream_b' });

    expect(bulk.status, JSON.stringify(bulk.body)).to.equal(202);
    expect(bulk.body).to.include({ matched: 4, replayed: 3 });
    expect(bulk.body.skipped).to.have.length(1);
    expect(bulk.body.skipped[0]).to.include({ jobId: byKey(cancelled).charge!.id, reason: 'PIPELINE_CANCELLED' });
    const fanInAfter = await waitForPipeline(h.baseUrl, fanIn.id);
    expect(fanInAfter.status).to.equal('succeeded');
    expect(await runsOf(fanIn.id, 'sink')).to.have.length(1);
    expect((await waitForPipeline(h.baseUrl, single.id)).status).to.equal('succeeded');
    expect((await api('GET', `/pipelines/${cancelled.id}`)).body.status).to.equal('cancelled');
  });

  it('replay of a job whose pipeline was cancelled: 409 PIPELINE_CANCELLED, listed as not replayable', async () => {
    const created = await submit({
      name: 'dlq-cancelled',
      stages: [
        { key: 'slow', agent: 'sleep', input: { ms: 20_000 } },
        { key: 'charge', agent: 'downstream', input: { key: 'cancelled', unrecoverable: true } },
      ],
    });
    await waitUntil(h.baseUrl, created.id, (p) => byKey(p).charge!.status === 'failed' && byKey(p).slow!.status === 'running');
    await api('POST', `/pipelines/${created.id}/cancel`);
    const done = await waitForPipeline(h.baseUrl, created.id);
    const jobId = byKey(done).charge!.id;

    const replay = await api('POST', `/dlq/${jobId}/retry`);

    expect(done.status).to.equal('cancelled');
    expect(replay.status).to.equal(409);
    expect(replay.body.error).to.include({ code: 'PIPELINE_CANCELLED' });
    expect(replay.body.error.details[0]).to.include({ field: 'jobId' });
    expect((await dlqOf(created.id)).items[0]).to.include({ jobId, replayable: false, replayBlockedBy: 'PIPELINE_CANCELLED' });
    expect(byKey((await api('GET', `/pipelines/${created.id}`)).body).charge!.status).to.equal('failed');
  });

  it('replay whose job retry did not happen (stage already queued): repeating it resumes the job', async () => {
    const done = await failedPipeline({
      name: 'dlq-resume',
      stages: [{ key: 'charge', agent: 'downstream', input: { key: 'resume', unrecoverable: true } }],
    });
    const jobId = byKey(done).charge!.id;
    // What a replay leaves when Redis refuses the job's retry after the commit.
    await h.db.pool.query("UPDATE stages SET status = 'queued', error = NULL, finished_at = NULL WHERE id = $1", [jobId]);
    await h.db.pool.query("UPDATE pipelines SET status = 'running', error = NULL, finished_at = NULL WHERE id = $1", [done.id]);
    fixed.add('resume');

    const replay = await api('POST', `/dlq/${jobId}/retry`);

    expect(replay.status, JSON.stringify(replay.body)).to.equal(202);
    expect(replay.body).to.include({ mode: 'resumed' });
    expect((await waitForPipeline(h.baseUrl, done.id)).status).to.equal('succeeded');
  });

  it('DELETE: the job leaves the DLQ, its stage stays failed; then 404', async () => {
    const done = await failedPipeline(poisonPipeline('delete'));
    const jobId = byKey(done).charge!.id;

    const removed = await api('DELETE', `/dlq/${jobId}`);

    expect(removed.status).to.equal(204);
    expect((await dlqOf(done.id)).items).to.deep.equal([]);
    const pipeline = (await api('GET', `/pipelines/${done.id}`)).body;
    expect(pipeline.status).to.equal('failed');
    expect(byKey(pipeline).charge!.status).to.equal('failed');
    for (const [method, path] of [
      ['DELETE', `/dlq/${jobId}`],
      ['POST', `/dlq/${jobId}/retry`],
    ] as const) {
      const res = await api(method, path);
      expect(res.status, `${method} ${path}`).to.equal(404);
      expect(res.body.error).to.include({ code: 'DLQ_JOB_NOT_FOUND' });
    }
  });

  it('a job that did not fail (completed): retry and DELETE answer 409 DLQ_JOB_NOT_FAILED', async () => {
    const created = await submit({ name: 'dlq-ok', stages: [{ key: 'ok', agent: 'noop' }] });
    const done = await waitForPipeline(h.baseUrl, created.id);
    const jobId = byKey(done).ok!.id;

    for (const [method, path] of [
      ['POST', `/dlq/${jobId}/retry`],
      ['DELETE', `/dlq/${jobId}`],
    ] as const) {
      const res = await api(method, path);
      expect(res.status, `${method} ${path}`).to.equal(409);
      expect(res.body.error).to.include({ code: 'DLQ_JOB_NOT_FAILED' });
      expect(res.body.error.details[0]).to.include({ field: 'jobId' });
    }
  });

  it('unknown job id: 404 DLQ_JOB_NOT_FOUND with the error envelope', async () => {
    const res = await api('POST', `/dlq/${randomUUID()}/retry`, {}, { 'x-request-id': 'dlq-404' });

    expect(res.status).to.equal(404);
    expect(res.body.error).to.include({ code: 'DLQ_JOB_NOT_FOUND', requestId: 'dlq-404' });
    expect(res.body.error.details).to.deep.equal([]);
  });

  describe('400s name the field', () => {
    const fields = (body: Loose) => body.error.details.map((d: Loose) => d.field);
    const listCases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['agent=deploy', 'agent'],
      ['fingerprint=xyz', 'fingerprint'],
      ['pipelineId=nope', 'pipelineId'],
      ['cursor=garbage', 'cursor'],
      ['colour=red', 'colour'],
    ];
    for (const [query, field] of listCases) {
      it(`GET /dlq?${query}: 400 naming ${field}`, async () => {
        const res = await api('GET', `/dlq?${query}`);

        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal('VALIDATION_FAILED');
        expect(fields(res.body)).to.deep.equal([field]);
      });
    }

    const bulkCases: [string, unknown, string[]][] = [
      ['neither fingerprint nor agent', {}, ['fingerprint', 'agent']],
      ['both fingerprint and agent', { fingerprint: '0123456789abcdef', agent: 'noop' }, ['fingerprint', 'agent']],
      ['an unknown agent', { agent: 'deploy' }, ['agent']],
      ['a malformed fingerprint', { fingerprint: 'XYZ' }, ['fingerprint']],
      ['a limit over 1000', { agent: 'noop', limit: 1001 }, ['limit']],
      // The replaying identity is the caller: naming one is refused, well-formed or not.
      ['an actor', { agent: 'noop', actor: 'ops.alice' }, ['actor']],
      ['a malformed actor', { agent: 'noop', actor: 'two words' }, ['actor']],
      ['an unknown property', { agent: 'noop', force: true }, ['force']],
    ];
    for (const [what, body, expected] of bulkCases) {
      it(`POST /dlq/retry with ${what}: 400 naming ${expected.join(' and ')}`, async () => {
        const res = await api('POST', '/dlq/retry', body);

        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(fields(res.body)).to.deep.equal(expected);
      });
    }

    it('POST /dlq/retry as text/plain: 415 naming Content-Type', async () => {
      const res = await api('POST', '/dlq/retry', 'agent=noop', { 'content-type': 'text/plain' });

      expect(res.status).to.equal(415);
      expect(fields(res.body)).to.deep.equal(['Content-Type']);
    });

    it('a job id that is not a stage job id: 400 naming jobId', async () => {
      for (const [method, path] of [
        ['POST', '/dlq/not-a-job/retry'],
        ['DELETE', '/dlq/12345'],
      ] as const) {
        const res = await api(method, path);
        expect(res.status, `${method} ${path}`).to.equal(400);
        expect(fields(res.body)).to.deep.equal(['jobId']);
      }
    });

    it('POST /dlq/:jobId/retry naming an actor (well-formed or empty): 400 naming actor', async () => {
      for (const actor of ['ops.alice', '']) {
        const res = await api('POST', `/dlq/${randomUUID()}/retry`, { actor });

        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect([...new Set(fields(res.body))]).to.deep.equal(['actor']);
      }
    });
  });
});
