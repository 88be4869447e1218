// The dashboard's static mount (src/http/dashboard-app.ts) on its own Express app, over a
// temporary build folder: the page for /dashboard and its client routes, files as built, a 404
// for a missing asset, a 503 saying how to build while there is no build, and `/` redirecting.
// The event-stream parser the page reads SSE with (dashboard/src/sse.ts) is checked here too.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { createDashboardMount, DASHBOARD_PATH } from '../../src/http/dashboard-app.js';
import { errorHandler } from '../../src/http/middleware/errors.js';
import { requestId } from '../../src/http/middleware/request-id.js';
import { parseFrames } from '../../dashboard/src/sse.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, close() {} };
const INDEX = '<!doctype html><title>dashboard</title>';

describe('dashboard static mount (unit)', () => {
  let dist: string;
  let server: Server;
  let baseUrl: string;

  before(async () => {
    dist = await mkdtemp(join(tmpdir(), 'dashboard-dist-'));
    const { path, handler } = createDashboardMount({ distDir: dist });
    const app = express();
    app.use(requestId({ logger: silent }));
    app.get('/', (_req, res) => res.redirect(302, path));
    app.use(path, handler);
    app.use((_req, res) => res.status(418).json({ reached: 'after the dashboard' }));
    app.use(errorHandler({ logger: silent }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dist, { recursive: true, force: true });
  });

  it('GET /dashboard — before any build — 503 naming `npm run dashboard:build`', async () => {
    // Act
    const res = await fetch(`${baseUrl}${DASHBOARD_PATH}`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    // Assert
    expect(res.status).to.equal(503);
    expect(body.error.code).to.equal('DEPENDENCY_UNAVAILABLE');
    expect(body.error.message).to.contain('npm run dashboard:build');
  });

  describe('once built', () => {
    before(async () => {
      await writeFile(join(dist, 'index.html'), INDEX);
      await writeFile(join(dist, 'main.js'), 'export {};');
    });

    for (const path of [DASHBOARD_PATH, `${DASHBOARD_PATH}/`, `${DASHBOARD_PATH}/inbox`, `${DASHBOARD_PATH}/pipelines/6f1c1f4e/timeline`]) {
      it(`GET ${path} — a page or client route — index.html, not cached stale`, async () => {
        // Act
        const res = await fetch(`${baseUrl}${path}`);
        // Assert
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(/^text\/html/);
        expect(res.headers.get('cache-control')).to.equal('no-cache');
        expect(await res.text()).to.equal(INDEX);
      });
    }

    it('GET /dashboard/main.js — a built file — served as JavaScript', async () => {
      // Act
      const res = await fetch(`${baseUrl}${DASHBOARD_PATH}/main.js`);
      // Assert
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/javascript/);
      expect(await res.text()).to.equal('export {};');
    });

    it('GET /dashboard/missing.css — no such file — 404 ROUTE_NOT_FOUND as JSON', async () => {
      // Act
      const res = await fetch(`${baseUrl}${DASHBOARD_PATH}/missing.css`);
      const body = (await res.json()) as { error: { code: string } };
      // Assert
      expect(res.status).to.equal(404);
      expect(body.error.code).to.equal('ROUTE_NOT_FOUND');
    });

    it('POST /dashboard — not a read — passed on to what follows (authentication in the app)', async () => {
      // Act
      const res = await fetch(`${baseUrl}${DASHBOARD_PATH}`, { method: 'POST' });
      // Assert
      expect(res.status).to.equal(418);
    });

    it('GET / — the root — redirects to /dashboard', async () => {
      // Act
      const res = await fetch(`${baseUrl}/`, { redirect: 'manual' });
      // Assert
      expect(res.status).to.equal(302);
      expect(res.headers.get('location')).to.equal(DASHBOARD_PATH);
    });
  });
});

describe('dashboard event-stream parser (unit)', () => {
  it('parseFrames — frames, a comment, CRLF and a split frame — complete frames out, the rest kept', () => {
    // Arrange
    const text = 'retry: 2000\n\n: keep-alive\n\nid: 7\r\nevent: stage.started\r\ndata: {"a":1}\r\n\r\nid: 8\nevent: stage.fin';
    // Act
    const { frames, rest } = parseFrames(text);
    // Assert
    expect(frames).to.deep.equal([
      { event: 'message', data: '', retry: 2000 },
      { event: 'stage.started', id: '7', data: '{"a":1}' },
    ]);
    expect(rest).to.equal('id: 8\nevent: stage.fin');
  });

  it('parseFrames — an id line with no data (a resume point) — kept with its id and empty data, to be remembered, not dispatched', () => {
    // Act
    const { frames } = parseFrames(': keep-alive\nid: 41\n\n');
    // Assert
    expect(frames).to.deep.equal([{ event: 'message', id: '41', data: '' }]);
  });

  it('parseFrames — data over two lines — joined with a newline', () => {
    // Act
    const { frames } = parseFrames('data: one\ndata: two\n\n');
    // Assert
    expect(frames).to.deep.equal([{ event: 'message', data: 'one\ntwo' }]);
  });
});
