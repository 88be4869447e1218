// The ports of the stage runner: claiming a queued stage and recording how its attempt ended,
// in the statement that releases its dependants. infra/db implements them (stage-run.repository.ts).
import type { GateResult, GateRule } from '../domain/gates.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { UpstreamOutput } from '../domain/stage-envelope.js';
import type { RunStatus, StageStatus } from '../domain/status.js';
import type { NewClarification } from './clarification.ports.js';
import type { DispatchedStage } from './queue.ports.js';
import type { StageErrorRecord } from './stage-error-record.js';
import type { AgentDecisionHold } from '../domain/decision-request.js';

export interface StageRunView {
  id: string;
  stageKey: string;
  attempt: number;
  status: RunStatus;
  output: JsonValue | null;
  metrics: JsonObject | null;
  gates: GateResult[];
  error: StageErrorRecord | null;
  workerId: string;
  startedAt: Date;
  finishedAt: Date | null;
  /** The agent version the attempt ran; null: recorded before versions were (or agent unknown). */
  agentVersion: string | null;
  /** The variant of the agent's settings flag it ran with; null: none. */
  variant: string | null;
}

/** A claimed stage: everything the agent handler needs. */
export interface ClaimedStage {
  pipelineId: string;
  stageId: string;
  stageKey: string;
  agent: string;
  runId: string;
  attempt: number;
  input: JsonObject;
  /** The contract version `input` was written under (recorded at submission). */
  contractVersion: number;
  pipelineInput: JsonObject;
  /** Outputs of its dependencies by key, as stored (no upcasting). */
  dependencies: Record<string, JsonValue>;
  /** The same outputs with their producers and the contract versions they were stored under. */
  upstream: Record<string, UpstreamOutput>;
  timeoutMs: number | null;
  gates: GateRule[];
}

export type ClaimOutcome =
  | { claimed: true; stage: ClaimedStage }
  | { claimed: false; status: StageStatus | 'missing'; jobId: string | null; error: StageErrorRecord | null };

/** What recording an attempt's end did, in the same statement. */
export interface FinishResult {
  /** False when this run no longer owned the stage (a duplicate): nothing was written. */
  recorded: boolean;
  /** Dependants whose last dependency this was: now queued, their jobs to be added. */
  released: DispatchedStage[];
  /** The pipeline has a cancel request: the conductor must close it once stages stop. */
  cancelRequested: boolean;
  /** A dependant is ready but the policy wants a human: the conductor opens its decision. */
  needsConductor: boolean;
  /**
   * The statement saw nothing of the pipeline still moving once this attempt was written (true
   * holds; false may be stale when another stage finished meanwhile: `settled()` after the
   * commit tells). Always false when it released a dependant or recorded nothing.
   */
  settled: boolean;
}

export interface StageRunRepository {
  /**
   * Claims a queued stage for this job (or re-claims after a crash); records the attempt on the
   * stage row, with the agent version and settings variant chosen for it (absent or null: unknown,
   * none), which the statement ending the attempt copies into its StageRun.
   */
  claim(args: {
    stageId: string;
    jobId: string;
    runId: string;
    workerId: string;
    agentVersion?: string | null;
    variant?: string | null;
  }): Promise<ClaimOutcome>;
  /** Records success and releases the dependants it was the last dependency of. */
  succeed(args: {
    stageId: string;
    runId: string;
    output: JsonValue;
    metrics: JsonObject;
    confidence: number | null;
    gates: GateResult[];
    /** The contract version the output was written under (the agent's); absent: unknown, read as 1. */
    outputContractVersion?: number;
  }): Promise<FinishResult>;
  /**
   * Records a failed attempt; `final` fails the stage (releasing dependants only with
   * continueOnFailure), else it goes back to queued for a retry.
   */
  fail(args: {
    stageId: string;
    runId: string;
    error: StageErrorRecord;
    metrics: JsonObject;
    final: boolean;
    output?: JsonValue;
    gates?: GateResult[];
  }): Promise<FinishResult>;
  /** Ends the attempt waiting for answers: the stage waits (no job) until they come. */
  suspend(args: {
    stageId: string;
    runId: string;
    metrics: JsonObject;
    output?: JsonValue;
    clarification: NewClarification;
  }): Promise<FinishResult>;
  /**
   * Ends the attempt waiting for a person's decision (the agent called ctx.requestDecision): the
   * stage waits with the decision opened in the same commit. `opened` is null when the run no
   * longer owned the stage and nothing was recorded.
   */
  suspendForDecision(args: {
    stageId: string;
    runId: string;
    metrics: JsonObject;
    decision: AgentDecisionHold & { askedBy: string; policyVersion: string };
  }): Promise<FinishResult & { opened: { id: string; deadlineAt: Date } | null }>;
  /** Records a run stopped by cancellation. */
  cancel(args: { stageId: string; runId: string; error: StageErrorRecord; metrics: JsonObject }): Promise<FinishResult>;
  progress(args: { stageId: string; runId: string; pct: number }): Promise<void>;
  /** True when no stage of the pipeline is still moving (MOVING_STAGE_STATUSES). */
  settled(pipelineId: string): Promise<boolean>;
}
