// Chaos (c): FLUSHALL of the (private) Redis while 100 pipelines run. Every job, the control
// queue, the reconciler's own scheduler and BullMQ's bookkeeping are gone; Postgres still says
// which stages are queued or running. The reconciler (a job scheduler on the control queue,
// every RECONCILE_EVERY_MS, re-upserted by each worker process) re-adds what Postgres says
// must exist, and all 100 pipelines finish with each stage recorded once.
import { expect } from 'chai';
import { startStack, type ChaosStack } from '../support/chaos/chaos-stack.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { assertEveryEffectOnce, stageStatusCounts, waitForTerminal } from '../support/chaos/outcome.js';
import { figure, sleepChain, submitMany } from '../support/chaos/pipelines.js';

const PIPELINES = 100;

describe('chaos (c): FLUSHALL in the middle of 100 running pipelines', function () {
  this.timeout(240_000);
  let stack: ChaosStack;

  before(async () => {
    stack = await startStack({ env: { RECONCILE_EVERY_MS: '1000', LOCK_DURATION_MS: '5000', STALLED_INTERVAL_MS: '2000' } });
    await stack.startWorker({ args: ['--concurrency', '25'], wait: false });
    await stack.startWorker({ args: ['--concurrency', '25'], wait: false });
    await stack.waitForWorkers(2);
  });
  after(async () => {
    await stack?.close();
  });

  it('the reconciler re-adds the lost jobs and all 100 pipelines finish, each stage recorded once', async () => {
    const ids = await submitMany(stack.baseUrl, PIPELINES, (i) => sleepChain(`flush-${i}`, 2, 1000), 20);
    // Mid-run: some stages done, some running, many queued.
    await pollUntil('some stages succeeded', async () => ((await stageStatusCounts(stack.db, ids)).succeeded ?? 0) >= 20, 60_000, 50);
    const before = await stageStatusCounts(stack.db, ids);
    await stack.redis.flushAll();
    const flushed = performance.now();
    figure('stages when Redis was flushed', before);
    expect(await stack.redis.command('DBSIZE')).to.be.below(50);

    const waited = await waitForTerminal(stack.db, ids, 150_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stack.outputs()}`);
    });
    figure('FLUSHALL → all 100 pipelines terminal (ms)', Math.round(performance.now() - flushed));
    const outcome = await assertEveryEffectOnce(stack.db, ids);
    figure('runs by status', outcome.runCounts);
    expect(outcome.statusCounts).to.deep.equal({ succeeded: PIPELINES });
    expect(waited).to.be.a('number');
    for (const w of stack.workers) expect(w.alive(), w.name).to.equal(true);
  });
});
