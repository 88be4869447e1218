// The schedule service with in-memory ports (no I/O): the rebuild after Redis lost the job
// schedulers (installed again; a missed tick caught up once, "run once on recovery"; those of
// paused and deleted schedules removed), and what a tick does with a refused submission (failed
// for good) or an unreachable dependency (thrown, for BullMQ to retry).
import { expect } from 'chai';
import { ConflictError, ForbiddenError, UnavailableError, ValidationError } from '../../src/domain/errors.js';
import type { Identity } from '../../src/domain/identity.js';
import type { SchedulerPlan } from '../../src/domain/schedule.js';
import { createScheduleService } from '../../src/services/schedule.service.js';
import type { OwnerStanding, RunSubmitter, ScheduleRecord, ScheduleRepository, ScheduleTimers } from '../../src/services/schedule.ports.js';

const NOW = new Date('2027-01-15T12:00:00.000Z');
const owner: Identity = { id: 'alice', name: 'alice', kind: 'user', via: 'api_key', roles: ['submitter'] };
const silent = { debug() {}, info() {}, warn() {}, error() {} };
/** A port call that only records (its argument is the push that did it). */
const recorded = (_pushed: number): Promise<void> => Promise.resolve();

function record(id: string, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id,
    name: id,
    request: { name: 'x', stages: [{ key: 'a', agent: 'noop' }] },
    timing: { kind: 'every', everyMs: 60_000, startAt: null, endAt: null },
    overlap: 'skip',
    state: 'active',
    owner: owner.id,
    ownerIdentity: owner,
    createdAt: new Date('2027-01-01T00:00:00Z'),
    updatedAt: new Date('2027-01-01T00:00:00Z'),
    lastTickAt: null,
    ...overrides,
  };
}

/** The owner stands as it was created (its key active, its roles unchanged). */
const unchanged: OwnerStanding = { current: (identity) => Promise.resolve(identity) };

function harness(schedules: ScheduleRecord[], installed: string[], runs: Partial<RunSubmitter> = {}, owners = unchanged) {
  const calls = {
    installed: [] as [string, SchedulerPlan][],
    removed: [] as string[],
    failed: [] as [string, string][],
    linked: [] as string[],
  };
  const repo = {
    all: () => Promise.resolve(schedules),
    unlinkedTicks: () => Promise.resolve([]),
    withWaiting: () => Promise.resolve([]),
    pruneTicks: () => Promise.resolve(0),
    claimTick: (id: string, tickAt: Date) =>
      Promise.resolve({
        schedule: schedules.find((s) => s.id === id)!,
        tick: { scheduledFor: tickAt, outcome: 'started' as const, reason: null, pipelineId: null, pipelineStatus: null, createdAt: NOW },
      }),
    failTick: (id: string, _at: Date, reason: string) => recorded(calls.failed.push([id, reason])),
    linkRun: (_id: string, _at: Date, pipelineId: string) => recorded(calls.linked.push(pipelineId)),
  } as unknown as ScheduleRepository;
  const timers: ScheduleTimers = {
    install: (s, plan) => recorded(calls.installed.push([s.id, plan])),
    remove: (id) => recorded(calls.removed.push(id)),
    next: () => Promise.resolve(new Map(installed.map((id) => [id, NOW.getTime() + 1000]))),
  };
  const submitter: RunSubmitter = {
    check: () => undefined,
    submit: () => Promise.resolve({ pipeline: { id: 'p-1' } }),
    ...runs,
  };
  const service = createScheduleService({ repo, timers, runs: submitter, owners, logger: silent, now: () => NOW });
  return { service, calls };
}

describe('schedule service: the rebuild and the tick (unit, in-memory ports)', () => {
  it('a job scheduler Redis lost is installed again; one that missed ticks fires once now, one that did not keeps its next tick', async () => {
    const missed = record('missed', { lastTickAt: new Date(NOW.getTime() - 10 * 60_000) });
    const onTime = record('on-time', { lastTickAt: new Date(NOW.getTime() - 1000) });
    const present = record('present', { lastTickAt: new Date(NOW.getTime() - 10 * 60_000) });
    const { service, calls } = harness([missed, onTime, present], ['present']);
    const report = await service.sync();
    expect(calls.installed).to.deep.equal([
      ['missed', { startAt: NOW, immediately: false, catchUp: true }],
      ['on-time', { startAt: new Date(NOW.getTime() + 59_000), immediately: false, catchUp: false }],
    ]);
    expect(report).to.include({ installed: 2, caughtUp: 1, removed: 0, errors: 0 });
  });

  it('the job schedulers of paused, ended and deleted schedules are removed', async () => {
    const paused = record('paused', { state: 'paused' });
    const ended = record('ended', { timing: { kind: 'every', everyMs: 60_000, startAt: null, endAt: new Date(NOW.getTime() - 1) } });
    const { service, calls } = harness([paused, ended], ['paused', 'ended', 'deleted']);
    const report = await service.sync();
    expect(calls.installed).to.deep.equal([]);
    expect(calls.removed.sort()).to.deep.equal(['deleted', 'ended', 'paused']);
    expect(report.removed).to.equal(3);
  });

  it('a tick whose submission is refused (4xx) is recorded failed with the code; the run is not retried', async () => {
    const refused = new ValidationError('VALIDATION_FAILED', 'no such template');
    const { service, calls } = harness([record('s')], ['s'], { submit: () => Promise.reject(refused) });
    const result = await service.tick('s', NOW);
    expect(result.outcome).to.equal('failed');
    expect(calls.failed).to.deep.equal([['s', 'VALIDATION_FAILED']]);
  });

  it('a tick whose submission meets an unreachable dependency throws, for BullMQ to retry it; nothing is recorded failed', async () => {
    const down = new UnavailableError('QUEUE_UNAVAILABLE', 'redis down');
    const { service, calls } = harness([record('s')], ['s'], { submit: () => Promise.reject(down) });
    let thrown: unknown;
    try {
      await service.tick('s', NOW);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.equal(down);
    expect(calls.failed).to.deep.equal([]);
  });

  it('a started tick submits its run as the creator with the Idempotency-Key of the schedule and tick, then links it', async () => {
    const seen: unknown[] = [];
    const { service, calls } = harness([record('s')], ['s'], {
      submit: (_body, options) => {
        seen.push(options);
        return Promise.resolve({ pipeline: { id: 'p-9' } });
      },
    });
    expect(await service.tick('s', NOW)).to.deep.equal({ outcome: 'started' });
    expect(seen).to.deep.equal([{ idempotencyKey: `schedule:s:${NOW.getTime()}`, actor: { identity: owner, requestId: 'schedule:s' } }]);
    expect(calls.linked).to.deep.equal(['p-9']);
  });

  it('a tick of an owner whose key was revoked or expired submits nothing: recorded failed with SCHEDULE_OWNER_INACTIVE', async () => {
    const submitted: unknown[] = [];
    const { service, calls } = harness(
      [record('s')],
      ['s'],
      { submit: (body) => (submitted.push(body), Promise.resolve({ pipeline: { id: 'p-1' } })) },
      { current: () => Promise.resolve(null) },
    );
    expect(await service.tick('s', NOW)).to.deep.equal({ outcome: 'failed' });
    expect(submitted).to.deep.equal([]);
    expect(calls.failed).to.deep.equal([['s', 'SCHEDULE_OWNER_INACTIVE']]);
  });

  it("a tick submits with the owner's roles as they stand now, not as they were when the schedule was made", async () => {
    const made: Identity = { ...owner, roles: ['submitter', 'operator'] };
    const lowered: Identity = { ...owner, roles: ['submitter'] };
    const seen: Identity[] = [];
    const { service } = harness(
      [record('s', { ownerIdentity: made })],
      ['s'],
      { submit: (_body, options) => (seen.push(options.actor.identity), Promise.resolve({ pipeline: { id: 'p-2' } })) },
      { current: (identity) => Promise.resolve(identity.id === owner.id ? lowered : null) },
    );
    await service.tick('s', NOW);
    expect(seen).to.deep.equal([lowered]);
  });

  for (const roles of [['viewer'], ['approver'], ['viewer', 'tech_lead']]) {
    it(`a tick of an owner whose key now has only ${roles.join(' + ')} (no schedule right) submits nothing: recorded failed with FORBIDDEN`, async () => {
      const submitted: unknown[] = [];
      const { service, calls } = harness(
        [record('s')],
        ['s'],
        { submit: (body) => (submitted.push(body), Promise.resolve({ pipeline: { id: 'p-3' } })) },
        { current: (identity) => Promise.resolve({ ...identity, roles }) },
      );
      expect(await service.tick('s', NOW)).to.deep.equal({ outcome: 'failed' });
      expect(submitted).to.deep.equal([]);
      expect(calls.failed).to.deep.equal([['s', 'FORBIDDEN']]);
      expect(calls.linked).to.deep.equal([]);
    });
  }
});

describe('schedule service: creation (unit, in-memory ports)', () => {
  const actor = { identity: owner };
  const quick = { name: 'x', stages: [{ key: 'a', agent: 'noop' }] };

  /** A service whose repository records creations up to `room` schedules, and whose check is `check`. */
  function creation(check: RunSubmitter['check'], room = Number.POSITIVE_INFINITY) {
    const seen = { checked: [] as unknown[], caps: [] as { maxPerOwner: number; at: Date }[] };
    const repo = {
      create: (schedule: ScheduleRecord, _audit: unknown, cap: { maxPerOwner: number; at: Date }) => {
        seen.caps.push(cap);
        return Promise.resolve(
          seen.caps.length > room ? null : { ...schedule, state: 'active', createdAt: NOW, updatedAt: NOW, lastTickAt: null },
        );
      },
    } as unknown as ScheduleRepository;
    const timers: ScheduleTimers = {
      install: () => Promise.resolve(),
      remove: () => Promise.resolve(),
      next: () => Promise.resolve(new Map()),
    };
    const runs: RunSubmitter = {
      check: (body, identity) => {
        seen.checked.push(identity);
        check(body, identity);
      },
      submit: () => Promise.reject(new Error('not in this test')),
    };
    const service = createScheduleService({
      repo,
      timers,
      runs,
      owners: unchanged,
      logger: silent,
      now: () => NOW,
      limits: { minIntervalMs: 60_000, maxPerOwner: 3 },
    });
    return { service, seen };
  }

  it("checks the run as the creator would submit it, and names a 403's fields where they sit in the request", async () => {
    const { service, seen } = creation(() => {
      throw new ForbiddenError('CATEGORY_FORBIDDEN', 'no', { details: [{ field: 'stages[0].category', message: 'no' }] });
    });
    let thrown: unknown;
    try {
      await service.create({ everyMs: 60_000, definition: quick }, actor);
    } catch (error) {
      thrown = error;
    }
    expect(seen.checked).to.deep.equal([owner]);
    expect(thrown).to.be.instanceOf(ForbiddenError);
    expect((thrown as ForbiddenError).code).to.equal('CATEGORY_FORBIDDEN');
    expect((thrown as ForbiddenError).details.map((d) => d.field)).to.deep.equal(['definition.stages[0].category']);
    expect(seen.caps).to.deep.equal([]);
  });

  it('an interval under limits.minIntervalMs: 400 naming everyMs before the run is checked', async () => {
    const { service, seen } = creation(() => undefined);
    let thrown: unknown;
    try {
      await service.create({ everyMs: 1000, definition: quick }, actor);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(ValidationError);
    expect((thrown as ValidationError).details.map((d) => d.field)).to.deep.equal(['everyMs']);
    expect(seen.checked).to.deep.equal([]);
  });

  it('the repository finding the owner at its cap: 409 SCHEDULE_LIMIT_REACHED naming (owner); the cap and the time are passed to it', async () => {
    const { service, seen } = creation(() => undefined, 1);
    expect((await service.create({ everyMs: 60_000, definition: quick }, actor)).schedule.owner).to.equal(owner.id);
    let thrown: unknown;
    try {
      await service.create({ everyMs: 60_000, definition: quick }, actor);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(ConflictError);
    expect((thrown as ConflictError).code).to.equal('SCHEDULE_LIMIT_REACHED');
    expect((thrown as ConflictError).details.map((d) => d.field)).to.deep.equal(['(owner)']);
    expect(seen.caps).to.deep.equal([
      { maxPerOwner: 3, at: NOW },
      { maxPerOwner: 3, at: NOW },
    ]);
  });
});
