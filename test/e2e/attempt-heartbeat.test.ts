// The worker runtime stamps the attempts it runs (services/attempt-heartbeat.ts), so that the
// reconciler can tell a running stage still in a worker's hands from one its worker dropped; and
// each stamp reads back a cancel whose pub/sub message the worker never got.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline } from '../support/http.js';

describe('attempt heartbeat (e2e)', function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    // Stamps every 500 ms.
    h = await startHarness({ workers: 1, env: { LOCK_DURATION_MS: '1500' } });
  });
  after(async () => {
    await h.close();
  });

  it('a stage running longer than the lock duration is stamped while it runs, by its own worker, and not after', async () => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'heartbeat',
      stages: [{ key: 'slow', agent: 'sleep', input: { ms: 2500 } }],
    });
    expect(res.status).to.equal(202);
    const stageId: string = res.body.stages[0].id;
    const read = async () =>
      (
        await h.db.pool.query<{ status: string; run_worker_id: string | null; started: Date | null; beat: Date | null }>(
          'SELECT status, run_worker_id, run_started_at AS started, run_heartbeat_at AS beat FROM stages WHERE id = $1',
          [stageId],
        )
      ).rows[0]!;

    const beats = new Set<number>();
    let row = await read();
    while (row.status !== 'succeeded') {
      if (row.status === 'running' && row.beat) {
        expect(row.run_worker_id).to.equal(h.workers[0]!.workerId);
        expect(row.beat.getTime()).to.be.at.least(row.started!.getTime());
        beats.add(row.beat.getTime());
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      row = await read();
    }
    expect(beats.size, 'stamped again while it ran (one every 500 ms over 2.5 s)').to.be.at.least(2);

    const last = row.beat;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await read()).beat, 'no stamp once the attempt ended').to.deep.equal(last);
  });

  it('a cancel whose message the worker missed aborts the running stage at its next stamp', async () => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'missed-cancel',
      stages: [{ key: 'long', agent: 'sleep', input: { ms: 30_000 } }],
    });
    expect(res.status).to.equal(202);
    const pipelineId: string = res.body.id;
    const stageId: string = res.body.stages[0].id;
    for (let i = 0; i < 100; i++) {
      const { rows } = await h.db.pool.query<{ status: string }>('SELECT status FROM stages WHERE id = $1', [stageId]);
      if (rows[0]!.status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // What POST /cancel records, without its message on the cancel channel (as if the worker's
    // subscriber had been reconnecting when it was published).
    await h.db.pool.query('UPDATE pipelines SET cancel_requested_at = now() WHERE id = $1', [pipelineId]);

    const done = await waitForPipeline(h.baseUrl, pipelineId, 15_000);
    expect(done.status).to.equal('cancelled');
    const runs = await h.db.pool.query<{ status: string }>('SELECT status FROM stage_runs WHERE stage_id = $1', [stageId]);
    expect(
      runs.rows.map((r) => r.status),
      'the running attempt was aborted, not left to finish its 30 s',
    ).to.deep.equal(['cancelled']);
  });
});
