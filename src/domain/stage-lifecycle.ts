// The stage lifecycle: every move a stage can make, as one table of status × event → status with
// the guard of each row. The planner and admission decide with the guards below; the SQL
// statements that move stages take their allowed from-statuses from `fromStatuses`
// (src/infra/db/lifecycle-sql.ts), so a guard is written once. test/integration/lifecycle-agreement.test.ts
// runs every row from every status through the real statements (claim, reclaim, succeed, fail,
// retry, abort, suspend: claim-stages.sql and finish-stages.sql; release, skip, hold, cancel:
// apply-plan.sql and the cancel statement; approve, reject: decision repository; answer,
// answerRoots: clarification repository; replay, restore: replay repository, behind
// domain/dlq-replay.ts; deadLetter: reconcile repository; pause, resume: the pause repository and
// claim-stages.sql), parses every event they write, and runs
// the release, fan-in, auto-approve and cancel cases through both the domain and the SQL.
import { STAGE_STATUSES, type StageStatus } from './status.js';

/** What may happen to a stage. Words of the glossary in docs/architecture.md. */
export const STAGE_EVENTS = [
  'release',
  'hold',
  'skip',
  'claim',
  'reclaim',
  'succeed',
  'fail',
  'retry',
  'suspend',
  'abort',
  'deadLetter',
  'approve',
  'reject',
  'answer',
  'answerRoots',
  'cancel',
  'replay',
  'restore',
  'pause',
  'resume',
] as const;
export type StageEvent = (typeof STAGE_EVENTS)[number];

export interface TransitionRow {
  from: readonly StageStatus[];
  to: StageStatus;
  /** When the move is allowed beyond the from-status; the statement that makes it. */
  guard: string;
}

export const STAGE_TRANSITIONS: Readonly<Record<StageEvent, TransitionRow>> = {
  release: {
    from: ['pending'],
    to: 'queued',
    guard:
      'every dependency satisfies it (`satisfiesDependants`) and it is admitted (`autoApproved`): planner + admission (conductor) or the finish statement when waiting_on reaches 0',
  },
  hold: {
    from: ['pending'],
    to: 'waiting',
    guard: 'ready, but the decision policy wants a human: its decision opens in the same statement',
  },
  skip: { from: ['pending'], to: 'skipped', guard: 'a dependency blocks it (`blocksDependants`), transitively' },
  claim: { from: ['queued'], to: 'running', guard: 'a delivered job; the claim statement' },
  reclaim: {
    from: ['running'],
    to: 'running',
    guard: 'the same job id re-delivered after its worker stalled; the orphaned attempt is recorded abandoned',
  },
  succeed: { from: ['running'], to: 'succeeded', guard: 'the run still owns the stage (current_run_id)' },
  fail: { from: ['running'], to: 'failed', guard: 'the run owns the stage and it was the last attempt, or the error is not retryable' },
  retry: { from: ['running'], to: 'queued', guard: 'the run owns the stage and attempts are left (or the worker shut down)' },
  suspend: { from: ['running'], to: 'waiting', guard: 'the handler asked a clarification: it opens in the same commit' },
  abort: { from: ['running'], to: 'cancelled', guard: 'the run owns the stage and its handler was cancelled' },
  deadLetter: {
    from: ['running'],
    to: 'failed',
    guard: 'BullMQ dead-lettered its job (stalled too often), same job and attempt (reconciler)',
  },
  approve: { from: ['waiting'], to: 'queued', guard: 'its decision reached its quorum of approvals' },
  reject: { from: ['waiting'], to: 'failed', guard: 'its decision was rejected or expired' },
  answer: { from: ['waiting'], to: 'queued', guard: 'the clarification it asked was answered' },
  answerRoots: {
    from: ['waiting'],
    to: 'pending',
    guard: "the submission's clarification was answered (roots only): the conductor plans them",
  },
  cancel: {
    from: ['pending', 'queued', 'waiting', 'paused'],
    to: 'cancelled',
    guard: 'the pipeline has a cancel request; a running stage ends through `abort`',
  },
  replay: { from: ['failed'], to: 'queued', guard: 'a DLQ replay of its job (domain/dlq-replay.ts)' },
  restore: { from: ['skipped'], to: 'pending', guard: 'a DLQ replay reopened the failure that skipped it' },
  pause: {
    from: ['queued'],
    to: 'paused',
    guard:
      'its pipeline is paused: the pause statement (stages queued then), or the claim of a delivered job (stages released after it); running ones finish',
  },
  resume: { from: ['paused'], to: 'queued', guard: 'its pipeline is resumed: queued again under a job id of its own' },
};

export type Transition = { ok: true; to: StageStatus } | { ok: false; reason: string };

/** The status after `event`, or why the event does not apply to a stage in `status`. */
export function transition(status: StageStatus, event: StageEvent): Transition {
  const row = STAGE_TRANSITIONS[event];
  if (row.from.includes(status)) return { ok: true, to: row.to };
  return { ok: false, reason: `a ${status} stage cannot ${event} (only from ${row.from.join(' or ')})` };
}

/** The statuses a guarded statement may move a stage from for these events (their union). */
export function fromStatuses(...events: readonly StageEvent[]): readonly StageStatus[] {
  const from = new Set(events.flatMap((e) => STAGE_TRANSITIONS[e].from));
  return STAGE_STATUSES.filter((s) => from.has(s));
}

export function toStatus(event: StageEvent): StageStatus {
  return STAGE_TRANSITIONS[event].to;
}

/** A failed stage with continueOnFailure satisfies its dependants like a success. */
export function satisfiesDependants(stage: { status: StageStatus; continueOnFailure: boolean }): boolean {
  return stage.status === 'succeeded' || (stage.status === 'failed' && stage.continueOnFailure);
}

/** Its dependants can never run: they are skipped. */
export function blocksDependants(stage: { status: StageStatus; continueOnFailure: boolean }): boolean {
  return (stage.status === 'failed' && !stage.continueOnFailure) || stage.status === 'skipped' || stage.status === 'cancelled';
}

/** What the release guard needs to know of a ready stage. */
export interface AdmissionFacts {
  /** Percent at or above which it starts on its own; null: a human always decides. */
  autoApproveAt: number | null;
  /** Lowest confidence (percent) reported upstream; null: none reported (counts as 100). */
  confidence: number | null;
  /** A human already approved it. */
  approved: boolean;
}

/**
 * A ready stage starts on its own (release) rather than waiting for a decision (hold).
 * `autoApproval` false (the platform switch `platform.auto-approval` off): only a human's approval
 * releases it, whatever its confidence.
 */
export function autoApproved(stage: AdmissionFacts, autoApproval = true): boolean {
  return stage.approved || (autoApproval && stage.autoApproveAt !== null && (stage.confidence ?? 100) >= stage.autoApproveAt);
}

/**
 * A stage's status when its pipeline is created. A root starts queued when it is admitted at
 * once (the pipeline starts without a conductor step); it waits behind a submission-time
 * clarification; else it is pending for the conductor to open its decision. A pipeline that
 * admission control keeps `queued` has no queued root: the conductor plans its roots once it
 * starts. Every other stage starts pending.
 */
export function initialStageStatus(
  stage: { root: boolean } & Omit<AdmissionFacts, 'approved'>,
  pipeline: { clarifying: boolean; admitted: boolean; autoApproval?: boolean },
): StageStatus {
  if (!stage.root) return 'pending';
  if (pipeline.clarifying) return 'waiting';
  return pipeline.admitted && autoApproved({ ...stage, approved: false }, pipeline.autoApproval) ? 'queued' : 'pending';
}
