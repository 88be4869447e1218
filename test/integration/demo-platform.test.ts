// The demo's platform step (src/demo/platform-process.ts): a platform already answering on the
// API's address is reused, and the demo says so in one line, without first announcing a start
// and a log file that nothing then writes.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensurePlatform } from '../../src/demo/platform-process.js';

describe('demo platform (ensurePlatform)', () => {
  let server: Server;
  let baseUrl: string;

  before(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url === '/health/ready' ? 200 : 404, { 'content-type': 'application/json' }).end('{"status":"ready"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a platform answering /health/ready: reused, not started, and the only line says so', async () => {
    const said: string[] = [];
    const platform = await ensurePlatform(baseUrl, '/nonexistent/demo-platform.log', (line) => said.push(line));
    expect(platform.started).to.equal(false);
    expect(said).to.deep.equal([`Using the platform already running at ${baseUrl}.`]);
    await platform.stop();
  });
});
