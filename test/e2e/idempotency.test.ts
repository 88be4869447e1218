// Idempotency-Key on POST /pipelines: a repeat returns the first pipeline, a different body
// with the same key is a conflict, and concurrent repeats create one pipeline.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline } from '../support/http.js';

describe('idempotent submission (e2e)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  const definition = () => ({
    name: 'idem',
    input: { a: 1, b: 2 },
    stages: [
      { key: 'one', agent: 'noop' },
      { key: 'two', agent: 'noop', dependsOn: ['one'] },
    ],
  });

  it('repeat with the same key and body: returns the first pipeline, which runs once', async () => {
    const key = `key-${randomUUID()}`;
    const first = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition(), { 'Idempotency-Key': key });
    // Same body with keys in another order hashes the same.
    const reordered = { stages: definition().stages, input: { b: 2, a: 1 }, name: 'idem' };
    const second = await request(h.baseUrl, 'POST', '/api/v1/pipelines', reordered, { 'Idempotency-Key': key });
    expect(first.status).to.equal(202);
    expect(second.status).to.equal(202);
    expect(second.body.id).to.equal(first.body.id);
    expect(second.headers.get('idempotent-replayed')).to.equal('true');
    expect(second.headers.get('location')).to.equal(`/api/v1/pipelines/${first.body.id}`);
    await waitForPipeline(h.baseUrl, first.body.id);
    const rows = await h.db.prisma.pipeline.count({ where: { idempotencyKey: key } });
    expect(rows).to.equal(1);
    expect(await h.db.prisma.stageRun.count({ where: { pipelineId: first.body.id } })).to.equal(2);
  });

  it('repeat with the same key: the refused insert leaves nothing behind (one pipeline, its stages, one audit event)', async () => {
    const key = `key-${randomUUID()}`;
    const first = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition(), { 'Idempotency-Key': key });
    const second = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition(), { 'Idempotency-Key': key });
    expect(second.headers.get('idempotent-replayed')).to.equal('true');
    const { rows } = await h.db.pool.query<{ pipelines: number; stages: number; audits: number }>(
      `SELECT (SELECT count(*)::int FROM pipelines WHERE idempotency_key = $1) AS pipelines,
              (SELECT count(*)::int FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE p.idempotency_key = $1) AS stages,
              (SELECT count(*)::int FROM audit_events WHERE action = 'pipeline.submitted' AND data->>'idempotencyKey' = $1) AS audits`,
      [key],
    );
    expect(rows[0]).to.deep.equal({ pipelines: 1, stages: 2, audits: 1 });
    await waitForPipeline(h.baseUrl, first.body.id);
  });

  it('same key with a different body: 409 IDEMPOTENCY_KEY_REUSED naming the header', async () => {
    const key = `key-${randomUUID()}`;
    const first = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition(), { 'Idempotency-Key': key });
    const other = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { ...definition(), name: 'different' }, { 'Idempotency-Key': key });
    expect(first.status).to.equal(202);
    expect(other.status).to.equal(409);
    expect(other.body.error.code).to.equal('IDEMPOTENCY_KEY_REUSED');
    expect(other.body.error.details[0].field).to.equal('Idempotency-Key');
    expect(await h.db.prisma.pipeline.count({ where: { idempotencyKey: key } })).to.equal(1);
  });

  it('ten concurrent requests with one key: one pipeline, every response names it', async () => {
    const key = `key-${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => request(h.baseUrl, 'POST', '/api/v1/pipelines', definition(), { 'Idempotency-Key': key })),
    );
    expect(responses.map((r) => r.status)).to.deep.equal(Array(10).fill(202));
    expect(new Set(responses.map((r) => r.body.id)).size).to.equal(1);
    expect(await h.db.prisma.pipeline.count({ where: { idempotencyKey: key } })).to.equal(1);
    const done = await waitForPipeline(h.baseUrl, responses[0]!.body.id);
    expect(done.status).to.equal('succeeded');
  });

  it('without a key: two identical requests create two pipelines', async () => {
    const a = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition());
    const b = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition());
    expect(a.body.id).to.not.equal(b.body.id);
  });
});
