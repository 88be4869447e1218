// The in-flight count the API's shutdown waits for (src/http/middleware/in-flight.ts), on a real
// Express app and HTTP server: a handler whose client hung up counts until it answers; a stream
// that started its answer stops counting when its client goes; settled() answers false at its
// timeout while a handler still runs.
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { createInFlightRequests } from '../../src/http/middleware/in-flight.js';

describe('in-flight requests', () => {
  const inFlight = createInFlightRequests();
  let release: () => void = () => undefined;
  let server: Server;
  let port: number;

  before(async () => {
    const app = express();
    app.use(inFlight.track);
    app.post('/slow', async (_req, res) => {
      await new Promise<void>((resolve) => (release = resolve));
      res.status(202).json({ ok: true });
    });
    app.get('/stream', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
    });
    server = createServer(app);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  /** Sends a request and hangs up once the server has it (after `waitFor` is true, or its first byte). */
  async function hangUp(method: string, path: string, waitFor: () => boolean): Promise<void> {
    const req = request({ host: '127.0.0.1', port, method, path });
    req.on('error', () => undefined);
    req.on('response', (res) => res.on('error', () => undefined));
    req.end();
    while (!waitFor()) await new Promise((r) => setTimeout(r, 5));
    req.destroy();
    await new Promise((r) => setTimeout(r, 50));
  }

  it('a handler whose client hung up counts until it answers; settled() is false before, true after', async () => {
    await hangUp('POST', '/slow', () => inFlight.count() === 1);

    expect(inFlight.count()).to.equal(1);
    expect(await inFlight.settled(50)).to.equal(false);

    const settled = inFlight.settled(5000);
    release();
    expect(await settled).to.equal(true);
    expect(inFlight.count()).to.equal(0);
  });

  it('a stream that started its answer stops counting when its client goes', async () => {
    await hangUp('GET', '/stream', () => inFlight.count() === 1);
    while (inFlight.count() !== 0) await new Promise((r) => setTimeout(r, 5));

    expect(await inFlight.settled(0)).to.equal(true);
  });
});
