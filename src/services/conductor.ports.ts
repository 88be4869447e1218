// The shapes of the conductor's step: the state it reads, and what applying its plan did.
// PipelineRepository (pipeline.ports.ts) reads and applies them; infra/db implements it.
import type { PolicyStage } from '../domain/stage-admission.js';
import type { PipelineStatus } from '../domain/status.js';
import type { DispatchedStage } from './queue.ports.js';

export interface AdvanceResult {
  pipelineId: string;
  status: PipelineStatus;
  dispatched: DispatchedStage[];
  skipped: string[];
  cancelled: string[];
  /** True when this call moved the pipeline into a terminal state. */
  finished: boolean;
  /** Decisions this call opened, and on a redelivery every open one (their deadline jobs). */
  decisions: { id: string; deadlineAt: Date }[];
}

/** A pipeline as the conductor plans it (readState). */
export interface PipelineState {
  pipelineId: string;
  status: PipelineStatus;
  cancelRequested: boolean;
  /** The policy it was submitted under (which fixed its stages' auto-approve thresholds). */
  policyVersion: string | null;
  stages: StateStage[];
}

/** A stage of PipelineState: the planner's and admission's view, plus what applying needs. */
export interface StateStage extends PolicyStage {
  id: string;
  /** Its last error message (a failed pipeline's error names each failed stage's reason). */
  errorMessage: string | null;
}
