// The test suite's extra schemas are replayed from the migration files (test/support/test-database.ts)
// instead of each running `prisma migrate deploy`: this holds the replay to the real thing, the
// run's own schema, which the Prisma CLI migrated.
import { expect } from 'chai';
import pg from 'pg';
import { BASE_DATABASE_URL, createTestSchema, dropSchema } from '../support/test-database.js';
import { pendingMigrations } from '../../src/infra/boot/boot-checks.js';

/** A schema's shape as the catalogue has it, its own name written as SCHEMA. */
async function shape(client: pg.Client, schema: string): Promise<Record<string, string[]>> {
  const q = async (text: string, values: string[] = [schema]) =>
    (await client.query<{ v: string }>(text, values)).rows.map((r) => r.v.replaceAll(schema, 'SCHEMA'));
  return {
    columns: await q(
      `SELECT table_name || '.' || column_name || ' ' || data_type || '/' || udt_name || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS v
       FROM information_schema.columns WHERE table_schema = $1 ORDER BY 1`,
    ),
    constraints: await q(
      `SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) AS v
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 ORDER BY 1`,
    ),
    indexes: await q(`SELECT indexdef AS v FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`),
    enums: await q(
      `SELECT t.typname || ': ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS v
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = $1 GROUP BY t.typname ORDER BY 1`,
    ),
    options: await q(
      `SELECT c.relname || ' ' || c.relkind::text || ' ' || coalesce(array_to_string(c.reloptions, ','), '') AS v
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
    ),
    migrations: await q(
      `SELECT migration_name || ' ' || checksum || ' ' || (finished_at IS NOT NULL) AS v FROM "${schema}"._prisma_migrations ORDER BY 1`,
      [],
    ),
  };
}

describe('test schemas replayed from the migration files', function () {
  let replayed: { schema: string; url: string };
  const client = new pg.Client({ connectionString: BASE_DATABASE_URL });

  before(async () => {
    replayed = await createTestSchema();
    await client.connect();
  });
  after(async () => {
    await client.end();
    await dropSchema(replayed.schema);
  });

  it('have the shape of the schema `prisma migrate deploy` made, and nothing pending', async () => {
    const migratedSchema = new URL(process.env.TEST_DATABASE_URL!).searchParams.get('schema')!;
    expect(replayed.schema).to.not.equal(migratedSchema);

    const [expected, actual] = [await shape(client, migratedSchema), await shape(client, replayed.schema)];

    expect(actual.columns.length).to.be.greaterThan(100);
    expect(actual.migrations.length).to.be.greaterThan(10);
    expect(actual).to.deep.equal(expected);
    expect(await pendingMigrations(replayed.url)).to.deep.equal([]);
  });
});
