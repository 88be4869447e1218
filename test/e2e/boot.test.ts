// Start-up behaviour of the real entry points: unreachable services and stale migrations are
// refused with a message that says what, where and how to fix it, never a stack trace.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { pendingMigrations } from '../../src/lifecycle/boot-checks.js';
import { dropSchema, schemaUrl } from '../support/test-database.js';

interface Exit {
  code: number | null;
  output: string;
}

async function runEntry(entry: string, env: Record<string, string>, args: string[] = [], timeoutMs = 60_000): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', QUEUE_PREFIX: `{boot-${randomBytes(3).toString('hex')}}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

describe('boot checks (e2e, real entry processes)', () => {
  const testUrl = () => process.env.TEST_DATABASE_URL!;

  it('api with Redis unreachable: exits 1 naming Redis, the address and how to start it', async () => {
    const { code, output } = await runEntry('src/server.ts', { DATABASE_URL: testUrl(), REDIS_URL: 'redis://127.0.0.1:1' });
    expect(code).to.equal(1);
    expect(output).to.contain('Redis is unreachable at 127.0.0.1:1 (REDIS_URL)');
    expect(output).to.contain('docker compose up -d redis');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('worker with Postgres unreachable: exits 1 naming PostgreSQL, the address and how to start it', async () => {
    const { code, output } = await runEntry('workers/main.ts', { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/agentic_sdlc' });
    expect(code).to.equal(1);
    expect(output).to.contain('PostgreSQL is unreachable at 127.0.0.1:1/agentic_sdlc (DATABASE_URL)');
    expect(output).to.contain('docker compose up -d postgres');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('api on a database that does not exist: exits 1 naming it and the command that creates it', async () => {
    const url = new URL(testUrl());
    url.pathname = `/missing_${randomBytes(3).toString('hex')}`;
    url.search = '';
    const { code, output } = await runEntry('src/server.ts', { DATABASE_URL: url.toString() });
    expect(code).to.equal(1);
    expect(output).to.contain('does not exist');
    expect(output).to.contain('npm run db:migrate');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('a bad variable: exits 1 naming it', async () => {
    const { code, output } = await runEntry('src/server.ts', { PORT: 'eighty' });
    expect(code).to.equal(1);
    expect(output).to.contain('PORT');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('unknown agent for a worker: exits 1 listing the known agents', async () => {
    const child = await runEntry('workers/main.ts', { DATABASE_URL: testUrl() }, ['--agents', 'noop,nope']);
    expect(child.code).to.equal(1);
    expect(child.output).to.contain('--agents: unknown agent type(s): nope');
  });

  it('migrations behind: api and worker refuse to start and name `npm run db:migrate`; db:migrate fixes it', async () => {
    const schema = `t_boot_${randomBytes(3).toString('hex')}`;
    const url = schemaUrl(schema);
    try {
      for (const entry of ['src/server.ts', 'workers/main.ts']) {
        const { code, output } = await runEntry(entry, { DATABASE_URL: url });
        expect(code, output).to.equal(1);
        expect(output).to.contain('migration(s) not applied');
        expect(output).to.contain('npm run db:migrate');
      }
      const migrated = await runEntry('src/db-migrate.ts', { DATABASE_URL: url });
      expect(migrated.code, migrated.output).to.equal(0);
      expect(migrated.output).to.contain('Applied 2 migration(s)');
      expect(await pendingMigrations(url)).to.deep.equal([]);
      const again = await runEntry('src/db-migrate.ts', { DATABASE_URL: url });
      expect(again.output).to.contain('is up to date');
    } finally {
      await dropSchema(schema);
    }
  });
});
