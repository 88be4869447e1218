// Schedules: create, list, read, pause, resume, delete (the API), each tick of a schedule's
// BullMQ job scheduler (the control worker), and the rebuild of what Redis lost (the reconciler
// pass). Postgres is written first; the job scheduler follows, and the rebuild installs it when
// that second step was lost. A tick is idempotent: its row in schedule_ticks is its record, and
// its run is submitted with an Idempotency-Key made of the schedule id and the tick's time.
import { randomUUID } from 'node:crypto';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  IdempotencyKeyTakenError,
  NotFoundError,
  ValidationError,
  type ErrorDetail,
} from '../domain/errors.js';
import { hashRequest, idempotencyKeyReused } from '../domain/idempotency.js';
import { can, type Actor } from '../domain/identity.js';
import type { Logger } from '../domain/logger.js';
import { pauseLiftRefusal } from './pause-lift.js';
import {
  MIN_EVERY_MS,
  fireTimes,
  mayOwnSchedules,
  parseScheduleCreate,
  requestFieldOf,
  schedulerPlan,
  scheduledRunOf,
  scheduleRequestId,
  scheduleStateAt,
  timingOf,
  type ScheduleTiming,
} from '../domain/schedule.js';
import type { JsonObject } from '../domain/json.js';
import type { ScheduleState, ScheduleTickOutcome } from '../domain/status.js';
import type {
  ClaimedTick,
  OwnerStanding,
  RunSubmitter,
  ScheduleKey,
  ScheduleRecord,
  ScheduleRepository,
  ScheduleTickRecord,
  ScheduleTimers,
} from './schedule.ports.js';

/** How long a started tick may go without its run before the rebuild submits it again (a crash between the two). */
const UNLINKED_TICK_GRACE_MS = 30_000;
/** Ticks GET /schedules/:id shows. */
const RECENT_TICKS = 20;
/** How long a finished tick's row is kept (its run stays, with its schedule link, until `pipelines prune`). */
export const TICK_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** Ticks deleted per rebuild pass at most: a backlog is worked off over several passes. */
const TICK_PRUNE_BATCH = 5000;

/** What one identity's schedules may do (SCHEDULE_MIN_INTERVAL_MS, SCHEDULE_MAX_PER_OWNER). */
export interface ScheduleLimits {
  /** The shortest interval, or gap between two fire times of a cron (default: MIN_EVERY_MS). */
  minIntervalMs: number;
  /** Schedules not ended one identity may own (0, the default: no cap). */
  maxPerOwner: number;
}

export interface ScheduleServiceDeps {
  repo: ScheduleRepository;
  timers: ScheduleTimers;
  /** The pipeline service: the same checks, admission control, audit and events as POST /pipelines. */
  runs: RunSubmitter;
  /** Each tick submits as its owner stands now: a revoked key's schedule submits nothing, a lowered one's with its new roles. */
  owners: OwnerStanding;
  logger: Logger;
  /** Checked when a schedule is created. */
  limits?: ScheduleLimits;
  newId?: () => string;
  now?: () => Date;
}

/** A schedule as the API shows it. */
export interface ScheduleView extends ScheduleRecord {
  /** `ended` once past the end date. */
  status: ScheduleState;
  /** The next fire times (none when paused or ended). */
  nextFireTimes: Date[];
}

/** What a create answers: the schedule, and whether an Idempotency-Key matched an earlier create. */
export interface ScheduleCreated {
  schedule: ScheduleView;
  replayed: boolean;
}

export interface ScheduleDetail extends ScheduleView {
  ticks: ScheduleTickRecord[];
}

/** What one rebuild pass found and did. */
export interface ScheduleSyncReport {
  /** Active schedules whose job scheduler was missing: installed again. */
  installed: number;
  /** Of those, the ones that had missed a tick: it fires once now (run once on recovery). */
  caughtUp: number;
  /** Job schedulers of paused, ended or deleted schedules: removed. */
  removed: number;
  /** Started ticks found without their run: submitted again (the same Idempotency-Key). */
  resubmitted: number;
  /** Waiting ticks started because their schedule's run had finished. */
  promoted: number;
  /** Tick rows older than TICK_RETENTION_MS deleted. */
  ticksPruned: number;
  errors: number;
}

function timingSummary(timing: ScheduleTiming): JsonObject {
  return timing.kind === 'cron' ? { cron: timing.cron, timezone: timing.timezone } : { everyMs: timing.everyMs };
}

export function createScheduleService(deps: ScheduleServiceDeps) {
  const { repo, timers, runs, owners, logger } = deps;
  const newId = deps.newId ?? randomUUID;
  const now = deps.now ?? (() => new Date());
  const limits = deps.limits ?? { minIntervalMs: MIN_EVERY_MS, maxPerOwner: 0 };

  function isActive(schedule: ScheduleRecord, at: Date): boolean {
    return scheduleStateAt(schedule.state, schedule.timing.endAt, at) === 'active';
  }

  /** Fire times from the job scheduler's next tick; computed from the record when Redis has none (yet). */
  function viewOf(schedule: ScheduleRecord, next: Map<string, number>, count: number, at: Date): ScheduleView {
    const status = scheduleStateAt(schedule.state, schedule.timing.endAt, at);
    if (status !== 'active') return { ...schedule, status, nextFireTimes: [] };
    const plan = schedulerPlan(schedule.timing, schedule, at, true);
    const first =
      next.get(schedule.id) ?? (plan.immediately || !plan.startAt ? at.getTime() : Math.max(plan.startAt.getTime(), at.getTime()));
    return { ...schedule, status, nextFireTimes: fireTimes(schedule.timing, first, count) };
  }

  async function nextTicks(): Promise<Map<string, number>> {
    try {
      return await timers.next();
    } catch (error) {
      logger.warn('could not read the schedules’ job schedulers; fire times computed from Postgres', { error: (error as Error).message });
      return new Map();
    }
  }

  async function found(id: string): Promise<ScheduleRecord> {
    const schedule = await repo.get(id);
    if (!schedule) throw new NotFoundError('SCHEDULE_NOT_FOUND', `No schedule ${id}.`);
    return schedule;
  }

  /** A submitter changes its own schedules; an operator (or admin) any. */
  async function mayChange(id: string, actor: Actor, verb: string): Promise<ScheduleRecord> {
    const schedule = await found(id);
    if (can(actor.identity, 'schedule_any')) return schedule;
    if (!can(actor.identity, 'schedule_own') || schedule.owner !== actor.identity.id) {
      throw new ForbiddenError('FORBIDDEN', `${actor.identity.name} may ${verb} only the schedules it created; operators ${verb} any.`);
    }
    return schedule;
  }

  async function install(schedule: ScheduleRecord, recover: boolean): Promise<boolean> {
    const plan = schedulerPlan(schedule.timing, schedule, now(), recover);
    await timers.install(schedule, plan);
    return plan.catchUp;
  }

  /** Redis is transport: a failure here is healed by the rebuild (the reconciler pass). */
  async function bestEffort(what: string, scheduleId: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (error) {
      logger.warn(`could not ${what}; the reconciler's next pass does it`, { scheduleId, error: (error as Error).message });
    }
  }

  /**
   * Submits a started tick's run as the schedule's owner, then links the two. A refusal (4xx:
   * the definition no longer validates, the backlog is full) fails the tick for good; anything
   * else (Postgres or Redis down) is thrown, for BullMQ to retry the tick job.
   */
  async function startRun(schedule: ScheduleRecord, tickAt: Date): Promise<ScheduleTickOutcome> {
    try {
      const identity = await owners.current(schedule.ownerIdentity);
      if (!identity) {
        throw new ForbiddenError(
          'SCHEDULE_OWNER_INACTIVE',
          `Schedule ${schedule.id} submits as ${schedule.owner}, which has no active API key any more: nothing was submitted.`,
        );
      }
      // Its roles now, not at creation: a creator that could not create this schedule now submits nothing.
      if (!mayOwnSchedules(identity)) {
        throw new ForbiddenError(
          'FORBIDDEN',
          `Schedule ${schedule.id} submits as ${schedule.owner}, whose roles (${identity.roles.join(', ') || 'none'}) no longer allow schedules: nothing was submitted.`,
        );
      }
      const { pipeline } = await runs.submit(schedule.request, {
        idempotencyKey: `schedule:${schedule.id}:${tickAt.getTime()}`,
        actor: { identity, requestId: scheduleRequestId(schedule.id) },
      });
      await repo.linkRun(schedule.id, tickAt, pipeline.id);
      return 'started';
    } catch (error) {
      if (error instanceof AppError && error.status < 500) {
        logger.warn('a scheduled run was refused', { scheduleId: schedule.id, tickAt: tickAt.toISOString(), code: error.code });
        await repo.failTick(schedule.id, tickAt, error.code);
        return 'failed';
      }
      throw error;
    }
  }

  /** The answer to a create whose Idempotency-Key the owner used before: its schedule as it is now, or a 409. */
  async function replay(owner: string, { key, requestHash }: ScheduleKey): Promise<ScheduleCreated> {
    const found = await repo.findByIdempotencyKey(owner, key);
    // Taken, so recorded: a key row is never deleted.
    if (!found) throw new Error(`Idempotency-Key ${key} was refused as taken but is not recorded.`);
    if (found.requestHash !== requestHash)
      throw idempotencyKeyReused(found.schedule ? `schedule ${found.schedule.id}` : 'a deleted schedule');
    if (!found.schedule) {
      throw new ConflictError('SCHEDULE_DELETED', 'The schedule this Idempotency-Key created was deleted; nothing was created.', {
        details: [{ field: 'Idempotency-Key', message: 'its schedule was deleted; send a new key to create a new schedule' }],
      });
    }
    // Its job scheduler, if the first create could not install it, is the reconciler's to install.
    return { schedule: viewOf(found.schedule, await nextTicks(), 1, now()), replayed: true };
  }

  async function promote(id: string): Promise<boolean> {
    const claimed = await repo.promoteWaiting(id);
    if (!claimed) return false;
    await startRun(claimed.schedule, claimed.tick.scheduledFor);
    return true;
  }

  return {
    /**
     * Creates a schedule as `actor`. With an Idempotency-Key (scoped to the actor) the first
     * create records it; a repeat with an equal body answers that schedule as it is now
     * (`replayed`), creates nothing and audits nothing; another body gets 409
     * IDEMPOTENCY_KEY_REUSED; a key whose schedule was deleted gets 409 SCHEDULE_DELETED.
     */
    async create(body: unknown, actor: Actor, options: { idempotencyKey?: string } = {}): Promise<ScheduleCreated> {
      const at = now();
      const request = parseScheduleCreate(body);
      const timing = timingOf(request, at, { minIntervalMs: limits.minIntervalMs });
      const run = scheduledRunOf(request);
      try {
        // As each tick will submit it, as the creator: a schedule accepted submits runs that are.
        runs.check(run.body, actor.identity);
      } catch (error) {
        // The fields of a definition are named where they sit in the schedule request.
        const prefixed = (details: ErrorDetail[]) => details.map((d) => ({ ...d, field: requestFieldOf(run, d.field) }));
        if (error instanceof ValidationError && run.fieldPrefix) {
          throw new ValidationError(error.code, error.message, { details: prefixed(error.details) });
        }
        if (error instanceof ForbiddenError && run.fieldPrefix) {
          throw new ForbiddenError(error.code, error.message, { details: prefixed(error.details) });
        }
        throw error;
      }
      const id = newId();
      const key = options.idempotencyKey ? { key: options.idempotencyKey, requestHash: hashRequest(body) } : null;
      let schedule: ScheduleRecord | null;
      try {
        schedule = await repo.create(
          {
            id,
            name: run.name,
            request: run.body as JsonObject,
            timing,
            overlap: request.overlap,
            owner: actor.identity.id,
            ownerIdentity: { ...actor.identity },
          },
          {
            action: 'schedule.created',
            actor,
            targetType: 'schedule',
            targetId: id,
            data: { name: run.name, overlap: request.overlap, ...timingSummary(timing), idempotencyKey: key?.key ?? null },
          },
          { maxPerOwner: limits.maxPerOwner, at },
          key,
        );
      } catch (error) {
        // The key's first create won (before, or concurrently): its answer is this one's.
        if (error instanceof IdempotencyKeyTakenError && key) return replay(actor.identity.id, key);
        throw error;
      }
      if (!schedule) {
        throw new ConflictError(
          'SCHEDULE_LIMIT_REACHED',
          `${actor.identity.name} owns ${limits.maxPerOwner} schedules that have not ended, as many as SCHEDULE_MAX_PER_OWNER allows; delete one first.`,
          { details: [{ field: '(owner)', message: `at most ${limits.maxPerOwner} schedules per identity (SCHEDULE_MAX_PER_OWNER)` }] },
        );
      }
      const created = schedule;
      await bestEffort('install the schedule’s job scheduler', id, () => install(created, false));
      return { schedule: viewOf(created, await nextTicks(), 1, now()), replayed: false };
    },

    async list(args: { limit: number; cursor?: { createdAt: Date; id: string } }): Promise<ScheduleView[]> {
      const [schedules, next] = await Promise.all([repo.list(args), nextTicks()]);
      const at = now();
      return schedules.map((s) => viewOf(s, next, 1, at));
    },

    async get(id: string, options: { next: number }): Promise<ScheduleDetail> {
      const schedule = await found(id);
      const [next, ticks] = await Promise.all([nextTicks(), repo.recentTicks(id, RECENT_TICKS)]);
      return { ...viewOf(schedule, next, options.next, now()), ticks };
    },

    async pause(id: string, actor: Actor): Promise<ScheduleView> {
      const schedule = await mayChange(id, actor, 'pause');
      if (scheduleStateAt(schedule.state, schedule.timing.endAt, now()) === 'ended') throw ended(id);
      const paused = await repo.setState(id, 'paused', { action: 'schedule.paused', actor, targetType: 'schedule', targetId: id });
      if (!paused) throw new NotFoundError('SCHEDULE_NOT_FOUND', `No schedule ${id}.`);
      // A tick already on its way finds the schedule paused and records a skip.
      await bestEffort('remove the schedule’s job scheduler', id, () => timers.remove(id));
      return viewOf(paused, new Map(), 1, now());
    },

    async resume(id: string, actor: Actor): Promise<ScheduleView> {
      const schedule = await mayChange(id, actor, 'resume');
      // Ended, there is no hold left to lift: 409 whoever paused it.
      if (scheduleStateAt(schedule.state, schedule.timing.endAt, now()) === 'ended') throw ended(id);
      // An operator's hold is not the owner's to lift: a submitter resumes only its own pause. Judged
      // on the schedule as the write locked it: a pause made since it was read above counts too.
      const resumed = await repo.setState(
        id,
        'active',
        { action: 'schedule.resumed', actor, targetType: 'schedule', targetId: id },
        (locked) =>
          pauseLiftRefusal({
            kind: 'schedule',
            id,
            identity: actor.identity,
            pausedBy: locked.pausedBy,
            anyPermission: 'schedule_any',
            field: 'pausedBy',
          }),
      );
      if (!resumed) throw new NotFoundError('SCHEDULE_NOT_FOUND', `No schedule ${id}.`);
      // Ticks missed while paused are not caught up: the person paused them on purpose.
      await bestEffort('install the schedule’s job scheduler', id, () => install(resumed, false));
      return viewOf(resumed, await nextTicks(), 1, now());
    },

    async delete(id: string, actor: Actor): Promise<void> {
      const schedule = await mayChange(id, actor, 'delete');
      const deleted = await repo.delete(id, {
        action: 'schedule.deleted',
        actor,
        targetType: 'schedule',
        targetId: id,
        data: { name: schedule.name },
      });
      if (!deleted) throw new NotFoundError('SCHEDULE_NOT_FOUND', `No schedule ${id}.`);
      await bestEffort('remove the schedule’s job scheduler', id, () => timers.remove(id));
    },

    /**
     * One tick of a schedule's job scheduler (its job, in the control worker). Idempotent: a
     * redelivered tick finds its row and, if its run is not linked yet, submits it again under
     * the same Idempotency-Key (one pipeline per tick).
     */
    async tick(scheduleId: string, tickAt: Date): Promise<{ outcome: ScheduleTickOutcome | 'gone'; pipelineId?: string | null }> {
      const claimed: ClaimedTick | null = await repo.claimTick(scheduleId, tickAt);
      if (!claimed) {
        // Deleted while its job scheduler was still in Redis.
        await bestEffort('remove the job scheduler of a deleted schedule', scheduleId, () => timers.remove(scheduleId));
        return { outcome: 'gone' };
      }
      const { schedule, tick } = claimed;
      if (tick.outcome === 'started' && tick.pipelineId === null) {
        const outcome = await startRun(schedule, tickAt);
        return { outcome };
      }
      // A skipped tick of a queue_one schedule may find the waiting run free to start.
      if (tick.outcome === 'skipped' && schedule.overlap === 'queue_one') await promote(scheduleId);
      return { outcome: tick.outcome, pipelineId: tick.pipelineId };
    },

    /** A pipeline finished (the conductor): a run waiting behind it (queue_one) starts now. */
    async pipelineFinished(pipelineId: string): Promise<void> {
      const scheduleId = await repo.scheduleOf(pipelineId);
      if (scheduleId) await promote(scheduleId);
    },

    /**
     * The rebuild, run by each reconciler pass: installs the job scheduler of every active
     * schedule Redis lacks (catching up once a tick missed meanwhile), removes those of paused,
     * ended and deleted schedules, submits started ticks left without their run, starts waiting
     * ticks whose schedule's run has finished, and deletes tick rows past TICK_RETENTION_MS.
     */
    async sync(): Promise<ScheduleSyncReport> {
      const report: ScheduleSyncReport = {
        installed: 0,
        caughtUp: 0,
        removed: 0,
        resubmitted: 0,
        promoted: 0,
        ticksPruned: 0,
        errors: 0,
      };
      const attempt = async (what: string, id: string, step: () => Promise<void>) => {
        try {
          await step();
        } catch (error) {
          report.errors++;
          logger.warn(`schedule rebuild: could not ${what}`, { scheduleId: id, error: (error as Error).message });
        }
      };
      const [schedules, installed] = await Promise.all([repo.all(), timers.next()]);
      const at = now();
      const known = new Set<string>();
      for (const schedule of schedules) {
        known.add(schedule.id);
        const active = isActive(schedule, at);
        if (active && !installed.has(schedule.id)) {
          await attempt('install a job scheduler', schedule.id, async () => {
            if (await install(schedule, true)) report.caughtUp++;
            report.installed++;
          });
        } else if (!active && installed.has(schedule.id)) {
          await attempt('remove a job scheduler', schedule.id, async () => {
            await timers.remove(schedule.id);
            report.removed++;
          });
        }
      }
      for (const id of installed.keys()) {
        if (known.has(id)) continue;
        await attempt('remove the job scheduler of a deleted schedule', id, async () => {
          await timers.remove(id);
          report.removed++;
        });
      }
      const byId = new Map(schedules.map((s) => [s.id, s]));
      for (const { scheduleId, scheduledFor } of await repo.unlinkedTicks(UNLINKED_TICK_GRACE_MS)) {
        const schedule = byId.get(scheduleId);
        if (!schedule) continue;
        await attempt('submit a started tick’s run', scheduleId, async () => {
          await startRun(schedule, scheduledFor);
          report.resubmitted++;
        });
      }
      for (const id of await repo.withWaiting()) {
        await attempt('start a waiting tick', id, async () => {
          if (await promote(id)) report.promoted++;
        });
      }
      await attempt('delete old ticks', '-', async () => {
        report.ticksPruned = await repo.pruneTicks(TICK_RETENTION_MS, TICK_PRUNE_BATCH);
      });
      return report;
    },
  };
}

function ended(id: string): ConflictError {
  return new ConflictError('SCHEDULE_ENDED', `Schedule ${id} is past its end date.`);
}

export type ScheduleService = ReturnType<typeof createScheduleService>;
