// A private Postgres schema per test run, migrated with the real `prisma migrate deploy`
// (through the same code `npm run db:migrate` uses).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase } from '../../src/infra/boot/boot-checks.js';

export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agentic_sdlc';

export function schemaUrl(schema: string): string {
  const url = new URL(BASE_DATABASE_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Creates the database if needed, then a fresh schema with every migration applied. */
export async function createTestSchema(): Promise<{ schema: string; url: string }> {
  const schema = `t_${process.pid}_${randomBytes(3).toString('hex')}`;
  const url = schemaUrl(schema);
  await migrateDatabase(url);
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
