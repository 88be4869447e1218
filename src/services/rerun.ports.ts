// The ports of re-running a pipeline from a stage (services/rerun.service.ts): what it reads of
// the old pipeline, and the reuse facts a re-run's submission writes (infra/db implements both:
// pipeline-rerun.repository.ts, pipeline-submission.repository.ts).
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { PipelineLabels } from '../domain/pipeline-labels.js';
import type { PipelinePriority } from '../domain/pipeline-priority.js';
import type { RerunSourceStage } from '../domain/rerun.js';
import type { PipelineStatus } from '../domain/status.js';

/** An old stage as a re-run needs it: the rule's facts and what a reuse takes over. */
export interface RerunSourceStageRow extends RerunSourceStage {
  id: string;
  /** Its agent type: whether it works in the workspace is the catalog's to say. */
  agent: string;
  /** Its input as it ended: the definition's, with the answers to the questions it asked (`clarifications`). */
  input: JsonObject;
  output: JsonValue | null;
  /** The contract version its output was written under (null: an older row, read as 1). */
  outputContractVersion: number | null;
}

/** The pipeline to re-run, with every stage in definition order. */
export interface RerunSource {
  id: string;
  status: PipelineStatus;
  submitter: string;
  template: string | null;
  labels: PipelineLabels;
  /** Its priority, which the re-run keeps (domain/pipeline-scheduling.ts `inheritedPriority`); its deadline is not kept. */
  priority: PipelinePriority;
  /** The input as it ended: the submission's, with the answers to its questions (`clarifications`). */
  input: JsonObject;
  /** The definition as it was stored at submission (validated again by the re-run's submission). */
  definition: unknown;
  stages: RerunSourceStageRow[];
}

export interface RerunSourceReader {
  /** Null when there is no such pipeline. */
  readRerunSource(pipelineId: string): Promise<RerunSource | null>;
}

/** A stage a re-run takes over without running it. */
export interface ReusedOutput {
  /** The old stage (stages.reused_from). */
  stageId: string;
  output: JsonValue | null;
  outputContractVersion: number | null;
}

/** What makes a submission a re-run: written with the pipeline, in its transaction. */
export interface NewRerun {
  /** The old pipeline (pipelines.rerun_of). */
  of: string;
  /** The stages chosen to run again (pipelines.rerun_from). */
  from: string[];
  /** By stage key: the stages reused, with the old output. Every other stage runs. */
  reused: ReadonlyMap<string, ReusedOutput>;
}

/** A pipeline's place in a lineage of re-runs. */
export interface RerunLink {
  id: string;
  status: PipelineStatus;
  createdAt: Date;
}
