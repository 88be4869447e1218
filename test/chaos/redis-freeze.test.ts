// Chaos (d'): Redis hangs instead of going away: the redis-server process is frozen (SIGSTOP)
// for 8 s, so connections stay open and commands get no answer (a partition looks the same).
// Nothing on the API may hang with it: the producer's command timeout
// (PRODUCER_COMMAND_TIMEOUT_MS, 2 s) turns POST /pipelines and /health/ready into 503s. After
// SIGCONT the client's retries with its Idempotency-Keys go through, and every pipeline,
// including those recorded by the refused POSTs, finishes with each stage recorded once.
import { expect } from 'chai';
import { request } from '../support/http.js';
import { startStack, type ChaosStack } from '../support/chaos/chaos-stack.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { assertEveryEffectOnce, stageStatusCounts, waitForTerminal } from '../support/chaos/outcome.js';
import { figure, msSince, postPipeline, sleep, sleepChain, submitMany } from '../support/chaos/pipelines.js';
import { PRODUCER_COMMAND_TIMEOUT_MS } from '../../src/infra/queue/redis-connection.js';

const FREEZE_MS = 8000;
const PIPELINES = 10;

describe("chaos (d'): Redis frozen (SIGSTOP) for 8 s", function () {
  this.timeout(180_000);
  let stack: ChaosStack;

  before(async () => {
    stack = await startStack({ redis: { persistent: true }, env: { RECONCILE_EVERY_MS: '1000' } });
    await stack.startWorker({ args: ['--concurrency', '8'] });
  });
  after(async () => {
    const pid = stack?.redis.pid();
    if (pid) process.kill(pid, 'SIGCONT');
    await stack?.close();
  });

  it('POST and readiness answer 503 within the command timeout instead of hanging; everything finishes after', async () => {
    const ids = await submitMany(stack.baseUrl, PIPELINES, (i) => sleepChain(`freeze-${i}`, 2, 1000));
    await pollUntil('stages running', async () => ((await stageStatusCounts(stack.db, ids)).running ?? 0) > 0, 30_000);

    process.kill(stack.redis.pid()!, 'SIGSTOP');
    const frozen = performance.now();
    const bodies = [0, 1, 2].map((i) => sleepChain(`during-freeze-${i}`, 1, 100));
    const [ready, ...posts] = await Promise.all([
      (async () => {
        const started = performance.now();
        const res = await request(stack.baseUrl, 'GET', '/health/ready');
        return { status: res.status, ms: msSince(started) };
      })(),
      ...bodies.map((body) => postPipeline(stack.baseUrl, body)),
    ]);
    figure('during the freeze: readiness (status, ms)', ready);
    figure(
      'during the freeze: POST /pipelines (status, ms)',
      posts.map((p) => [p.status, Math.round(p.ms)]),
    );
    expect(ready.status).to.equal(503);
    expect(ready.ms).to.be.below(PRODUCER_COMMAND_TIMEOUT_MS + 1000);
    for (const p of posts) {
      expect(p.status, JSON.stringify(p.body)).to.equal(503);
      expect(p.headers.get('retry-after')).to.match(/^\d+$/);
      expect(p.ms).to.be.below(PRODUCER_COMMAND_TIMEOUT_MS + 1000);
    }

    await sleep(Math.max(0, FREEZE_MS - msSince(frozen)));
    process.kill(stack.redis.pid()!, 'SIGCONT');
    const thawed = performance.now();
    await pollUntil(
      'readiness back to 200',
      async () => (await request(stack.baseUrl, 'GET', '/health/ready')).status === 200,
      30_000,
      100,
    );
    const retried: string[] = [];
    for (const [i, p] of posts.entries()) {
      const res = await postPipeline(stack.baseUrl, bodies[i], p.key);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      retried.push(res.body.id as string);
    }
    const all = [...ids, ...retried];
    await waitForTerminal(stack.db, all, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stack.outputs()}`);
    });
    figure('all pipelines terminal after SIGCONT (ms)', msSince(thawed));
    const outcome = await assertEveryEffectOnce(stack.db, all);
    figure('runs by status', outcome.runCounts);
    expect(outcome.statusCounts).to.deep.equal({ succeeded: all.length });
    for (const w of stack.workers) expect(w.alive(), w.name).to.equal(true);
  });
});
