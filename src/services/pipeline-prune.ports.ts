// The ports of the prune use case (`pipelines prune`): the store that finds, archives and deletes
// old finished pipelines in Postgres (infra/db/pipeline-prune.repository.ts), and the archive file
// each pruned pipeline is written to first (infra/archive/jsonl-archive.ts).
import type { Actor } from '../domain/identity.js';
import type { JsonObject } from '../domain/json.js';
import type { PipelineStatus } from '../domain/status.js';

/** The tables a pruned pipeline's rows are deleted from, children first. audit_events stays. */
export const PRUNED_TABLES = [
  'stage_logs',
  'shadow_runs',
  'gate_results',
  'stage_runs',
  'decision_votes',
  'decisions',
  'clarifications',
  'pipeline_events',
  'stages',
  'pipelines',
] as const;
export type PrunedTable = (typeof PRUNED_TABLES)[number];
export type PrunedRows = Record<PrunedTable, number>;

export interface PruneCandidate {
  id: string;
  status: PipelineStatus;
  createdAt: Date;
}

/** Where the previous page of candidates ended (candidates come oldest first by created_at, id). */
export interface PruneCursor {
  createdAt: Date;
  id: string;
}

export interface PruneSelection {
  /** Finished before this instant. */
  cutoff: Date;
  statuses: readonly PipelineStatus[];
}

/** One pipeline as archived: a line of JSON holding its rows of every table, as stored. */
export interface ArchivedPipeline {
  id: string;
  document: string;
}

export interface PrunedBatch {
  deleted: Array<{ id: string; status: PipelineStatus }>;
  rows: PrunedRows;
}

export interface PipelinePruneStore {
  /**
   * Pipelines of `statuses` finished before `cutoff` with no stage that may still change, oldest
   * first after `after`, at most `limit`. Nothing is locked: deleteBatch checks again.
   */
  candidates(selection: PruneSelection, after: PruneCursor | undefined, limit: number): Promise<PruneCandidate[]>;
  /** The rows each table holds for these pipelines (what deleting them would remove). */
  countRows(ids: readonly string[]): Promise<PrunedRows>;
  /**
   * In one transaction: locks the pipelines' stages then the pipelines (the order of the finish
   * and the replay), keeps those that still match `selection`, hands their documents to
   * `archive` when given (before anything is deleted; its failure rolls the batch back), deletes
   * their rows from every PRUNED_TABLES table, and writes a `pipeline.pruned` audit event per
   * pipeline for `actor` with `auditData`.
   */
  deleteBatch(
    ids: readonly string[],
    options: {
      selection: PruneSelection;
      actor: Actor;
      auditData: JsonObject;
      archive?: (documents: readonly ArchivedPipeline[]) => Promise<void>;
    },
  ): Promise<PrunedBatch>;
}

/** An append-only file of archived pipelines, one JSON document per line. */
export interface PipelineArchive {
  /** Where it is, as the audit events and the report name it. */
  readonly location: string;
  /** Appends the lines and makes them durable (fsync) before resolving. */
  append(lines: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
