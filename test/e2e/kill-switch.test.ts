// The kill switch of an agent type (`agent.<type>.kill`) end to end, with flags served by a local
// stand-in of Unleash's client API that the test flips: while it is on, the agent's stages stay
// queued with the reason shown in the API, use no attempt, land in no failed set, their timeout
// does not run and the reconciler leaves their jobs alone, while other agents' stages run; once it
// is released they run and the pipeline succeeds.
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { agentSwitchedOff } from '../../src/services/flag-switches.js';
import { captureLogger } from '../support/capture-logger.js';
import { simpleFlag, startFlagServer, type FlagServer } from '../support/flag-server.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

const KILL = 'agent.sim_validation.kill';
const PIPELINES = '/api/v1/pipelines';

const stage = (p: Loose, key: string): Loose => (p.stages as Loose[]).find((s) => s.key === key)!;

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('kill switch per agent type (e2e)', function () {
  this.timeout(90_000);
  let flagServer: FlagServer;
  let h: Harness;
  let validationQueue: Queue;
  const logs: Loose[] = [];

  before(async () => {
    flagServer = await startFlagServer([simpleFlag(KILL, true)]);
    h = await startHarness({
      // The reconciler passes every second (graceMs 1 s), so it meets the held stage many times.
      env: { UNLEASH_URL: flagServer.url, UNLEASH_REFRESH_MS: '500', RECONCILE_EVERY_MS: '1000' },
      logger: captureLogger(logs),
    });
    validationQueue = new Queue(agentQueueName('sim_validation'), {
      connection: h.connection(),
      prefix: h.config.QUEUE_PREFIX,
    });
    await waitFor(() => agentSwitchedOff(h.flags, 'sim_validation'), 'the kill switch to be read');
  });
  after(async () => {
    await validationQueue?.close();
    await h?.close();
    await flagServer?.close();
  });

  it('switched off: its stages wait queued with the reason, no attempt, nothing failed, others run; released: they run and the pipeline succeeds', async () => {
    // v (validation) depends on a; b is independent; v's timeout is shorter than its wait.
    const created = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'kill-switch',
      stages: [
        { key: 'a', agent: 'noop' },
        { key: 'v', agent: 'sim_validation', dependsOn: ['a'], timeoutMs: 1000 },
        { key: 'b', agent: 'noop' },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const id = created.body.id as string;
    // A second pipeline whose root is the switched-off agent: held from the start.
    const rooted = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'kill-switch-root',
      stages: [{ key: 'v', agent: 'sim_validation' }],
    });
    expect(rooted.status).to.equal(202);

    const held = await waitUntil(h.baseUrl, id, (p) => stage(p, 'a').status === 'succeeded' && stage(p, 'b').status === 'succeeded');
    const v = stage(held, 'v');
    expect(v.status).to.equal('queued');
    expect(v.waiting).to.deep.equal({ reason: 'agent_switched_off', flag: KILL });
    expect(v.attempts).to.equal(0);
    expect(held.status).to.equal('running');
    // The stages that run say nothing about waiting.
    expect(stage(held, 'a')).to.not.have.property('waiting');

    // The same on the stages page and for the root of the second pipeline.
    const page = await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/stages`);
    expect((page.body.items as Loose[]).find((s) => s.key === 'v')!.waiting).to.deep.equal({ reason: 'agent_switched_off', flag: KILL });
    const root = stage((await request(h.baseUrl, 'GET', `${PIPELINES}/${rooted.body.id}`)).body, 'v');
    expect(root).to.include({ status: 'queued', attempts: 0 });
    expect(root.waiting).to.deep.equal({ reason: 'agent_switched_off', flag: KILL });

    // Held longer than its timeoutMs, and through reconciler passes: still queued, its job untouched.
    const job = (await validationQueue.getJob(v.id as string))!;
    expect(job, 'the stage job is in the agent queue').to.not.equal(undefined);
    await waitFor(
      () => Date.now() - Date.parse(v.queuedAt as string) > 2500,
      'the stage to wait past its timeout and the reconciler grace',
    );
    await h.workers[0]!.reconciler!.reconcileNow();
    const after = (await validationQueue.getJob(v.id as string))!;
    expect(after.timestamp, 'the reconciler did not remove and re-add the job').to.equal(job.timestamp);
    expect(after.attemptsMade).to.equal(0);
    expect(['waiting', 'prioritized', 'delayed', 'paused']).to.include(await after.getState());
    const counts = await validationQueue.getJobCounts('failed', 'completed', 'active');
    expect(counts).to.deep.equal({ failed: 0, completed: 0, active: 0 });
    const runs = await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/runs`);
    expect((runs.body.items as Loose[]).filter((r) => r.stageKey === 'v')).to.deep.equal([]);
    const still = stage((await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body, 'v');
    expect(still).to.include({ status: 'queued', attempts: 0 });

    // /health/detailed lists it, without calling the process degraded.
    const health = await request(h.baseUrl, 'GET', '/health/detailed');
    expect(health.status).to.equal(200);
    expect(health.body.status).to.equal('ok');
    expect(health.body.flags.agentsSwitchedOff).to.deep.equal([{ agent: 'sim_validation', flag: KILL }]);
    expect(health.body.flags.platform).to.deep.equal({ 'platform.webhooks': true, 'platform.auto-approval': true });

    // One log line for the switch, whatever the number of jobs held.
    expect(logs.filter((l) => l.message === 'agent switched off by flag' && l.agentType === 'sim_validation')).to.have.length(1);

    // Released: both pipelines run to success, each validation stage in one attempt.
    flagServer.set([simpleFlag(KILL, false)]);
    const done = await waitForPipeline(h.baseUrl, id);
    expect(done.status).to.equal('succeeded');
    expect(stage(done, 'v')).to.include({ status: 'succeeded', attempts: 1 });
    expect(stage(done, 'v')).to.not.have.property('waiting');
    expect((await waitForPipeline(h.baseUrl, rooted.body.id as string)).status).to.equal('succeeded');
    expect((await validationQueue.getJobCounts('failed')).failed).to.equal(0);
    expect(logs.filter((l) => l.message === 'agent switched on' && l.agentType === 'sim_validation')).to.have.length(1);
    const health2 = await request(h.baseUrl, 'GET', '/health/detailed');
    expect(health2.body.flags.agentsSwitchedOff).to.deep.equal([]);
  });

  it('a job delivered while the switch is on is put back without an attempt (a worker that has not paused yet)', async () => {
    flagServer.set([simpleFlag(KILL, true)]);
    await waitFor(() => agentSwitchedOff(h.flags, 'sim_validation'), 'the kill switch to be read again');
    // The local worker is paused; resume it by hand to stand for a process whose flags lag behind.
    const worker = h.workers[0]!.workers.find((w) => w.name === agentQueueName('sim_validation'))!;
    await waitFor(() => worker.isPaused(), 'the worker to pause');
    const created = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'kill-switch-race',
      stages: [{ key: 'v', agent: 'sim_validation' }],
    });
    const stageId = stage(created.body, 'v').id as string;
    await worker.resume();
    // It fetches the job, finds the switch on and delays it: nothing claimed, no attempt.
    await waitFor(async () => ((await validationQueue.getJob(stageId))?.attemptsStarted ?? 0) >= 1, 'the job to be fetched');
    await waitFor(async () => (await validationQueue.getJobState(stageId)) === 'delayed', 'the job to be held back');
    await worker.pause(true);
    const job = (await validationQueue.getJob(stageId))!;
    expect(job.attemptsMade).to.equal(0);
    const v = stage((await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body, 'v');
    expect(v).to.include({ status: 'queued', attempts: 0 });
    expect(v.waiting).to.deep.equal({ reason: 'agent_switched_off', flag: KILL });

    flagServer.set([simpleFlag(KILL, false)]);
    expect((await waitForPipeline(h.baseUrl, created.body.id as string)).status).to.equal('succeeded');
    expect((await validationQueue.getJobCounts('failed')).failed).to.equal(0);
  });
});
