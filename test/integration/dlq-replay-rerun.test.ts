// A DLQ replay and a re-run of the same failed pipeline, over HTTP against real Redis and
// Postgres: one lineage has one live attempt. A pipeline that has been re-run is not revived by a
// replay of its old failure (409 PIPELINE_RERUN, naming the re-run), and a re-run whose old
// pipeline a replay reopens while it is on its way is refused (409 PIPELINE_NOT_FINISHED): the
// re-run checks the old pipeline again with its row locked, so the interleaving is chosen here by
// holding that row in a transaction of the test's own.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, submitFailedOnce } from '../support/http.js';
import { pollUntil } from '../support/chaos/free-port.js';

describe('DLQ replay and re-run of one failed pipeline (integration)', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ workers: 1, ownSchema: true });
  });
  after(async () => {
    await h?.close();
  });

  /** A pipeline whose one stage failed for good on its first attempt (a replay would succeed). */
  const failedOnce = (name: string) => submitFailedOnce(h.baseUrl, name);
  const rerunsOf = async (pipelineId: string) =>
    (await h.db.pool.query<{ id: string }>('SELECT id FROM pipelines WHERE rerun_of = $1', [pipelineId])).rows.map((r) => r.id);

  it('a replay of a failure whose pipeline was re-run: 409 PIPELINE_RERUN naming the re-run; the old pipeline stays failed, nothing recorded', async () => {
    const { pipelineId, jobId } = await failedOnce('replay-after-rerun');
    const rerun = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${pipelineId}/rerun`);
    expect(rerun.status, JSON.stringify(rerun.body)).to.equal(202);

    const replay = await request(h.baseUrl, 'POST', `/api/v1/dlq/${jobId}/retry`);
    expect(replay.status, JSON.stringify(replay.body)).to.equal(409);
    expect(replay.body.error.code).to.equal('PIPELINE_RERUN');
    expect(replay.body.error.message).to.include(rerun.body.id);
    const old = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${pipelineId}`);
    expect(old.body.status).to.equal('failed');
    const { rows } = await h.db.pool.query("SELECT 1 FROM pipeline_events WHERE pipeline_id = $1 AND type = 'dlq.replayed'", [pipelineId]);
    expect(rows).to.have.length(0);
  });

  it('a re-run whose old pipeline a replay reopens while it waits: 409 PIPELINE_NOT_FINISHED, no re-run recorded', async () => {
    const { pipelineId } = await failedOnce('rerun-during-replay');
    // The replay's side, held: its transaction has the old pipeline's row and has set it running.
    const holder = await h.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM pipelines WHERE id = $1 FOR UPDATE', [pipelineId]);
      await holder.query("UPDATE pipelines SET status = 'running', finished_at = NULL WHERE id = $1", [pipelineId]);
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

      // Sent while the row still reads `failed` to anyone else: it passes the first check and waits on the row.
      const rerun = request(h.baseUrl, 'POST', `/api/v1/pipelines/${pipelineId}/rerun`);
      await pollUntil(
        'the re-run to wait for the held row',
        async () =>
          (await h.db.pool.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holderPid])).rows.length > 0,
        30_000,
        20,
      );
      await holder.query('COMMIT');

      const answer = await rerun;
      expect(answer.status, JSON.stringify(answer.body)).to.equal(409);
      expect(answer.body.error.code).to.equal('PIPELINE_NOT_FINISHED');
      expect(await rerunsOf(pipelineId)).to.deep.equal([]);
    } finally {
      holder.release();
      await h.db.pool.query("UPDATE pipelines SET status = 'failed', finished_at = now() WHERE id = $1", [pipelineId]);
    }
  });
});
