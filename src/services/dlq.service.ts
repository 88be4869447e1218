// The dead-letter queue: the failed stage jobs of every agent queue, grouped by error
// fingerprint; replays (Postgres first: the stage is reopened in one transaction, then its job
// is retried under the same id) and removals.
import type { Logger } from '../domain/logger.js';
import { replayVerdict, type ReplayBlock } from '../domain/dlq-replay.js';
import { fingerprintError } from '../domain/error-fingerprint.js';
import { AppError, ConflictError, NotFoundError, UnavailableError } from '../domain/errors.js';
import type { Actor } from '../domain/identity.js';
import type { AuditLog } from './identity.ports.js';
import { afterCommitWith } from './release.js';
import type { DeadLetter, DeadLetterQueue, ReplayRepository, ReplayResult } from './dlq.ports.js';
import type { AgentQueues } from './queue.ports.js';
/** Failed jobs a bulk replay takes when the request sets no `limit`. */
export const BULK_REPLAY_DEFAULT_LIMIT = 100;

export interface DlqServiceDeps {
  dlq: DeadLetterQueue;
  replays: ReplayRepository;
  agentQueues: AgentQueues;
  logger: Logger;
  audit: AuditLog;
}

export interface DlqEntry extends DeadLetter {
  fingerprint: string;
  /** The error message with ids, numbers and quoted values replaced (what the fingerprint hashes). */
  normalizedMessage: string;
}

export interface DlqItem extends Omit<DlqEntry, 'normalizedMessage'> {
  /** True when POST /dlq/:jobId/retry would be accepted now (see `replayBlockedBy`). */
  replayable: boolean;
  /** The 409 code a replay would answer, null when replayable. */
  replayBlockedBy: ReplayBlock | null;
}

export interface DlqGroup {
  fingerprint: string;
  agent: string;
  code: string;
  message: string;
  count: number;
  newestFailedAt: Date;
}

export interface DlqListQuery {
  agent?: string;
  fingerprint?: string;
  pipelineId?: string;
  limit: number;
  /** Only entries after this one in the list's order (the page cursor). */
  after?: { failedAt: Date; jobId: string };
}

export interface DlqPage {
  items: DlqItem[];
  hasMore: boolean;
  /** Entries that match the filter among the jobs read. */
  total: number;
  /** One per fingerprint among the matching entries, largest first. */
  groups: DlqGroup[];
  scan: { perQueueCap: number; truncated: boolean };
}

export interface ReplayReceipt {
  jobId: string;
  agent: string;
  pipelineId: string;
  stageId: string;
  stageKey: string;
  /** `reopened`: the failed stage was queued again; `resumed`: it already was, only its job was retried. */
  mode: 'reopened' | 'resumed';
  /** Skipped stages put back to pending. */
  restored: string[];
}

export interface BulkReplayReport {
  /** Failed jobs that matched the filter (up to `limit`). */
  matched: number;
  replayed: number;
  replayedJobIds: string[];
  skipped: { jobId: string; reason: string; message: string }[];
}

type ReplayOutcome = { ok: true; receipt: ReplayReceipt } | { ok: false; jobId: string; error: AppError };

function withFingerprint(job: DeadLetter): DlqEntry {
  const { fingerprint, normalizedMessage } = fingerprintError({ agent: job.agent, code: job.error.code, message: job.error.message });
  return { ...job, fingerprint, normalizedMessage };
}

/** True when `entry` comes after `cursor` in the list's order (newest first, then job id descending). */
function isAfter(entry: DeadLetter, cursor: { failedAt: Date; jobId: string }): boolean {
  const t = entry.failedAt.getTime();
  return t < cursor.failedAt.getTime() || (t === cursor.failedAt.getTime() && entry.jobId < cursor.jobId);
}

function groupByFingerprint(entries: readonly DlqEntry[]): DlqGroup[] {
  const groups = new Map<string, DlqGroup>();
  for (const e of entries) {
    const group = groups.get(e.fingerprint);
    if (group) {
      group.count += 1;
      if (e.failedAt > group.newestFailedAt) group.newestFailedAt = e.failedAt;
    } else {
      groups.set(e.fingerprint, {
        fingerprint: e.fingerprint,
        agent: e.agent,
        code: e.error.code,
        message: e.normalizedMessage,
        count: 1,
        newestFailedAt: e.failedAt,
      });
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.newestFailedAt.getTime() - a.newestFailedAt.getTime());
}

const blockedError = (jobId: string, code: ReplayBlock, message: string) =>
  new ConflictError(code, `Job ${jobId} cannot be replayed: ${message}.`, { details: [{ field: 'jobId', message }] });

const notFailed = (jobId: string, state: string) =>
  new ConflictError('DLQ_JOB_NOT_FAILED', `Job ${jobId} is ${state}, not failed: it is not in the dead-letter queue.`, {
    details: [{ field: 'jobId', message: `state is ${state}` }],
  });

/** A concurrent replay of the same failure moved the job first (and recorded the replay). */
const alreadyReplayed = (jobId: string) =>
  new ConflictError('DLQ_JOB_NOT_FAILED', `Job ${jobId} was replayed by a concurrent request: it is no longer in the dead-letter queue.`, {
    details: [{ field: 'jobId', message: 'already replayed' }],
  });

export function createDlqService({ audit, dlq, replays, agentQueues, logger }: DlqServiceDeps) {
  const afterCommit = afterCommitWith({ agentQueues });
  /**
   * Moves the job back to its queue (or adds it again if it vanished); Postgres already expects it.
   * `present`: another replay moved it first.
   */
  async function dispatchReplayed(
    entry: DlqEntry & { pipelineId: string },
    result: Extract<ReplayResult, { kind: 'reopened' | 'resumed' }>,
  ): Promise<'retried' | 'present' | 'missing'> {
    try {
      const outcome = await dlq.retry(entry);
      if (outcome === 'missing') await afterCommit({ pipelineId: entry.pipelineId, stages: [result.stage] });
      return outcome;
    } catch (error) {
      logger.warn('dlq replay recorded but its job was not retried', { jobId: entry.jobId, error: (error as Error).message });
      throw new UnavailableError(
        'DLQ_REPLAY_INCOMPLETE',
        `The replay of job ${entry.jobId} is recorded (stage "${result.stageKey}" queued, pipeline running), but the job could not be moved back to its queue (${(error as Error).message}). Repeat the request: it retries the job.`,
      );
    }
  }

  /** Replays failed jobs of one pipeline: one transaction in Postgres, then each job's retry. */
  async function replayPipeline(pipelineId: string, entries: readonly DlqEntry[], by: Actor, via: string): Promise<ReplayOutcome[]> {
    const actor = by.identity.id;
    const results = await replays.reopen(
      {
        pipelineId,
        targets: entries.map((e) => ({ stageId: e.stageId!, jobId: e.jobId, fingerprint: e.fingerprint, failedAt: e.failedAt })),
        actor,
        via,
      },
      (replayed) => ({
        action: 'dlq.replayed',
        actor: by,
        targetType: 'dlq_job',
        targetId: replayed.jobId,
        pipelineId,
        data: { agent: replayed.stage.agent, stageKey: replayed.stageKey, mode: replayed.kind, via },
      }),
    );
    const outcomes: ReplayOutcome[] = [];
    for (const [i, result] of results.entries()) {
      const entry = { ...entries[i]!, pipelineId };
      if (result.kind === 'blocked') {
        outcomes.push({ ok: false, jobId: entry.jobId, error: blockedError(entry.jobId, result.code, result.message) });
        continue;
      }
      let moved: Awaited<ReturnType<typeof dispatchReplayed>>;
      try {
        moved = await dispatchReplayed(entry, result);
      } catch (error) {
        outcomes.push({ ok: false, jobId: entry.jobId, error: error as AppError });
        continue;
      }
      if (!result.recorded && moved === 'present') {
        // An earlier replay of this failure recorded it and moved the job: this one did nothing.
        outcomes.push({ ok: false, jobId: entry.jobId, error: alreadyReplayed(entry.jobId) });
        continue;
      }
      logger.info('dlq job replayed', { jobId: entry.jobId, pipelineId, stageKey: result.stageKey, mode: result.kind, actor });
      outcomes.push({
        ok: true,
        receipt: {
          jobId: entry.jobId,
          agent: entry.agent,
          pipelineId,
          stageId: entry.stageId!,
          stageKey: result.stageKey,
          mode: result.kind,
          restored: result.restored,
        },
      });
    }
    return outcomes;
  }

  async function findFailed(jobId: string): Promise<DlqEntry> {
    const found = await dlq.find(jobId);
    if (!found) throw new NotFoundError('DLQ_JOB_NOT_FOUND', `No agent queue has a job ${jobId}.`);
    if (found.state !== 'failed') throw notFailed(jobId, found.state);
    return withFingerprint(found.job);
  }

  return {
    /** Failed jobs across the agent queues, newest first, with their groups and replayability. */
    async list({ agent, fingerprint, pipelineId, limit, after }: DlqListQuery): Promise<DlqPage> {
      const scan = await dlq.scan({ agent });
      const matching = scan.jobs
        .map(withFingerprint)
        .filter(
          (e) => (pipelineId === undefined || e.pipelineId === pipelineId) && (fingerprint === undefined || e.fingerprint === fingerprint),
        );
      const rest = after ? matching.filter((e) => isAfter(e, after)) : matching;
      const shown = rest.slice(0, limit);
      const targets = await replays.inspect(shown.flatMap((e) => (e.stageId ? [e.stageId] : [])));
      const items = shown.map(({ normalizedMessage: _normalized, ...entry }): DlqItem => {
        const verdict = entry.stageId
          ? replayVerdict(targets.get(entry.stageId) ?? null, entry.jobId)
          : ({ kind: 'blocked', code: 'DLQ_JOB_MALFORMED' } as const);
        return { ...entry, replayable: verdict.kind !== 'blocked', replayBlockedBy: verdict.kind === 'blocked' ? verdict.code : null };
      });
      return {
        items,
        hasMore: rest.length > limit,
        total: matching.length,
        groups: groupByFingerprint(matching),
        scan: { perQueueCap: scan.perQueueCap, truncated: scan.truncated },
      };
    },

    /** Replays one failed job: 404 when no agent queue has it, 409 when it cannot be replayed now. */
    async replay(jobId: string, by: Actor, { via = 'api' }: { via?: string } = {}): Promise<ReplayReceipt> {
      const entry = await findFailed(jobId);
      if (!entry.pipelineId || !entry.stageId) throw blockedError(jobId, 'DLQ_JOB_MALFORMED', 'its data is not a stage job');
      const [outcome] = await replayPipeline(entry.pipelineId, [entry], by, via);
      if (!outcome!.ok) throw outcome!.error;
      return outcome!.receipt;
    },

    /**
     * Replays the failed jobs with this fingerprint, or of this agent, oldest first, at most
     * `limit`; the jobs of one pipeline in one transaction. A job that cannot be replayed is
     * reported and the others go on.
     */
    async replayMatching(
      { fingerprint, agent, limit = BULK_REPLAY_DEFAULT_LIMIT }: { fingerprint?: string; agent?: string; limit?: number },
      by: Actor,
      { via = 'api' }: { via?: string } = {},
    ): Promise<BulkReplayReport> {
      const scan = await dlq.scan({ agent });
      const matching = scan.jobs
        .map(withFingerprint)
        .filter((e) => fingerprint === undefined || e.fingerprint === fingerprint)
        .reverse()
        .slice(0, limit);
      const report: BulkReplayReport = { matched: matching.length, replayed: 0, replayedJobIds: [], skipped: [] };
      const byPipeline = new Map<string, DlqEntry[]>();
      for (const entry of matching) {
        if (!entry.pipelineId || !entry.stageId) {
          report.skipped.push({ jobId: entry.jobId, reason: 'DLQ_JOB_MALFORMED', message: 'its data is not a stage job' });
          continue;
        }
        byPipeline.set(entry.pipelineId, [...(byPipeline.get(entry.pipelineId) ?? []), entry]);
      }
      for (const [pipelineId, entries] of byPipeline) {
        let outcomes: ReplayOutcome[];
        try {
          outcomes = await replayPipeline(pipelineId, entries, by, via);
        } catch (error) {
          // Postgres refused this pipeline's transaction: its jobs are skipped, the others go on.
          logger.warn('dlq bulk replay of a pipeline failed', { pipelineId, error: (error as Error).message });
          const reason = error instanceof AppError ? error.code : 'REPLAY_FAILED';
          for (const e of entries) report.skipped.push({ jobId: e.jobId, reason, message: (error as Error).message });
          continue;
        }
        for (const outcome of outcomes) {
          if (outcome.ok) {
            report.replayed += 1;
            report.replayedJobIds.push(outcome.receipt.jobId);
          } else {
            report.skipped.push({ jobId: outcome.jobId, reason: outcome.error.code, message: outcome.error.message });
          }
        }
      }
      return report;
    },

    /** Removes a failed job from Redis; its stage stays failed in Postgres. */
    async remove(jobId: string, by: Actor): Promise<void> {
      const entry = await findFailed(jobId);
      const outcome = await dlq.remove(entry);
      if (outcome === 'missing') throw new NotFoundError('DLQ_JOB_NOT_FOUND', `No agent queue has a job ${jobId}.`);
      if (outcome === 'not_failed')
        throw new ConflictError('DLQ_JOB_NOT_FAILED', `Job ${jobId} left the failed set; it was not removed.`, {
          details: [{ field: 'jobId', message: 'no longer failed' }],
        });
      logger.info('dlq job removed', { jobId, agent: entry.agent, pipelineId: entry.pipelineId });
      await audit.record({
        action: 'dlq.deleted',
        actor: by,
        targetType: 'dlq_job',
        targetId: jobId,
        pipelineId: entry.pipelineId ?? null,
        data: { agent: entry.agent },
      });
    },
  };
}

export type DlqService = ReturnType<typeof createDlqService>;
