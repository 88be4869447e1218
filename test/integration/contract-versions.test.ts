// Contract versions through the real stack: the API records each stage's contract version at
// submission, the agent job carries the envelope header, the worker completes it at the claim,
// upcasts an older input, refuses one it cannot reach (unrecoverable, one attempt), stores each
// output with its producer's contract version, and still runs a job queued in the old v1 shape.
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { createAgentCatalog } from '../../src/agents/catalog.js';
import { stageJobSchema } from '../../src/infra/queue/job-payloads.js';
import { agentQueueName, STAGE_JOB } from '../../src/infra/queue/queue-names.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';
import { gradeAgent, greetAgentV3, scoreAgentV2 } from '../support/contract-agents.js';

interface StageRow {
  key: string;
  contract_version: number;
  output_contract_version: number | null;
  output: unknown;
  attempts: number;
  error: { code: string; message: string; retryable: boolean } | null;
}

describe('contract versions (integration)', () => {
  let h: Harness;
  const queues: Queue[] = [];
  const agentQueue = (type: string) => {
    const queue = new Queue(agentQueueName(type), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    queues.push(queue);
    return queue;
  };
  const stagesOf = async (pipelineId: string): Promise<Record<string, StageRow>> => {
    const { rows } = await h.db.pool.query<StageRow>(
      'SELECT key, contract_version, output_contract_version, output, attempts, error FROM stages WHERE pipeline_id = $1',
      [pipelineId],
    );
    return Object.fromEntries(rows.map((r) => [r.key, r]));
  };

  before(async () => {
    // No worker at first: the tests look at what the API wrote before anything runs.
    h = await startHarness({ workers: 0, agents: [...createAgentCatalog().values(), greetAgentV3, scoreAgentV2, gradeAgent] });
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await h.close();
  });

  it('records the agents’ contract versions at submission and queues only the envelope header', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'contract-header',
      stages: [
        { key: 'hello', agent: 'greet', input: { person: { first: 'Ada', last: 'Lovelace' }, language: 'en' } },
        { key: 'score', agent: 'score', input: { value: 90 } },
        { key: 'grade', agent: 'grade', dependsOn: ['score'] },
      ],
    });
    expect(created.status).to.equal(202);
    const stages = await stagesOf(created.body.id);
    expect([stages.hello!.contract_version, stages.score!.contract_version, stages.grade!.contract_version]).to.deep.equal([3, 2, 1]);

    const job = await agentQueue('greet').getJob(created.body.stages[0].id);
    expect(job?.data).to.deep.include({ v: 2, contractVersion: 3, pipelineId: created.body.id, stageKey: 'hello' });
    expect(job?.data).to.not.have.any.keys('input', 'upstream', 'runId');
    expect(stageJobSchema.safeParse(job?.data).success).to.equal(true);
    // The submission's request id, so the stage's log lines tie back to the request.
    expect(job?.data).to.have.property('correlationId').that.is.a('string').with.length.greaterThan(0);
  });

  it('upcasts an input written under an older contract, and hands outputs downstream with their versions', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'contract-upcast',
      stages: [
        { key: 'hello', agent: 'greet', input: { person: { first: 'X', last: 'Y' }, language: 'fr' } },
        { key: 'score', agent: 'score', input: { value: 90 } },
        { key: 'grade', agent: 'grade', dependsOn: ['score'] },
        { key: 'again', agent: 'greet', dependsOn: ['score'], input: { person: { first: 'Alan', last: 'Turing' }, language: 'en' } },
      ],
    });
    // As an API process of an older release would have written it: contract v1's shape.
    await h.db.pool.query(
      `UPDATE stages SET contract_version = 1, input = '{"name":"Ada Lovelace"}' WHERE pipeline_id = $1 AND key = 'hello'`,
      [created.body.id],
    );
    const worker = await h.startWorker();
    try {
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      expect(done.status).to.equal('succeeded');
      const stages = await stagesOf(created.body.id);
      expect(stages.hello!.output).to.deep.equal({ greeting: 'Hello Ada Lovelace' });
      expect(stages.hello!.output_contract_version).to.equal(3);
      expect(stages.score!.output_contract_version).to.equal(2);
      expect(stages.grade!.output).to.deep.equal({ grade: 'A' });
      // Released by score's finish: its header carries the version the submission recorded.
      const again = await agentQueue('greet').getJob(done.stages[3].id);
      expect(again?.data).to.deep.include({ v: 2, contractVersion: 3, stageKey: 'again' });
    } finally {
      await worker.close();
    }
  });

  it('refuses a contract version the agent cannot reach: one attempt, unrecoverable, both versions named', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'contract-refused',
      stages: [
        {
          key: 'hello',
          agent: 'greet',
          input: { person: { first: 'Ada', last: 'Lovelace' }, language: 'en' },
          retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } },
        },
      ],
    });
    // Written by a newer API than this worker knows.
    await h.db.pool.query(`UPDATE stages SET contract_version = 5 WHERE pipeline_id = $1`, [created.body.id]);
    const worker = await h.startWorker();
    try {
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      expect(done.status).to.equal('failed');
      const { hello } = await stagesOf(created.body.id);
      expect(hello!.attempts).to.equal(1);
      expect(hello!.error).to.deep.include({
        code: 'CONTRACT_VERSION_UNSUPPORTED',
        message: 'envelope contract v5, agent greet speaks v3 and upcasts v1–v2',
        retryable: false,
      });
    } finally {
      await worker.close();
    }
  });

  it('still runs a job queued in the v1 shape before a deploy', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'contract-legacy-job',
      stages: [{ key: 'hello', agent: 'greet', input: { person: { first: 'Ada', last: 'Lovelace' }, language: 'en' } }],
    });
    const stageId: string = created.body.stages[0].id;
    const queue = agentQueue('greet');
    await (await queue.getJob(stageId))?.remove();
    await queue.add(
      STAGE_JOB,
      { v: 1, pipelineId: created.body.id, stageId, stageKey: 'hello', requestId: 'req-legacy' },
      { jobId: `legacy-${stageId}` },
    );
    const worker = await h.startWorker();
    try {
      const done: Loose = await waitForPipeline(h.baseUrl, created.body.id);
      expect(done.status).to.equal('succeeded');
      const { hello } = await stagesOf(created.body.id);
      expect(hello!.output).to.deep.equal({ greeting: 'Hello Ada Lovelace' });
    } finally {
      await worker.close();
    }
  });

  it('lists each agent’s contract version and the range it accepts', async () => {
    const { status, body } = await request(h.baseUrl, 'GET', '/api/v1/agents');
    expect(status).to.equal(200);
    const byType = new Map((body.items as Loose[]).map((a) => [a.type, a]));
    expect(byType.get('greet')).to.deep.include({ contractVersion: 3, acceptsContracts: [1, 3] });
    expect(byType.get('score')).to.deep.include({ contractVersion: 2, acceptsContracts: [1, 2] });
    expect(byType.get('noop')).to.deep.include({ contractVersion: 1, acceptsContracts: [1, 1] });
  });
});
