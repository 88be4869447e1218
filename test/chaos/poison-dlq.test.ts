// Chaos (f): poison stages reach the dead-letter queue, then a bulk replay by agent type
// (`POST /api/v1/dlq/retry {agent}`). Built-in `fail` agent: the "flaky" stages fail their
// first 2 attempts (the cause), use up `retry.attempts: 2` and land in the DLQ; a replay keeps
// the stage's attempt counter, so their 3rd attempt succeeds (the cause is fixed) and each
// pipeline continues with its skipped dependant. The "poison" stages throw an unrecoverable
// error on every attempt: they land in the DLQ at once, and the same replay sends them back
// there, deterministically. Every stage is recorded once. The replay is the stack's admin key's
// (the DLQ takes no `actor` field: the actor is the caller's identity).
import { expect } from 'chai';
import { request, type Loose } from '../support/http.js';
import { startStack, type ChaosStack } from '../support/chaos/chaos-stack.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { assertEveryEffectOnce, waitForTerminal } from '../support/chaos/outcome.js';
import { figure, submitMany } from '../support/chaos/pipelines.js';

const FLAKY = 4;
const POISON = 2;

const failThenNoop = (name: string, input: Record<string, unknown>, attempts: number) => ({
  name,
  stages: [
    { key: 'risky', agent: 'fail', input, retry: { attempts, backoff: { type: 'fixed', delayMs: 100, jitter: 0 } } },
    { key: 'after', agent: 'noop', input: {}, dependsOn: ['risky'] },
  ],
});

describe('chaos (f): poison stages, the DLQ and a bulk replay', function () {
  this.timeout(180_000);
  let stack: ChaosStack;

  before(async () => {
    // The flaky failures open the `fail` agent's circuit breaker (50% of 10 calls): keep its
    // hold short so the case measures the DLQ, not BREAKER_RESET_MS.
    stack = await startStack({ env: { BREAKER_RESET_MS: '1000' } });
    await stack.startWorker({ args: ['--concurrency', '8'] });
  });
  after(async () => {
    await stack?.close();
  });

  const dlq = async (): Promise<Loose> => {
    const res = await request(stack.baseUrl, 'GET', '/api/v1/dlq?agent=fail&limit=100');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };

  it('failed jobs land in the DLQ grouped by fingerprint; a replay by agent finishes the fixed ones and dead-letters the poison again', async () => {
    const flaky = await submitMany(stack.baseUrl, FLAKY, (i) =>
      failThenNoop(`flaky-${i}`, { failAttempts: 2, message: 'upstream flaky' }, 2),
    );
    const poison = await submitMany(stack.baseUrl, POISON, (i) =>
      failThenNoop(`poison-${i}`, { message: 'input can never be processed', unrecoverable: true }, 3),
    );
    const all = [...flaky, ...poison];
    await waitForTerminal(stack.db, all, 60_000);
    const first = await assertEveryEffectOnce(stack.db, all);
    expect(first.statusCounts).to.deep.equal({ failed: all.length });
    for (const s of first.stages) expect(s.status, s.key).to.equal(s.key === 'risky' ? 'failed' : 'skipped');

    let listed: Loose = {};
    await pollUntil('every failed job in the DLQ', async () => (listed = await dlq()).total === all.length, 15_000, 100);
    const groups = (listed.groups as Loose[]).map((g) => ({ count: g.count, code: g.code }));
    figure('DLQ groups before the replay', groups);
    expect(groups.map((g) => g.count)).to.deep.equal([FLAKY, POISON]);

    const replay = await request(stack.baseUrl, 'POST', '/api/v1/dlq/retry', { agent: 'fail' });
    expect(replay.status, JSON.stringify(replay.body)).to.equal(202);
    figure('bulk replay report', { matched: replay.body.matched, replayed: replay.body.replayed, skipped: replay.body.skipped.length });
    expect(replay.body.replayed).to.equal(all.length);

    // The replay reopened every pipeline before answering.
    const reopened = await stack.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM pipelines WHERE id = ANY($1::uuid[]) AND status = 'running'",
      [all],
    );
    expect(
      Number(reopened.rows[0].n) +
        (await stack.db.query("SELECT 1 FROM pipelines WHERE id = ANY($1::uuid[]) AND status = 'failed'", [poison])).rowCount!,
    ).to.be.at.least(FLAKY);
    await waitForTerminal(stack.db, all, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stack.outputs()}`);
    });
    const outcome = await assertEveryEffectOnce(stack.db, all);
    figure('runs by status', outcome.runCounts);
    expect(outcome.statusCounts).to.deep.equal({ succeeded: FLAKY, failed: POISON });
    for (const stage of outcome.stages) {
      const statuses = stage.runs.map((r) => r.status);
      if (flaky.includes(stage.pipelineId)) {
        expect(statuses, `flaky ${stage.key}`).to.deep.equal(stage.key === 'risky' ? ['failed', 'failed', 'succeeded'] : ['succeeded']);
      } else {
        expect(statuses, `poison ${stage.key}`).to.deep.equal(stage.key === 'risky' ? ['failed', 'failed'] : []);
        expect(stage.status).to.equal(stage.key === 'risky' ? 'failed' : 'skipped');
      }
    }
    await pollUntil('only the poison jobs left in the DLQ', async () => (listed = await dlq()).total === POISON, 15_000, 100);
    expect((listed.items as Loose[]).every((item) => poison.includes(item.pipelineId))).to.equal(true);

    // Each replay is audited under the caller's key.
    const audited = await stack.db.query<{ identity_id: string; n: string }>(
      "SELECT identity_id, count(*) AS n FROM audit_events WHERE action = 'dlq.replayed' AND pipeline_id = ANY($1::uuid[]) GROUP BY identity_id",
      [all],
    );
    expect(audited.rows.map((r) => [r.identity_id, Number(r.n)])).to.deep.equal([[stack.admin.id, all.length]]);
  });
});
