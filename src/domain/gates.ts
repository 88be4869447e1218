// Quality gates: rules over the metrics a stage reports (coverage, lint errors, health checks)
// that decide whether its result may flow downstream.
import { z } from 'zod';

export const GATE_OPERATORS = ['>=', '>', '<=', '<', '==', '!=', 'exists'] as const;
export type GateOperator = (typeof GATE_OPERATORS)[number];

const ORDERING_OPERATORS: ReadonlySet<GateOperator> = new Set(['>=', '>', '<=', '<']);

export const gateRuleSchema = z
  .object({
    metric: z.string().min(1).max(100),
    operator: z.enum(GATE_OPERATORS),
    threshold: z.union([z.number(), z.string(), z.boolean()]).optional(),
    severity: z.enum(['blocking', 'warning']).default('blocking'),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.operator === 'exists') return;
    if (rule.threshold === undefined) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `operator "${rule.operator}" needs a threshold` });
    } else if (ORDERING_OPERATORS.has(rule.operator) && typeof rule.threshold !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `operator "${rule.operator}" needs a numeric threshold` });
    }
  });

export const gateRulesSchema = z.array(gateRuleSchema).max(50);

export type GateRule = z.infer<typeof gateRuleSchema>;
export type GateSeverity = GateRule['severity'];
export type MetricValue = number | string | boolean;

export interface GateResult {
  metric: string;
  operator: GateOperator;
  threshold: MetricValue | null;
  severity: GateSeverity;
  /** The metric as reported; null when it was missing. */
  value: MetricValue | null;
  verdict: 'passed' | 'failed' | 'warned';
  reason: string;
}

export interface GateEvaluation {
  results: GateResult[];
  blockingFailures: GateResult[];
  warnings: GateResult[];
}

const VALIDATION_GATES = Object.freeze([
  { metric: 'typeErrors', operator: '==', threshold: 0, severity: 'blocking' },
  { metric: 'lintErrors', operator: '==', threshold: 0, severity: 'blocking' },
  { metric: 'testsFailed', operator: '==', threshold: 0, severity: 'blocking' },
  { metric: 'coverage', operator: '>=', threshold: 80, severity: 'blocking' },
] satisfies GateRule[]);
const E2E_TEST_GATES = Object.freeze([{ metric: 'failed', operator: '==', threshold: 0, severity: 'blocking' }] satisfies GateRule[]);
// A merge that conflicts is reported by the integration agent, not thrown: this gate fails it.
const INTEGRATION_GATES = Object.freeze([{ metric: 'conflicts', operator: '==', threshold: 0, severity: 'blocking' }] satisfies GateRule[]);
const DEPLOYMENT_GATES = Object.freeze([
  { metric: 'healthCheck', operator: '==', threshold: 'ok', severity: 'blocking' },
] satisfies GateRule[]);

/**
 * The gates a stage gets when its definition declares none, by agent type: the real SDLC agents
 * and their simulated stand-ins (`sim_*`) get the same ones.
 */
export const DEFAULT_GATES: Readonly<Record<string, readonly GateRule[]>> = Object.freeze({
  validation: VALIDATION_GATES,
  sim_validation: VALIDATION_GATES,
  e2e_test: E2E_TEST_GATES,
  sim_e2e_test: E2E_TEST_GATES,
  integration: INTEGRATION_GATES,
  sim_integration: INTEGRATION_GATES,
  deployment: DEPLOYMENT_GATES,
  sim_deployment: DEPLOYMENT_GATES,
});

/**
 * The gates for a stage: its own override when it declares one (an empty array turns gates off),
 * else the defaults for its agent type, else none.
 */
export function resolveGates(agentType: string, override: GateRule[] | undefined): GateRule[] {
  if (override !== undefined) return [...override];
  // hasOwn: an agent type named like an Object.prototype member must not find a "default".
  return Object.hasOwn(DEFAULT_GATES, agentType) ? [...DEFAULT_GATES[agentType]] : [];
}

function isMetricValue(value: unknown): value is MetricValue {
  // NaN and Infinity cannot come through JSON, so they are treated as not reported.
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

const NUMERIC_STRING = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A number, or a string that spells a decimal number (tools often print "85.2"); else null. */
function asNumber(value: MetricValue | null): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMERIC_STRING.test(value.trim())) return Number(value.trim());
  return null;
}

function show(value: MetricValue | null): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function valuesEqual(value: MetricValue, threshold: MetricValue | null): boolean {
  const a = asNumber(value);
  const b = asNumber(threshold);
  if (a !== null && b !== null) return a === b;
  return value === threshold;
}

function holds(operator: GateOperator, value: MetricValue, threshold: MetricValue | null): boolean | string {
  if (operator === '==') return valuesEqual(value, threshold);
  if (operator === '!=') return !valuesEqual(value, threshold);
  const a = asNumber(value);
  const b = asNumber(threshold);
  if (a === null) return `is not a number, so it cannot be compared with ${operator}`;
  if (b === null) return `cannot be compared: the threshold ${show(threshold)} is not a number`;
  if (operator === '>=') return a >= b;
  if (operator === '>') return a > b;
  if (operator === '<=') return a <= b;
  return a < b;
}

function evaluateRule(rule: GateRule, metrics: Readonly<Record<string, unknown>>): GateResult {
  const raw = Object.hasOwn(metrics, rule.metric) ? metrics[rule.metric] : undefined;
  const value = isMetricValue(raw) ? raw : null;
  const threshold = rule.threshold ?? null;
  const base = { metric: rule.metric, operator: rule.operator, threshold, severity: rule.severity, value };
  const verdictIfNot = rule.severity === 'blocking' ? 'failed' : 'warned';

  if (rule.operator === 'exists') {
    return value === null
      ? { ...base, verdict: verdictIfNot, reason: `metric "${rule.metric}" was not reported` }
      : { ...base, verdict: 'passed', reason: `metric "${rule.metric}" was reported` };
  }
  if (value === null) return { ...base, verdict: verdictIfNot, reason: `metric "${rule.metric}" was not reported` };

  const outcome = holds(rule.operator, value, threshold);
  const subject = `${rule.metric} ${show(value)}`;
  if (typeof outcome === 'string') return { ...base, verdict: verdictIfNot, reason: `${subject} ${outcome}` };
  return outcome
    ? { ...base, verdict: 'passed', reason: `${subject} is ${rule.operator} ${show(threshold)}` }
    : { ...base, verdict: verdictIfNot, reason: `${subject} is not ${rule.operator} ${show(threshold)}` };
}

const SUMMARY_CHARS = 500;

/**
 * The GATE_FAILED message: each failed rule's reason (the value against the threshold), then the
 * output's own `summary` when it has one (every SDLC agent writes one), which says why the value is
 * what it is: which checks failed, why the health check failed and what was rolled back.
 */
export function gateFailureMessage(failures: readonly GateResult[], output: unknown): string {
  const reasons = `quality gate(s) failed: ${failures.map((f) => f.reason).join('; ')}`;
  const summary =
    output !== null && typeof output === 'object' && !Array.isArray(output) ? (output as Record<string, unknown>).summary : undefined;
  if (typeof summary !== 'string' || !summary.trim()) return reasons;
  const cut = summary.trim().length > SUMMARY_CHARS ? `${summary.trim().slice(0, SUMMARY_CHARS)}…` : summary.trim();
  return `${reasons} (the stage's output says: ${cut})`;
}

/**
 * Checks every rule against the metrics. Values that are not a string, a boolean or a finite
 * number count as not reported; a rule over a missing metric does not hold (but `exists` only).
 */
export function evaluateGates(rules: readonly GateRule[], metrics: Readonly<Record<string, unknown>>): GateEvaluation {
  const results = rules.map((rule) => evaluateRule(rule, metrics));
  return {
    results,
    blockingFailures: results.filter((r) => r.verdict === 'failed'),
    warnings: results.filter((r) => r.verdict === 'warned'),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The metrics a stage produced: the scalar entries of `output.metrics`, overlaid with those the
 * agent reported explicitly (which win, being the agent's deliberate statement).
 */
export function collectMetrics(output: unknown, reported: Record<string, MetricValue>): Record<string, MetricValue> {
  const collected: Record<string, MetricValue> = {};
  const fromOutput = isPlainObject(output) && isPlainObject(output.metrics) ? output.metrics : {};
  for (const [key, value] of Object.entries({ ...fromOutput, ...reported })) {
    if (isMetricValue(value)) collected[key] = value;
  }
  return collected;
}
