// Runs one delivery of an agent job: claims the stage in Postgres, runs the handler with an
// AbortSignal, records the attempt, and moves the pipeline on: dependants released by this
// stage are queued right here (no conductor hop on the common path); failures, cancels and
// the pipeline's last stage go to the conductor.
// Idempotent over at-least-once delivery: a delivery for a stage that is terminal, or owned by
// another job, runs nothing; nor does one for a stage of a paused pipeline (the claim holds it).
// Retryable errors go back to BullMQ's backoff; the last attempt and unrecoverable errors fail
// the stage.
import type { Agent, MetricValue } from '../agents/define-agent.js';
import { completeEnvelope, upcastEnvelope, type StageJobHeader } from '../domain/stage-envelope.js';
import { ClarificationRequest } from '../domain/clarification-request.js';
import { agentDecisionHold, DecisionRequest } from '../domain/decision-request.js';
import type { DecisionPolicy } from '../domain/decision-policy.js';
import type { Logger } from '../domain/logger.js';
import type { AgentCatalog } from '../agents/catalog.js';
import { normalizeConfidence } from '../domain/decision-policy.js';
import { classifyError, describeCode } from '../domain/errors.js';
import { stageErrorRecord } from './stage-error-record.js';
import { afterCommitWith } from './release.js';
import { collectMetrics, evaluateGates, gateFailureMessage, type GateResult } from '../domain/gates.js';
import type { JsonValue } from '../domain/json.js';
import type { AgentQueues, ControlQueue } from './queue.ports.js';
import type { FeatureFlags } from './flags.ports.js';
import { createAgentSelection, type AgentChoice } from './agent-selection.js';
import type { ShadowRun, ShadowRunner } from './shadow-runner.js';
import type { StageErrorRecord } from './stage-error-record.js';
import type { ClaimedStage, FinishResult, StageRunRepository } from './stage-run.ports.js';
import { withStageWorkspace, type StageWorkspaceDeps } from './stage-workspace.js';
import type { AttemptTracker } from './attempt-heartbeat.js';
import { startStageTimeout } from '../domain/stage-deadline.js';

export const CANCEL_REASON = 'pipeline-cancelled';
/** Abort reason when the worker process stops and its grace period ran out. */
export const SHUTDOWN_REASON = 'worker-shutdown';

export interface StageDelivery {
  stageId: string;
  pipelineId: string;
  jobId: string;
  /** Attempts BullMQ has already used before this one. */
  attemptsMade: number;
  maxAttempts: number;
  signal: AbortSignal;
  requestId?: string;
  /** The agent type whose queue this job came from: its version and settings are chosen before the claim. */
  agentType: string;
  /** The envelope header the job carried (contract version, traceparent, correlation id); the claim completes it. */
  header?: Partial<StageJobHeader>;
}

/** The agent version and settings variant an attempt ran with (the stage run records the same). */
export interface RanWith {
  agentVersion: string;
  variant: string | null;
}

export type RunOutcome = (
  | { kind: 'succeeded' }
  /** The handler asked for a clarification: the stage waits for the answers, no job is held. */
  | { kind: 'suspended' }
  | { kind: 'duplicate'; status: string }
  | { kind: 'cancelled' }
  /** Stopped by the worker's shutdown: back to the queue without using an attempt. */
  | { kind: 'interrupted' }
  | { kind: 'retry'; error: StageErrorRecord }
  | { kind: 'failed'; error: StageErrorRecord }
) & {
  /** Set when an attempt ran: the worker's stage metrics are labelled with it. */
  ranWith?: RanWith;
};

export interface StageRunnerDeps {
  runs: StageRunRepository;
  control: ControlQueue;
  agentQueues: AgentQueues;
  agents: AgentCatalog;
  workerId: string;
  logger: Logger;
  newId: () => string;
  /** Which agent version and settings a stage runs with, and whether its agent is switched off. */
  flags: FeatureFlags;
  /** Runs an agent's candidate version beside the incumbent for pipelines in its shadow flag; absent: none. */
  shadows?: ShadowRunner;
  /** Workspaces and stage logs for agents that declare `workspace: true`; absent: they run without one. */
  workspace?: StageWorkspaceDeps;
  /** Who decides what an agent asks through ctx.requestDecision (approvers, quorum, deadline). */
  policy: DecisionPolicy;
  /** Stamps each attempt in Postgres from its claim until it ends (attempt-heartbeat.ts); absent: not stamped. */
  heartbeat?: AttemptTracker;
}

export interface StageRunner {
  run(delivery: StageDelivery): Promise<RunOutcome>;
}

/** Classifies what the handler threw through the error hierarchy (src/domain/errors.ts). */
function toErrorRecord(error: unknown, timedOut: boolean): StageErrorRecord {
  if (timedOut) return stageErrorRecord(describeCode('STAGE_TIMEOUT', 'the stage exceeded its timeoutMs'));
  return stageErrorRecord(classifyError(error));
}

/** A blocking gate that did not hold fails the stage at once: another attempt would not change its metrics. */
function gateFailure(failures: readonly GateResult[], output: JsonValue): StageErrorRecord {
  return {
    ...stageErrorRecord(describeCode('GATE_FAILED', gateFailureMessage(failures, output))),
    gates: failures.map((f) => ({ metric: f.metric, operator: f.operator, threshold: f.threshold, value: f.value, reason: f.reason })),
  };
}

const confidenceOf = (output: JsonValue): number | null =>
  output !== null && typeof output === 'object' && !Array.isArray(output) ? normalizeConfidence(output.confidence) : null;

const CANCELLED = stageErrorRecord(describeCode('STAGE_CANCELLED', 'the pipeline was cancelled'));
const SHUT_DOWN = stageErrorRecord(describeCode('WORKER_SHUTDOWN', 'the worker stopped before the stage finished'));

export function createStageRunner({
  runs,
  control,
  agentQueues,
  agents,
  workerId,
  logger,
  newId,
  flags,
  shadows,
  workspace,
  policy,
  heartbeat,
}: StageRunnerDeps): StageRunner {
  const afterCommit = afterCommitWith({ agentQueues, control });
  const selection = createAgentSelection({ flags, logger });
  /** Runs the chosen version's handler with the chosen settings and records how the attempt ended. */
  async function execute(
    agent: Agent,
    stage: ClaimedStage,
    delivery: StageDelivery,
    choice: AgentChoice,
    shadow: ShadowRun | null,
  ): Promise<[RunOutcome, FinishResult]> {
    const metrics: Record<string, MetricValue> = {};
    const timeout = startStageTimeout(delivery.signal, stage.timeoutMs);
    const { signal, deadline } = timeout;
    const started = performance.now();
    const finalMetrics = () => ({ ...metrics, durationMs: Math.round((performance.now() - started) * 1000) / 1000 });
    const ids = { stageId: stage.stageId, runId: stage.runId };
    try {
      // The job's header completed by the claim; a contract version the agent cannot reach is
      // refused here, before any workspace is prepared (CONTRACT_VERSION_UNSUPPORTED).
      const { input, dependencies } = upcastEnvelope(agent, completeEnvelope(delivery.header ?? {}, stage), agents);
      const output = await withStageWorkspace(workspace, agent, stage, timeout, (stageWorkspace) =>
        agent.execute(
          input,
          {
            pipelineId: stage.pipelineId,
            stageId: stage.stageId,
            stageKey: stage.stageKey,
            attempt: stage.attempt,
            maxAttempts: delivery.maxAttempts,
            pipelineInput: stage.pipelineInput,
            dependencies,
            settings: choice.settings,
            logger,
            signal,
            deadline,
            workspace: stageWorkspace,
            progress: (pct) => runs.progress({ ...ids, pct: Math.max(0, Math.min(100, Math.round(pct))) }),
            reportMetrics: (values) => Object.assign(metrics, values),
            requestClarification: (questions) => {
              throw new ClarificationRequest(questions);
            },
            requestDecision: (ask) => {
              throw new DecisionRequest(ask);
            },
          },
          choice.version,
        ),
      );
      const { results, blockingFailures } = evaluateGates(stage.gates, collectMetrics(output, metrics));
      shadow?.incumbent({ kind: 'ran', output, gates: results });
      if (blockingFailures.length > 0) {
        const error = gateFailure(blockingFailures, output);
        logger.warn('stage failed its quality gates', { reasons: blockingFailures.map((f) => f.reason) });
        return [
          { kind: 'failed', error },
          await runs.fail({ ...ids, error, metrics: finalMetrics(), final: true, output, gates: results }),
        ];
      }
      return [
        { kind: 'succeeded' },
        await runs.succeed({
          ...ids,
          output,
          metrics: finalMetrics(),
          confidence: confidenceOf(output),
          gates: results,
          outputContractVersion: agent.contract.version,
        }),
      ];
    } catch (error) {
      if (error instanceof ClarificationRequest) {
        shadow?.incumbent({ kind: 'asked_clarification' });
        const clarification = {
          id: newId(),
          pipelineId: stage.pipelineId,
          stageKey: stage.stageKey,
          questions: error.questions,
          askedBy: `agent:${agent.type}`,
        };
        return [{ kind: 'suspended' }, await runs.suspend({ ...ids, metrics: finalMetrics(), clarification })];
      }
      if (error instanceof DecisionRequest) {
        shadow?.incumbent({ kind: 'asked_clarification' });
        const hold = agentDecisionHold(policy, error.ask);
        const finish = await runs.suspendForDecision({
          ...ids,
          metrics: finalMetrics(),
          decision: { ...hold, askedBy: `agent:${agent.type}`, policyVersion: policy.version },
        });
        // After the commit; a deadline job lost here is added again by the reconciler.
        if (finish.opened) await control.scheduleDeadline(finish.opened.id, finish.opened.deadlineAt);
        return [{ kind: 'suspended' }, finish];
      }
      if (delivery.signal.aborted && delivery.signal.reason === CANCEL_REASON) {
        return [{ kind: 'cancelled' }, await runs.cancel({ ...ids, error: CANCELLED, metrics: finalMetrics() })];
      }
      if (delivery.signal.aborted && delivery.signal.reason === SHUTDOWN_REASON) {
        return [{ kind: 'interrupted' }, await runs.fail({ ...ids, error: SHUT_DOWN, metrics: finalMetrics(), final: false })];
      }
      const failure = toErrorRecord(error, timeout.timedOut());
      shadow?.incumbent({ kind: 'failed', error: failure });
      const final = !failure.retryable || delivery.attemptsMade + 1 >= delivery.maxAttempts;
      logger.warn(final ? 'stage failed' : 'stage attempt failed; BullMQ will retry it', {
        code: failure.code,
        category: failure.category,
        attempt: stage.attempt,
      });
      const finish = await runs.fail({ ...ids, error: failure, metrics: finalMetrics(), final });
      return [final ? { kind: 'failed', error: failure } : { kind: 'retry', error: failure }, finish];
    }
  }

  return {
    async run(delivery) {
      const meta = { requestId: delivery.requestId };
      // Chosen before the claim so the claim records it (no extra statement); in memory, so a
      // duplicate delivery that claims nothing wasted no I/O on it.
      const served = agents.get(delivery.agentType);
      const choice = served ? selection.choose(served, { pipelineId: delivery.pipelineId, agentType: served.type }) : undefined;
      const claim = await runs.claim({
        stageId: delivery.stageId,
        jobId: delivery.jobId,
        runId: newId(),
        workerId,
        agentVersion: choice?.version ?? null,
        variant: choice?.variant ?? null,
      });
      if (!claim.claimed) {
        // Held by its paused pipeline (the claim moved it queued → paused): nothing to move on
        // until a resume, which queues it again under a job id of its own.
        if (claim.status === 'paused') return { kind: 'duplicate', status: claim.status };
        // A duplicate delivery. If the first delivery died after recording its result but
        // before queuing what it released, this redispatch is what moves the pipeline on.
        await afterCommit({ pipelineId: delivery.pipelineId, advance: 'redispatch' }, meta);
        if (claim.status === 'failed' && claim.jobId === delivery.jobId && claim.error) {
          // Recorded as failed but the job was not moved to the failed set: put it there (DLQ).
          return { kind: 'failed', error: claim.error };
        }
        return { kind: 'duplicate', status: claim.status };
      }

      // The job's queue is its stage's agent type, so the two agree unless a job was put in the wrong queue.
      const agent = served?.type === claim.stage.agent ? served : undefined;
      let outcome: RunOutcome;
      let finish: FinishResult;
      // Started before the incumbent's handler, so both run at once; settled after the release below.
      const shadow =
        agent && choice
          ? (shadows?.start({
              agent,
              stage: claim.stage,
              version: choice.version,
              settings: choice.settings,
              maxAttempts: delivery.maxAttempts,
              signal: delivery.signal,
            }) ?? null)
          : null;
      const untrack = heartbeat?.track(delivery.stageId);
      try {
        if (agent && choice) {
          [outcome, finish] = await execute(agent, claim.stage, delivery, choice, shadow);
          outcome = { ...outcome, ranWith: { agentVersion: choice.version, variant: choice.variant } };
        } else {
          const error = stageErrorRecord(describeCode('AGENT_UNKNOWN', `this worker does not know agent "${claim.stage.agent}"`));
          outcome = { kind: 'failed', error };
          finish = await runs.fail({ stageId: delivery.stageId, runId: claim.stage.runId, error, metrics: {}, final: true });
        }
      } finally {
        // The attempt is over, its end recorded or not (a finish that threw): no more stamps.
        untrack?.();
      }
      if (!finish.recorded) return { kind: 'duplicate', status: 'lost-ownership' };

      // The conductor decides what a success cannot: skips after a failure, a cancel's end,
      // and the pipeline's outcome once its last stage is done. A stage that released a
      // dependant cannot have been the last one, so only the others check (after the commit, so
      // the last of several finishing together sees them all).
      const conductorNeeded =
        outcome.kind === 'failed' ||
        outcome.kind === 'cancelled' ||
        finish.cancelRequested ||
        finish.needsConductor ||
        (outcome.kind !== 'retry' &&
          outcome.kind !== 'suspended' &&
          outcome.kind !== 'interrupted' &&
          finish.released.length === 0 &&
          (finish.settled || (await runs.settled(delivery.pipelineId))));
      try {
        await afterCommit({ pipelineId: delivery.pipelineId, stages: finish.released, advance: conductorNeeded && 'advance' }, meta);
      } finally {
        // Logged once the dependants are queued (or their queuing failed): the line's write is not on the next stage's path.
        logger.info('stage run finished', { outcome: outcome.kind, agent: claim.stage.agent, attempt: claim.stage.attempt });
      }
      // The pipeline has moved on; the candidate's record (best effort, never throws) holds only this job.
      await shadow?.settle();
      return outcome;
    },
  };
}
