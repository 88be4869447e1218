// Exactly-once effects over at-least-once delivery: control messages and agent jobs are
// delivered twice on purpose; no stage runs twice and no pipeline advances twice.
import { createControlQueue } from '../../src/infra/queue/control.queue.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';
import { createConductor } from '../../src/services/conductor.service.js';
import { createPipelineRepository } from '../../src/infra/db/pipeline.repository.js';
import { createAgentQueues } from '../../src/infra/queue/agent.queues.js';
import { createRedisConnection } from '../../src/infra/queue/redis-connection.js';
import { redisTargetOf } from '../../src/composition/redis-target.js';
import { agentQueueName, STAGE_JOB } from '../../src/infra/queue/queue-names.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';

describe('duplicate delivery (integration)', () => {
  let h: Harness;
  const queues: Queue[] = [];
  const agentQueue = (type: string) => {
    const queue = new Queue(agentQueueName(type), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    queues.push(queue);
    return queue;
  };
  const runsOf = (pipelineId: string) =>
    h.db.prisma.stageRun.findMany({ where: { pipelineId }, include: { stage: { select: { key: true } } } });

  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await h.close();
  });

  it('a control message handled three times (two at once), then redelivered: the ready stage is queued and dispatched once', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'dup-control',
      stages: [
        { key: 'r1', agent: 'noop' },
        { key: 'r2', agent: 'noop' },
        { key: 'leaf', agent: 'noop', dependsOn: ['r1', 'r2'] },
      ],
    });
    expect(created.body.stages.map((s: Loose) => s.status)).to.deep.equal(['queued', 'queued', 'pending']);
    const connection = createRedisConnection(redisTargetOf(h.config), 'worker');
    const agentQueues = createAgentQueues(connection, h.config.QUEUE_PREFIX, [...h.catalog.keys()]);
    const noop = agentQueues.queueFor('noop');
    const control = createControlQueue(connection, h.config.QUEUE_PREFIX);
    const conductor = createConductor({
      repo: createPipelineRepository(h.db),
      agentQueues,
      control,
      policy: loadDecisionPolicy(h.config.DECISION_POLICY_FILE),
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
    });
    const jobCount = async () => {
      const counts = await noop.getJobCounts('waiting', 'prioritized', 'active', 'completed', 'delayed');
      return counts.waiting + counts.prioritized + counts.active + counts.completed + counts.delayed;
    };
    try {
      expect(await jobCount()).to.equal(2);
      // The roots' results are recorded but nothing released the leaf: only the conductor can.
      await noop.drain();
      await h.db.pool.query("UPDATE stages SET status = 'succeeded', finished_at = now() WHERE pipeline_id = $1 AND key IN ('r1', 'r2')", [
        created.body.id,
      ]);

      const [a, b] = await Promise.all([conductor.advance(created.body.id), conductor.advance(created.body.id)]);
      const c = await conductor.advance(created.body.id);
      expect([...a!.dispatched, ...b!.dispatched, ...c!.dispatched].map((s) => s.key)).to.deep.equal(['leaf']);
      expect(await jobCount()).to.equal(1);

      const redelivered = await conductor.advance(created.body.id, { redelivered: true });
      expect(redelivered!.dispatched.map((s) => s.key)).to.deep.equal(['leaf']);
      expect(await jobCount()).to.equal(1);
      const stages = await h.db.prisma.stage.findMany({ where: { pipelineId: created.body.id }, orderBy: { position: 'asc' } });
      expect(stages.map((s) => s.status)).to.deep.equal(['succeeded', 'succeeded', 'queued']);
    } finally {
      await control.close();
      await agentQueues.close();
      connection.disconnect();
    }
    await h.startWorker();
    const done = await waitForPipeline(h.baseUrl, created.body.id);
    expect(done.status).to.equal('succeeded');
    const runs = await runsOf(created.body.id);
    expect(runs.map((r) => r.stage.key)).to.deep.equal(['leaf']);
  });

  it('an agent job delivered again after its stage finished: runs nothing, records nothing, advances nothing', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'dup-agent-after',
      stages: [
        { key: 'a', agent: 'noop', input: { v: 1 } },
        { key: 'b', agent: 'noop', dependsOn: ['a'] },
      ],
    });
    const done = await waitForPipeline(h.baseUrl, created.body.id);
    const a: Loose = done.stages[0];
    const queue = agentQueue('noop');
    const job = await queue.add(STAGE_JOB, { v: 1, pipelineId: created.body.id, stageId: a.id, stageKey: 'a' }, { jobId: `dup-${a.id}` });
    const result = await waitForJob(queue, job.id!);
    expect(result).to.deep.include({ kind: 'duplicate', status: 'succeeded' });
    const after = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${created.body.id}`)).body;
    expect(after.status).to.equal('succeeded');
    expect(after.updatedAt).to.equal(done.updatedAt);
    expect(after.stages[0].finishedAt).to.equal(a.finishedAt);
    const runs = await runsOf(created.body.id);
    expect(runs.map((r) => r.stage.key).sort()).to.deep.equal(['a', 'b']);
  });

  it('an agent job delivered twice while its stage runs: the copy runs nothing and the stage has one run', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'dup-agent-during',
      stages: [
        { key: 'nap', agent: 'sleep', input: { ms: 600 } },
        { key: 'next', agent: 'noop', dependsOn: ['nap'] },
      ],
    });
    const running = await waitUntil(h.baseUrl, created.body.id, (p) => p.stages[0].status === 'running');
    const queue = agentQueue('sleep');
    const job = await queue.add(
      STAGE_JOB,
      { v: 1, pipelineId: created.body.id, stageId: running.stages[0].id, stageKey: 'nap' },
      { jobId: `dup-${running.stages[0].id}` },
    );
    const result = await waitForJob(queue, job.id!);
    expect(result).to.deep.include({ kind: 'duplicate', status: 'running' });
    const done = await waitForPipeline(h.baseUrl, created.body.id);
    expect(done.status).to.equal('succeeded');
    const runs = await runsOf(created.body.id);
    expect(runs.map((r) => `${r.stage.key}:${r.status}`).sort()).to.deep.equal(['nap:succeeded', 'next:succeeded']);
  });

  it('the same stage dispatched twice by id: BullMQ keeps one job (job id = stage id)', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'dup-dispatch',
      stages: [{ key: 'solo', agent: 'sleep', input: { ms: 300 } }],
    });
    const running = await waitUntil(h.baseUrl, created.body.id, (p) => p.stages[0].status === 'running');
    const queue = agentQueue('sleep');
    const again = await queue.add(
      STAGE_JOB,
      { v: 1, pipelineId: created.body.id, stageId: running.stages[0].id, stageKey: 'solo' },
      { jobId: running.stages[0].id },
    );
    expect(again.id).to.equal(running.stages[0].id);
    await waitForPipeline(h.baseUrl, created.body.id);
    expect(await h.db.prisma.stageRun.count({ where: { pipelineId: created.body.id } })).to.equal(1);
  });
});

async function waitForJob(queue: Queue, id: string, timeoutMs = 15_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await queue.getJob(id);
    const state = await job?.getState();
    // Read again: the job fetched before it completed carries no return value yet.
    if (state === 'completed') return (await queue.getJob(id))!.returnvalue;
    if (state === 'failed') throw new Error(`job ${id} failed: ${job!.failedReason}`);
    if (Date.now() > deadline) throw new Error(`job ${id} still ${state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
