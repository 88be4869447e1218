// Pipeline labels, the list filters (labels, submitter, name search) with cursor pagination, and
// what the views say for the dashboard: each stage's BullMQ job id and queue, the pipeline's
// trace id. No worker runs: every pipeline stays as submitted (roots queued, the rest pending).
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing, type Tracing } from '../../src/infra/telemetry/tracing.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, expectValidationError, request, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

const twoStages = (name: string, labels?: unknown) => ({
  name,
  ...(labels === undefined ? {} : { labels }),
  stages: [
    { key: 'build', agent: 'noop' },
    { key: 'ship', agent: 'noop', dependsOn: ['build'] },
  ],
});

const stageOf = (p: Loose, key: string): Loose => (p.stages as Loose[]).find((s) => s.key === key)!;

describe('pipeline labels, list filters and dashboard fields (integration)', function () {
  this.timeout(30_000);
  let h: Harness;
  let tracing: Tracing;

  /** Submits as the harness admin (or `key`); expects 202. */
  const submit = async (body: unknown, headers: Record<string, string> = {}): Promise<Loose> => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, body, headers);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  };
  const list = async (query: string): Promise<Loose> => {
    const res = await request(h.baseUrl, 'GET', `${PIPELINES}?${query}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  const idsOf = (page: Loose): string[] => (page.items as Loose[]).map((p) => p.id as string);

  before(async () => {
    // The API's request spans go to memory: the submission's trace id is what the pipeline records.
    tracing = startTracing({
      serviceName: 'test-api',
      disabled: false,
      tracesEndpoint: undefined,
      spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
    });
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await h?.close();
    await tracing?.shutdown();
  });

  describe('submission', () => {
    it('a definition with labels: 202 shows them; GET and the list show them too', async () => {
      const team = `payments-${randomUUID()}`;
      const labels = { team, 'app.kubernetes.io/name': 'checkout', env: 'prod' };

      const created = await submit(twoStages('labelled', labels));

      expect(created.labels).to.deep.equal(labels);
      expect((await request(h.baseUrl, 'GET', `${PIPELINES}/${created.id}`)).body.labels).to.deep.equal(labels);
      const listed = await list(`label=team:${team}`);
      expect(listed.items).to.have.length(1);
      expect(listed.items[0]).to.include({ id: created.id });
      expect(listed.items[0].labels).to.deep.equal(labels);
    });

    it('a template submission with labels: stored the same way', async () => {
      const run = randomUUID();

      const created = await submit({ template: 'smoke', input: { project: 'labelled' }, labels: { run } });

      expect(created.template).to.equal('smoke');
      expect(created.labels).to.deep.equal({ run });
      expect(idsOf(await list(`label=run:${run}`))).to.deep.equal([created.id]);
    });

    it('no labels: an empty object', async () => {
      const created = await submit(twoStages('bare'));

      expect(created.labels).to.deep.equal({});
    });

    it('bad labels: 400 naming labels.<key>, or labels itself for the whole; nothing recorded', async () => {
      const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
      const run = randomUUID();

      const badKey = await request(h.baseUrl, 'POST', PIPELINES, twoStages('bad', { 'Upper Case': 'x', run }));
      const longValue = await request(h.baseUrl, 'POST', PIPELINES, twoStages('bad', { team: 'x'.repeat(201), run }));
      const notString = await request(h.baseUrl, 'POST', PIPELINES, twoStages('bad', { count: 3, run }));
      const colonKey = await request(h.baseUrl, 'POST', PIPELINES, twoStages('bad', { 'a:b': 'x', run }));
      const many = await request(h.baseUrl, 'POST', PIPELINES, twoStages('bad', tooMany));
      const array = await request(h.baseUrl, 'POST', PIPELINES, twoStages('bad', ['team']));
      const templateBad = await request(h.baseUrl, 'POST', PIPELINES, { template: 'smoke', labels: { '-x': 'y', run } });

      expectValidationError(badKey, 'labels.Upper Case');
      expectValidationError(longValue, 'labels.team');
      expectValidationError(notString, 'labels.count');
      expectValidationError(colonKey, 'labels.a:b');
      expectValidationError(many, 'labels');
      expectValidationError(array, 'labels');
      expectValidationError(templateBad, 'labels.-x');
      expect((await list(`label=run:${run}`)).items).to.deep.equal([]);
    });

    it('control characters in the name or a label value (LF, ESC, CR, DEL, C1): 400 naming name or labels.<key>; nothing recorded', async () => {
      const run = randomUUID();
      const fakeLine = { ...twoStages('inj\n13:00:00.000 error FAKE-LOG-LINE'), labels: { run } };
      const escape = { ...twoStages('inj2\u001b[31mRED'), labels: { run } };
      const labelLf = twoStages('fine', { k: 'v\nFAKE2', run });
      const labelOthers = twoStages('fine', { cr: 'a\rb', del: 'a\u007fb', c1: 'a\u009bb', tab: 'a\tb', run });

      const answers = await Promise.all(
        [fakeLine, escape, labelLf, labelOthers].map((body) => request(h.baseUrl, 'POST', PIPELINES, body)),
      );

      expectValidationError(answers[0]!, 'name');
      expectValidationError(answers[1]!, 'name');
      expectValidationError(answers[2]!, 'labels.k');
      for (const key of ['cr', 'del', 'c1', 'tab']) expectValidationError(answers[3]!, `labels.${key}`);
      expect(answers[2]!.body.error.details[0].message).to.match(/control characters/);
      expect((await list(`label=run:${run}`)).items).to.deep.equal([]);
    });

    it('exactly 20 labels, a 200-character value and a 63-character key are accepted', async () => {
      const labels = Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`k${i}`, 'v']));
      labels[`a${'b'.repeat(62)}`] = 'x'.repeat(200);

      const created = await submit(twoStages('edge', labels));

      expect(Object.keys(created.labels as Loose)).to.have.length(20);
    });
  });

  describe('list filters', () => {
    it('label=key:value, repeated: every label must match; a value may hold colons', async () => {
      const run = randomUUID();
      const a = await submit(twoStages('a', { run, team: 'payments', url: 'http://x:8080' }));
      const b = await submit(twoStages('b', { run, team: 'payments' }));
      await submit(twoStages('c', { run, team: 'search' }));

      const payments = await list(`label=run:${run}&label=team:payments`);
      const withUrl = await list(`label=run:${run}&label=url:${encodeURIComponent('http://x:8080')}`);
      const conflicting = await list(`label=run:${run}&label=team:payments&label=team:search`);

      expect(idsOf(payments)).to.have.members([a.id, b.id]);
      expect(idsOf(withUrl)).to.deep.equal([a.id]);
      expect(conflicting.items).to.deep.equal([]);
    });

    it('a malformed label filter: 400 naming label', async () => {
      for (const bad of ['team', 'Team:x', ':x', `${'k'.repeat(64)}:v`]) {
        const res = await request(h.baseUrl, 'GET', `${PIPELINES}?label=${encodeURIComponent(bad)}`);
        expectValidationError(res, 'label');
      }
      const second = await request(h.baseUrl, 'GET', `${PIPELINES}?label=team:x&label=nocolon`);
      expectValidationError(second, 'label');
    });

    it('submitter: only the pipelines that identity submitted', async () => {
      const run = randomUUID();
      const alice = await h.createKey('alice', ['submitter']);
      const bob = await h.createKey('bob', ['submitter']);
      const fromAlice = await submit(twoStages('mine', { run }), bearer(alice.key));
      await submit(twoStages('theirs', { run }), bearer(bob.key));

      const page = await list(`submitter=${encodeURIComponent(alice.id)}&label=run:${run}`);

      expect(idsOf(page)).to.deep.equal([fromAlice.id]);
      expect(page.items[0].submitter).to.equal(alice.id);
      expect((await list(`submitter=nobody-${run}`)).items).to.deep.equal([]);
    });

    it('name: a case-insensitive substring, with % and _ taken literally', async () => {
      const run = randomUUID();
      const checkout = await submit(twoStages('Nightly Checkout-Service build', { run }));
      const percent = await submit(twoStages('coverage 100% gate', { run }));
      await submit(twoStages('search indexer', { run }));

      expect(idsOf(await list(`name=checkout-SERVICE&label=run:${run}`))).to.deep.equal([checkout.id]);
      expect(idsOf(await list(`name=${encodeURIComponent('100%')}&label=run:${run}`))).to.deep.equal([percent.id]);
      expect((await list(`name=${encodeURIComponent('%')}_&label=run:${run}`)).items).to.deep.equal([]);
      expect(idsOf(await list(`name=e&label=run:${run}`))).to.have.length(3);
    });

    it('pagination keeps the filters: pages of 2 hold every match once, newest first, and nothing else', async () => {
      const run = randomUUID();
      const created: string[] = [];
      for (let i = 0; i < 5; i++) {
        created.push((await submit(twoStages(`paged-${i}`, { run, team: 'payments' }))).id);
        await submit(twoStages(`other-${i}`, { run, team: 'search' }));
      }

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Loose = await list(`label=run:${run}&label=team:payments&status=running&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.items.length).to.be.at.most(2);
        seen.push(...idsOf(page));
        cursor = page.nextCursor as string | null;
        pages++;
      } while (cursor);

      expect(pages).to.equal(3);
      expect(seen).to.deep.equal([...created].reverse());
    });
  });

  describe('dashboard fields', () => {
    it('stages carry jobId (null until queued) and queue; the pipeline carries its trace id', async () => {
      const traceId = randomBytes(16).toString('hex');
      const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

      const created = await submit(twoStages('traced'), { traceparent });
      const read = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.id}`)).body;
      const stagePage = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.id}/stages`)).body;
      const listed = (await list(`name=traced&limit=100`)).items.find((p: Loose) => p.id === created.id);

      for (const view of [created, read]) {
        const build = stageOf(view, 'build');
        expect(build).to.include({ status: 'queued', jobId: build.id, queue: 'agent.noop' });
        expect(stageOf(view, 'ship')).to.include({ status: 'pending', jobId: null, queue: 'agent.noop' });
        expect(view.traceId).to.equal(traceId);
      }
      expect(stageOf({ stages: stagePage.items }, 'build').jobId).to.equal(stageOf(read, 'build').id);
      expect(listed.traceId).to.equal(traceId);
    });
  });
});
