// The decision policy: which agent decisions approve themselves, which wait for a human, who
// that human is and what happens when nobody answers in time.
import { z } from 'zod';
import { DURATION_UNITS_MS, durationSchemaUpTo } from './duration.js';
import { ForbiddenError, ValidationError, type ErrorDetail } from './errors.js';
import { can, type Identity } from './identity.js';
// zod-details, not pipeline-definition: the definition imports DECISION_CATEGORIES from here.
import { zodIssuesToDetails } from './zod-details.js';

export const DECISION_CATEGORIES = [
  'technical_refactor',
  'cost_impacting',
  'security_affecting',
  'architectural_change',
  'data_migration',
] as const;
export type DecisionCategory = (typeof DECISION_CATEGORIES)[number];

/** Deadlines become timers; a decision left open longer than this is a forgotten pipeline. */
export const MAX_DURATION_MS = 30 * DURATION_UNITS_MS.d;

/** `"4h"` → 14_400_000: a positive duration of at most 30 days, in milliseconds. */
export const durationSchema = durationSchemaUpTo(MAX_DURATION_MS, '30 days ("30d")');

const percentSchema = z.number().min(0).max(100);
const approversSchema = z.array(z.string().trim().min(1).max(100)).min(1).max(50);

// The file says `deadline: 4h`; the parsed policy says `deadlineMs: 14400000`, so no reader
// has to guess the unit.
const categoryRuleSchema = z
  .object({
    autoApproveAt: percentSchema,
    alwaysHuman: z.boolean().default(false),
    deadline: durationSchema,
    onDeadline: z.enum(['reject', 'escalate']),
    quorum: z.number().int().min(1).max(10).default(1),
    approvers: approversSchema,
  })
  .strict()
  .transform(({ deadline, ...rule }) => ({ ...rule, deadlineMs: deadline }));

const categoriesShape = {
  technical_refactor: categoryRuleSchema,
  cost_impacting: categoryRuleSchema,
  security_affecting: categoryRuleSchema,
  architectural_change: categoryRuleSchema,
  data_migration: categoryRuleSchema,
} satisfies Record<DecisionCategory, typeof categoryRuleSchema>;

export const decisionPolicySchema = z
  .object({
    version: z.string().min(1).max(64),
    /** Confidence (percent) under which any decision goes to the escalation approvers. */
    escalateBelow: percentSchema,
    categories: z.object(categoriesShape).strict(),
    /**
     * Separation of duties: in these categories whoever submitted a pipeline may not answer its
     * decisions (default: security_affecting and cost_impacting).
     */
    separationOfDuties: z
      .array(z.enum(DECISION_CATEGORIES))
      .max(DECISION_CATEGORIES.length)
      .default(['security_affecting', 'cost_impacting']),
    /** After this deadline an escalated decision is rejected as expired. */
    escalation: z
      .object({ approvers: approversSchema, deadline: durationSchema })
      .strict()
      .transform(({ deadline, ...rest }) => ({ ...rest, deadlineMs: deadline })),
  })
  .strict()
  // A stage starts on its own when its confidence reaches autoApproveAt, before the escalation
  // floor is looked at: a threshold under the floor would let low confidence through unseen.
  .superRefine((policy, ctx) => {
    for (const category of DECISION_CATEGORIES) {
      const rule = policy.categories[category];
      if (!rule.alwaysHuman && rule.autoApproveAt < policy.escalateBelow) {
        ctx.addIssue({
          code: 'custom',
          path: ['categories', category, 'autoApproveAt'],
          message: `must be at least escalateBelow (${policy.escalateBelow}) unless the category is alwaysHuman`,
        });
      }
    }
  });

/** The parsed policy: every `deadline` is a `deadlineMs` number. */
export type DecisionPolicy = z.infer<typeof decisionPolicySchema>;
export type CategoryRule = DecisionPolicy['categories'][DecisionCategory];

/** Validates a raw policy (parsed YAML or JSON); throws a ValidationError naming every bad field. */
export function parseDecisionPolicy(raw: unknown): DecisionPolicy {
  const parsed = decisionPolicySchema.safeParse(raw);
  if (!parsed.success)
    throw new ValidationError('VALIDATION_FAILED', 'The decision policy is invalid.', { details: zodIssuesToDetails(parsed.error) });
  return parsed.data;
}

// The real SDLC agents and their simulated stand-ins (`sim_*`) imply the same category.
const CATEGORY_BY_AGENT: Readonly<Record<string, DecisionCategory>> = {
  scaffold: 'architectural_change',
  sim_scaffold: 'architectural_change',
  integration: 'architectural_change',
  sim_integration: 'architectural_change',
  deployment: 'cost_impacting',
  sim_deployment: 'cost_impacting',
  migration: 'data_migration',
};

/** The category an agent type implies (scaffold, integration, deployment, migration and their stand-ins); undefined for any other. */
export function impliedCategory(agentType: string): DecisionCategory | undefined {
  return Object.hasOwn(CATEGORY_BY_AGENT, agentType) ? CATEGORY_BY_AGENT[agentType] : undefined;
}

/** The category of a stage's decision: the one the stage declares, else one implied by its agent type. */
export function categoryForStage(agentType: string, declared?: DecisionCategory): DecisionCategory {
  return declared ?? impliedCategory(agentType) ?? 'technical_refactor';
}

/** What the category rule reads of a stage. */
export interface CategorizedStage {
  agent: string;
  category?: DecisionCategory;
}

/** True when a stage declares a category other than the one its agent type implies. */
function overridesImplied(stage: { agent?: unknown; category?: unknown }): boolean {
  const implied = typeof stage.agent === 'string' ? impliedCategory(stage.agent) : undefined;
  return stage.category !== undefined && implied !== undefined && stage.category !== implied;
}

/**
 * 403 CATEGORY_FORBIDDEN unless the identity may declare these stages' categories: on an agent
 * type that implies a category, declaring another one (a `deployment` stage as
 * `technical_refactor`) needs the `override_category` permission (operators, admins), since it
 * changes which rule and which approvers the stage meets. A category declared on any other agent
 * type only routes its decision to other approvers, and is allowed. One detail per offending
 * stage, naming `stages[i].category`.
 */
export function checkCategoriesAllowed(stages: readonly CategorizedStage[], identity: Pick<Identity, 'roles' | 'name'>): void {
  if (can(identity, 'override_category')) return;
  const details: ErrorDetail[] = [];
  stages.forEach((stage, i) => {
    if (!overridesImplied(stage)) return;
    details.push({
      field: `stages[${i}].category`,
      message: `agent "${stage.agent}" implies "${impliedCategory(stage.agent)}"; declaring "${stage.category}" needs the override_category permission (operator or admin)`,
    });
  });
  if (details.length === 0) return;
  throw new ForbiddenError(
    'CATEGORY_FORBIDDEN',
    `${identity.name} may not declare a decision category other than the one a stage's agent type implies; that needs the operator role.`,
    { details },
  );
}

/**
 * The stages a re-run takes over (as stored, so read loosely), for a re-runner who may not
 * override categories: a category declared against the one its agent type implies is dropped,
 * so that the stage meets its implied category's rule (as `inheritedPriority` lowers `urgent`);
 * everything else stays as it was.
 */
export function inheritedCategories(stages: readonly unknown[], identity: Pick<Identity, 'roles'>): unknown[] {
  if (can(identity, 'override_category')) return [...stages];
  return stages.map((stage) => {
    if (!stage || typeof stage !== 'object' || !overridesImplied(stage)) return stage;
    const { category: _dropped, ...rest } = stage as Record<string, unknown>;
    return rest;
  });
}

/**
 * A confidence is a percent everywhere in this project: a finite number in [0, 100] comes back as
 * is, anything else (a string, NaN, 150) is null. A fraction such as 0.85 means 0.85%, not 85%.
 */
export function normalizeConfidence(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100 ? value : null;
}

/** The confidence at which a category approves itself; null when it always needs a human. */
export function autoApproveThreshold(policy: DecisionPolicy, category: DecisionCategory): number | null {
  const rule = policy.categories[category];
  return rule.alwaysHuman ? null : rule.autoApproveAt;
}

export interface DecisionEvaluation {
  outcome: 'auto_approve' | 'human' | 'escalate';
  category: DecisionCategory;
  /** The category's autoApproveAt, also when the outcome did not depend on it. */
  threshold: number;
  /** The confidence used: a missing one counts as 100. */
  confidence: number;
  alwaysHuman: boolean;
  approvers: string[];
  quorum: number;
  deadlineMs: number;
  onDeadline: 'reject' | 'escalate';
  reason: string;
}

/**
 * Decides who settles a decision. Below the policy's escalation floor it escalates whatever the
 * category (an escalation is a single approval that is rejected as expired at its deadline);
 * else an always-human category goes to its approvers; else the confidence must reach the
 * category's autoApproveAt. A missing (null) confidence counts as 100; pass confidences through
 * normalizeConfidence first, since anything outside [0, 100] throws a RangeError.
 */
export function evaluateDecision(policy: DecisionPolicy, category: DecisionCategory, confidence: number | null): DecisionEvaluation {
  if (confidence !== null && normalizeConfidence(confidence) === null) {
    throw new RangeError(`confidence must be a percent between 0 and 100, got ${confidence}`);
  }
  const rule = policy.categories[category];
  const used = confidence ?? 100;
  const shown = confidence === null ? 'confidence not reported (counted as 100%)' : `confidence ${used}%`;
  const base = { category, threshold: rule.autoApproveAt, confidence: used, alwaysHuman: rule.alwaysHuman };
  const toApprovers = { approvers: [...rule.approvers], quorum: rule.quorum, deadlineMs: rule.deadlineMs, onDeadline: rule.onDeadline };

  if (used < policy.escalateBelow) {
    return {
      ...base,
      outcome: 'escalate',
      approvers: [...policy.escalation.approvers],
      quorum: 1,
      deadlineMs: policy.escalation.deadlineMs,
      onDeadline: 'reject',
      reason: `${shown} is below the escalation floor ${policy.escalateBelow}%`,
    };
  }
  if (rule.alwaysHuman) {
    return { ...base, ...toApprovers, outcome: 'human', reason: `${category} decisions always need a human` };
  }
  if (used >= rule.autoApproveAt) {
    return {
      ...base,
      ...toApprovers,
      outcome: 'auto_approve',
      reason: `${shown} reaches the ${category} auto-approve threshold ${rule.autoApproveAt}%`,
    };
  }
  return {
    ...base,
    ...toApprovers,
    outcome: 'human',
    reason: `${shown} is below the ${category} auto-approve threshold ${rule.autoApproveAt}%`,
  };
}

export const DECISION_ID_PATTERN = /^DEC-\d{4}-\d{5,}$/;

/** `DEC-2026-00042`: the year and a per-year sequence, zero-padded to five digits (wider past 99999). */
export function formatDecisionId(year: number, sequence: number): string {
  if (!Number.isInteger(year) || year < 1000 || year > 9999) throw new RangeError(`year must be a four-digit integer, got ${year}`);
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw new RangeError(`sequence must be a positive integer, got ${sequence}`);
  return `DEC-${year}-${String(sequence).padStart(5, '0')}`;
}
