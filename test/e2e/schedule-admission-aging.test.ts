// A schedule tick's submission hands out a free running slot by the same rules as the API's and
// the conductor's, aging included (PRIORITY_AGING_MS): a low pipeline that has waited three
// aging steps competes as urgent and starts before a high one that just arrived. The free slot
// is made in SQL (the window between a finish and the conductor's own start of queued
// pipelines), so that the tick is the one that fills it. A schema of its own: a schedule left in
// the shared one would tick in other files' queues.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitUntil, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';
const SCHEDULES = '/api/v1/schedules';

describe('admission: a schedule tick starts queued pipelines with aging (e2e)', () => {
  let h: Harness;
  before(async function () {
    this.timeout(120_000);
    h = await startHarness({
      workers: 1,
      ownSchema: true,
      env: { MAX_RUNNING_PIPELINES: '1', PRIORITY_AGING_MS: '60000', RECONCILE_EVERY_MS: '3600000' },
    });
  });
  after(async () => {
    await h?.close();
  });

  const submit = async (body: Loose): Promise<Loose> => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  };
  const statusOf = async (id: string): Promise<string> => (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body.status;

  it('a low pipeline queued three aging steps ago starts before a high one queued just now', async () => {
    // Arrange: the one slot held by a pipeline waiting for a person; a low and a high one queued.
    const holder = await submit({ name: 'holder', stages: [{ key: 'deploy', agent: 'sim_deployment' }] });
    await waitUntil(h.baseUrl, holder.id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    const low = await submit({ name: 'aged-low', priority: 'low', stages: [{ key: 'a', agent: 'noop' }] });
    const high = await submit({ name: 'fresh-high', priority: 'high', stages: [{ key: 'a', agent: 'noop' }] });
    expect([await statusOf(low.id), await statusOf(high.id)]).to.deep.equal(['queued', 'queued']);
    await h.db.pool.query("UPDATE pipelines SET created_at = now() - interval '1 hour' WHERE id = $1", [low.id]);
    // The holder's slot frees without the conductor seeing a finish.
    await h.db.pool.query("UPDATE pipelines SET status = 'cancelled', finished_at = now() WHERE id = $1", [holder.id]);

    // Act: a schedule whose one tick submits, which starts the queued pipeline that fits.
    const schedule = await request(h.baseUrl, 'POST', SCHEDULES, {
      name: 'aging-tick',
      definition: { name: 'tick', stages: [{ key: 'a', agent: 'noop' }] },
      everyMs: 1000,
      overlap: 'allow',
      endAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect(schedule.status, JSON.stringify(schedule.body)).to.equal(201);
    // Each start hands the slot on when its pipeline ends (the conductor's turn): both start in the end.
    const startedAt = async (id: string): Promise<string | null> => (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body.startedAt;
    const deadline = Date.now() + 30_000;
    let started = [await startedAt(low.id), await startedAt(high.id)];
    while (started.some((t) => t === null) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      started = [await startedAt(low.id), await startedAt(high.id)];
    }
    expect((await request(h.baseUrl, 'DELETE', `${SCHEDULES}/${schedule.body.id}`)).status).to.equal(204);

    // Assert: the aged low one took the slot the tick found free; the high one came after it.
    const [lowAt, highAt] = started.map((t) => (t === null ? Infinity : Date.parse(t)));
    expect({ lowFirst: lowAt! < highAt!, low: started[0], high: started[1] }).to.deep.include({ lowFirst: true });
  });
});
