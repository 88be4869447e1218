// Records each stage attempt's duration, outcome and failure code around a runner. Duplicate
// deliveries ran nothing, so they are not counted; a thrown error counts as `error`.
import type { StageRunner } from '../services/stage-runner.service.js';

export interface StageRunSample {
  agent: string;
  status: string;
  seconds: number;
  failureCode?: string | undefined;
}

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
          metrics.stageRun({ agent: agentType, status: outcome.kind, seconds: seconds(), failureCode });
        }
        return outcome;
      } catch (error) {
        metrics.stageRun({ agent: agentType, status: 'error', seconds: seconds(), failureCode: 'INTERNAL' });
        throw error;
      }
    },
  };
}
