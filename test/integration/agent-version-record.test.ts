// Where an attempt's agent version and settings variant are recorded, on Postgres, without a
// worker: the claim puts them on the stage row (no statement of its own), the finish copies them
// into the attempt's stage_runs row, and a re-claim after a lost worker writes the orphaned
// attempt's abandoned row with the version *it* ran, not the new one.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createStageRunRepository } from '../../src/infra/db/stage-run.repository.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request } from '../support/http.js';

describe('agent version and variant on stage runs (integration)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await h?.close();
  });

  async function queuedStage(): Promise<{ pipelineId: string; stageId: string }> {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'versions',
      stages: [{ key: 'a', agent: 'noop', input: {} }],
    });
    expect(res.status).to.equal(202);
    return { pipelineId: res.body.id, stageId: res.body.stages[0].id };
  }

  const stageRow = async (id: string) =>
    (await h.db.pool.query('SELECT run_agent_version, run_variant FROM stages WHERE id = $1', [id])).rows[0] as Record<string, unknown>;
  const runRows = async (stageId: string) =>
    (
      await h.db.pool.query('SELECT attempt, status, agent_version, variant FROM stage_runs WHERE stage_id = $1 ORDER BY attempt', [
        stageId,
      ])
    ).rows as Record<string, unknown>[];

  it('claim records them on the stage row, the finish on the run; the API shows both', async () => {
    // Arrange
    const runs = createStageRunRepository(h.db);
    const { pipelineId, stageId } = await queuedStage();
    const runId = randomUUID();

    // Act
    const claim = await runs.claim({ stageId, jobId: stageId, runId, workerId: 'w1', agentVersion: '2.0.0', variant: 'bold' });
    const inFlight = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${pipelineId}/runs`);
    const finish = await runs.succeed({ stageId, runId, output: {}, metrics: {}, confidence: null, gates: [] });

    // Assert
    expect(claim.claimed).to.equal(true);
    expect(finish.recorded).to.equal(true);
    expect(inFlight.body.items).to.have.length(1);
    expect(inFlight.body.items[0]).to.include({ status: 'running', agentVersion: '2.0.0', variant: 'bold' });
    expect(await stageRow(stageId)).to.deep.equal({ run_agent_version: '2.0.0', run_variant: 'bold' });
    expect(await runRows(stageId)).to.deep.equal([{ attempt: 1, status: 'succeeded', agent_version: '2.0.0', variant: 'bold' }]);
    const pipeline = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${pipelineId}`);
    expect(pipeline.body.stages[0]).to.include({ agentVersion: '2.0.0', variant: 'bold' });
  });

  it('a re-claim writes the lost attempt as abandoned with its own version; the new attempt runs with the new one', async () => {
    // Arrange: an attempt on 1.0.0 whose worker is lost.
    const runs = createStageRunRepository(h.db);
    const { stageId } = await queuedStage();
    await runs.claim({ stageId, jobId: stageId, runId: randomUUID(), workerId: 'lost', agentVersion: '1.0.0', variant: null });

    // Act: the same job re-delivered, and chosen 2.0.0 this time (the rollout moved meanwhile).
    const secondRun = randomUUID();
    const reclaim = await runs.claim({
      stageId,
      jobId: stageId,
      runId: secondRun,
      workerId: 'w2',
      agentVersion: '2.0.0',
      variant: 'quick',
    });
    await runs.succeed({ stageId, runId: secondRun, output: {}, metrics: {}, confidence: null, gates: [] });

    // Assert
    expect(reclaim.claimed).to.equal(true);
    expect(await runRows(stageId)).to.deep.equal([
      { attempt: 1, status: 'abandoned', agent_version: '1.0.0', variant: null },
      { attempt: 2, status: 'succeeded', agent_version: '2.0.0', variant: 'quick' },
    ]);
  });

  it('a claim that names no version records none (NULL: unknown)', async () => {
    const runs = createStageRunRepository(h.db);
    const { stageId } = await queuedStage();
    const runId = randomUUID();
    await runs.claim({ stageId, jobId: stageId, runId, workerId: 'w' });
    await runs.fail({
      stageId,
      runId,
      error: { code: 'AGENT_UNKNOWN', message: 'no such agent', retryable: false },
      metrics: {},
      final: true,
    });
    expect(await runRows(stageId)).to.deep.equal([{ attempt: 1, status: 'failed', agent_version: null, variant: null }]);
  });
});
