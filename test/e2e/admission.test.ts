// Admission control end to end: running limits (global, per submitter) keep pipelines `queued`
// until a finish frees a slot, they start in submission order, a full backlog answers 429, and
// a queued pipeline can be cancelled. Real Redis, Postgres and workers; the limits count every
// pipeline in the database, so this file runs on a schema of its own.
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/infra/db/database.js';
import { createPipelineRepository } from '../../src/infra/db/pipeline.repository.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';
import { createTestSchema, dropSchema } from '../support/test-database.js';

const PIPELINES = '/api/v1/pipelines';

const sleeper = (name: string, ms: number) => ({ name, stages: [{ key: 'nap', agent: 'sleep', input: { ms } }] });

interface Observation {
  maxRunning: number;
  maxRunningBySubmitter: Map<string, number>;
  samples: number;
}

/** Samples the pipelines table every few ms: the most pipelines seen `running` at once. */
function observeRunning(h: Harness): { stop(): Promise<Observation> } {
  const seen: Observation = { maxRunning: 0, maxRunningBySubmitter: new Map(), samples: 0 };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await h.db.pool.query<{ submitter: string; n: number }>(
        "SELECT submitter, count(*)::int AS n FROM pipelines WHERE status = 'running' GROUP BY submitter",
      );
      seen.samples += 1;
      seen.maxRunning = Math.max(
        seen.maxRunning,
        rows.reduce((sum, r) => sum + r.n, 0),
      );
      for (const r of rows) seen.maxRunningBySubmitter.set(r.submitter, Math.max(seen.maxRunningBySubmitter.get(r.submitter) ?? 0, r.n));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

async function submit(h: Harness, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(h.baseUrl, 'POST', PIPELINES, body, headers);
  expect(res.status, JSON.stringify(res.body)).to.equal(202);
  return res.body;
}

/** started_at and finished_at as Postgres has them (ms precision), in submission order. */
async function timesOf(h: Harness, ids: string[]) {
  const { rows } = await h.db.pool.query<{ id: string; created_at: Date; started_at: Date; finished_at: Date }>(
    'SELECT id, created_at, started_at, finished_at FROM pipelines WHERE id = ANY($1::uuid[]) ORDER BY created_at, id',
    [ids],
  );
  return rows;
}

async function countPipelines(h: Harness): Promise<number> {
  return (await h.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pipelines')).rows[0]!.n;
}

describe('admission control (e2e)', () => {
  let schema: string;
  let databaseUrl: string;
  let h: Harness | undefined;
  let db: Database;

  before(async function () {
    this.timeout(120_000);
    ({ schema, url: databaseUrl } = await createTestSchema());
    db = createDatabase(databaseUrl, 2);
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    // Whatever a test left unfinished (a failed assertion before its cleanup) must not hold a
    // slot in the next test: the limits count every pipeline of the schema.
    await db.pool.query("UPDATE pipelines SET status = 'cancelled', finished_at = now() WHERE status IN ('queued', 'running')");
  });
  after(async () => {
    await db?.close();
    if (schema) await dropSchema(schema);
  });

  const harness = async (env: Record<string, string>, workers = 1) => {
    // A short grace period: closing the harness aborts a 60 s sleep instead of waiting for it.
    h = await startHarness({ workers, env: { DATABASE_URL: databaseUrl, SHUTDOWN_GRACE_MS: '200', ...env } });
    return h;
  };

  it('global limit 2, five sleep pipelines: never more than 2 running, all succeed, started in submission order', async () => {
    // Arrange: two worker processes' worth of conductors, so finishes race each other
    const h = await harness({ MAX_RUNNING_PIPELINES: '2' }, 2);
    const observer = observeRunning(h);

    // Act
    const created: Loose[] = [];
    for (let i = 0; i < 5; i++) created.push(await submit(h, sleeper(`global-${i}`, 400)));
    const done = await Promise.all(created.map((p) => waitForPipeline(h.baseUrl, p.id, 60_000)));
    const seen = await observer.stop();

    // Assert: the answers — two started at once, three waiting with nothing dispatched
    expect(created.map((p) => p.status)).to.deep.equal(['running', 'running', 'queued', 'queued', 'queued']);
    for (const p of created.slice(2)) {
      expect(p.startedAt).to.equal(null);
      expect(p.stages.map((s: Loose) => s.status)).to.deep.equal(['pending']);
    }
    // never above the limit, and the limit was used
    expect(seen.samples).to.be.greaterThan(10);
    expect(seen.maxRunning).to.equal(2);
    expect(done.map((p) => p.status)).to.deep.equal(Array(5).fill('succeeded'));
    // started in submission order (ties: started by one statement)
    const times = await timesOf(
      h,
      created.map((p) => p.id),
    );
    expect(times.map((t) => t.id)).to.deep.equal(created.map((p) => p.id));
    for (let i = 1; i < times.length; i++) {
      expect(times[i]!.started_at.getTime(), `pipeline ${i} started before pipeline ${i - 1}`).to.be.at.least(
        times[i - 1]!.started_at.getTime(),
      );
    }
    // a queued one started only once a slot was free: after the first finish
    const firstFinish = Math.min(times[0]!.finished_at.getTime(), times[1]!.finished_at.getTime());
    expect(times[2]!.started_at.getTime()).to.be.at.least(firstFinish);
  });

  it('per-submitter limit 1, two submitters: each runs one at a time, the other submitter is not held up', async () => {
    // Arrange: the submitter is the identity of the key (one key per team)
    const h = await harness({ MAX_RUNNING_PIPELINES_PER_SUBMITTER: '1' });
    const teamA = await h.createKey('team-a', ['submitter'], { kind: 'service' });
    const teamB = await h.createKey('team-b@example.com', ['submitter'], { kind: 'service' });
    const observer = observeRunning(h);

    // Act
    const a1 = await submit(h, sleeper('team-a-1', 400), bearer(teamA.key));
    const a2 = await submit(h, sleeper('team-a-2', 400), bearer(teamA.key));
    const b1 = await submit(h, sleeper('team-b-1', 400), bearer(teamB.key));
    const b2 = await submit(h, sleeper('team-b-2', 400), bearer(teamB.key));
    const done = await Promise.all([a1, a2, b1, b2].map((p) => waitForPipeline(h.baseUrl, p.id, 60_000)));
    const seen = await observer.stop();

    // Assert
    expect([a1.status, a2.status, b1.status, b2.status]).to.deep.equal(['running', 'queued', 'running', 'queued']);
    expect([a1.submitter, a2.submitter, b1.submitter, b2.submitter]).to.deep.equal([teamA.id, teamA.id, teamB.id, teamB.id]);
    expect(done.map((p) => p.status)).to.deep.equal(Array(4).fill('succeeded'));
    expect(seen.maxRunningBySubmitter.get(teamA.id)).to.equal(1);
    expect(seen.maxRunningBySubmitter.get(teamB.id)).to.equal(1);
    expect(seen.maxRunning).to.equal(2);
    const [ta1, ta2, tb1, tb2] = await timesOf(h, [a1.id, a2.id, b1.id, b2.id]);
    expect(ta2!.started_at.getTime()).to.be.at.least(ta1!.finished_at.getTime());
    expect(tb2!.started_at.getTime()).to.be.at.least(tb1!.finished_at.getTime());
  });

  it('ten concurrent submissions under a global limit of 3: exactly 3 start, 7 wait, then all succeed', async () => {
    // Arrange: no worker yet, so nothing finishes while they are submitted
    const h = await harness({ MAX_RUNNING_PIPELINES: '3' }, 0);

    // Act
    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(h, sleeper(`burst-${i}`, 100))));

    // Assert
    expect(created.filter((p) => p.status === 'running')).to.have.length(3);
    expect(created.filter((p) => p.status === 'queued')).to.have.length(7);
    const observer = observeRunning(h);
    await h.startWorker();
    const done = await Promise.all(created.map((p) => waitForPipeline(h.baseUrl, p.id, 60_000)));
    const seen = await observer.stop();
    expect(done.map((p) => p.status)).to.deep.equal(Array(10).fill('succeeded'));
    expect(seen.maxRunning).to.be.at.most(3);
  });

  it('twenty starts racing for one freed slot: exactly one queued pipeline starts, the oldest', async () => {
    // Arrange: limit 1, one running and five queued, no worker; then the running one "finishes"
    const h = await harness({ MAX_RUNNING_PIPELINES: '1' }, 0);
    const first = await submit(h, sleeper('slot-holder', 10));
    const queued: Loose[] = [];
    for (let i = 0; i < 5; i++) queued.push(await submit(h, sleeper(`racer-${i}`, 10)));
    await h.db.pool.query("UPDATE pipelines SET status = 'succeeded', finished_at = now() WHERE id = $1", [first.id]);
    const repo = createPipelineRepository(h.db);

    // Act: what twenty conductors finishing at once would do
    const started = (
      await Promise.all(Array.from({ length: 20 }, () => repo.startQueued({ maxRunning: 1, maxRunningPerSubmitter: 0 })))
    ).flat();

    // Assert
    expect(started).to.deep.equal([queued[0]!.id]);
    const { rows } = await h.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pipelines WHERE status = 'running'");
    expect(rows[0]!.n).to.equal(1);
  });

  it('backlog at the high-water mark: 429 BACKLOG_FULL with Retry-After, nothing recorded', async () => {
    // Arrange: one long pipeline holds the only slot, two wait (the mark)
    const h = await harness({ MAX_RUNNING_PIPELINES: '1', BACKLOG_HIGH_WATER: '2' });
    const running = await submit(h, sleeper('hold-the-slot', 60_000));
    const waiting = [await submit(h, sleeper('backlog-1', 100)), await submit(h, sleeper('backlog-2', 100))];
    expect(waiting.map((p) => p.status)).to.deep.equal(['queued', 'queued']);
    const before = await countPipelines(h);

    // Act
    const refused = await request(h.baseUrl, 'POST', PIPELINES, sleeper('one-too-many', 100), { 'Idempotency-Key': 'admission-429-key' });

    // Assert
    expect(refused.status, JSON.stringify(refused.body)).to.equal(429);
    expect(refused.body.error.code).to.equal('BACKLOG_FULL');
    expect(refused.body.error.requestId).to.be.a('string');
    expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(await countPipelines(h)).to.equal(before);
    const keyed = await h.db.pool.query("SELECT 1 FROM pipelines WHERE idempotency_key = 'admission-429-key' OR name = 'one-too-many'");
    expect(keyed.rowCount).to.equal(0);

    // Cleanup: the waiting ones first, so the freed slot starts nothing
    for (const p of [...waiting.reverse(), running]) await request(h.baseUrl, 'POST', `${PIPELINES}/${p.id}/cancel`);
    for (const p of [running, ...waiting]) expect((await waitForPipeline(h.baseUrl, p.id)).status).to.equal('cancelled');
  });

  it('a queued pipeline: a replay keeps it waiting, cancel closes it without ever starting it', async () => {
    // Arrange
    const h = await harness({ MAX_RUNNING_PIPELINES: '1' });
    const running = await submit(h, sleeper('hold-the-slot', 60_000));
    const body = sleeper('cancel-me-while-queued', 100);
    const queued = await submit(h, body, { 'Idempotency-Key': 'admission-queued-key' });
    expect(queued.status).to.equal('queued');

    // Act 1: the same request again (a replay asks the conductor to redispatch)
    const replay = await request(h.baseUrl, 'POST', PIPELINES, body, { 'Idempotency-Key': 'admission-queued-key' });
    await new Promise((r) => setTimeout(r, 300));

    // Assert 1: still waiting, nothing dispatched
    expect(replay.status).to.equal(202);
    expect(replay.headers.get('idempotent-replayed')).to.equal('true');
    const still = (await request(h.baseUrl, 'GET', `${PIPELINES}/${queued.id}`)).body;
    expect(still.status).to.equal('queued');
    expect(still.stages.map((s: Loose) => s.status)).to.deep.equal(['pending']);

    // Act 2
    const cancel = await request(h.baseUrl, 'POST', `${PIPELINES}/${queued.id}/cancel`);

    // Assert 2
    expect(cancel.status).to.equal(202);
    const closed = await waitForPipeline(h.baseUrl, queued.id);
    expect(closed.status).to.equal('cancelled');
    expect(closed.startedAt).to.equal(null);
    expect(closed.stages.map((s: Loose) => s.status)).to.deep.equal(['cancelled']);
    expect((await request(h.baseUrl, 'GET', `${PIPELINES}/${queued.id}/runs`)).body.items).to.deep.equal([]);
    expect((await request(h.baseUrl, 'GET', `${PIPELINES}/${running.id}`)).body.status).to.equal('running');

    // Cleanup
    await request(h.baseUrl, 'POST', `${PIPELINES}/${running.id}/cancel`);
    expect((await waitForPipeline(h.baseUrl, running.id)).status).to.equal('cancelled');
  });

  it('a queued pipeline whose root needs a human: once started, the conductor opens the decision', async () => {
    // Arrange: deployment is cost_impacting, always decided by a person
    const h = await harness({ MAX_RUNNING_PIPELINES: '1' });
    const first = await submit(h, sleeper('before-the-deploy', 300));
    const deploy = await submit(h, { name: 'queued-deploy', stages: [{ key: 'deploy', agent: 'sim_deployment' }] });
    expect(deploy.status).to.equal('queued');
    expect(deploy.decisions).to.deep.equal([]);

    // Act: the first one finishes and frees the slot
    expect((await waitForPipeline(h.baseUrl, first.id)).status).to.equal('succeeded');
    const started = await waitUntil(h.baseUrl, deploy.id, (p) => p.decisions.length > 0);

    // Assert
    expect(started.status).to.equal('running');
    expect(started.stages[0].status).to.equal('waiting');
    expect(started.decisions[0].status).to.equal('pending');

    // Cleanup
    await request(h.baseUrl, 'POST', `${PIPELINES}/${deploy.id}/cancel`);
    expect((await waitForPipeline(h.baseUrl, deploy.id)).status).to.equal('cancelled');
  });

  it('an X-Submitter header (any value, even a well-formed name): 400 naming the header, nothing recorded', async () => {
    // The submitter is the authenticated caller: a header naming another one is refused.
    const h = await harness({}, 0);
    const before = await countPipelines(h);
    const malformed = await request(h.baseUrl, 'POST', PIPELINES, sleeper('bad-submitter', 10), { 'X-Submitter': 'team a/b' });
    const wellFormed = await request(h.baseUrl, 'POST', PIPELINES, sleeper('named-submitter', 10), { 'X-Submitter': 'team-a' });
    for (const res of [malformed, wellFormed]) {
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: Loose) => d.field)).to.include('X-Submitter');
    }
    expect(await countPipelines(h)).to.equal(before);
  });

  it('no limits (the default): pipelines start at once, as the identity of the key that submitted them', async () => {
    const h = await harness({});
    const ci = await h.createKey('ci', ['submitter'], { kind: 'service' });
    const created = await submit(h, sleeper('unlimited', 10), bearer(ci.key));
    expect(created.status).to.equal('running');
    expect(created.submitter).to.equal(ci.id);
    expect(created.stages[0].status).to.equal('queued');
    expect((await waitForPipeline(h.baseUrl, created.id)).status).to.equal('succeeded');
  });
});
