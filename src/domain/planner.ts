// The pipeline interpreter: a pure function from the stages' states to the next actions
// (dispatch, skip, cancel) and the pipeline's status. The conductor applies its result.
import { blocksDependants as blocks, satisfiesDependants as satisfies, transition } from './stage-lifecycle.js';
import { TERMINAL_STAGE_STATUSES, type PipelineStatus, type StageStatus } from './status.js';

export interface PlanStage {
  key: string;
  status: StageStatus;
  dependsOn: readonly string[];
  continueOnFailure: boolean;
}

export interface Plan {
  /** Pending stages whose dependencies are all satisfied: queue them now. */
  dispatch: string[];
  /** Pending stages downstream of a failure: they will never run. */
  skip: string[];
  /** Pending, queued or waiting stages of a cancelled pipeline. */
  cancel: string[];
  /** `running` until every stage is terminal. */
  status: Exclude<PipelineStatus, 'queued'>;
  /** When the pipeline fails: the stages whose failure failed it. */
  failedStages: string[];
}

/**
 * Computes what to do next. Idempotent: applying the plan and planning again yields no new
 * dispatch, skip or cancel.
 */
export function planPipeline(stages: readonly PlanStage[], options: { cancelRequested: boolean }): Plan {
  const byKey = new Map(stages.map((s) => [s.key, { ...s }]));
  const plan: Plan = { dispatch: [], skip: [], cancel: [], status: 'running', failedStages: [] };

  if (options.cancelRequested) {
    for (const stage of byKey.values()) {
      if (transition(stage.status, 'cancel').ok) {
        plan.cancel.push(stage.key);
        stage.status = 'cancelled';
      }
    }
  } else {
    // Skips cascade: repeat until a pass changes nothing (depth of the DAG at most).
    let changed = true;
    while (changed) {
      changed = false;
      for (const stage of byKey.values()) {
        if (stage.status !== 'pending') continue;
        const deps = stage.dependsOn.map((key) => byKey.get(key));
        if (deps.some((dep) => dep === undefined || blocks(dep))) {
          stage.status = 'skipped';
          plan.skip.push(stage.key);
          changed = true;
        }
      }
    }
    for (const stage of byKey.values()) {
      if (stage.status === 'pending' && stage.dependsOn.every((key) => satisfies(byKey.get(key)!))) {
        plan.dispatch.push(stage.key);
      }
    }
  }

  const all = [...byKey.values()];
  if (plan.dispatch.length === 0 && all.every((s) => TERMINAL_STAGE_STATUSES.has(s.status))) {
    if (options.cancelRequested || all.some((s) => s.status === 'cancelled')) plan.status = 'cancelled';
    else if (all.some(blocks)) {
      plan.status = 'failed';
      plan.failedStages = all.filter((s) => s.status === 'failed' && !s.continueOnFailure).map((s) => s.key);
    } else plan.status = 'succeeded';
  }
  return plan;
}
