// What `ctx.requestDecision` throws to stop a handler until a person approves something the agent
// must not do on its own (an llm stage about to spend past the pipeline's token budget), and the
// rules of such a decision: it always waits for the category's approvers (an agent that asks
// wants a person, whatever its confidence), with the category's quorum, deadline and deadline
// action; an approval re-runs the stage with it in `input.decisions`, a rejection fails the stage.
import { z } from 'zod';
import { DECISION_CATEGORIES, type DecisionCategory, type DecisionPolicy } from './decision-policy.js';
import type { JsonObject } from './json.js';

/** What the agent asks: `key` names the question, so its handler can find the answer on the re-run. */
export interface AgentDecisionAsk {
  /** Letters, digits, `.`, `_`, `-` (1–64): the same key on the re-run finds the approval. */
  key: string;
  category: DecisionCategory;
  /** One sentence for the approver: what would happen, and why it needs a person. */
  reason: string;
  /** What the approver decides on (figures, a plan); shown with the decision. */
  evidence?: JsonObject;
}

export const DECISION_KEY_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const askSchema = z
  .object({
    key: z.string().regex(DECISION_KEY_PATTERN),
    category: z.enum(DECISION_CATEGORIES),
    reason: z.string().min(1).max(2000),
    evidence: z.record(z.string(), z.json()).optional(),
  })
  .strict();

/** Thrown by `ctx.requestDecision`; the stage runner turns it into a decision on the stage. */
export class DecisionRequest extends Error {
  override readonly name = 'DecisionRequest';
  readonly ask: Required<AgentDecisionAsk>;
  constructor(ask: AgentDecisionAsk) {
    super(`the agent asked for a ${ask.category} decision (${ask.key})`);
    const parsed = askSchema.safeParse(ask);
    if (!parsed.success) {
      // A programming error of the agent, named like any other input problem.
      const issue = parsed.error.issues[0]!;
      throw new TypeError(`requestDecision: ${issue.path.join('.') || 'request'}: ${issue.message}`);
    }
    this.ask = { ...parsed.data, evidence: (parsed.data.evidence ?? {}) as JsonObject };
  }
}

/** The decision an agent's ask opens, under the policy loaded now. */
export interface AgentDecisionHold {
  key: string;
  category: DecisionCategory;
  status: 'pending';
  approvers: string[];
  quorum: number;
  onDeadline: 'reject' | 'escalate';
  deadlineMs: number;
  reason: string;
  evidence: JsonObject;
}

export function agentDecisionHold(policy: DecisionPolicy, ask: Required<AgentDecisionAsk>): AgentDecisionHold {
  const rule = policy.categories[ask.category];
  return {
    key: ask.key,
    category: ask.category,
    status: 'pending',
    approvers: [...rule.approvers],
    quorum: rule.quorum,
    onDeadline: rule.onDeadline,
    deadlineMs: rule.deadlineMs,
    reason: ask.reason,
    evidence: ask.evidence,
  };
}

/** What a re-run finds in `input.decisions`: one entry per approved ask of the stage. */
export const approvedDecisionSchema = z.object({
  key: z.string(),
  decisionId: z.string(),
  category: z.string(),
  approvedBy: z.string(),
  comment: z.string().nullable(),
});
export type ApprovedDecision = z.infer<typeof approvedDecisionSchema>;

/** The approval of `key` among a stage's approved decisions, if it was given. */
export function approvalOf(decisions: readonly ApprovedDecision[] | undefined, key: string): ApprovedDecision | undefined {
  return decisions?.findLast((d) => d.key === key);
}
