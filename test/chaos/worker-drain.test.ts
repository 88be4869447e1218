// Chaos (b): SIGTERM to a worker process that is running stages. It takes no new job; stages
// that finish within SHUTDOWN_GRACE_MS are recorded by it; the others get their AbortSignal,
// are recorded `failed` (WORKER_SHUTDOWN) and go back to the queue without using their one
// attempt; the process exits 0; another worker process finishes what was handed back.
import { expect } from 'chai';
import { startStack, type ChaosStack } from '../support/chaos/chaos-stack.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { assertEveryEffectOnce, waitForTerminal } from '../support/chaos/outcome.js';
import { figure, sleep, submitMany } from '../support/chaos/pipelines.js';

const GRACE_MS = 4000;
const SHORT_MS = 1500;
const LONG_MS = 15_000;
const EACH = 4;

const oneStage = (name: string, ms: number) => ({ name, stages: [{ key: 'work', agent: 'sleep', input: { ms }, retry: { attempts: 1 } }] });

describe('chaos (b): SIGTERM drain of a worker process', function () {
  this.timeout(180_000);
  let stack: ChaosStack;

  before(async () => {
    stack = await startStack();
    // Four slots more than it will be running: free slots it must not use once stopping.
    await stack.startWorker({
      name: 'draining',
      args: ['--concurrency', String(2 * EACH + 4)],
      env: { SHUTDOWN_GRACE_MS: String(GRACE_MS) },
    });
  });
  after(async () => {
    await stack?.close();
  });

  it('finishes short stages, hands long ones back without using an attempt, takes nothing new, exits 0', async () => {
    const [draining] = stack.workers;
    const short = await submitMany(stack.baseUrl, EACH, (i) => oneStage(`drain-short-${i}`, SHORT_MS));
    const long = await submitMany(stack.baseUrl, EACH, (i) => oneStage(`drain-long-${i}`, LONG_MS));
    const all = [...short, ...long];
    await pollUntil(
      'every stage running on the draining worker',
      async () => {
        const { rows } = await stack.db.query<{ n: string }>(
          "SELECT count(*) AS n FROM stages WHERE pipeline_id = ANY($1::uuid[]) AND status = 'running'",
          [all],
        );
        return Number(rows[0].n) === all.length;
      },
      30_000,
      20,
    );

    const signalled = Date.now();
    const exit = draining.stop('SIGTERM');
    // Work submitted during the drain must go to another worker (the pause lets the signal land).
    const successor = stack.startWorker({ name: 'successor', args: ['--concurrency', '12'], wait: false });
    await sleep(300);
    const late = await submitMany(stack.baseUrl, EACH, (i) => oneStage(`drain-late-${i}`, 200));
    const code = await exit;
    const drainMs = Date.now() - signalled;
    figure('SIGTERM → exit (ms)', drainMs);
    expect(code, draining.output().slice(-3000)).to.equal(0);
    expect(drainMs, 'drain time').to.be.below(GRACE_MS + 10_000);
    await successor;

    const ids = [...all, ...late];
    await waitForTerminal(stack.db, ids, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stack.outputs()}`);
    });
    const outcome = await assertEveryEffectOnce(stack.db, ids);
    figure('runs by status', outcome.runCounts);
    expect(outcome.statusCounts).to.deep.equal({ succeeded: ids.length });

    const onDraining = (workerId: string) => workerId.includes(`:${draining.pid}:`);
    for (const stage of outcome.stages) {
      const runs = stage.runs;
      if (short.includes(stage.pipelineId)) {
        // Drained: finished by the worker that was stopping.
        expect(
          runs.map((r) => r.status),
          'short stage',
        ).to.deep.equal(['succeeded']);
        expect(onDraining(runs[0].workerId), 'short stage ran on the draining worker').to.equal(true);
      } else if (long.includes(stage.pipelineId)) {
        expect(
          runs.map((r) => r.status),
          'long stage',
        ).to.deep.equal(['failed', 'succeeded']);
        expect(runs[0].errorCode).to.equal('WORKER_SHUTDOWN');
        expect(onDraining(runs[0].workerId)).to.equal(true);
        expect(onDraining(runs[1].workerId), 'long stage finished elsewhere').to.equal(false);
      } else {
        expect(
          runs.every((r) => !onDraining(r.workerId)),
          'work submitted during the drain ran elsewhere',
        ).to.equal(true);
      }
    }
  });
});
