// Quotas and backpressure against the real API, Redis and Postgres: event streams per identity
// and per replica (429), stages and input bytes per submission (413, nothing recorded), the
// body limit, and pipeline answers paged by size (GET /pipelines/:id + /pipelines/:id/stages).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, expectError, request, withAuth, type JsonResponse, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

/** The body that became a 15 MB pipeline before the caps: 500 stages of 15 KB inputs, 7.5 MB in all. */
function hugeBody(name: string): Loose {
  return { name, stages: Array.from({ length: 500 }, (_, i) => ({ key: `s${i}`, agent: 'noop', input: { blob: 'x'.repeat(15_000) } })) };
}

const noopStages = (count: number, inputBytes = 0) =>
  Array.from({ length: count }, (_, i) => ({ key: `s${i}`, agent: 'noop', input: inputBytes > 0 ? { blob: 'x'.repeat(inputBytes) } : {} }));

async function rowsNamed(h: Harness, name: string): Promise<number> {
  const { rows } = await h.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pipelines WHERE name = $1', [name]);
  return rows[0]!.n;
}

/** Asserts a refusal that names the variable and its value in the message and in a detail for `field`. */
function expectCap(res: JsonResponse<Loose>, status: number, code: string, variable: string, value: number | string, field: string): void {
  expectError(res, status, code);
  expect(res.body.error.message).to.contain(variable).and.contain(String(value));
  const detail = (res.body.error.details as Loose[]).find((d) => d.field === field);
  expect(detail, JSON.stringify(res.body.error.details)).to.not.equal(undefined);
  expect(detail!.message).to.contain(variable);
}

/** An open event stream (or its refusal): the status, and a way to hang up. */
interface Stream {
  status: number;
  headers: Headers;
  body: Loose | null;
  close(): void;
}

async function openStream(h: Harness, key: string, path = '/api/v1/events'): Promise<Stream> {
  const controller = new AbortController();
  const res = await fetch(`${h.baseUrl}${path}`, {
    headers: withAuth(h.baseUrl, { accept: 'text/event-stream', ...bearer(key) }),
    signal: controller.signal,
  });
  if (res.status !== 200) return { status: res.status, headers: res.headers, body: (await res.json()) as Loose, close: () => undefined };
  // Keep reading so the server's writes never back up; the read ends when the stream is closed.
  void res.body!.pipeTo(new WritableStream()).catch(() => undefined);
  return { status: 200, headers: res.headers, body: null, close: () => controller.abort() };
}

/** Opens a stream once the server has noticed earlier hang-ups (each refused try holds nothing). */
async function openWhenFree(h: Harness, key: string, timeoutMs = 10_000): Promise<Stream> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stream = await openStream(h, key);
    if (stream.status === 200 || Date.now() > deadline) return stream;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('quotas and backpressure (integration)', () => {
  describe('with the default caps', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 0 });
    });
    after(async () => {
      await h?.close();
    });

    it('the 7.5 MB, 500-stage body: 413 PAYLOAD_TOO_LARGE naming HTTP_BODY_LIMIT (2 MB), nothing recorded', async () => {
      const name = `huge-${randomUUID()}`;

      const res = await request(h.baseUrl, 'POST', PIPELINES, hugeBody(name));

      expectCap(res, 413, 'PAYLOAD_TOO_LARGE', 'HTTP_BODY_LIMIT', 2 * 1024 * 1024, '(body)');
      expect(await rowsNamed(h, name)).to.equal(0);
    });

    it('101 stages: 413 TOO_MANY_STAGES naming MAX_STAGES_PER_PIPELINE=100 and stages, nothing recorded', async () => {
      const name = `stages-${randomUUID()}`;

      const res = await request(h.baseUrl, 'POST', PIPELINES, { name, stages: noopStages(101) }, { 'Idempotency-Key': name });

      expectCap(res, 413, 'TOO_MANY_STAGES', 'MAX_STAGES_PER_PIPELINE', 100, 'stages');
      expect(await rowsNamed(h, name)).to.equal(0);
      const keyed = await h.db.pool.query('SELECT 1 FROM pipelines WHERE idempotency_key = $1', [name]);
      expect(keyed.rowCount).to.equal(0);
    });

    it('five stage inputs of 220 KB (each under 256 KB, 1.1 MB together): 413 INPUT_TOO_LARGE naming MAX_SUBMISSION_INPUT_BYTES and input', async () => {
      const name = `inputs-${randomUUID()}`;

      const res = await request(h.baseUrl, 'POST', PIPELINES, { name, stages: noopStages(5, 220 * 1024) });

      expectCap(res, 413, 'INPUT_TOO_LARGE', 'MAX_SUBMISSION_INPUT_BYTES', 1024 * 1024, 'input');
      expect(await rowsNamed(h, name)).to.equal(0);
    });

    it('100 stages (at the cap): 202, and GET answers all of them with stagesNextCursor null', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, { name: `at-cap-${randomUUID()}`, stages: noopStages(100) });
      expect(created.status, JSON.stringify(created.body)).to.equal(202);

      const res = await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`);

      expect(res.status).to.equal(200);
      expect(res.body.stages.map((s: Loose) => s.key)).to.deep.equal(noopStages(100).map((s) => s.key));
      expect(res.body.stagesNextCursor).to.equal(null);
      expect(created.body.stagesNextCursor).to.equal(null);
    });
  });

  describe('templates under the caps', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 0, env: { MAX_STAGES_PER_PIPELINE: '5', MAX_SUBMISSION_INPUT_BYTES: '100000' } });
    });
    after(async () => {
      await h?.close();
    });

    it('the six-stage sdlc-simulated template over MAX_STAGES_PER_PIPELINE=5: 413 TOO_MANY_STAGES, nothing recorded', async () => {
      const name = `tpl-stages-${randomUUID()}`;

      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        template: 'sdlc-simulated',
        name,
        input: { requirements: 'Build a login page with tests.' },
      });

      expectCap(res, 413, 'TOO_MANY_STAGES', 'MAX_STAGES_PER_PIPELINE', 5, 'stages');
      expect(await rowsNamed(h, name)).to.equal(0);
    });

    it('the smoke template with a 150 KB input over MAX_SUBMISSION_INPUT_BYTES=100000: 413 INPUT_TOO_LARGE, nothing recorded', async () => {
      const name = `tpl-input-${randomUUID()}`;

      const res = await request(h.baseUrl, 'POST', PIPELINES, { template: 'smoke', name, input: { notes: 'x'.repeat(150_000) } });

      expectCap(res, 413, 'INPUT_TOO_LARGE', 'MAX_SUBMISSION_INPUT_BYTES', 100000, 'input');
      expect(await rowsNamed(h, name)).to.equal(0);
    });

    it('the smoke template within both caps: 202', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        template: 'smoke',
        name: `tpl-ok-${randomUUID()}`,
        input: { project: 'hello' },
      });

      expect(res.status, JSON.stringify(res.body)).to.equal(202);
    });
  });

  describe('a larger body limit: the stage cap names itself', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 0, env: { HTTP_BODY_LIMIT: '8mb' } });
    });
    after(async () => {
      await h?.close();
    });

    it('the 7.5 MB, 500-stage body with HTTP_BODY_LIMIT=8mb: 413 TOO_MANY_STAGES naming MAX_STAGES_PER_PIPELINE=100, nothing recorded', async () => {
      const name = `huge-${randomUUID()}`;

      const res = await request(h.baseUrl, 'POST', PIPELINES, hugeBody(name));

      expectCap(res, 413, 'TOO_MANY_STAGES', 'MAX_STAGES_PER_PIPELINE', 100, 'stages');
      expect(await rowsNamed(h, name)).to.equal(0);
    });
  });

  describe('pipeline answers paged by size (RESPONSE_PAGE_BYTES=4096)', () => {
    const PAGE = 4096;
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 0, env: { RESPONSE_PAGE_BYTES: String(PAGE) } });
    });
    after(async () => {
      await h?.close();
    });

    it('30 stages of about 1 KB: GET and the stage pages stay under the size and together hold every stage once, in order', async () => {
      const stages = noopStages(30, 1000);
      const created = await request(h.baseUrl, 'POST', PIPELINES, { name: `paged-${randomUUID()}`, stages });
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      expect(created.body.stagesNextCursor).to.be.a('string');
      const id = created.body.id as string;

      const first = await fetch(`${h.baseUrl}${PIPELINES}/${id}`, { headers: withAuth(h.baseUrl, {}) });
      const firstText = await first.text();
      const pipeline = JSON.parse(firstText) as Loose;
      const keys: string[] = pipeline.stages.map((s: Loose) => s.key);
      const sizes = [Buffer.byteLength(firstText)];
      let cursor = pipeline.stagesNextCursor as string | null;
      let pages = 0;
      while (cursor !== null) {
        const res = await fetch(`${h.baseUrl}${PIPELINES}/${id}/stages?cursor=${cursor}&limit=7`, { headers: withAuth(h.baseUrl, {}) });
        expect(res.status).to.equal(200);
        const text = await res.text();
        sizes.push(Buffer.byteLength(text));
        const page = JSON.parse(text) as Loose;
        expect(page.items.length).to.be.within(1, 7);
        keys.push(...page.items.map((s: Loose) => s.key));
        cursor = page.nextCursor;
        pages += 1;
        expect(pages, 'runaway paging').to.be.below(40);
      }

      expect(keys).to.deep.equal(stages.map((s) => s.key));
      expect(pages).to.be.greaterThan(1);
      for (const size of sizes) expect(size).to.be.at.most(PAGE);
      expect(pipeline.name).to.match(/^paged-/);
      expect(pipeline.stages[0]).to.include.keys('durationMs', 'status', 'input');
    });

    it('the CLI (`get <id> --json`) follows stagesNextCursor and prints all 30 stages', async () => {
      const stages = noopStages(30, 1000);
      const created = await request(h.baseUrl, 'POST', PIPELINES, { name: `paged-cli-${randomUUID()}`, stages });

      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', 'get', created.body.id as string, '--json'],
        {
          env: { ...process.env, API_URL: h.baseUrl, DEV_ADMIN_KEY_FILE: '/nonexistent/agentic-sdlc/admin-key', SDLC_API_KEY: h.adminKey },
        },
      );
      const printed = JSON.parse(stdout) as Loose;

      expect(created.body.stagesNextCursor).to.be.a('string');
      expect(printed.stages.map((s: Loose) => s.key)).to.deep.equal(stages.map((s) => s.key));
      expect(printed.stagesNextCursor).to.equal(null);
    });

    it('GET /pipelines/:id/stages: no cursor starts at the first stage; past the end is an empty page', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, { name: `paged-small-${randomUUID()}`, stages: noopStages(3) });
      const id = created.body.id as string;

      const all = await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/stages`);
      const past = await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/stages?cursor=3`);

      expect(all.status).to.equal(200);
      expect(all.body.items.map((s: Loose) => s.key)).to.deep.equal(['s0', 's1', 's2']);
      expect(all.body.nextCursor).to.equal(null);
      expect(past.body).to.deep.equal({ items: [], nextCursor: null });
    });

    it('GET /pipelines/:id/stages: a forged cursor or limit is 400 naming it, an unknown pipeline 404', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, { name: `paged-bad-${randomUUID()}`, stages: noopStages(1) });
      const id = created.body.id as string;

      const cursor = await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/stages?cursor=-1`);
      const limit = await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/stages?limit=101`);
      const unknown = await request(h.baseUrl, 'GET', `${PIPELINES}/${randomUUID()}/stages`);

      expectError(cursor, 400, 'VALIDATION_FAILED');
      expect(cursor.body.error.details.map((d: Loose) => d.field)).to.include('cursor');
      expectError(limit, 400, 'VALIDATION_FAILED');
      expect(limit.body.error.details.map((d: Loose) => d.field)).to.include('limit');
      expectError(unknown, 404, 'PIPELINE_NOT_FOUND');
    });
  });

  describe('event streams (MAX_EVENT_STREAMS_PER_IDENTITY=3, MAX_EVENT_STREAMS=5)', () => {
    let h: Harness;
    const streams: Stream[] = [];
    const open = async (key: string, path?: string) => {
      const stream = await openStream(h, key, path);
      streams.push(stream);
      return stream;
    };
    beforeEach(async () => {
      h = await startHarness({ workers: 0, env: { MAX_EVENT_STREAMS_PER_IDENTITY: '3', MAX_EVENT_STREAMS: '5' } });
    });
    afterEach(async () => {
      for (const s of streams.splice(0)) s.close();
      await h?.close();
    });

    it('one identity: 3 streams open, the 4th gets 429 with Retry-After; another identity still gets one; a closed stream frees a slot', async () => {
      const alice = await h.createKey('alice', ['viewer']);
      const bob = await h.createKey('bob', ['viewer']);
      const created = await request(h.baseUrl, 'POST', PIPELINES, { name: `streamed-${randomUUID()}`, stages: noopStages(1) });
      const mine = [await open(alice.key), await open(alice.key), await open(alice.key, `${PIPELINES}/${created.body.id}/events`)];

      const fourth = await open(alice.key);
      const other = await open(bob.key);

      expect(mine.map((s) => s.status)).to.deep.equal([200, 200, 200]);
      expect(fourth.status).to.equal(429);
      expect(fourth.body!.error.code).to.equal('STREAM_QUOTA_EXCEEDED');
      expect(fourth.body!.error.message).to.contain('MAX_EVENT_STREAMS_PER_IDENTITY is 3');
      expect(Number(fourth.headers.get('retry-after'))).to.be.greaterThan(0);
      expect(other.status).to.equal(200);

      mine[0]!.close();
      const again = await openWhenFree(h, alice.key);
      streams.push(again);
      expect(again.status).to.equal(200);
      // One slot was freed, not more.
      expect((await open(alice.key)).status).to.equal(429);
    });

    it('the replica: 5 streams open across identities, the 6th gets 429 naming MAX_EVENT_STREAMS even for a fresh identity', async () => {
      const keys = await Promise.all(['a', 'b', 'c'].map((n) => h.createKey(`viewer-${n}`, ['viewer'])));
      for (const key of [keys[0]!, keys[0]!, keys[0]!, keys[1]!, keys[1]!]) expect((await open(key.key)).status).to.equal(200);

      const refused = await open(keys[2]!.key);

      expect(refused.status).to.equal(429);
      expect(refused.body!.error.code).to.equal('STREAM_QUOTA_EXCEEDED');
      expect(refused.body!.error.message).to.contain('MAX_EVENT_STREAMS is 5');
    });
  });
});
