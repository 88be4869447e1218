// A private Postgres schema per test run, migrated with the real `prisma migrate deploy`
// (through the same code `npm run db:migrate` uses). Further schemas of the same run (tests that
// need a database of their own) replay the same migration files in SQL and copy the first one's
// `_prisma_migrations` rows: the Prisma CLI costs ~11 s a schema, this well under one, and
// test/integration/test-schema-clone.test.ts checks that both give the same schema.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { migrateDatabase } from '../../src/infra/boot/boot-checks.js';

export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agentic_sdlc';

export function schemaUrl(schema: string): string {
  const url = new URL(BASE_DATABASE_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

const MIGRATIONS_DIR = 'prisma/migrations';

/** A schema this process migrated with `prisma migrate deploy`, which later ones are replayed beside. */
let migrated: string | undefined;

/**
 * Creates the database if needed, then a fresh schema with every migration applied: the first
 * by `prisma migrate deploy`, the others by {@link replayMigrations}.
 */
export async function createTestSchema(): Promise<{ schema: string; url: string }> {
  const schema = `t_${process.pid}_${randomBytes(3).toString('hex')}`;
  const url = schemaUrl(schema);
  if (migrated) {
    await replayMigrations(schema, migrated);
  } else {
    await migrateDatabase(url);
    migrated ??= schema;
  }
  return { schema, url };
}

/**
 * What `prisma migrate deploy` does to an empty schema, without the CLI: each migration file in
 * order (one simple query each, as the files are written for), then the migrations table as
 * `from` has it, so boot's pending-migration check finds nothing to apply.
 */
export async function replayMigrations(schema: string, from: string): Promise<void> {
  const names = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  await withClient(async (client) => {
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    for (const name of names) await client.query(readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8'));
    await client.query(`CREATE TABLE "${schema}"._prisma_migrations (LIKE "${from}"._prisma_migrations INCLUDING ALL)`);
    await client.query(`INSERT INTO "${schema}"._prisma_migrations SELECT * FROM "${from}"._prisma_migrations`);
  });
}

export async function dropSchema(schema: string): Promise<void> {
  await withClient((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  if (schema === migrated) migrated = undefined;
}

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BASE_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
