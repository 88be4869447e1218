// The CLI finds the API the way the platform does: PORT (and DEV_ADMIN_KEY_FILE, SDLC_API_URL,
// SDLC_API_KEY) from the real environment, else from the env file (ENV_FILE, default .env), so a
// `.env` that moves `npm start` to another port moves `sdlc` with it. The real environment wins.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCliCaptured } from '../support/cli-captured.js';

describe('sdlc: the env file (unit)', () => {
  let server: Server;
  let port: number;
  let dir: string;
  const seen: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: 'from-env-file', name: 'from-env-file', kind: 'user', via: 'api_key', roles: ['viewer'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    dir = await mkdtemp(join(tmpdir(), 'cli-env-file-'));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  async function whoami(env: Record<string, string>): Promise<{ code: number; out: string }> {
    const { code, all } = await runCliCaptured(['whoami'], env);
    return { code, out: all };
  }

  it('PORT and the key file named in the env file: whoami reaches that port with that key', async () => {
    // Arrange
    const keyFile = join(dir, 'admin-key');
    await writeFile(keyFile, 'sdlc_keyfromthefile\n');
    const envFile = join(dir, '.env');
    await writeFile(envFile, `PORT=${port}\nDEV_ADMIN_KEY_FILE=${keyFile}\n`);
    seen.length = 0;

    // Act
    const { code, out } = await whoami({ ENV_FILE: envFile });

    // Assert
    expect(out).to.include('from-env-file');
    expect(code).to.equal(0);
    expect(seen).to.deep.equal(['Bearer sdlc_keyfromthefile']);
  });

  it('the real environment wins over the env file', async () => {
    const envFile = join(dir, 'other.env');
    await writeFile(envFile, 'PORT=1\nSDLC_API_KEY=sdlc_fromfile\n');
    seen.length = 0;

    const { code } = await whoami({ ENV_FILE: envFile, PORT: String(port), SDLC_API_KEY: 'sdlc_fromrealenv' });

    expect(code).to.equal(0);
    expect(seen).to.deep.equal(['Bearer sdlc_fromrealenv']);
  });
});
