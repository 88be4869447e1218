// Between "ready" and "queued": the decision policy decides whether a ready stage starts on its
// own or waits for a human. Pure: the conductor applies the result in one guarded statement.
import { evaluateDecision, type DecisionCategory, type DecisionPolicy } from './decision-policy.js';
import { PLATFORM_SWITCHES } from './feature-flags.js';
import type { Plan, PlanStage } from './planner.js';
import { autoApproved, type AdmissionFacts } from './stage-lifecycle.js';

/** A stage as the conductor plans it: the planner's view plus what the policy needs. */
export interface PolicyStage extends PlanStage, AdmissionFacts {
  category: DecisionCategory;
}

/** A ready stage held for a human: its decision is opened with the stage's move to `waiting`. */
export interface HoldRequest {
  key: string;
  category: DecisionCategory;
  status: 'pending' | 'escalated';
  confidence: number;
  threshold: number;
  quorum: number;
  approvers: string[];
  onDeadline: 'reject' | 'escalate';
  deadlineMs: number;
  reason: string;
}

export interface ConductorPlan extends Plan {
  hold: HoldRequest[];
  /** The policy the holds were decided under (approvers, quorum, deadline). */
  policyVersion: string;
}

/**
 * Splits the planner's dispatch list: stages the policy auto-approves stay in it, the others
 * become hold requests. The thresholds were fixed on the stage at submission
 * (`autoApproveAt`), so a policy file changed mid-flight does not change a running pipeline's
 * automatic starts; the human side (approvers, quorum, deadline) follows the policy loaded now.
 * `autoApproval` false (the `platform.auto-approval` switch off): a stage its confidence would
 * have started is held too, and its decision's reason says so.
 */
export function admitStages(
  plan: Plan,
  stages: readonly PolicyStage[],
  policy: DecisionPolicy,
  { autoApproval = true }: { autoApproval?: boolean } = {},
): ConductorPlan {
  const byKey = new Map(stages.map((s) => [s.key, s]));
  const dispatch: string[] = [];
  const hold: HoldRequest[] = [];
  for (const key of plan.dispatch) {
    const stage = byKey.get(key)!;
    const confidence = stage.confidence ?? 100;
    if (autoApproved(stage, autoApproval)) {
      dispatch.push(key);
      continue;
    }
    const switchedOff = !autoApproval && autoApproved(stage);
    const verdict = evaluateDecision(policy, stage.category, stage.confidence);
    hold.push({
      key,
      category: stage.category,
      status: verdict.outcome === 'escalate' ? 'escalated' : 'pending',
      confidence,
      threshold: verdict.threshold,
      quorum: verdict.quorum,
      approvers: verdict.approvers,
      onDeadline: verdict.outcome === 'escalate' ? 'reject' : verdict.onDeadline,
      deadlineMs: verdict.deadlineMs,
      reason: switchedOff ? `auto-approval is switched off (${PLATFORM_SWITCHES.autoApproval.name}): ${verdict.reason}` : verdict.reason,
    });
  }
  return { ...plan, dispatch, hold, policyVersion: policy.version };
}
