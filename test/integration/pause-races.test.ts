// Pause and resume racing other writers of the same pipeline, against real Postgres and Redis:
// each interleaving is chosen, not raced, by holding one side (a row lock taken by the test)
// while the other runs. Whatever the order, a resumed pipeline leaves no stage `paused`.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type pg from 'pg';
import { createStageRunRepository } from '../../src/infra/db/stage-run.repository.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, type Loose } from '../support/http.js';

describe('pause and resume racing other writers (integration)', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await h.close();
  });

  /** Resolves once some other backend waits for a lock `holder` (a backend pid) holds. */
  const blockedBy = async (holder: number) => {
    for (;;) {
      const { rows } = await h.db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))',
        [holder],
      );
      if (rows[0]!.n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('a resume that commits while a claim of a stage released during the pause waits: the claim runs the stage, none is left paused', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'claim-races-resume',
      stages: [{ key: 'only', agent: 'noop' }],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const pipelineId = created.body.id as string;
    const stageId = (created.body.stages as Loose[])[0]!.id as string;
    // As a stage released after its pipeline was paused is: queued, its job on its way, the
    // pipeline paused (no worker runs here, so the job waits for the claim below).
    await h.db.pool.query("UPDATE pipelines SET paused_at = now(), paused_by = 'ops' WHERE id = $1", [pipelineId]);

    // The claim's statement starts, then waits for the stage row the test holds.
    const holder: pg.PoolClient = await h.db.pool.connect();
    let claim: Promise<{ claimed: boolean }> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM stages WHERE id = $1 FOR UPDATE', [stageId]);
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      claim = createStageRunRepository(h.db).claim({ stageId, jobId: stageId, runId: randomUUID(), workerId: 'test-worker' });
      await blockedBy(rows[0]!.pid);

      // Meanwhile the pipeline is resumed: nothing of it is paused yet, so the resume queues nothing.
      const resumed = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${pipelineId}/resume`);
      expect(resumed.status, JSON.stringify(resumed.body)).to.equal(202);
      expect(resumed.body.resumedStages).to.deep.equal([]);
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    const claimed = await claim!;

    const { rows } = await h.db.pool.query<{ status: string; paused_at: Date | null }>(
      'SELECT s.status, p.paused_at FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE s.id = $1',
      [stageId],
    );
    expect(rows[0]!.paused_at).to.equal(null);
    // The pipeline was no longer paused when the claim went on: it runs the stage.
    expect({ claimed: claimed.claimed, status: rows[0]!.status }).to.deep.equal({ claimed: true, status: 'running' });
  });
});
