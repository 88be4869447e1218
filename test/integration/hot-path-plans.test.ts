// The hot path's statements keep plans that probe `stages` and `pipelines` by index even when
// Postgres plans them against nearly empty tables. Each pooled connection keeps a generic plan
// of a named statement from its sixth run, costed against the tables as they were then, and keeps
// it while they grow, until an analyse invalidates it: a plan that scans a small table is cheap
// then and costs a full scan of the grown table on every run afterwards (docs/performance.md,
// "Plans that hold on a small table"). Here the generic plans are made at once, on a new
// schema's empty tables, and read with EXPLAIN.
import { expect } from 'chai';
import pg from 'pg';
import { toPgConnection } from '../../src/infra/db/connection-url.js';
import { loadSql } from '../../src/infra/db/sql/load.js';
import { SETTLED_SQL } from '../../src/infra/db/stage-run.repository.js';
import { createTestSchema, dropSchema } from '../support/test-database.js';

const STATEMENTS = [
  { name: 'claim', text: loadSql('claim-stages.sql'), args: `('[]'::jsonb)` },
  { name: 'finish', text: loadSql('finish-stages.sql'), args: `('[]'::jsonb, true)` },
  { name: 'settled re-check', text: SETTLED_SQL, args: `('{}'::uuid[])` },
];

describe('hot-path plans on empty tables (integration)', () => {
  let schema: string;
  let client: pg.Client;

  before(async () => {
    const created = await createTestSchema();
    schema = created.schema;
    client = new pg.Client({ connectionString: toPgConnection(created.url).connectionString });
    await client.connect();
    // A few hundred finished stages, as after a new deployment's first pipelines (or the bench's
    // warm-up): a table this small makes a sequential scan the cheapest way to find a few rows.
    await client.query(
      `WITH p AS (
         INSERT INTO pipelines (id, name, status, definition, updated_at)
         SELECT gen_random_uuid(), 'plans-' || i, 'succeeded', '{}'::jsonb, now() FROM generate_series(1, 2) AS i RETURNING id
       )
       INSERT INTO stages (id, pipeline_id, key, position, agent, input, retry_attempts, retry_backoff, status)
       SELECT gen_random_uuid(), p.id, 's' || g, g, 'noop', '{}'::jsonb, 0, '{"type":"fixed","delay":0}'::jsonb, 'succeeded'
       FROM p CROSS JOIN generate_series(0, 4) AS g`,
    );
    // What the plan cache does from a statement's sixth run, done at the first.
    await client.query('SET plan_cache_mode = force_generic_plan');
  });
  after(async () => {
    await client.end();
    await dropSchema(schema);
  });

  for (const [i, statement] of STATEMENTS.entries()) {
    it(`the ${statement.name} statement's generic plan scans neither stages nor pipelines`, async () => {
      await client.query(`PREPARE hot_path_${i} AS ${statement.text}`);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (VERBOSE) EXECUTE hot_path_${i}${statement.args}`);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan, 'a generic plan, parameters unbound').to.match(/\$1/);
      expect(plan).to.not.match(/Seq Scan on (\w+\.)?(stages|pipelines)\b/);
      expect(plan).to.not.match(/Bitmap Heap Scan on (\w+\.)?stages\b/);
    });
  }
});
