// Chaos (e): Postgres stops (`pg_ctl stop -m fast`: open sessions are terminated) for ~10 s in
// the middle of a run, then starts again. During it the API answers writes with 503 +
// Retry-After (never 500) and /health/ready with 503, and the worker processes stay up while
// their claims and finish statements fail. Every stage allows ONE attempt, so a stage whose
// claim or finish statement failed in the outage must go back to the queue without using it:
// after the restart every pipeline succeeds, and each stage has exactly one succeeded run.
import { expect } from 'chai';
import { request } from '../support/http.js';
import { startStack, type ChaosStack } from '../support/chaos/chaos-stack.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { assertEveryEffectOnce, stageStatusCounts, waitForTerminal } from '../support/chaos/outcome.js';
import { figure, msSince, postPipeline, sleep, sleepChain, submitMany } from '../support/chaos/pipelines.js';

const OUTAGE_MS = 10_000;
const PIPELINES = 20;
const ONE_ATTEMPT = { attempts: 1 };

describe('chaos (e): a Postgres outage', function () {
  this.timeout(180_000);
  let stack: ChaosStack;

  before(async () => {
    stack = await startStack();
    await stack.startWorker({ args: ['--concurrency', '8'], wait: false });
    await stack.startWorker({ args: ['--concurrency', '8'], wait: false });
    await stack.waitForWorkers(2);
  });
  after(async () => {
    if (stack && !stack.postgres.running()) await stack.postgres.start();
    await stack?.close();
  });

  it('writes answer 503, workers back off without losing a stage or an attempt, and progress resumes after', async () => {
    const ids = await submitMany(stack.baseUrl, PIPELINES, (i) => sleepChain(`pg-outage-${i}`, 3, 700, ONE_ATTEMPT));
    await pollUntil('stages running', async () => ((await stageStatusCounts(stack.db, ids)).running ?? 0) >= 4, 30_000);

    // A client keeps submitting through the whole outage, transitions included: every answer
    // is a 202 or a 503 with Retry-After, never a 500.
    const probes: { key: string; body: unknown; status: number; code: string; ms: number; retryAfter: string | null }[] = [];
    let probing = true;
    const prober = (async () => {
      for (let i = 0; probing; i++) {
        const body = sleepChain(`pg-outage-probe-${i}`, 1, 100, ONE_ATTEMPT);
        const res = await postPipeline(stack.baseUrl, body);
        probes.push({
          key: res.key,
          body,
          status: res.status,
          code: String(res.body.error?.code ?? ''),
          ms: res.ms,
          retryAfter: res.headers.get('retry-after'),
        });
        await sleep(100);
      }
    })();
    await sleep(300);

    await stack.postgres.stop('fast');
    const down = performance.now();
    while (msSince(down) < OUTAGE_MS - 1000) {
      const ready = await request(stack.baseUrl, 'GET', '/health/ready');
      expect(ready.status).to.equal(503);
      expect(ready.body.components.find((c: { name: string }) => c.name === 'postgres').ok).to.equal(false);
      for (const w of stack.workers) expect(w.alive(), `${w.name} still running\n${w.output().slice(-3000)}`).to.equal(true);
      await sleep(1000);
    }
    // The rest of the API while Postgres is down: 503, never 500.
    const sweep: Record<string, number> = {};
    for (const [method, path] of [
      ['GET', `/api/v1/pipelines/${ids[0]}`],
      ['GET', '/api/v1/pipelines?limit=5'],
      ['GET', `/api/v1/pipelines/${ids[0]}/runs`],
      ['POST', `/api/v1/pipelines/${ids[0]}/cancel`],
      ['GET', '/api/v1/dlq'],
      ['POST', '/api/v1/dlq/retry'],
    ] as const) {
      const body = method === 'POST' && path.endsWith('/retry') ? { agent: 'sleep' } : undefined;
      sweep[`${method} ${path.replace(/[0-9a-f-]{36}/, ':id')}`] = (await request(stack.baseUrl, method, path, body)).status;
    }
    figure('other endpoints during the outage', sweep);

    await sleep(Math.max(0, OUTAGE_MS - msSince(down)));
    await stack.postgres.start();
    const up = performance.now();
    figure('Postgres outage (ms)', Math.round(up - down));
    await pollUntil(
      'readiness back to 200',
      async () => (await request(stack.baseUrl, 'GET', '/health/ready')).status === 200,
      30_000,
      100,
    );
    figure('readiness 200 again after Postgres restart (ms)', msSince(up));
    await sleep(500);
    probing = false;
    await prober;

    const refused = probes.filter((p) => p.status !== 202);
    const answers = [...new Set(probes.map((p) => `${p.status} ${p.code}`.trim()))];
    figure('POST /pipelines through the Postgres outage (answers)', answers);
    figure('POST /pipelines 503 latency (ms, max)', Math.round(Math.max(...refused.map((p) => p.ms))));
    expect(refused.length, 'POSTs refused during the outage').to.be.greaterThan(5);
    // The client retries its refused submissions with the same keys.
    const accepted = probes.filter((p) => p.status === 202).map((p) => p.key);
    const retried: string[] = [];
    for (const p of probes) {
      const res = await postPipeline(stack.baseUrl, p.body, p.key);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      if (accepted.includes(p.key)) expect(res.headers.get('idempotent-replayed')).to.equal('true');
      retried.push(res.body.id as string);
    }

    const all = [...ids, ...retried];
    await waitForTerminal(stack.db, all, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stack.outputs()}`);
    });
    figure('all pipelines terminal after Postgres restart (ms)', msSince(up));
    const outcome = await assertEveryEffectOnce(stack.db, all);
    figure('runs by status', outcome.runCounts);
    expect(outcome.statusCounts, stack.outputs()).to.deep.equal({ succeeded: all.length });
    for (const w of stack.workers) {
      expect(w.alive(), `${w.name} exited\n${w.output().slice(-3000)}`).to.equal(true);
      expect(w.child.exitCode).to.equal(null);
    }
    expect(stack.api.alive(), 'api').to.equal(true);

    // Checked last, so that a wrong answer does not hide what the workers did.
    expect(
      Object.values(sweep).filter((status) => status >= 500 && status !== 503),
      JSON.stringify(sweep),
    ).to.deep.equal([]);
    for (const p of probes) {
      const unhandled = stack.api
        .output()
        .split('\n')
        .filter((line) => line.includes('unhandled error'))
        .slice(0, 3)
        .join('\n');
      expect([202, 503], `POST answered ${p.status} ${p.code}\n${unhandled.slice(0, 1500)}`).to.include(p.status);
      if (p.status === 503) {
        expect(p.code).to.equal('DEPENDENCY_UNAVAILABLE');
        expect(p.retryAfter, 'Retry-After').to.match(/^\d+$/);
      }
    }
  });
});
