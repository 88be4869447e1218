// Records each stage attempt's duration, outcome and failure code around a runner, by the agent
// version and settings variant it ran with (the runner's outcome says which), so a rollout's or
// an A/B test's arms can be compared. Duplicate deliveries ran nothing, so they are not counted;
// a thrown error counts as `error`.
import { VARIANT_NAME_MAX } from '../services/agent-selection.js';
import type { RunOutcome, StageRunner } from '../services/stage-runner.service.js';

/** The `version` label of an attempt that did not say which version it ran (it threw, or never reached its handler). */
export const UNKNOWN_VERSION = 'unknown';
/** The `variant` label of an attempt that fell in no variant. */
export const NO_VARIANT = 'none';

export interface StageRunSample {
  agent: string;
  status: string;
  seconds: number;
  failureCode?: string | undefined;
  version: string;
  variant: string;
}

// Label values stay bounded: versions come from the code, variant names from the flag
// definitions, cut again here in case a runner reports a longer one.
const labelsOf = (outcome: RunOutcome | undefined) => ({
  version: outcome?.ranWith?.agentVersion.slice(0, VARIANT_NAME_MAX) ?? UNKNOWN_VERSION,
  variant: outcome?.ranWith?.variant?.slice(0, VARIANT_NAME_MAX) ?? NO_VARIANT,
});

/** Where the samples go (infra/telemetry/metrics.ts's WorkerMetrics has this shape). */
export interface StageRunRecorder {
  stageRun(sample: StageRunSample): void;
}

export function measureStages(
  runner: StageRunner,
  agentType: string,
  metrics: StageRunRecorder,
  clock: () => number = () => performance.now(),
): StageRunner {
  return {
    async run(delivery) {
      const started = clock();
      const seconds = () => (clock() - started) / 1000;
      try {
        const outcome = await runner.run(delivery);
        if (outcome.kind !== 'duplicate') {
          const failureCode = outcome.kind === 'failed' || outcome.kind === 'retry' ? outcome.error.code : undefined;
          metrics.stageRun({ agent: agentType, status: outcome.kind, seconds: seconds(), failureCode, ...labelsOf(outcome) });
        }
        return outcome;
      } catch (error) {
        metrics.stageRun({ agent: agentType, status: 'error', seconds: seconds(), failureCode: 'INTERNAL', ...labelsOf(undefined) });
        throw error;
      }
    },
  };
}
