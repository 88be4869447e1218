// The running-pipeline limits every process hands slots out by, read from the configuration in
// one place: the API's submissions, the workers' schedule ticks and the conductor apply the same
// limits and the same aging (docs/admission-control.md, docs/pipeline-operations.md).
import type { Config } from '../config.js';
import type { AdmissionLimits } from '../domain/admission.js';

/** MAX_RUNNING_PIPELINES, MAX_RUNNING_PIPELINES_PER_SUBMITTER and the aging step PRIORITY_AGING_MS. */
export function admissionLimitsFrom(
  config: Pick<Config, 'MAX_RUNNING_PIPELINES' | 'MAX_RUNNING_PIPELINES_PER_SUBMITTER' | 'PRIORITY_AGING_MS'>,
): AdmissionLimits {
  return {
    maxRunning: config.MAX_RUNNING_PIPELINES,
    maxRunningPerSubmitter: config.MAX_RUNNING_PIPELINES_PER_SUBMITTER,
    agingStepMs: config.PRIORITY_AGING_MS,
  };
}
