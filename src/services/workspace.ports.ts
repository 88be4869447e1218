// The ports of pipeline workspaces and stage logs: where a stage's workspace comes from, where
// its log goes (and is read back from), and what the retention sweep asks of Postgres.
import type { AgentWorkspace } from '../agents/agent-workspace.js';
import type { RepositorySpec } from '../domain/workspace-repository.js';

export interface WorkspaceRequest {
  pipelineId: string;
  /** Cloned into the workspace the first time it is prepared; absent: an empty folder. */
  repository?: RepositorySpec;
  /** The stage's log: the clone's output, then everything the agent writes. */
  log: (line: string) => void;
  /** The stage's signal: aborts a clone in progress and the tools the workspace runs. */
  signal: AbortSignal;
  /** When the stage's timeoutMs runs out (epoch ms; null: none): the clone's and every program's timeout is bounded by it. */
  deadline?: number | null;
}

/** Pipeline workspaces on this machine, `<root>/<pipelineId>`. */
export interface WorkspaceProvider {
  /** The pipeline's workspace, created (and cloned) once per pipeline; later calls reuse it. */
  acquire(request: WorkspaceRequest): Promise<AgentWorkspace>;
  /** The pipeline ids that have a workspace here, or what a killed worker left of one (a temporary clone, a locks folder). */
  list(): Promise<string[]>;
  /** Deletes a pipeline's workspace (nothing when it has none). */
  remove(pipelineId: string): Promise<void>;
}

/** Which of these pipelines may lose their workspace: finished before `before`, or gone from Postgres. */
export interface WorkspaceRetentionStore {
  expired(pipelineIds: readonly string[], before: Date): Promise<string[]>;
}

/** One attempt's log chunk as stored. */
export interface StageLogChunk {
  stageId: string;
  runId: string;
  attempt: number;
  seq: number;
  text: string;
}

/** Where stage log chunks are written. */
export interface StageLogStore {
  /** Bytes already kept for the stage (all attempts), for the per-stage cap. */
  bytesKept(stageId: string): Promise<number>;
  /** Stores one chunk; storing the same (stage, attempt, run, seq) twice keeps the first. */
  append(chunk: StageLogChunk): Promise<void>;
}

/** Where a position in a stage's log is: after this chunk. */
export interface StageLogCursor {
  attempt: number;
  runId: string;
  seq: number;
}

/** Reads stage logs back, for the API. */
export interface StageLogReader {
  /** The stage's id, or null when the pipeline has no such stage; undefined when the pipeline does not exist. */
  findStage(pipelineId: string, stageKey: string): Promise<string | null | undefined>;
  /** Up to `limit` chunks after `after` (from the start without), in order: attempt, run, seq. */
  page(stageId: string, options: { attempt?: number; after?: StageLogCursor; limit: number }): Promise<StageLogChunk[]>;
}
