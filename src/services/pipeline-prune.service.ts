// The prune use case behind `pipelines prune`: deletes old finished pipelines from Postgres in
// batches, each batch one transaction (archived first when asked, audited in the same
// transaction, so no pipeline goes without its audit event or, with --archive, without its line).
// A dry run reads the same pages and counts the rows instead.
import type { Actor } from '../domain/identity.js';
import type { PipelineStatus } from '../domain/status.js';
import {
  PRUNED_TABLES,
  type PipelineArchive,
  type PipelinePruneStore,
  type PrunedRows,
  type PruneCursor,
  type PruneSelection,
} from './pipeline-prune.ports.js';

/** Pipelines per transaction: small enough that a batch holds its locks for well under a second. */
export const PRUNE_BATCH_SIZE = 100;

export interface PruneRequest extends PruneSelection {
  dryRun: boolean;
  /** Each pruned pipeline is appended here before its batch is deleted. Ignored by a dry run. */
  archive?: PipelineArchive;
  /** What the audit events say about the request (the age asked for, the cutoff…). */
  auditData?: Record<string, string | number | boolean | null>;
  batchSize?: number;
  /** Called after each batch with the totals so far (progress for a person at a terminal). */
  onBatch?: (progress: { batches: number; pipelines: number }) => void;
}

export interface PruneReport {
  dryRun: boolean;
  cutoff: Date;
  statuses: readonly PipelineStatus[];
  /** Pipelines deleted (a dry run: that would be). */
  pipelines: number;
  byStatus: Record<string, number>;
  /** Rows deleted per table (a dry run: held). */
  rows: PrunedRows;
  /** Candidates a batch found changed under its lock (reopened by a replay, say) and left alone. */
  skipped: number;
  /** Lines appended to the archive. */
  archived: number;
  batches: number;
}

const noRows = (): PrunedRows => Object.fromEntries(PRUNED_TABLES.map((t) => [t, 0])) as PrunedRows;

export function createPipelinePruneService({ store }: { store: PipelinePruneStore }) {
  return {
    async prune(request: PruneRequest, actor: Actor): Promise<PruneReport> {
      const selection: PruneSelection = { cutoff: request.cutoff, statuses: request.statuses };
      const limit = request.batchSize ?? PRUNE_BATCH_SIZE;
      const archive = request.dryRun ? undefined : request.archive;
      const report: PruneReport = {
        dryRun: request.dryRun,
        cutoff: request.cutoff,
        statuses: request.statuses,
        pipelines: 0,
        byStatus: Object.fromEntries(request.statuses.map((s) => [s, 0])),
        rows: noRows(),
        skipped: 0,
        archived: 0,
        batches: 0,
      };
      const add = (rows: PrunedRows) => {
        for (const table of PRUNED_TABLES) report.rows[table] += rows[table];
      };
      // Keyset pages (created_at, id): a candidate left alone is not met again, so the loop ends.
      let after: PruneCursor | undefined;
      for (;;) {
        const page = await store.candidates(selection, after, limit);
        if (page.length === 0) break;
        const last = page[page.length - 1]!;
        after = { createdAt: last.createdAt, id: last.id };
        const ids = page.map((p) => p.id);
        if (request.dryRun) {
          add(await store.countRows(ids));
          for (const p of page) report.byStatus[p.status] = (report.byStatus[p.status] ?? 0) + 1;
          report.pipelines += page.length;
        } else {
          const batch = await store.deleteBatch(ids, {
            selection,
            actor,
            auditData: { ...request.auditData, archive: archive?.location ?? null },
            archive: archive
              ? async (documents) => {
                  await archive.append(documents.map((d) => d.document));
                  report.archived += documents.length;
                }
              : undefined,
          });
          add(batch.rows);
          for (const p of batch.deleted) report.byStatus[p.status] = (report.byStatus[p.status] ?? 0) + 1;
          report.pipelines += batch.deleted.length;
          report.skipped += page.length - batch.deleted.length;
        }
        report.batches++;
        request.onBatch?.({ batches: report.batches, pipelines: report.pipelines });
        if (page.length < limit) break;
      }
      return report;
    },
  };
}

export type PipelinePruneService = ReturnType<typeof createPipelinePruneService>;
