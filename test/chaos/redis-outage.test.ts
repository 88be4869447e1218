// Chaos (d): Redis is killed (SIGKILL) for 15 s in the middle of a run and started again on the
// same port, twice: once with AOF (fsync per write), as production should run it, so the case
// is about reconnecting and nothing else (the reconciler stays at its 30 s default and is not
// needed); once without persistence, so Redis also comes back empty and the reconciler
// (RECONCILE_EVERY_MS=1000) must re-add the jobs. During the outage the API answers POST
// /pipelines with 503 + Retry-After in under 100 ms and /health/ready with 503; the worker
// processes stay up. After it, the same API and worker processes (no restart) serve again, the
// client's retries with its Idempotency-Keys go through, and every pipeline finishes with each
// stage recorded once.
import { expect } from 'chai';
import { request } from '../support/http.js';
import { startStack, type ChaosStack } from '../support/chaos/chaos-stack.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { assertEveryEffectOnce, stageStatusCounts, waitForTerminal } from '../support/chaos/outcome.js';
import { figure, msSince, postPipeline, sleep, sleepChain, submitMany } from '../support/chaos/pipelines.js';

const OUTAGE_MS = 15_000;
const PIPELINES = 20;
const POSTS_DURING_OUTAGE = 10;

const MODES: { title: string; persistent: boolean; env: Record<string, string> }[] = [
  { title: 'Redis with AOF: it comes back with its data', persistent: true, env: {} },
  { title: 'Redis without persistence: it comes back empty', persistent: false, env: { RECONCILE_EVERY_MS: '1000' } },
];

for (const mode of MODES)
  describe(`chaos (d): a 15 s Redis outage (${mode.title})`, function () {
    this.timeout(180_000);
    let stack: ChaosStack;

    before(async () => {
      stack = await startStack({ redis: { persistent: mode.persistent }, env: mode.env });
      await stack.startWorker({ args: ['--concurrency', '8'], wait: false });
      await stack.startWorker({ args: ['--concurrency', '8'], wait: false });
      await stack.waitForWorkers(2);
    });
    after(async () => {
      await stack?.close();
    });

    it('API fails fast (503 + Retry-After < 100 ms, readiness 503), then API and workers recover without a restart and every pipeline finishes once', async () => {
      // Cancelled during the outage (refused), then again after it: the cancel must reach the
      // running stage through the workers' re-subscribed cancel channel (its sleep outlasts the test).
      const [toCancel] = await submitMany(stack.baseUrl, 1, () => sleepChain('redis-outage-cancel', 1, 120_000));
      await pollUntil(
        'the stage to cancel running',
        async () => ((await stageStatusCounts(stack.db, [toCancel])).running ?? 0) === 1,
        30_000,
      );
      const ids = await submitMany(stack.baseUrl, PIPELINES, (i) => sleepChain(`redis-outage-${i}`, 2, 1500));
      await pollUntil('stages running', async () => ((await stageStatusCounts(stack.db, ids)).running ?? 0) > 0, 30_000);
      const workerPids = stack.workers.map((w) => w.pid);

      // The outage.
      await stack.redis.kill('SIGKILL');
      const down = performance.now();
      const ready = await request(stack.baseUrl, 'GET', '/health/ready');
      expect(ready.status, JSON.stringify(ready.body)).to.equal(503);
      expect(ready.body.components.find((c: { name: string }) => c.name === 'redis').ok).to.equal(false);

      const refused: { key: string; body: unknown; ms: number }[] = [];
      for (let i = 0; i < POSTS_DURING_OUTAGE; i++) {
        const body = sleepChain(`during-outage-${i}`, 1, 200);
        const res = await postPipeline(stack.baseUrl, body);
        expect(res.status, JSON.stringify(res.body)).to.equal(503);
        expect(res.body.error.code).to.equal('QUEUE_UNAVAILABLE');
        expect(res.headers.get('retry-after'), 'Retry-After').to.match(/^\d+$/);
        refused.push({ key: res.key, body, ms: res.ms });
        await sleep(200);
      }
      const latencies = refused.map((r) => r.ms).sort((a, b) => a - b);
      figure(
        'POST /pipelines during the Redis outage (ms, sorted)',
        latencies.map((ms) => Math.round(ms * 10) / 10),
      );
      expect(latencies[latencies.length - 1], 'slowest 503 (ms)').to.be.below(100);
      // Refused before any write: nothing half-submitted waits in Postgres for a job.
      const recorded = await stack.db.query('SELECT 1 FROM pipelines WHERE idempotency_key = ANY($1)', [refused.map((r) => r.key)]);
      expect(recorded.rowCount, 'pipelines recorded by refused POSTs').to.equal(0);

      // The rest of the API: reads of Postgres still answer; what needs Redis answers 503, never 500.
      const sweep: Record<string, number> = {};
      for (const [method, path] of [
        ['GET', `/api/v1/pipelines/${ids[0]}`],
        ['GET', '/api/v1/pipelines?limit=5'],
        ['GET', '/api/v1/agents'],
        ['GET', '/api/v1/dlq'],
        ['POST', `/api/v1/pipelines/${toCancel}/cancel`],
      ] as const) {
        sweep[`${method} ${path.replace(/[0-9a-f-]{36}/, ':id')}`] = (await request(stack.baseUrl, method, path)).status;
      }
      figure('other endpoints during the outage', sweep);
      expect(
        Object.values(sweep).filter((status) => status >= 500 && status !== 503),
        JSON.stringify(sweep),
      ).to.deep.equal([]);

      const readyTimes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const res = await request(stack.baseUrl, 'GET', '/health/ready');
        readyTimes.push(msSince(started));
        expect(res.status).to.equal(503);
      }
      figure('GET /health/ready during the outage (ms)', readyTimes);

      await sleep(Math.max(0, OUTAGE_MS - msSince(down)));
      for (const w of stack.workers)
        expect(w.alive(), `${w.name} still running after the outage\n${w.output().slice(-3000)}`).to.equal(true);

      // Redis comes back on the same port; nothing is restarted.
      await stack.redis.start();
      const up = performance.now();
      figure('Redis outage (ms)', Math.round(up - down));
      await pollUntil(
        'readiness back to 200',
        async () => (await request(stack.baseUrl, 'GET', '/health/ready')).status === 200,
        30_000,
        100,
      );
      figure('readiness 200 again after Redis restart (ms)', msSince(up));

      // The client retries its refused submissions with the same keys.
      const retried: string[] = [];
      for (const r of refused) {
        let res = await postPipeline(stack.baseUrl, r.body, r.key);
        const deadline = Date.now() + 30_000;
        while (res.status === 503 && Date.now() < deadline) {
          await sleep(200);
          res = await postPipeline(stack.baseUrl, r.body, r.key);
        }
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        retried.push(res.body.id as string);
      }
      figure('POST accepted again after Redis restart (ms)', msSince(up));

      // A cancel refused during the outage is repeated, as the client would.
      const cancelAgain = await request(stack.baseUrl, 'POST', `/api/v1/pipelines/${toCancel}/cancel`);
      expect([202, 409], JSON.stringify(cancelAgain.body)).to.include(cancelAgain.status);
      const all = [...ids, ...retried];
      await waitForTerminal(stack.db, all, 90_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${stack.outputs()}`);
      });
      figure('all pipelines terminal after Redis restart (ms)', msSince(up));
      const outcome = await assertEveryEffectOnce(stack.db, all);
      figure('runs by status', outcome.runCounts);
      expect(outcome.statusCounts).to.deep.equal({ succeeded: all.length });
      await waitForTerminal(stack.db, [toCancel], 30_000);
      const cancelled = await assertEveryEffectOnce(stack.db, [toCancel]);
      expect(cancelled.statusCounts).to.deep.equal({ cancelled: 1 });
      const aborted = cancelled.stages.find((s) => s.key === 's0')!;
      expect(
        aborted.runs.map((r) => r.status),
        'the running stage was aborted by the cancel',
      ).to.deep.equal(['cancelled']);

      // The same processes did it.
      expect(stack.workers.map((w) => w.pid)).to.deep.equal(workerPids);
      for (const w of stack.workers) expect(w.alive(), w.name).to.equal(true);
      expect(stack.api.alive(), 'api').to.equal(true);
    });
  });
