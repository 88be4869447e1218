// The ports of shadow runs: recording a candidate's run beside the incumbent's, and reading them
// back for the canary report. infra/db implements them (shadow-run.repository.ts).
import type { GateResult } from '../domain/gates.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { ShadowStatus } from '../domain/shadow-agreement.js';
import type { StageErrorRecord } from './stage-error-record.js';

/** One shadow run: the candidate's outcome beside the incumbent's, compared. */
export interface ShadowRunRecord {
  id: string;
  /** The incumbent's stage run (one shadow run per attempt at most). */
  runId: string;
  stageId: string;
  pipelineId: string;
  stageKey: string;
  agentType: string;
  incumbentVersion: string;
  candidateVersion: string;
  incumbent: { status: ShadowStatus; gates: GateResult[] };
  candidate: {
    status: ShadowStatus;
    gates: GateResult[];
    output: JsonValue | null;
    error: StageErrorRecord | null;
    metrics: JsonObject;
  };
  agreed: boolean;
  disagreements: string[];
  outputsEqual: boolean;
  startedAt: Date;
  finishedAt: Date;
}

/** Which shadow runs a canary report counts: one agent type, one version pair, since a time. */
export interface CanaryFilter {
  agentType: string;
  incumbentVersion: string;
  candidateVersion: string;
  /** Runs finished at or after this instant; absent: all of them. */
  since?: Date;
}

export interface ShadowRunRepository {
  /** Inserts the record; false when its run already has one (a redelivered attempt records once). */
  record(run: ShadowRunRecord): Promise<boolean>;
}

export interface ShadowRunReader {
  /** How many of the filtered runs agreed and disagreed. */
  count(filter: CanaryFilter): Promise<{ agreed: number; disagreed: number }>;
  /** The filtered runs that disagreed, newest first. */
  disagreements(filter: CanaryFilter, limit: number): Promise<ShadowRunRecord[]>;
}
