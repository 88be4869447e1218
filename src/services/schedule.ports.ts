// The ports of the schedules use case: the record in Postgres (infra/db/schedule.repository.ts)
// and the BullMQ job schedulers that fire the ticks (infra/queue/schedule.timers.ts).
import type { Identity } from '../domain/identity.js';
import type { JsonObject } from '../domain/json.js';
import type { OverlapPolicy, SchedulerPlan, ScheduleTiming } from '../domain/schedule.js';
import type { PipelineStatus, ScheduleTickOutcome } from '../domain/status.js';
import type { AuditEntry } from './identity.ports.js';

/** A schedule as Postgres records it. */
export interface ScheduleRecord {
  id: string;
  name: string;
  /** The body each tick submits (POST /pipelines's). */
  request: JsonObject;
  timing: ScheduleTiming;
  overlap: OverlapPolicy;
  /** As stored: `ended` is read from the end date (domain/schedule.ts, scheduleStateAt). */
  state: 'active' | 'paused';
  /** Who paused it (an identity id) while it is paused; null (or absent) otherwise. */
  pausedBy?: string | null;
  /** The identity id each run is submitted as. */
  owner: string;
  /** The creator's identity when it created the schedule: the actor of each run's submission. */
  ownerIdentity: Identity;
  createdAt: Date;
  updatedAt: Date;
  lastTickAt: Date | null;
}

export type NewSchedule = Omit<ScheduleRecord, 'createdAt' | 'updatedAt' | 'lastTickAt' | 'state'>;

/** One tick and what it did, with its run's status when it started one. */
export interface ScheduleTickRecord {
  scheduledFor: Date;
  outcome: ScheduleTickOutcome;
  reason: string | null;
  pipelineId: string | null;
  pipelineStatus: PipelineStatus | null;
  createdAt: Date;
}

/** A tick the guarded statement recorded (or found recorded by an earlier delivery). */
export interface ClaimedTick {
  schedule: ScheduleRecord;
  tick: ScheduleTickRecord;
}

/** The Idempotency-Key a create was sent with (scoped to the schedule's owner) and its body's hash. */
export interface ScheduleKey {
  key: string;
  requestHash: string;
}

/** What an owner's Idempotency-Key stands for: the hash of the body it came with, and its schedule (null once deleted). */
export interface ScheduleKeyRecord {
  requestHash: string;
  schedule: ScheduleRecord | null;
}

export interface ScheduleRepository {
  /**
   * Inserts the schedule, its Idempotency-Key (when given) and its audit event in one
   * transaction, unless its owner already owns `cap.maxPerOwner` schedules not ended at `cap.at`
   * (0: no cap): then null, nothing written. Creations by one owner are serialised for the count.
   * A key the owner already used (by a concurrent create too, or by a schedule since deleted):
   * IdempotencyKeyTakenError, nothing written; the cap is not counted against it.
   */
  create(
    schedule: NewSchedule,
    audit: AuditEntry,
    cap: { maxPerOwner: number; at: Date },
    key?: ScheduleKey | null,
  ): Promise<ScheduleRecord | null>;
  /** The owner's Idempotency-Key as recorded; null when the owner never used it. */
  findByIdempotencyKey(owner: string, key: string): Promise<ScheduleKeyRecord | null>;
  get(id: string): Promise<ScheduleRecord | null>;
  /** Newest first, after the cursor. */
  list(args: { limit: number; cursor?: { createdAt: Date; id: string } }): Promise<ScheduleRecord[]>;
  /**
   * Sets the stored state and, when it changes, writes the audit event in one transaction (a
   * repeated pause or resume is not audited again); null when there is no
   * such schedule. `refuse` (default: none) is asked first, with the schedule row locked as it is
   * then (who paused it, in particular): the error it returns is thrown and nothing changes.
   */
  setState(
    id: string,
    state: 'active' | 'paused',
    audit: AuditEntry,
    refuse?: (locked: ScheduleRecord) => Error | null,
  ): Promise<ScheduleRecord | null>;
  /** Deletes the schedule and its ticks (its runs stay) with the audit event; false when there was none. */
  delete(id: string, audit: AuditEntry): Promise<boolean>;
  /** The newest ticks first. */
  recentTicks(id: string, limit: number): Promise<ScheduleTickRecord[]>;
  /**
   * The guarded tick: under the schedule row's lock, reads what is unfinished and records what
   * the tick does (domain decideTick). A tick already recorded is returned as it is. Null when the
   * schedule no longer exists.
   */
  claimTick(id: string, tickAt: Date): Promise<ClaimedTick | null>;
  /** Under the same lock: turns the oldest waiting tick into a started one when no run is unfinished. */
  promoteWaiting(id: string): Promise<ClaimedTick | null>;
  /** Links a started tick to the pipeline it created, and the pipeline to its schedule and tick. */
  linkRun(id: string, tickAt: Date, pipelineId: string): Promise<void>;
  /** Records a started tick whose submission was refused as failed, with the error's code. */
  failTick(id: string, tickAt: Date, reason: string): Promise<void>;
  /** The schedule a pipeline was started by, if any. */
  scheduleOf(pipelineId: string): Promise<string | null>;
  /** Every schedule (paused ones too): the rebuild compares them with Redis. */
  all(): Promise<ScheduleRecord[]>;
  /** Started ticks without their run, recorded more than `graceMs` ago (a crash between the two). */
  unlinkedTicks(graceMs: number): Promise<{ scheduleId: string; scheduledFor: Date }[]>;
  /** Schedules with a waiting tick. */
  withWaiting(): Promise<string[]>;
  /**
   * Deletes up to `limit` ticks recorded more than `olderThanMs` ago, except a waiting one and a
   * started one whose run is unfinished (the overlap policies count those); returns how many.
   */
  pruneTicks(olderThanMs: number, limit: number): Promise<number>;
}

/** The BullMQ job schedulers, one per active schedule (id `schedule:<id>`). */
export interface ScheduleTimers {
  /** Creates the schedule's job scheduler (or replaces it) as the plan says. */
  install(schedule: ScheduleRecord, plan: SchedulerPlan): Promise<void>;
  /** Removes it; nothing when there is none. */
  remove(scheduleId: string): Promise<void>;
  /** The next tick's time per schedule id, for those Redis has a job scheduler of. */
  next(): Promise<Map<string, number>>;
}

/** What the schedules need of the pipeline service: the same checks and the same submission as a POST. */
/** Who a schedule's owner is now (services/api-key.service.ts#currentIdentities). */
export interface OwnerStanding {
  /** The owner's identity as it stands now (its key's current roles); null once it has no active key. */
  current(identity: Identity): Promise<Identity | null>;
}

export interface RunSubmitter {
  /** 4xx as the submission would answer it for `identity` (the schedule's owner); records nothing. */
  check(body: unknown, identity: Pick<Identity, 'roles' | 'name'>): void;
  submit(
    body: unknown,
    options: { idempotencyKey: string; actor: { identity: Identity; requestId?: string } },
  ): Promise<{ pipeline: { id: string } }>;
}
