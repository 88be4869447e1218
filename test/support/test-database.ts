// A private Postgres schema per test run, migrated with the real `prisma migrate deploy`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { maintenanceUrl } from '../../src/infra/db/connection-url.js';

const run = promisify(execFile);
export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agentic_sdlc';

export async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const client = new pg.Client({ connectionString: maintenanceUrl(url) });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

export function schemaUrl(schema: string): string {
  const url = new URL(BASE_DATABASE_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

export async function migrate(url: string): Promise<void> {
  await run(process.execPath, ['node_modules/prisma/build/index.js', 'migrate', 'deploy'], {
    env: { ...process.env, DATABASE_URL: url, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
}

export async function createTestSchema(): Promise<{ schema: string; url: string }> {
  await ensureDatabase(BASE_DATABASE_URL);
  const schema = `t_${process.pid}_${randomBytes(3).toString('hex')}`;
  const url = schemaUrl(schema);
  await migrate(url);
  return { schema, url };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: BASE_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
