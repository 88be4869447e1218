// The HTTP edges, probed as an attacker would: slow and malformed clients are cut off with a JSON
// answer while others are served; cross-site form posts are refused before any effect; no
// `X-Powered-By`; CORS only for listed origins; bad percent-encoding and forged cursors are 400s.
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { startHarness, type Harness } from '../support/harness.js';
import { expectError, request, type Loose } from '../support/http.js';
import { rawRequest } from '../support/raw-request.js';

interface Exchange {
  /** Everything the server wrote before it closed the connection. */
  data: string;
  elapsedMs: number;
}

/** Opens a connection, writes `chunks` `gapMs` apart, and resolves when the server closes it. */
function exchange(baseUrl: string, chunks: string[], gapMs = 0): Promise<Exchange> {
  const { port } = new URL(baseUrl);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), '127.0.0.1');
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, elapsedMs: Date.now() - started });
    });
    const send = (i: number) => {
      if (i >= chunks.length || socket.destroyed) return;
      socket.write(chunks[i]!);
      timer = setTimeout(() => send(i + 1), gapMs);
    };
    socket.on('connect', () => send(0));
  });
}

/** The status line and JSON body of a raw HTTP answer. */
function parseAnswer(raw: string): { status: number; headers: string; body: Loose } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: JSON.parse(body) as Loose };
}

const definition = { name: 'edges', stages: [{ key: 'a', agent: 'sleep', input: { ms: 60_000 } }] };

describe('HTTP edges: slow clients, malformed requests, cross-site posts, headers', function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ workers: 0, env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' } });
  });
  after(async () => h.close());

  describe('slow and malformed clients', () => {
    it('a client that trickles its headers gets 408 as JSON and is closed, while other clients are served', async () => {
      const trickle = Array.from({ length: 40 }, (_, i) => (i === 0 ? 'GET /health HTTP/1.1\r\nHost: x\r\n' : `X-Slow-${i}: y\r\n`));
      const slow = exchange(h.baseUrl, trickle, 200);
      // Served during the slow client's wait, on other connections.
      const others = await Promise.all([request(h.baseUrl, 'GET', '/health'), request(h.baseUrl, 'GET', '/api/v1/pipelines')]);
      expect(others.map((r) => r.status)).to.deep.equal([200, 200]);
      const { data, elapsedMs } = await slow;
      const answer = parseAnswer(data);
      expect(answer.status).to.equal(408);
      expect(answer.headers).to.include('content-type: application/json');
      expect(answer.body.error.code).to.equal('REQUEST_TIMEOUT');
      // The trickle would have taken 8 s; the configured 1 s cut it short (checked every second).
      expect(elapsedMs).to.be.below(8000);
    });

    it('a body shorter than its Content-Length is cut off with 408 and nothing is created', async () => {
      const before = await request(h.baseUrl, 'GET', '/api/v1/pipelines?limit=100');
      const head = `POST /api/v1/pipelines HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n`;
      const { data, elapsedMs } = await exchange(h.baseUrl, [head + JSON.stringify(definition).slice(0, 40)]);
      expect(parseAnswer(data).body.error.code).to.equal('REQUEST_TIMEOUT');
      expect(parseAnswer(data).status).to.equal(408);
      // Nothing ever ends such a connection but the server: it did, well before the 30 s a default server waits.
      expect(elapsedMs).to.be.below(30_000);
      const after = await request(h.baseUrl, 'GET', '/api/v1/pipelines?limit=100');
      expect(after.body.items).to.have.length(before.body.items.length);
    });

    it('headers over 16 KB get 431 with a JSON error body', async () => {
      const { data } = await exchange(h.baseUrl, [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
      const answer = parseAnswer(data);
      expect(answer.status).to.equal(431);
      expect(answer.body.error).to.include({ code: 'HEADERS_TOO_LARGE', category: 'validation' });
    });

    it('bytes that are not HTTP get 400 with a JSON error body', async () => {
      const { data } = await exchange(h.baseUrl, ['HELLO THERE\r\n\r\n']);
      const answer = parseAnswer(data);
      expect(answer.status).to.equal(400);
      expect(answer.body.error.code).to.equal('MALFORMED_REQUEST');
    });
  });

  describe('cross-site requests (CSRF)', () => {
    let pipelineId: string;
    before(async () => {
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition);
      expect(created.status).to.equal(202);
      pipelineId = created.body.id as string;
    });

    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']) {
      it(`a ${type.split(';')[0]} POST to a mutation gets 415 and has no effect`, async () => {
        const res = await rawRequest(h.baseUrl, 'POST', `/api/v1/pipelines/${pipelineId}/cancel`, {
          headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': type, 'content-length': '5', connection: 'close' },
        });
        expect(res.status).to.equal(415);
        expect(res.json?.error.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
        expect(res.json?.error.details[0].field).to.equal('Content-Type');
        const pipeline = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${pipelineId}`);
        expect(pipeline.body.status).to.not.equal('cancelled');
      });
    }

    it('a body without Content-Type gets 415 too; a mutation with no body at all passes', async () => {
      const typeless = await fetch(`${h.baseUrl}/api/v1/pipelines/${pipelineId}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': '' },
        body: new Uint8Array([1, 2, 3]),
      });
      expect(typeless.status).to.equal(415);
      const cancel = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${pipelineId}/cancel`);
      expect(cancel.status).to.equal(202);
    });

    it('Content-Type: application/json with no body at all (curl -X POST -H … without -d) is a bodyless mutation: pause and resume pass, POST /schedules gets 400 naming (body)', async () => {
      // Arrange: a pipeline of its own (the test above cancels the shared one). Written on the
      // socket: node:http and fetch would add `Content-Length: 0`, curl sends neither header.
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition);
      expect(created.status).to.equal(202);
      const bodyless = async (path: string) =>
        parseAnswer(
          (
            await exchange(h.baseUrl, [
              `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.adminKey}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n`,
            ])
          ).data,
        );

      // Act
      const pause = await bodyless(`/api/v1/pipelines/${created.body.id}/pause`);
      const resume = await bodyless(`/api/v1/pipelines/${created.body.id}/resume`);
      const schedule = await bodyless('/api/v1/schedules');

      // Assert
      expect(pause.status, JSON.stringify(pause.body)).to.equal(202);
      expect(pause.body.paused).to.include({ reason: null });
      expect(resume.status, JSON.stringify(resume.body)).to.equal(202);
      expect(resume.body.paused).to.equal(null);
      expect(schedule.status, JSON.stringify(schedule.body)).to.equal(400);
      expect(schedule.body.error.code).to.equal('VALIDATION_FAILED');
      expect(schedule.body.error.details[0].field).to.equal('(body)');
    });

    it('Bull Board writes follow the same rule: a form PUT is refused before the board sees it', async () => {
      const res = await rawRequest(h.baseUrl, 'PUT', '/admin/queues/api/queues/x/retry/failed', {
        headers: {
          authorization: `Bearer ${h.adminKey}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': '3',
          connection: 'close',
        },
      });
      expect(res.status).to.equal(415);
    });
  });

  describe('headers', () => {
    it('no X-Powered-By anywhere, and helmet headers on Bull Board', async () => {
      for (const path of ['/health', '/api/v1/pipelines', '/admin/queues', '/admin/queues/', '/nowhere']) {
        const res = await rawRequest(h.baseUrl, 'GET', path, { headers: { authorization: `Bearer ${h.adminKey}` } });
        expect(res.headers['x-powered-by'], path).to.equal(undefined);
      }
      const board = await rawRequest(h.baseUrl, 'GET', '/admin/queues', { headers: { authorization: `Bearer ${h.adminKey}` } });
      expect(board.status).to.equal(200);
      expect(board.headers['content-security-policy']).to.include("frame-ancestors 'none'");
      expect(board.headers['x-content-type-options']).to.equal('nosniff');
      expect(board.headers['strict-transport-security']).to.be.a('string');
    });

    it('no CORS header by default: another origin cannot read an answer', async () => {
      const res = await rawRequest(h.baseUrl, 'GET', '/api/v1/pipelines', {
        headers: { authorization: `Bearer ${h.adminKey}`, origin: 'https://evil.example' },
      });
      expect(res.status).to.equal(200);
      expect(res.headers['access-control-allow-origin']).to.equal(undefined);
    });
  });

  describe('paths and cursors', () => {
    for (const path of ['/api/v1/pipelines/%E0%A4%A', '/api/v1/decisions/%ZZ', '/api/v1/clarifications/%ZZ']) {
      it(`GET ${path} (bad percent-encoding) gets 400 MALFORMED_PATH`, async () => {
        await expectError(await request(h.baseUrl, 'GET', path), 400, 'MALFORMED_PATH');
      });
    }
    it('POST /api/v1/dlq/%ZZ/retry gets 400 MALFORMED_PATH', async () => {
      await expectError(await request(h.baseUrl, 'POST', '/api/v1/dlq/%ZZ/retry'), 400, 'MALFORMED_PATH');
    });

    const forged = (iso: string) => Buffer.from(`${iso}|00000000-0000-4000-8000-000000000000`).toString('base64url');
    for (const iso of [
      '+275760-09-13T00:00:00.000Z',
      '-271821-04-20T00:00:00.000Z',
      '2026-02-31T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
    ]) {
      it(`a cursor forged with the date ${iso} gets 400 on every list`, async () => {
        for (const list of ['/api/v1/pipelines', '/api/v1/decisions', '/api/v1/clarifications']) {
          const res = await request(h.baseUrl, 'GET', `${list}?cursor=${forged(iso)}`);
          expect(res.status, list).to.equal(400);
          expect(res.body.error.details[0].field, list).to.equal('cursor');
        }
      });
    }
  });
});

describe('HTTP edges: configured CORS origins and the connection cap', function () {
  this.timeout(30_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ workers: 0, env: { CORS_ORIGINS: 'https://ops.example.com', HTTP_MAX_CONNECTIONS: '3' } });
  });
  after(async () => h.close());

  it('a listed origin gets its preflight answered and may read answers; others get no CORS header', async () => {
    const preflight = await rawRequest(h.baseUrl, 'OPTIONS', '/api/v1/pipelines', {
      headers: {
        origin: 'https://ops.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,prefer',
      },
    });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers['access-control-allow-origin']).to.equal('https://ops.example.com');
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).to.include('authorization');
    // POST /pipelines' `Prefer: return=minimal`, and the header that says it was applied.
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).to.include('prefer');
    const read = await rawRequest(h.baseUrl, 'GET', '/api/v1/pipelines', {
      headers: { authorization: `Bearer ${h.adminKey}`, origin: 'https://ops.example.com' },
    });
    expect(read.headers['access-control-allow-origin']).to.equal('https://ops.example.com');
    expect(String(read.headers['access-control-expose-headers']).toLowerCase()).to.include('preference-applied');
    const other = await rawRequest(h.baseUrl, 'OPTIONS', '/api/v1/pipelines', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers['access-control-allow-origin']).to.equal(undefined);
  });

  it('connections beyond HTTP_MAX_CONNECTIONS are dropped; the server serves again once they close', async () => {
    const { port } = new URL(h.baseUrl);
    const open = (): Promise<Socket> =>
      new Promise((resolve) => {
        const s = connect(Number(port), '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
      });
    // Idle connections from earlier requests of this process count too: fill what is left.
    const held: Socket[] = [];
    for (let i = 0; i < 3; i++) held.push(await open());
    const refused = await exchange(h.baseUrl, ['GET /health HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(refused.data).to.equal('');
    for (const s of held) s.destroy();
    // The server counts a connection out once it sees it close: retry briefly until it has.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await rawRequest(h.baseUrl, 'GET', '/health', { headers: { connection: 'close' } }).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).to.equal(200);
  });
});
