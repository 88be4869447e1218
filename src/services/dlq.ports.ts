// The ports of the dead-letter queue use cases: the failed sets of the agent queues (infra/queue,
// dead-letters.ts) and the replay of their stages in Postgres (infra/db, replay.repository.ts).
import type { ReplayBlock, ReplayTarget } from '../domain/dlq-replay.js';
import type { AuditOf } from './identity.ports.js';
import type { DispatchedStage } from './queue.ports.js';

/** A failed agent job, read from its queue's failed set (the dead-letter queue). */
export interface DeadLetter {
  jobId: string;
  agent: string;
  /** From the job data; null when the data is not a stage job (a malformed job). */
  pipelineId: string | null;
  stageId: string | null;
  stageKey: string | null;
  /** From the job's failedReason, which the agent worker writes as `<code>: <message>`. */
  error: { code: string; message: string };
  attemptsMade: number;
  failedAt: Date;
}

export interface DeadLetterScan {
  /** Newest first. */
  jobs: DeadLetter[];
  /** The most failed jobs read from one agent queue (its newest ones). */
  perQueueCap: number;
  /** A queue holds more failed jobs than the cap: its oldest ones were not read. */
  truncated: boolean;
}

/** The failed sets of the agent queues: read, retry and remove failed jobs. */
export interface DeadLetterQueue {
  /** The newest failed jobs of every agent queue, or of one agent's. */
  scan(filter: { agent?: string }): Promise<DeadLetterScan>;
  /** The job with this id in any agent queue, with its BullMQ state; null when no queue has it. */
  find(jobId: string): Promise<{ job: DeadLetter; state: string } | null>;
  /**
   * Moves a failed job back to waiting, keeping its id, with its attempt counters reset.
   * `present`: it was not failed any more (retried by someone else); `missing`: it is gone.
   */
  retry(job: DeadLetter): Promise<'retried' | 'present' | 'missing'>;
  /** Removes the job from Redis, only while it is failed. */
  remove(job: DeadLetter): Promise<'removed' | 'not_failed' | 'missing'>;
}

export type ReplayResult =
  | {
      kind: 'reopened' | 'resumed';
      jobId: string;
      stageKey: string;
      /** Skipped stages put back to pending (reopened only). */
      restored: string[];
      /**
       * True when this replay wrote the `dlq.replayed` event and audit row; false when an earlier
       * replay of the same failure (same job, same `failedAt`) already did, and this one only
       * finishes it by retrying the job (a concurrent replay, or a repeat after a 503).
       */
      recorded: boolean;
      /** The stage's job, to add again if it vanished from Redis meanwhile. */
      stage: DispatchedStage;
    }
  | { kind: 'blocked'; jobId: string; code: ReplayBlock; message: string };

/** A job whose replay Postgres recorded. */
export type ReplayedJob = Extract<ReplayResult, { kind: 'reopened' | 'resumed' }>;

export interface ReplayRepository {
  /** What a replay of each stage would find in Postgres (stages that are gone are absent). */
  inspect(stageIds: readonly string[]): Promise<Map<string, ReplayTarget>>;
  /**
   * Replays failed jobs of stages of one pipeline in one transaction: each failed stage goes
   * back to queued, the skipped stages downstream to pending, the pipeline to running, and a
   * `dlq.replayed` pipeline event is written per job, and `audit`'s event for each job replayed,
   * once per failure: a resume of a failure an earlier replay already recorded writes neither.
   * One result per target, in order. `via`: where the replay was asked for (`api`,
   * `bull-board`), kept in the pipeline's events.
   */
  reopen(
    args: {
      pipelineId: string;
      /** `failedAt`: when the job entered the failed set; with the job id it names the failure replayed. */
      targets: { stageId: string; jobId: string; fingerprint: string; failedAt: Date }[];
      actor: string;
      via: string;
    },
    audit?: AuditOf<ReplayedJob>,
  ): Promise<ReplayResult[]>;
}
