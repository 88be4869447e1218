// What a schedule may be at creation, against the real API and Postgres: the minimum interval
// (SCHEDULE_MIN_INTERVAL_MS, for an interval and a cron), the cap per owner
// (SCHEDULE_MAX_PER_OWNER), and the creator's rights over the run each tick submits as them
// (priority `urgent`, a category override): refused at creation, not tick after tick.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, expectError, expectValidationError, request, type Loose } from '../support/http.js';

const SCHEDULES = '/api/v1/schedules';
const quick = { name: 'quick', stages: [{ key: 'only', agent: 'noop' }] };

describe('schedule limits and rights at creation (integration)', function () {
  this.timeout(60_000);
  let h: Harness;

  /** The schedules `owner` has, as the list shows them. */
  const ownedBy = async (owner: string): Promise<Loose[]> =>
    ((await request(h.baseUrl, 'GET', `${SCHEDULES}?limit=100`)).body.items as Loose[]).filter((s) => s.owner === owner);

  before(async function () {
    this.timeout(120_000);
    // A schema of its own, as test/integration/schedules.test.ts: a schedule here ticks in no other file's queues.
    h = await startHarness({
      workers: 0,
      ownSchema: true,
      env: { SCHEDULE_MIN_INTERVAL_MS: '60000', SCHEDULE_MAX_PER_OWNER: '2' },
    });
  });
  after(async () => {
    await h?.close();
  });

  describe('the minimum interval (60 s here)', () => {
    it('an interval under it: 400 naming everyMs, nothing recorded; at it: 201', async () => {
      const owner = await h.createKey('min-interval', ['submitter']);

      const refused = await request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, everyMs: 59_999 }, bearer(owner.key));
      const accepted = await request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, everyMs: 60_000 }, bearer(owner.key));

      expectValidationError(refused, 'everyMs');
      expect((refused.body.error.details as Loose[])[0]).to.include({ code: 'interval_too_short' });
      expect(refused.body.error.details[0].message).to.include('SCHEDULE_MIN_INTERVAL_MS');
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
      expect((await ownedBy(owner.id)).map((s) => s.everyMs)).to.deep.equal([60_000]);
    });

    it('a cron firing every 30 s, or twice a minute apart by seconds: 400 naming cron; once a minute: 201', async () => {
      const owner = await h.createKey('min-cron', ['submitter']);

      const everyThirty = await request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, cron: '*/30 * * * * *' }, bearer(owner.key));
      const pair = await request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, cron: '0,10 0 3 * * *' }, bearer(owner.key));
      const minutely = await request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, cron: '* * * * *' }, bearer(owner.key));

      expectValidationError(everyThirty, 'cron');
      expectValidationError(pair, 'cron');
      expect(minutely.status, JSON.stringify(minutely.body)).to.equal(201);
      expect(await ownedBy(owner.id)).to.have.length(1);
    });
  });

  describe('the cap per owner (2 here)', () => {
    it('a third schedule: 409 SCHEDULE_LIMIT_REACHED, nothing recorded; another identity may still create; deleting one makes room', async () => {
      const alice = await h.createKey('cap-alice', ['submitter']);
      const bob = await h.createKey('cap-bob', ['submitter']);
      const make = (key: string) => request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, cron: '0 3 * * *' }, bearer(key));
      const first = await make(alice.key);
      const paused = await make(alice.key);
      expect([first.status, paused.status]).to.deep.equal([201, 201]);
      // A paused schedule still counts: resuming it needs no check of its own.
      expect((await request(h.baseUrl, 'POST', `${SCHEDULES}/${paused.body.id}/pause`, undefined, bearer(alice.key))).status).to.equal(200);

      const third = await make(alice.key);
      const bobs = await make(bob.key);

      expectError(third, 409, 'SCHEDULE_LIMIT_REACHED');
      expect((third.body.error.details as Loose[]).map((d) => d.field)).to.deep.equal(['(owner)']);
      expect(third.body.error.message).to.include('SCHEDULE_MAX_PER_OWNER');
      expect(await ownedBy(alice.id)).to.have.length(2);
      expect(bobs.status, JSON.stringify(bobs.body)).to.equal(201);
      expect((await request(h.baseUrl, 'DELETE', `${SCHEDULES}/${first.body.id}`, undefined, bearer(alice.key))).status).to.equal(204);
      expect((await make(alice.key)).status).to.equal(201);
    });

    it('concurrent creations by one owner do not pass the cap together', async () => {
      const carol = await h.createKey('cap-carol', ['submitter']);

      const answers = await Promise.all(
        Array.from({ length: 6 }, () => request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, cron: '0 4 * * *' }, bearer(carol.key))),
      );

      expect(answers.map((a) => a.status).sort()).to.deep.equal([201, 201, 409, 409, 409, 409]);
      expect(await ownedBy(carol.id)).to.have.length(2);
    });
  });

  describe("the creator's rights over the run", () => {
    const urgent = { name: 'y', priority: 'urgent', stages: [{ key: 'a', agent: 'noop' }] };
    const downgraded = { name: 'z', stages: [{ key: 'd', agent: 'sim_deployment', input: {}, category: 'technical_refactor' }] };

    it('a submitter: urgent is 403 PRIORITY_FORBIDDEN naming definition.priority, a category downgrade 403 CATEGORY_FORBIDDEN naming definition.stages[0].category; nothing recorded', async () => {
      const submitter = await h.createKey('rights-submitter', ['submitter']);

      const priority = await request(
        h.baseUrl,
        'POST',
        SCHEDULES,
        { name: 'x', everyMs: 60_000, definition: urgent },
        bearer(submitter.key),
      );
      const category = await request(h.baseUrl, 'POST', SCHEDULES, { everyMs: 60_000, definition: downgraded }, bearer(submitter.key));

      expectError(priority, 403, 'PRIORITY_FORBIDDEN');
      expect((priority.body.error.details as Loose[]).map((d) => d.field)).to.deep.equal(['definition.priority']);
      expectError(category, 403, 'CATEGORY_FORBIDDEN');
      expect((category.body.error.details as Loose[]).map((d) => d.field)).to.deep.equal(['definition.stages[0].category']);
      expect(await ownedBy(submitter.id)).to.deep.equal([]);
    });

    it('an operator who submits: both accepted (each tick submits as the operator)', async () => {
      const operator = await h.createKey('rights-operator', ['submitter', 'operator']);

      const priority = await request(h.baseUrl, 'POST', SCHEDULES, { everyMs: 60_000, definition: urgent }, bearer(operator.key));
      const category = await request(h.baseUrl, 'POST', SCHEDULES, { everyMs: 60_000, definition: downgraded }, bearer(operator.key));

      expect(priority.status, JSON.stringify(priority.body)).to.equal(201);
      expect(category.status, JSON.stringify(category.body)).to.equal(201);
    });
  });

  describe('who lifts a pause', () => {
    it("an operator's pause: its owner's resume is 403 naming who paused it and the schedule stays paused; an operator's resume 200; the owner's own pause it resumes", async () => {
      const owner = await h.createKey('hold-owner', ['submitter']);
      const operator = await h.createKey('hold-operator', ['operator']);
      const created = await request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, everyMs: 3_600_000 }, bearer(owner.key));
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const path = `${SCHEDULES}/${created.body.id as string}`;

      expect((await request(h.baseUrl, 'POST', `${path}/pause`, undefined, bearer(operator.key))).body.status).to.equal('paused');
      const lift = await request(h.baseUrl, 'POST', `${path}/resume`, undefined, bearer(owner.key));
      expectError(lift, 403, 'FORBIDDEN');
      expect(lift.body.error.details).to.deep.equal([{ field: 'pausedBy', message: `paused by ${operator.id}` }]);
      // The answer names who paused it, so a client (the dashboard) offers Resume only where it is allowed.
      expect((await request(h.baseUrl, 'GET', path)).body).to.include({ status: 'paused', pausedBy: operator.id });
      // The owner pausing it again does not make the hold its own.
      expect((await request(h.baseUrl, 'POST', `${path}/pause`, undefined, bearer(owner.key))).status).to.equal(200);
      expectError(await request(h.baseUrl, 'POST', `${path}/resume`, undefined, bearer(owner.key)), 403, 'FORBIDDEN');

      expect((await request(h.baseUrl, 'POST', `${path}/resume`, undefined, bearer(operator.key))).body).to.include({
        status: 'active',
        pausedBy: null,
      });
      expect((await request(h.baseUrl, 'POST', `${path}/pause`, undefined, bearer(owner.key))).body.status).to.equal('paused');
      expect((await request(h.baseUrl, 'POST', `${path}/resume`, undefined, bearer(owner.key))).body.status).to.equal('active');
    });

    it("an ended schedule an operator paused: its owner's resume is 409 SCHEDULE_ENDED, as the operator's is, not 403", async () => {
      // Arrange: an operator's hold on a schedule whose end date then passes.
      const owner = await h.createKey('ended-owner', ['submitter']);
      const operator = await h.createKey('ended-operator', ['operator']);
      const created = await request(h.baseUrl, 'POST', SCHEDULES, { definition: quick, everyMs: 3_600_000 }, bearer(owner.key));
      const id = created.body.id as string;
      expect((await request(h.baseUrl, 'POST', `${SCHEDULES}/${id}/pause`, undefined, bearer(operator.key))).status).to.equal(200);
      await h.db.pool.query(`UPDATE schedules SET end_at = now() - interval '1 minute' WHERE id = $1`, [id]);

      // Act
      const byOwner = await request(h.baseUrl, 'POST', `${SCHEDULES}/${id}/resume`, undefined, bearer(owner.key));
      const byOperator = await request(h.baseUrl, 'POST', `${SCHEDULES}/${id}/resume`, undefined, bearer(operator.key));

      // Assert
      expectError(byOwner, 409, 'SCHEDULE_ENDED');
      expectError(byOperator, 409, 'SCHEDULE_ENDED');
    });
  });
});
