// The http agent against a real local HTTP server: allowed and refused hosts, same-host and
// cross-host redirects, the private-address guard, 4xx/5xx classification, timeouts and the cap.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createHostGuard, isPublicAddress } from '../../src/agents/http-guard.js';
import { createHttpAgent } from '../../src/agents/http.agent.js';
import { classifyError } from '../../src/domain/errors.js';
import type { MetricValue } from '../../src/domain/gates.js';
import { testRunContext } from '../support/agent-context.js';

type Failure = Error & { code?: string; retryable?: boolean; category?: string };

async function rejection(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected a rejection');
}

describe('http agent (unit)', () => {
  let server: Server;
  let port: number;
  let base: string;
  const seen: { method?: string; url?: string; headers: Record<string, unknown>; body: string }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        const route = req.url ?? '/';
        if (route === '/slow') return; // never answers
        if (route === '/json') return void res.writeHead(200, { 'content-type': 'application/json', 'x-secret': 's' }).end('{"ok":true}');
        if (route === '/echo')
          return void res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ got: JSON.parse(body) }));
        if (route === '/redirect-same') return void res.writeHead(302, { location: '/json' }).end();
        if (route === '/redirect-away') return void res.writeHead(302, { location: 'http://example.com/steal' }).end();
        if (route === '/missing') return void res.writeHead(404).end('no such thing');
        if (route === '/broken') return void res.writeHead(503).end('overloaded');
        if (route === '/big') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(100_000));
        res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const agent = () => createHttpAgent({ allowedHosts: [`127.0.0.1:${port}`], timeoutMs: 5000, maxResponseBytes: 1000 });

  it('calls an explicitly allowed host and returns status, kept headers and parsed JSON, with metrics', async () => {
    const metrics: Record<string, MetricValue> = {};
    const output = await agent().execute(
      { method: 'GET', url: `${base}/json` },
      testRunContext({ stageId: 'stage-1', reportMetrics: (m) => Object.assign(metrics, m) }),
    );
    expect(output).to.deep.include({ url: `${base}/json`, status: 200, body: { ok: true }, truncated: false });
    expect((output as { headers: Record<string, string> }).headers).to.deep.equal({ 'content-type': 'application/json' }); // x-secret is not kept
    expect(metrics).to.include({ status: 200, responseBytes: 11 });
    expect(seen.at(-1)?.headers).to.include({ 'idempotency-key': 'stage-1', 'user-agent': 'agentic-sdlc-http-agent/1.0' });
  });

  it('sends a JSON body with its content type and accepts the expected status', async () => {
    const output = await agent().execute(
      { method: 'POST', url: `${base}/echo`, body: { n: 1 }, headers: { 'x-trace': 't' }, expectStatus: 201 },
      testRunContext(),
    );
    expect(output).to.deep.include({ status: 201, body: { got: { n: 1 } } });
    expect(seen.at(-1)?.headers).to.include({ 'content-type': 'application/json', 'x-trace': 't' });
  });

  it('follows a redirect on the same host, and refuses one to another host', async () => {
    const followed = await agent().execute({ url: `${base}/redirect-same` }, testRunContext());
    expect(followed).to.deep.include({ url: `${base}/json`, status: 200 });
    const error = await rejection(agent().execute({ url: `${base}/redirect-away` }, testRunContext()));
    expect(error.name).to.equal('UnrecoverableStageError');
    expect(error.code).to.equal('HTTP_REDIRECT_REFUSED');
    expect(error.message).to.include('http://example.com/steal');
  });

  it('refuses a host outside allowedHosts at submission and at run time, naming it', async () => {
    for (const url of ['http://example.com/', `http://127.0.0.1:${port + 1}/`, `http://localhost:${port}/json`]) {
      const verdict = agent().validateInput({ url });
      expect(verdict.ok, url).to.equal(false);
      expect(verdict.ok ? '' : verdict.problems[0]?.message, url).to.include('not in the http agent');
    }
    const error = await rejection(agent().execute({ url: 'http://169.254.169.254/latest/meta-data' }, testRunContext()));
    expect(error.code).to.equal('AGENT_INPUT_INVALID');
    expect(error.message).to.include('169.254.169.254');
  });

  it('refuses a wildcard-allowed name that resolves to a loopback or private address, before connecting', async () => {
    const count = seen.length;
    const wildcard = createHttpAgent({
      allowedHosts: [`*.internal.test:${port}`],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const error = await rejection(wildcard.execute({ url: `http://api.internal.test:${port}/json` }, testRunContext()));
    expect(error.code).to.equal('HTTP_ADDRESS_REFUSED');
    expect(error.message).to.include('127.0.0.1');
    expect(seen.length, 'no request reached the server').to.equal(count);
  });

  it('refuses a wildcard-allowed name that resolves to an IPv6 address a translator maps to a private one (NAT64, 6to4)', async () => {
    const count = seen.length;
    for (const address of ['64:ff9b::a9fe:a9fe', '2002:7f00:1::1']) {
      const wildcard = createHttpAgent({
        allowedHosts: [`*.internal.test:${port}`],
        resolve: async () => [{ address, family: 6 }],
      });
      const error = await rejection(wildcard.execute({ url: `http://api.internal.test:${port}/json` }, testRunContext()));
      expect(error.code, address).to.equal('HTTP_ADDRESS_REFUSED');
      expect(error.message, address).to.include(address);
    }
    expect(seen.length, 'no request reached the server').to.equal(count);
  });

  it('lets an exact name entry reach its private address', async () => {
    const exact = createHttpAgent({
      allowedHosts: [`svc.internal.test:${port}`],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const output = await exact.execute({ url: `http://svc.internal.test:${port}/json` }, testRunContext());
    expect(output).to.deep.include({ status: 200 });
  });

  it('classifies 5xx as a retryable downstream error (counted by the breaker) and 4xx as unrecoverable', async () => {
    const server5xx = await rejection(agent().execute({ url: `${base}/broken` }, testRunContext()));
    expect(server5xx.name).to.equal('DownstreamError');
    expect(classifyError(server5xx)).to.include({ code: 'HTTP_SERVER_ERROR', category: 'downstream', retryable: true });
    expect(server5xx.message).to.include('503').and.to.include('overloaded');
    const client4xx = await rejection(agent().execute({ url: `${base}/missing` }, testRunContext()));
    expect(client4xx.name).to.equal('UnrecoverableStageError');
    expect(classifyError(client4xx)).to.include({ code: 'HTTP_CLIENT_ERROR', retryable: false });
  });

  it('turns a refused connection and a timeout into retryable HTTP_UNREACHABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await rejection(
      createHttpAgent({ allowedHosts: [`127.0.0.1:${closedPort}`] }).execute({ url: `http://127.0.0.1:${closedPort}/` }, testRunContext()),
    );
    expect(classifyError(refused)).to.include({ code: 'HTTP_UNREACHABLE', category: 'downstream', retryable: true });
    const slow = await rejection(agent().execute({ url: `${base}/slow`, timeoutMs: 300 }, testRunContext()));
    expect(classifyError(slow)).to.include({ code: 'HTTP_UNREACHABLE', retryable: true });
    expect(slow.message).to.include('no answer within 300 ms');
  });

  it('rethrows the stage signal reason when the stage is cancelled', async () => {
    const controller = new AbortController();
    const pending = agent().execute({ url: `${base}/slow` }, testRunContext({ signal: controller.signal }));
    setTimeout(() => controller.abort('pipeline-cancelled'), 100);
    expect(await rejection(pending)).to.equal('pipeline-cancelled');
  });

  it('caps the response body it keeps and says so', async () => {
    const output = (await agent().execute({ url: `${base}/big` }, testRunContext())) as { body: string; truncated: boolean };
    expect(output.truncated).to.equal(true);
    expect(output.body).to.have.length(1000);
  });

  it('judges addresses: loopback, private, link-local and mapped ones are not public', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '0.0.0.0',
    ]) {
      expect(isPublicAddress(address), address).to.equal(false);
    }
    // IPv6 forms a translator delivers to a private IPv4 address: NAT64 (the well-known prefix),
    // 6to4, SIIT and IPv4-compatible; and the deprecated site-local range.
    for (const address of [
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::169.254.169.254',
      '64:ff9b::7f00:1',
      '2002:a00:1::',
      '2002:7f00:1:0:0:0:0:1',
      '::ffff:0:7f00:1',
      '::127.0.0.1',
      '::a00:1',
      'fec0::1',
    ]) {
      expect(isPublicAddress(address), address).to.equal(false);
    }
    for (const address of ['93.184.216.34', '2606:4700::1111', '64:ff9b::5db8:d822', '2002:5db8:d822::1']) {
      expect(isPublicAddress(address), address).to.equal(true);
    }
    const guard = createHostGuard(['example.com', 'api.example.com:8443', '*.example.org']);
    expect(guard.allows(new URL('https://example.com/x'))).to.deep.equal({ wildcard: false });
    expect(guard.allows(new URL('https://example.com:8443/x'))).to.equal(undefined);
    expect(guard.allows(new URL('https://api.example.com:8443/'))).to.deep.equal({ wildcard: false });
    expect(guard.allows(new URL('http://a.b.example.org/'))).to.deep.equal({ wildcard: true });
    expect(guard.allows(new URL('http://example.org/'))).to.equal(undefined);
    expect(() => createHostGuard(['http://example.com'])).to.throw(/allowedHosts entry/);
  });
});
