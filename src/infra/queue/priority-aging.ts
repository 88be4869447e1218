// Aging of the stage jobs waiting in the agent queues: one pass lifts every prioritized job that
// has waited long enough to the rank the aging cap allows (agingCap, domain/pipeline-priority.ts),
// with BullMQ's own `changePriority`. Run by the control worker for each job of the aging
// scheduler (priority-aging.scheduler.ts: every PRIORITY_AGING_MS, one per deployment).
//
// How a pass finds the jobs without reading the whole queue: BullMQ keeps prioritized jobs in one
// sorted set scored `priority × 2^32 + insertion counter`, so the jobs of one rank sit together,
// oldest added first, from the position that `getCountsPerPriority` of the more urgent ranks
// gives. For each rank that aging can lift (2, 3, 4), the pass reads that rank's oldest jobs a
// page at a time and lifts each one whose wait (now − its add time) earns it; it stops at the
// first one that is too young. A lifted job joins the back of its new rank (a new counter), so a
// rank's start stays where it was and the next page is read from the same position. A pass
// touches the jobs it lifts and one page more per rank; each job is lifted at most three times
// in its life.
//
// Idempotent and safe beside the workers: a job taken meanwhile is skipped (changePriority of a
// job no longer prioritized only records the number, which its retry then uses), and two passes
// at once only lift a job to the same rank twice.
import type { Job, Queue } from 'bullmq';
import { agingCap, PIPELINE_PRIORITIES } from '../../domain/pipeline-priority.js';
import type { Logger } from '../telemetry/logger.js';

export interface AgingReport {
  /** Stage jobs lifted to a more urgent rank in this pass. */
  lifted: number;
  /** Agent queues looked at. */
  queues: number;
  durationMs: number;
}

export interface PriorityAging {
  ageNow(): Promise<AgingReport>;
}

export interface PriorityAgingOptions {
  /** The agent queues (not the control queue). */
  queues: () => readonly Queue[];
  /** PRIORITY_AGING_MS; 0 turns the passes into no-ops. */
  stepMs: number;
  logger: Logger;
  /** Jobs read per page (default 50). */
  pageSize?: number;
  /** The clock job ages are measured with (default Date.now; BullMQ stamps jobs with the producer's clock). */
  now?: () => number;
}

const RANKS = PIPELINE_PRIORITIES.map((_, i) => i + 1);

export function createPriorityAging({ queues, stepMs, logger, pageSize = 50, now = Date.now }: PriorityAgingOptions): PriorityAging {
  /** Lifts the jobs of one rank that waited long enough; returns how many. */
  async function liftRank(queue: Queue, rank: number): Promise<number> {
    let lifted = 0;
    for (;;) {
      const counts = await queue.getCountsPerPriority(RANKS);
      const start = RANKS.filter((r) => r < rank).reduce((sum, r) => sum + (counts[String(r)] ?? 0), 0);
      const here = counts[String(rank)] ?? 0;
      if (here === 0) return lifted;
      const jobs: Job[] = await queue.getJobs(['prioritized'], start, start + Math.min(pageSize, here) - 1, true);
      let liftedInPage = 0;
      for (const job of jobs) {
        // Taken by a worker, or lifted by another pass, between the read and now.
        if (job.priority !== rank) continue;
        const target = agingCap(now() - job.timestamp, stepMs);
        // Oldest added first: the rest of this rank is younger still (give or take a retry).
        if (target >= rank) return lifted;
        await job.changePriority({ priority: target });
        liftedInPage++;
        lifted++;
      }
      if (liftedInPage === 0) return lifted;
    }
  }

  return {
    async ageNow() {
      const started = performance.now();
      const report: AgingReport = { lifted: 0, queues: 0, durationMs: 0 };
      if (stepMs <= 0) return report;
      for (const queue of queues()) {
        report.queues++;
        for (const rank of RANKS.slice(1)) report.lifted += await liftRank(queue, rank);
      }
      report.durationMs = Math.round(performance.now() - started);
      if (report.lifted > 0) logger.info('aging lifted waiting stage jobs', { ...report });
      return report;
    },
  };
}
