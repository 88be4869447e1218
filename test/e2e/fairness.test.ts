// Fairness across submitters end to end: under a global running limit, one submitter's backlog of
// a thousand pipelines does not starve another submitter's one, which starts at the next free
// slot; every pipeline still runs its stage exactly once. Real HTTP, Redis, Postgres and
// workers, on a schema of its own (the limits count every pipeline of the schema). Prints the
// figures docs/throttling.md quotes.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, type Loose } from '../support/http.js';
import { createTestSchema, dropSchema } from '../support/test-database.js';

const A_PIPELINES = 1000;
const MAX_RUNNING = 10;
/** B's pipeline must finish before this many of A's that were still unfinished when B submitted. */
const K = 5 * MAX_RUNNING;
const SUBMIT_IN_FLIGHT = 25;
const WORKERS = 2;

const single = (name: string) => ({ name, stages: [{ key: 'only', agent: 'noop', input: {} }] });

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** Polls Postgres until no pipeline of the schema is queued or running. */
async function waitForAllFinished(h: Harness, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await h.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pipelines WHERE status IN ('queued', 'running')");
    if (rows[0]!.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} pipelines still queued or running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('fairness across submitters (e2e)', () => {
  let schema: string;
  let databaseUrl: string;
  let h: Harness | undefined;

  before(async function () {
    this.timeout(120_000);
    ({ schema, url: databaseUrl } = await createTestSchema());
  });
  after(async () => {
    await h?.close();
    if (schema) await dropSchema(schema);
  });

  it(`submitter A queues ${A_PIPELINES} pipelines, then B one: B's finishes before ${K} more of A's do`, async function () {
    this.timeout(180_000);
    // Arrange: a global limit only (no per-submitter one), no backlog mark, and no worker until
    // every submission is in: however fast the engine runs, A's backlog is there when B arrives
    h = await startHarness({
      workers: 0,
      env: { DATABASE_URL: databaseUrl, MAX_RUNNING_PIPELINES: String(MAX_RUNNING), BACKLOG_HIGH_WATER: '0' },
    });
    const harness = h;
    const teamA = await harness.createKey('bulk-a', ['submitter'], { kind: 'service' });
    const teamB = await harness.createKey('single-b', ['submitter'], { kind: 'service' });
    const submit = async (name: string, key: string): Promise<Loose> => {
      const res = await request(harness.baseUrl, 'POST', '/api/v1/pipelines', single(name), bearer(key));
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      return res.body;
    };

    // Act: A's thousand, a few in flight at a time, then B's one
    const aIds: string[] = [];
    const began = Date.now();
    for (let i = 0; i < A_PIPELINES; i += SUBMIT_IN_FLIGHT) {
      const batch = Array.from({ length: Math.min(SUBMIT_IN_FLIGHT, A_PIPELINES - i) }, (_, j) => submit(`a-${i + j}`, teamA.key));
      aIds.push(...(await Promise.all(batch)).map((p) => p.id as string));
    }
    const submittedA = Date.now() - began;
    const b = await submit('b-only', teamB.key);
    for (let i = 0; i < WORKERS; i++) await harness.startWorker();
    const doneB = await waitForPipeline(harness.baseUrl, b.id, 120_000);
    await waitForAllFinished(harness, 150_000);

    // Assert: everything succeeded, each stage ran exactly once
    expect(b.status, 'B waits for a slot like anyone').to.equal('queued');
    expect(doneB.status).to.equal('succeeded');
    const { rows } = await harness.db.pool.query<{
      id: string;
      submitter: string;
      status: string;
      created_at: Date;
      started_at: Date;
      finished_at: Date;
      runs: number;
    }>(
      `SELECT p.id, p.submitter, p.status, p.created_at, p.started_at, p.finished_at,
              (SELECT count(*)::int FROM stage_runs r WHERE r.pipeline_id = p.id) AS runs
       FROM pipelines p ORDER BY p.finished_at, p.id`,
    );
    expect(rows).to.have.length(A_PIPELINES + 1);
    expect(rows.every((r) => r.status === 'succeeded')).to.equal(true);
    expect(rows.every((r) => r.runs === 1)).to.equal(true);
    expect(new Set(rows.filter((r) => r.submitter === teamA.id).map((r) => r.id)).size).to.equal(A_PIPELINES);

    // B's finish among all finishes, and among A's still unfinished when B was submitted
    const bRow = rows.find((r) => r.id === b.id)!;
    const position = rows.findIndex((r) => r.id === b.id) + 1;
    const aRows = rows.filter((r) => r.submitter === teamA.id);
    const aOpenAtB = aRows.filter((r) => r.finished_at.getTime() > bRow.created_at.getTime());
    const aFinishedBeforeB = aOpenAtB.filter((r) => r.finished_at.getTime() < bRow.finished_at.getTime()).length;
    const waitOf = (r: (typeof rows)[number]) => r.finished_at.getTime() - r.created_at.getTime();
    const bWait = waitOf(bRow);
    const aMedianWait = median(aRows.map(waitOf));
    const aSpan = Math.max(...aRows.map((r) => r.finished_at.getTime())) - Math.min(...aRows.map((r) => r.created_at.getTime()));
    process.stdout.write(
      `      figures: A ${A_PIPELINES} pipelines submitted in ${submittedA} ms, all finished ${aSpan} ms after the first submission; ` +
        `${aOpenAtB.length} of A's unfinished when B submitted; B finished ${position}th of ${rows.length} ` +
        `(after ${aFinishedBeforeB} of those ${aOpenAtB.length}); B waited ${bWait} ms from submission to finish, ` +
        `A's median wait ${aMedianWait} ms (B/A ${(bWait / aMedianWait).toFixed(3)})\n`,
    );
    // Fair share: B took the first slot that freed after it arrived, ahead of A's older backlog.
    expect(aOpenAtB.length, 'A still had a backlog when B arrived').to.be.greaterThan(K);
    expect(aFinishedBeforeB).to.be.below(K);
    expect(bWait).to.be.below(aMedianWait);
  });
});
