// Shadow runs: for a pipeline in an agent's `agent.<type>.shadow` rollout, the agent's `next`
// version runs beside the incumbent on the same input, dependencies and settings; once the
// incumbent's result is committed and its dependants dispatched, the candidate's outcome, gate
// verdicts and output are recorded beside the incumbent's (shadow_runs), compared by
// src/domain/shadow-agreement.ts. The candidate never changes what the pipeline does: whatever it
// returns, throws or asks is recorded here and nowhere else, it is never retried, and its record
// is best effort (a crash or a Postgres error loses the record, never the incumbent's result).
import type { Agent, AgentRunContext, MetricValue } from '../agents/define-agent.js';
import { ClarificationRequest } from '../domain/clarification-request.js';
import { DecisionRequest } from '../domain/decision-request.js';
import { classifyError, describeCode } from '../domain/errors.js';
import { agentFlagNames } from '../domain/feature-flags.js';
import { collectMetrics, evaluateGates, type GateResult } from '../domain/gates.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { Logger } from '../domain/logger.js';
import { compareShadow, statusOfOutput, type ShadowSide } from '../domain/shadow-agreement.js';
import type { FeatureFlags } from './flags.ports.js';
import type { ShadowRunRepository } from './shadow.ports.js';
import { stageErrorRecord, type StageErrorRecord } from './stage-error-record.js';
import type { ClaimedStage } from './stage-run.ports.js';
import { startStageTimeout } from '../domain/stage-deadline.js';

/** How long a candidate may go on after the incumbent's result, by default. */
export const DEFAULT_SHADOW_GRACE_MS = 30_000;
/** Abort reason of a candidate still running `graceMs` after the incumbent's result. */
const GRACE_REASON = 'shadow-grace';

export interface ShadowRunnerDeps {
  flags: FeatureFlags;
  records: ShadowRunRepository;
  logger: Logger;
  newId: () => string;
  /**
   * How long the candidate may run on after the incumbent's result (default 30 s). Its stage's
   * job holds its worker slot meanwhile (the candidate's work counts against the concurrency),
   * so a candidate that hangs must not hold it for ever, with or without a stage timeoutMs.
   */
  graceMs?: number;
  clock?: () => Date;
}

export interface ShadowStart {
  agent: Agent;
  stage: ClaimedStage;
  /** The version the incumbent runs: a pipeline already in the rollout runs `next`, and gets no shadow. */
  version: string;
  /** The settings the incumbent runs with (its A/B variant's); the candidate gets the same. */
  settings: JsonObject;
  maxAttempts: number;
  /** The incumbent's delivery signal: a cancel or a worker shutdown aborts the candidate too. */
  signal: AbortSignal;
}

/** How the incumbent's attempt ended, as the stage runner recorded it. */
export type IncumbentResult =
  | { kind: 'ran'; output: JsonValue; gates: readonly GateResult[] }
  | { kind: 'failed'; error: StageErrorRecord }
  | { kind: 'asked_clarification' };

/** One candidate run beside one incumbent attempt. */
export interface ShadowRun {
  /**
   * The incumbent's result, given as soon as it is known (before its commit): from then on the
   * candidate has `graceMs` left. A cancelled or interrupted incumbent gives none, and its
   * candidate is aborted by the same signal; nothing is recorded for it.
   */
  incumbent(result: IncumbentResult): void;
  /**
   * After the incumbent's result is committed and its dependants dispatched: waits for the
   * candidate (at most `graceMs` after the incumbent's result) and records both. Never throws.
   */
  settle(): Promise<void>;
}

export interface ShadowRunner {
  /** Starts the candidate beside the incumbent when this stage's pipeline is in the shadow rollout; else null. */
  start(args: ShadowStart): ShadowRun | null;
}

type CandidateResult =
  | { side: ShadowSide; error: StageErrorRecord | null; metrics: JsonObject }
  /** Stopped by the incumbent's cancel or shutdown: nothing to compare. */
  | { side: null; reason: string };

const noProgress = (): Promise<void> => Promise.resolve();

/** The handler's logger with the shadow run named on every line. */
function shadowLogger(logger: Logger, candidateVersion: string): Logger {
  const tag = (meta?: Record<string, unknown>) => ({ ...meta, shadow: true, candidateVersion });
  return {
    debug: (message, meta) => logger.debug(message, tag(meta)),
    info: (message, meta) => logger.info(message, tag(meta)),
    warn: (message, meta) => logger.warn(message, tag(meta)),
    error: (message, meta) => logger.error(message, tag(meta)),
  };
}

function incumbentSide(result: IncumbentResult): ShadowSide {
  if (result.kind === 'ran') return { status: statusOfOutput(result.gates), gates: result.gates, errorCode: null, output: result.output };
  if (result.kind === 'failed') return { status: 'failed', gates: [], errorCode: result.error.code, output: null };
  return { status: 'asked_clarification', gates: [], errorCode: null, output: null };
}

export function createShadowRunner({
  flags,
  records,
  logger,
  newId,
  graceMs = DEFAULT_SHADOW_GRACE_MS,
  clock = () => new Date(),
}: ShadowRunnerDeps): ShadowRunner {
  /** Runs the candidate to its end, or to its abort (a handler that ignores its signal is not waited for). */
  function runCandidate({ agent, stage, settings, maxAttempts, signal: delivery }: ShadowStart, own: AbortController) {
    const candidateVersion = agent.nextVersion!;
    const timeout = startStageTimeout(AbortSignal.any([delivery, own.signal]), stage.timeoutMs);
    const { signal, deadline } = timeout;
    const metrics: Record<string, MetricValue> = {};
    const started = performance.now();
    const finalMetrics = (): JsonObject => ({ ...metrics, durationMs: Math.round((performance.now() - started) * 1000) / 1000 });

    const failedWith = (error: StageErrorRecord): CandidateResult => ({
      side: { status: 'failed', gates: [], errorCode: error.code, output: null },
      error,
      metrics: finalMetrics(),
    });
    /** What an aborted candidate amounts to, by whichever signal fired first. */
    const aborted = (): CandidateResult => {
      if (delivery.aborted) return { side: null, reason: String(delivery.reason) };
      if (timeout.timedOut())
        return failedWith(stageErrorRecord(describeCode('STAGE_TIMEOUT', 'the candidate exceeded the stage timeoutMs')));
      return failedWith(
        stageErrorRecord(describeCode('STAGE_TIMEOUT', `the candidate was still running ${graceMs} ms after the incumbent finished`)),
      );
    };

    const ctx: AgentRunContext = {
      pipelineId: stage.pipelineId,
      stageId: stage.stageId,
      stageKey: stage.stageKey,
      attempt: stage.attempt,
      maxAttempts,
      pipelineInput: stage.pipelineInput,
      dependencies: stage.dependencies,
      settings,
      logger: shadowLogger(logger, candidateVersion),
      signal,
      deadline,
      // The stage's progress is the incumbent's to report.
      progress: noProgress,
      reportMetrics: (values) => Object.assign(metrics, values),
      requestClarification: (questions) => {
        throw new ClarificationRequest(questions);
      },
      requestDecision: (ask) => {
        throw new DecisionRequest(ask);
      },
    };
    const execution = (async (): Promise<CandidateResult> => {
      try {
        // The candidate speaks the incumbent's contract: the same upcasting of the stage's input.
        const input = agent.contract.upcastInput(stage.input, stage.contractVersion);
        const output = await agent.execute(input, ctx, candidateVersion);
        const { results } = evaluateGates(stage.gates, collectMetrics(output, metrics));
        return { side: { status: statusOfOutput(results), gates: results, errorCode: null, output }, error: null, metrics: finalMetrics() };
      } catch (error) {
        // Asking a person, by a question or for a decision, is one outcome for the comparison.
        if (error instanceof ClarificationRequest || error instanceof DecisionRequest) {
          return {
            side: { status: 'asked_clarification', gates: [], errorCode: null, output: null },
            error: null,
            metrics: finalMetrics(),
          };
        }
        if (signal.aborted) return aborted();
        return failedWith(stageErrorRecord(classifyError(error)));
      }
    })();
    const abortion = new Promise<CandidateResult>((resolve) => {
      if (signal.aborted) resolve(aborted());
      else signal.addEventListener('abort', () => resolve(aborted()), { once: true });
    });
    return Promise.race([execution, abortion]);
  }

  return {
    start(args) {
      const { agent, stage, version } = args;
      if (!agent.nextVersion || version !== agent.version) return null;
      const startedAt = clock();
      const own = new AbortController();
      let candidate: Promise<CandidateResult>;
      try {
        const name = agentFlagNames(agent.type).shadow;
        if (!flags.isEnabled(name, { pipelineId: stage.pipelineId, agentType: agent.type }, false)) return null;
        candidate = runCandidate(args, own);
      } catch (error) {
        // Nothing of the shadow may reach the incumbent's path: no shadow run this time.
        logger.warn('shadow run not started', { agent: agent.type, error: (error as Error).message });
        return null;
      }
      let incumbent: IncumbentResult | undefined;
      let grace: NodeJS.Timeout | undefined;
      // Whatever happens to the incumbent's path from here (a lost stage, a failed commit), the
      // candidate stops at most graceMs after the incumbent's result, and its slot is freed.
      void candidate.finally(() => clearTimeout(grace));

      return {
        incumbent(result) {
          if (incumbent) return;
          incumbent = result;
          grace = setTimeout(() => own.abort(GRACE_REASON), graceMs);
          grace.unref();
        },
        async settle() {
          if (!incumbent) {
            own.abort(GRACE_REASON);
            return;
          }
          const result = await candidate;
          if (result.side === null) {
            logger.debug('shadow run not recorded: the candidate was stopped', { reason: result.reason, runId: stage.runId });
            return;
          }
          const mine = incumbentSide(incumbent);
          const { agreed, disagreements, outputsEqual } = compareShadow(mine, result.side);
          try {
            await records.record({
              id: newId(),
              runId: stage.runId,
              stageId: stage.stageId,
              pipelineId: stage.pipelineId,
              stageKey: stage.stageKey,
              agentType: agent.type,
              incumbentVersion: version,
              candidateVersion: agent.nextVersion!,
              incumbent: { status: mine.status, gates: [...mine.gates] },
              candidate: {
                status: result.side.status,
                gates: [...result.side.gates],
                output: result.side.output,
                error: result.error,
                metrics: result.metrics,
              },
              agreed,
              disagreements,
              outputsEqual,
              startedAt,
              finishedAt: clock(),
            });
            if (!agreed) logger.info('shadow run disagreed', { agent: agent.type, runId: stage.runId, disagreements });
          } catch (error) {
            // Best effort: the incumbent's result is committed; only this record is lost.
            logger.warn('shadow run not recorded', { agent: agent.type, runId: stage.runId, error: (error as Error).message });
          }
        },
      };
    },
  };
}
