// Schedules against the real Redis and Postgres, the API and a worker (with the conductor) in
// this process: validation (400 naming the field), access (viewer, the creator, another
// submitter, an operator), runs linked to their schedule and tick, pause, resume, delete, the
// end date, the three overlap policies with a long stage, the missed-ticks policy ("run once on
// recovery") when the workers were down, and the rebuild after Redis lost every key.
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { deleteKeys, startHarness, type Harness } from '../support/harness.js';
import { bearer, expectValidationError, request, type Loose } from '../support/http.js';
import { CONTROL_QUEUE } from '../../src/infra/queue/queue-names.js';
import { createScheduleRepository } from '../../src/infra/db/schedule.repository.js';
import { TICK_RETENTION_MS } from '../../src/services/schedule.service.js';

const SCHEDULES = '/api/v1/schedules';
const sleepy = (ms: number) => ({ name: `sleepy-${ms}`, stages: [{ key: 'wait', agent: 'sleep', input: { ms }, retry: { attempts: 1 } }] });
const quick = { name: 'quick', stages: [{ key: 'only', agent: 'noop' }] };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('schedules (integration)', function () {
  this.timeout(120_000);
  let h: Harness;
  let control: Queue;

  const create = async (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Loose> => {
    const res = await request(h.baseUrl, 'POST', SCHEDULES, body, headers);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };
  const show = async (id: string): Promise<Loose> => {
    const res = await request(h.baseUrl, 'GET', `${SCHEDULES}/${id}?next=3`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  const ticks = async (id: string): Promise<Loose[]> => (await show(id)).ticks as Loose[];
  /** Polls the schedule until `predicate` holds on its ticks (newest first). */
  const waitForTicks = async (id: string, predicate: (ticks: Loose[]) => boolean, timeoutMs = 30_000): Promise<Loose[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await ticks(id);
      if (predicate(found)) return found;
      if (Date.now() > deadline) throw new Error(`ticks never matched: ${JSON.stringify(found)}`);
      await pause(150);
    }
  };
  const started = (t: Loose[]) => t.filter((x) => x.outcome === 'started' && x.pipelineId);
  const pipelineOf = async (id: string): Promise<Loose> => (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}`)).body;
  const remove = async (id: string) => expect((await request(h.baseUrl, 'DELETE', `${SCHEDULES}/${id}`)).status).to.equal(204);
  before(async function () {
    this.timeout(120_000);
    // A schema of its own: every reconciler pass installs the job schedulers of the schedules in
    // its schema, so a schedule left in the shared one would tick in other files' queues.
    h = await startHarness({ workers: 1, ownSchema: true, env: { RECONCILE_EVERY_MS: '1000' } });
    control = new Queue(CONTROL_QUEUE, { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
  });
  after(async () => {
    await control?.close();
    await h?.close();
  });

  describe('validation', () => {
    const base = { definition: quick, everyMs: 60_000 };
    const cases: [string, Record<string, unknown>, string][] = [
      ['a bad cron', { definition: quick, cron: 'at noon' }, 'cron'],
      // It parses, but no date matches: once recorded, it made GET /schedules answer 500 to everyone.
      ['a cron no date matches (31 February or April)', { definition: quick, cron: '0 0 31 2,4 *' }, 'cron'],
      ['an unknown time zone', { definition: quick, cron: '0 2 * * *', timezone: 'Atlantis/Lost' }, 'timezone'],
      ['an interval under a second', { ...base, everyMs: 5 }, 'everyMs'],
      ['both a cron and an interval', { ...base, cron: '0 2 * * *' }, 'cron'],
      ['an end before the start', { ...base, startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' }, 'endAt'],
      ['an unknown overlap policy', { ...base, overlap: 'sometimes' }, 'overlap'],
      // Valid ISO 8601, but 10000-01-01T23:58:59Z in UTC: answered as `+010000-…`, no date of the contract.
      ['a start after year 9999 in UTC', { ...base, startAt: '9999-12-31T23:59:59-23:59' }, 'startAt'],
      ['an end after year 9999 in UTC', { ...base, endAt: '9999-12-31T23:59:59-23:59' }, 'endAt'],
      [
        'an unknown agent in the definition',
        { everyMs: 60_000, definition: { name: 'x', stages: [{ key: 'a', agent: 'nope' }] } },
        'definition.stages[0].agent',
      ],
      // Sent beside the definition, named where they were sent (not as definition.labels…).
      ['a bad label key beside a definition', { ...base, labels: { 'Bad Key': 'x' } }, 'labels.Bad Key'],
      ['a label value that is no string beside a definition', { ...base, labels: { team: 7 } }, 'labels.team'],
      ['a bad label in the definition', { everyMs: 60_000, definition: { ...quick, labels: { team: 7 } } }, 'definition.labels.team'],
      ['an unknown template', { everyMs: 60_000, template: 'no-such-template' }, 'template'],
      ['a template input its schema refuses', { everyMs: 60_000, template: 'smoke', input: { colour: 'red' } }, 'input.colour'],
    ];
    for (const [what, body, field] of cases) {
      it(`${what}: 400 naming ${field}, nothing recorded`, async () => {
        const before = (await request(h.baseUrl, 'GET', `${SCHEDULES}?limit=100`)).body.items.length as number;
        expectValidationError(await request(h.baseUrl, 'POST', SCHEDULES, body), field);
        expect((await request(h.baseUrl, 'GET', `${SCHEDULES}?limit=100`)).body.items).to.have.length(before);
      });
    }
    it('a start late in year 9999: accepted, with no fire time after 9999-12-31T23:59:59.999Z (the contract has four-digit years)', async () => {
      const late = await create({ definition: quick, cron: '0 0 * * *', startAt: '9999-12-31T00:00:01Z' });
      expect(late.nextFireTimes).to.deep.equal([]);
      expect((await show(late.id as string)).nextFireTimes).to.deep.equal([]);
      await remove(late.id as string);
    });
    it('pause and resume take no body: a reason, an actor or any other field gets 400 naming it and changes nothing; {} is fine', async () => {
      const schedule = await create(base);
      const path = (verb: string) => `${SCHEDULES}/${schedule.id}/${verb}`;
      expectValidationError(await request(h.baseUrl, 'POST', path('pause'), { reason: 'INC-7' }), 'reason');
      expectValidationError(await request(h.baseUrl, 'POST', path('pause'), { actor: 'someone-else' }), 'actor');
      expectValidationError(await request(h.baseUrl, 'POST', path('pause'), [1]), '(body)');
      expect((await show(schedule.id as string)).status).to.equal('active');
      expect((await request(h.baseUrl, 'POST', path('pause'), {})).body.status).to.equal('paused');
      expectValidationError(await request(h.baseUrl, 'POST', path('resume'), { reason: 'over' }), 'reason');
      expect((await show(schedule.id as string)).status).to.equal('paused');
      expect((await request(h.baseUrl, 'POST', path('resume'))).body.status).to.equal('active');
      await remove(schedule.id as string);
    });
    it('an unknown id: 404 SCHEDULE_NOT_FOUND; a malformed one: 400', async () => {
      const missing = await request(h.baseUrl, 'GET', `${SCHEDULES}/00000000-0000-4000-8000-000000000000`);
      expect(missing.status).to.equal(404);
      expect(missing.body.error.code).to.equal('SCHEDULE_NOT_FOUND');
      expect((await request(h.baseUrl, 'POST', `${SCHEDULES}/nope/pause`)).status).to.equal(400);
    });
  });

  describe('access and audit', () => {
    it("a viewer reads but cannot create (403); a submitter changes only its own, and lifts no operator's pause; an operator changes any; each change is audited", async () => {
      const viewer = await h.createKey('sched-viewer', ['viewer']);
      const alice = await h.createKey('sched-alice', ['submitter']);
      const bob = await h.createKey('sched-bob', ['submitter']);
      const operator = await h.createKey('sched-operator', ['operator']);
      const body = { definition: quick, cron: '0 3 * * *', timezone: 'Europe/Paris' };
      expect((await request(h.baseUrl, 'POST', SCHEDULES, body, bearer(viewer.key))).status).to.equal(403);
      const mine = await create(body, bearer(alice.key));
      expect(mine.owner).to.equal(alice.id);
      expect((await request(h.baseUrl, 'GET', `${SCHEDULES}/${mine.id}`, undefined, bearer(viewer.key))).status).to.equal(200);
      for (const verb of ['pause', 'resume']) {
        const refused = await request(h.baseUrl, 'POST', `${SCHEDULES}/${mine.id}/${verb}`, undefined, bearer(bob.key));
        expect(refused.status, verb).to.equal(403);
        expect((await request(h.baseUrl, 'POST', `${SCHEDULES}/${mine.id}/${verb}`, undefined, bearer(viewer.key))).status).to.equal(403);
      }
      expect((await request(h.baseUrl, 'DELETE', `${SCHEDULES}/${mine.id}`, undefined, bearer(bob.key))).status).to.equal(403);
      const paused = await request(h.baseUrl, 'POST', `${SCHEDULES}/${mine.id}/pause`, undefined, bearer(operator.key));
      expect(paused.status).to.equal(200);
      expect(paused.body).to.include({ status: 'paused' });
      expect(paused.body.nextFireTimes).to.deep.equal([]);
      // An operator's hold is not its owner's to lift (docs/pipeline-operations.md, schedules).
      expect((await request(h.baseUrl, 'POST', `${SCHEDULES}/${mine.id}/resume`, undefined, bearer(alice.key))).status).to.equal(403);
      const resumed = await request(h.baseUrl, 'POST', `${SCHEDULES}/${mine.id}/resume`, undefined, bearer(operator.key));
      expect(resumed.body).to.include({ status: 'active' });
      // 03:00 in Paris is 02:00Z in winter or 01:00Z in summer.
      expect(resumed.body.nextFireTimes[0]).to.match(/T0[12]:00:00\.000Z$/);
      expect((await request(h.baseUrl, 'DELETE', `${SCHEDULES}/${mine.id}`, undefined, bearer(alice.key))).status).to.equal(204);
      const audit = await request(h.baseUrl, 'GET', `/api/v1/audit?targetType=schedule&targetId=${mine.id}&limit=50`);
      const actions = (audit.body.items as Loose[]).map((e) => `${e.action} by ${e.identity.id}`).reverse();
      expect(actions).to.deep.equal([
        `schedule.created by ${alice.id}`,
        `schedule.paused by ${operator.id}`,
        `schedule.resumed by ${operator.id}`,
        `schedule.deleted by ${alice.id}`,
      ]);
    });

    it('a pause of a paused schedule, or a resume of an active one, changes nothing and is not audited again (200 both times)', async () => {
      const alice = await h.createKey('sched-repeat', ['submitter']);
      const mine = await create({ definition: quick, cron: '0 3 * * *' }, bearer(alice.key));
      for (const verb of ['resume', 'pause', 'pause', 'resume', 'resume']) {
        const answer = await request(h.baseUrl, 'POST', `${SCHEDULES}/${mine.id}/${verb}`, undefined, bearer(alice.key));
        expect(answer.status, verb).to.equal(200);
        expect(answer.body.status, verb).to.equal(verb === 'pause' ? 'paused' : 'active');
      }
      const audit = await request(h.baseUrl, 'GET', `/api/v1/audit?targetType=schedule&targetId=${mine.id}&limit=50`);
      expect((audit.body.items as Loose[]).map((e) => e.action).reverse()).to.deep.equal([
        'schedule.created',
        'schedule.paused',
        'schedule.resumed',
      ]);
    });
  });

  describe('ticks', () => {
    it('an interval schedule starts one run per tick, linked to its schedule and tick, submitted as its creator', async () => {
      const schedule = await create({ name: 'every second', definition: quick, everyMs: 1000, overlap: 'allow' });
      expect(schedule.nextFireTimes).to.have.length(1);
      const found = await waitForTicks(schedule.id, (t) => started(t).length >= 3);
      const scheduledFor = started(found).map((t) => t.scheduledFor as string);
      expect(new Set(scheduledFor).size).to.equal(scheduledFor.length);
      for (const tick of started(found).slice(0, 3)) {
        const pipeline = await pipelineOf(tick.pipelineId);
        expect(pipeline.schedule).to.deep.equal({ id: schedule.id, scheduledFor: tick.scheduledFor });
        expect(pipeline.submitter).to.equal(schedule.owner);
      }
      const listed = (await request(h.baseUrl, 'GET', `${SCHEDULES}?limit=100`)).body.items as Loose[];
      expect(listed.find((s) => s.id === schedule.id)?.nextFireTimes).to.have.length(1);
      await remove(schedule.id);
    });

    it("once its creator's key is revoked, each tick submits nothing and is recorded failed with SCHEDULE_OWNER_INACTIVE", async () => {
      const carol = await h.createKey('sched-carol', ['submitter']);
      const schedule = await create({ name: 'revoked owner', definition: quick, everyMs: 1000, overlap: 'allow' }, bearer(carol.key));
      await waitForTicks(schedule.id, (t) => started(t).length >= 1);
      const revoked = await request(h.baseUrl, 'POST', `/api/v1/keys/${carol.recordId}/revoke`, {});
      expect(revoked.status, JSON.stringify(revoked.body)).to.equal(200);
      const found = await waitForTicks(schedule.id, (t) => t.some((x) => x.reason === 'SCHEDULE_OWNER_INACTIVE'));
      const refused = found.filter((x) => x.reason === 'SCHEDULE_OWNER_INACTIVE');
      expect(refused.every((x) => x.outcome === 'failed' && x.pipelineId === null)).to.equal(true);
      // No run started after the first refusal (ticks are newest first).
      const firstRefusal = Date.parse(refused[refused.length - 1]!.scheduledFor as string);
      expect(started(found).filter((x) => Date.parse(x.scheduledFor as string) > firstRefusal)).to.deep.equal([]);
      await remove(schedule.id);
    });

    it("once its creator's key is replaced by a viewer key of the same name, each tick submits nothing and is recorded failed with FORBIDDEN", async () => {
      const dave = await h.createKey('sched-dave', ['submitter']);
      const schedule = await create({ name: 'lowered owner', definition: quick, everyMs: 1000, overlap: 'allow' }, bearer(dave.key));
      await waitForTicks(schedule.id, (t) => started(t).length >= 1);
      const revoked = await request(h.baseUrl, 'POST', `/api/v1/keys/${dave.recordId}/revoke`, {});
      expect(revoked.status, JSON.stringify(revoked.body)).to.equal(200);
      const viewer = await h.createKey('sched-dave', ['viewer']);
      // The viewer key may not submit over the API, nor may its schedule on its behalf.
      const direct = await request(h.baseUrl, 'POST', '/api/v1/pipelines', quick, bearer(viewer.key));
      expect(direct.status).to.equal(403);
      const found = await waitForTicks(schedule.id, (t) => t.some((x) => x.reason === 'FORBIDDEN'));
      const refused = found.filter((x) => x.reason === 'FORBIDDEN');
      expect(refused.every((x) => x.outcome === 'failed' && x.pipelineId === null)).to.equal(true);
      const firstRefusal = Date.parse(refused[refused.length - 1]!.scheduledFor as string);
      expect(started(found).filter((x) => Date.parse(x.scheduledFor as string) > firstRefusal)).to.deep.equal([]);
      expect(found.some((x) => x.reason === 'SCHEDULE_OWNER_INACTIVE')).to.equal(
        false,
        'a key of that name is active throughout the refusals',
      );
      await remove(schedule.id);
    });

    it('a template schedule submits the template with its input and labels on each tick', async () => {
      const schedule = await create({ template: 'smoke', input: { project: 'nightly' }, labels: { team: 'sched' }, everyMs: 1000 });
      const found = await waitForTicks(schedule.id, (t) => started(t).length >= 1);
      await request(h.baseUrl, 'POST', `${SCHEDULES}/${schedule.id}/pause`);
      const pipeline = await pipelineOf(started(found)[0]!.pipelineId);
      expect(pipeline).to.deep.include({ template: 'smoke', input: { project: 'nightly' }, labels: { team: 'sched' } });
      await remove(schedule.id);
    });

    it('pause stops the ticks (none starts a run after it), resume starts them again, delete removes its job scheduler', async () => {
      const schedule = await create({ definition: quick, everyMs: 1000, overlap: 'allow' });
      await waitForTicks(schedule.id, (t) => started(t).length >= 1);
      const pausedAt = Date.now();
      await request(h.baseUrl, 'POST', `${SCHEDULES}/${schedule.id}/pause`);
      expect(await control.getJobScheduler(`schedule:${schedule.id}`)).to.equal(undefined);
      await pause(2500);
      const whilePaused = await ticks(schedule.id);
      expect(whilePaused.filter((t) => t.outcome === 'started' && Date.parse(t.scheduledFor) > pausedAt)).to.deep.equal([]);
      const resumedAt = Date.now();
      await request(h.baseUrl, 'POST', `${SCHEDULES}/${schedule.id}/resume`);
      await waitForTicks(schedule.id, (t) => started(t).some((x) => Date.parse(x.scheduledFor) > resumedAt));
      await remove(schedule.id);
      expect(await control.getJobScheduler(`schedule:${schedule.id}`)).to.equal(undefined);
      expect((await request(h.baseUrl, 'GET', `${SCHEDULES}/${schedule.id}`)).status).to.equal(404);
    });

    it('no run after the end date: the schedule then shows ended, with no next fire time', async () => {
      const endAt = new Date(Date.now() + 2500);
      const schedule = await create({ definition: quick, everyMs: 1000, overlap: 'allow', endAt: endAt.toISOString() });
      const deadline = Date.now() + 20_000;
      let shown = await show(schedule.id);
      while (shown.status !== 'ended' && Date.now() < deadline) {
        await pause(200);
        shown = await show(schedule.id);
      }
      expect(shown.status).to.equal('ended');
      expect(shown.nextFireTimes).to.deep.equal([]);
      await pause(1500);
      const after = await ticks(schedule.id);
      expect(started(after).length).to.be.greaterThan(0);
      expect(started(after).filter((t) => Date.parse(t.scheduledFor) > endAt.getTime())).to.deep.equal([]);
      const resumed = await request(h.baseUrl, 'POST', `${SCHEDULES}/${schedule.id}/resume`);
      expect(resumed.status).to.equal(409);
      expect(resumed.body.error.code).to.equal('SCHEDULE_ENDED');
      await remove(schedule.id);
    });
  });

  describe('overlap policies, with a run longer than the interval', () => {
    /** [created, finished] of each started tick's run, oldest first. */
    const runsOf = async (found: Loose[]) =>
      Promise.all(
        started(found)
          .reverse()
          .map(async (t) => {
            const p = await pipelineOf(t.pipelineId);
            return { createdAt: Date.parse(p.createdAt), finishedAt: p.finishedAt ? Date.parse(p.finishedAt) : null };
          }),
      );

    it('skip: ticks while a run is unfinished are recorded skipped (overlap); runs never overlap', async () => {
      const schedule = await create({ definition: sleepy(2500), everyMs: 1000, overlap: 'skip' });
      const found = await waitForTicks(
        schedule.id,
        (t) => started(t).length >= 2 && t.some((x) => x.outcome === 'skipped' && x.reason === 'overlap'),
      );
      await request(h.baseUrl, 'POST', `${SCHEDULES}/${schedule.id}/pause`);
      const runs = await runsOf(found);
      for (let i = 1; i < runs.length; i++) expect(runs[i]!.createdAt).to.be.at.least(runs[i - 1]!.finishedAt ?? Infinity);
      await remove(schedule.id);
    });

    it('queue_one: one tick waits behind the run and starts when it finishes; further ticks are skipped', async () => {
      const schedule = await create({ definition: sleepy(2500), everyMs: 1000, overlap: 'queue_one' });
      let waitingTick: string | undefined;
      await waitForTicks(schedule.id, (t) => {
        const waiting = t.filter((x) => x.outcome === 'waiting');
        expect(waiting.length).to.be.at.most(1);
        waitingTick ??= waiting[0]?.scheduledFor as string | undefined;
        return waitingTick !== undefined && t.some((x) => x.outcome === 'skipped' && x.reason === 'overlap');
      });
      const found = await waitForTicks(schedule.id, (t) =>
        t.some((x) => x.scheduledFor === waitingTick && x.outcome === 'started' && x.pipelineId),
      );
      await request(h.baseUrl, 'POST', `${SCHEDULES}/${schedule.id}/pause`);
      const promoted = found.find((x) => x.scheduledFor === waitingTick)!;
      const before = started(found).find((x) => Date.parse(x.scheduledFor) < Date.parse(waitingTick!))!;
      const [first, second] = [await pipelineOf(before.pipelineId), await pipelineOf(promoted.pipelineId)];
      expect(first.finishedAt, 'the run it waited for finished').to.be.a('string');
      expect(Date.parse(second.createdAt)).to.be.at.least(Date.parse(first.finishedAt));
      await remove(schedule.id);
    });

    it('allow: a tick starts a run while the previous one still runs', async () => {
      const schedule = await create({ definition: sleepy(2500), everyMs: 1000, overlap: 'allow' });
      const found = await waitForTicks(schedule.id, (t) => started(t).length >= 3);
      await request(h.baseUrl, 'POST', `${SCHEDULES}/${schedule.id}/pause`);
      const runs = await runsOf(found);
      const overlapping = runs.slice(1).some((run, i) => run.createdAt < (runs[i]!.finishedAt ?? Infinity));
      expect(overlapping).to.equal(true);
      expect(found.filter((t) => t.outcome === 'skipped')).to.deep.equal([]);
      await remove(schedule.id);
    });
  });

  describe('tick retention', () => {
    it('ticks older than the retention are deleted, but not a waiting one nor a started one whose run is unfinished', async () => {
      const schedule = await create({ definition: quick, cron: '0 3 1 1 *' });
      const day = 24 * 3600 * 1000;
      const old = new Date(Date.now() - TICK_RETENTION_MS - day);
      const running = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'held',
        stages: [{ key: 'a', agent: 'sleep', input: { ms: 60_000 } }],
      });
      const rows: [string, string, string | null, Date][] = [
        ['2020-01-01T00:00:00Z', 'skipped', null, old],
        ['2020-01-02T00:00:00Z', 'waiting', null, old],
        ['2020-01-03T00:00:00Z', 'started', '00000000-0000-4000-8000-000000000001', old], // its run since pruned
        ['2020-01-04T00:00:00Z', 'started', running.body.id as string, old],
        ['2020-01-05T00:00:00Z', 'skipped', null, new Date(Date.now() - day)],
      ];
      for (const [at, outcome, pipelineId, createdAt] of rows) {
        await h.db.pool.query(
          'INSERT INTO schedule_ticks (schedule_id, scheduled_for, outcome, pipeline_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)',
          [schedule.id, at, outcome, pipelineId, createdAt],
        );
      }
      // (The reconciler's pass in the harness worker may prune them first: the rows left are what counts.)
      await createScheduleRepository(h.db).pruneTicks(TICK_RETENTION_MS, 100);
      const left = await h.db.pool.query<{ scheduled_for: Date }>(
        'SELECT scheduled_for FROM schedule_ticks WHERE schedule_id = $1 ORDER BY 1',
        [schedule.id],
      );
      expect(left.rows.map((r) => r.scheduled_for.toISOString().slice(0, 10))).to.deep.equal(['2020-01-02', '2020-01-04', '2020-01-05']);
      await request(h.baseUrl, 'POST', `/api/v1/pipelines/${running.body.id as string}/cancel`);
      await remove(schedule.id);
    });
  });

  describe('recovery', () => {
    it('missed ticks while every worker was down: one run on recovery, then the interval goes on', async () => {
      const schedule = await create({ definition: quick, everyMs: 1000, overlap: 'allow' });
      await waitForTicks(schedule.id, (t) => started(t).length >= 1);
      const worker = h.workers.shift()!;
      await worker.close();
      const lastBefore = Math.max(...(await ticks(schedule.id)).map((t) => Date.parse(t.scheduledFor)));
      await pause(4500);
      const restartedAt = Date.now();
      await h.startWorker();
      const found = await waitForTicks(schedule.id, (t) => t.some((x) => Date.parse(x.scheduledFor) > restartedAt && x.pipelineId));
      await request(h.baseUrl, 'POST', `${SCHEDULES}/${schedule.id}/pause`);
      const inGap = found.filter((t) => Date.parse(t.scheduledFor) > lastBefore && Date.parse(t.scheduledFor) < restartedAt);
      // About four ticks fell while no worker ran: exactly one of them ran, on recovery.
      expect(inGap.map((t) => t.outcome)).to.deep.equal(['started']);
      await remove(schedule.id);
    });

    it('Redis lost every key: the reconciler pass installs the job scheduler again from Postgres and the ticks go on', async () => {
      const schedule = await create({ definition: quick, everyMs: 1000, overlap: 'allow' });
      await waitForTicks(schedule.id, (t) => started(t).length >= 1);
      const flushedAt = Date.now();
      await deleteKeys(h.config.REDIS_URL, h.config.QUEUE_PREFIX, h.config.REDIS_CLUSTER_NODES);
      const found = await waitForTicks(schedule.id, (t) => started(t).some((x) => Date.parse(x.scheduledFor) > flushedAt + 1000), 60_000);
      expect(await control.getJobScheduler(`schedule:${schedule.id}`)).to.not.equal(undefined);
      const scheduledFor = started(found).map((t) => t.scheduledFor as string);
      expect(new Set(scheduledFor).size).to.equal(scheduledFor.length);
      await remove(schedule.id);
    });
  });
});
