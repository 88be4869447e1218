// Chaos (a): a worker process is SIGKILLed while it runs stages. With a short BullMQ lock
// (LOCK_DURATION_MS) and stalled check (STALLED_INTERVAL_MS), the other worker process takes
// each orphaned job over once its lock lapses: the claim records the lost attempt as
// `abandoned` (WORKER_LOST) and runs the stage again. Every stage allows ONE attempt, so a
// crash must not use it up; each stage ends with exactly one succeeded run.
import { expect } from 'chai';
import { startStack, type ChaosStack } from '../support/chaos/chaos-stack.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { assertEveryEffectOnce, readOutcome, waitForTerminal } from '../support/chaos/outcome.js';
import { figure, sleepChain, submitMany } from '../support/chaos/pipelines.js';

const LOCK_DURATION_MS = 3000;
const STALLED_INTERVAL_MS = 1000;
const PIPELINES = 12;

describe('chaos (a): SIGKILL of a worker process mid-stage', function () {
  this.timeout(180_000);
  let stack: ChaosStack;

  before(async () => {
    stack = await startStack({
      env: { LOCK_DURATION_MS: String(LOCK_DURATION_MS), STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS), MAX_STALLED_COUNT: '2' },
    });
    await stack.startWorker({ name: 'victim', args: ['--concurrency', '6'], wait: false });
    await stack.startWorker({ name: 'survivor', args: ['--concurrency', '6'], wait: false });
    await stack.waitForWorkers(2);
  });
  after(async () => {
    await stack?.close();
  });

  it('another worker takes the stages over after the lock expires; each stage is recorded once', async () => {
    const [victim, survivor] = stack.workers;
    const ids = await submitMany(stack.baseUrl, PIPELINES, (i) => sleepChain(`sigkill-${i}`, 2, 2500, { attempts: 1 }));
    const runningOnVictim = async () =>
      (
        await stack.db.query<{ id: string }>(
          "SELECT id FROM stages WHERE pipeline_id = ANY($1::uuid[]) AND status = 'running' AND run_worker_id LIKE $2",
          [ids, `%:${victim.pid}:%`],
        )
      ).rows.map((r) => r.id);
    await pollUntil('stages running on the victim', async () => (await runningOnVictim()).length >= 2, 30_000, 50);

    await victim.stop('SIGKILL');
    const killedAt = Date.now();
    expect((await victim.exited()).signal).to.equal('SIGKILL');
    // Read after the kill: what the victim held when it died.
    const orphaned = await runningOnVictim();
    expect(orphaned.length).to.be.greaterThan(0);
    figure('stages running on the killed worker', orphaned.length);

    await waitForTerminal(stack.db, ids, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stack.outputs()}`);
    });
    const outcome = await assertEveryEffectOnce(stack.db, ids);
    figure('runs by status', outcome.runCounts);
    expect(outcome.statusCounts).to.deep.equal({ succeeded: PIPELINES });

    const takeovers: number[] = [];
    for (const stageId of orphaned) {
      const stage = (await readOutcome(stack.db, ids)).stages.find((s) => s.stageId === stageId)!;
      const statuses = stage.runs.map((r) => r.status);
      expect(statuses, `runs of orphaned stage ${stage.key}`).to.deep.equal(['abandoned', 'succeeded']);
      expect(stage.runs[0].errorCode).to.equal('WORKER_LOST');
      expect(stage.runs[0].workerId).to.include(`:${victim.pid}:`);
      expect(stage.runs[1].workerId).to.include(`:${survivor.pid}:`);
      takeovers.push(stage.runs[1].startedAt.getTime() - killedAt);
    }
    figure(
      'SIGKILL → stage claimed again by the survivor (ms)',
      takeovers.sort((a, b) => a - b),
    );
    // Lock lapse plus one stalled check, with room for a loaded machine.
    expect(Math.max(...takeovers), 'slowest takeover (ms)').to.be.below(LOCK_DURATION_MS + STALLED_INTERVAL_MS + 10_000);
    expect(survivor.alive()).to.equal(true);
  });
});
