// Whether a shadow run's candidate agreed with the incumbent it ran beside, and why not: pure
// rules over the two sides' outcomes, gate verdicts and outputs (src/services/shadow-runner.ts
// records what these return; GET /api/v1/agents/:type/canary reports them).
import type { GateResult } from './gates.js';
import type { JsonValue } from './json.js';

/**
 * How one side of a shadow run ended:
 * - `succeeded`: the handler returned an output within its contract and every blocking gate held;
 * - `gate_failed`: it returned an output, but a blocking gate did not hold;
 * - `failed`: the handler threw (or timed out): `errorCode` says with what;
 * - `asked_clarification`: the handler asked a human (a clarification, or a decision through requestDecision).
 */
export const SHADOW_STATUSES = ['succeeded', 'gate_failed', 'failed', 'asked_clarification'] as const;
export type ShadowStatus = (typeof SHADOW_STATUSES)[number];

/** What the rules compare of one side. */
export interface ShadowSide {
  status: ShadowStatus;
  /** The gate results of an output (`succeeded`, `gate_failed`); empty otherwise. */
  gates: readonly GateResult[];
  /** The error code of a `failed` side; null otherwise. */
  errorCode: string | null;
  /** The output of a `succeeded` or `gate_failed` side; null otherwise. */
  output: JsonValue | null;
}

export interface ShadowAgreement {
  agreed: boolean;
  /** Why they did not agree, one line each (`gate coverage: incumbent pass, candidate fail`); empty when they agreed. */
  disagreements: string[];
  /** Deep JSON equality of the outputs, key order ignored; false unless both produced one. Informative only. */
  outputsEqual: boolean;
}

/** The status of a side that produced an output: whether its blocking gates held. */
export function statusOfOutput(gates: readonly GateResult[]): 'succeeded' | 'gate_failed' {
  return gates.some((g) => g.verdict === 'failed') ? 'gate_failed' : 'succeeded';
}

const ranToOutput = (side: ShadowSide) => side.status === 'succeeded' || side.status === 'gate_failed';

const VERDICT_WORD: Readonly<Record<GateResult['verdict'], string>> = { passed: 'pass', failed: 'fail', warned: 'warn' };

/** One rule's identity: both sides evaluate the stage's own rules, so equal keys are the same rule. */
const ruleKey = (g: GateResult) => JSON.stringify([g.metric, g.operator, g.threshold, g.severity]);

/**
 * Gate verdicts rule by rule. A rule is named by its metric, or by metric, operator and threshold
 * when the stage has several rules over one metric.
 */
function gateDisagreements(incumbent: readonly GateResult[], candidate: readonly GateResult[]): string[] {
  const rulesOver = (side: readonly GateResult[], metric: string) => side.filter((g) => g.metric === metric).length;
  const nameOf = (g: GateResult) =>
    Math.max(rulesOver(incumbent, g.metric), rulesOver(candidate, g.metric)) > 1
      ? `${g.metric} ${g.operator} ${JSON.stringify(g.threshold)}`
      : g.metric;
  const candidateByRule = new Map(candidate.map((g) => [ruleKey(g), g]));
  const reasons: string[] = [];
  for (const mine of incumbent) {
    const theirs = candidateByRule.get(ruleKey(mine));
    candidateByRule.delete(ruleKey(mine));
    const theirVerdict = theirs ? VERDICT_WORD[theirs.verdict] : 'not evaluated';
    if (theirs?.verdict !== mine.verdict) {
      reasons.push(`gate ${nameOf(mine)}: incumbent ${VERDICT_WORD[mine.verdict]}, candidate ${theirVerdict}`);
    }
  }
  for (const theirs of candidateByRule.values()) {
    reasons.push(`gate ${nameOf(theirs)}: incumbent not evaluated, candidate ${VERDICT_WORD[theirs.verdict]}`);
  }
  return reasons;
}

function describe(side: ShadowSide): string {
  if (side.status === 'failed') return `failed: ${side.errorCode ?? 'unknown error'}`;
  if (side.status === 'asked_clarification') return 'asked for clarification';
  return side.status === 'succeeded' ? 'passed its gates' : 'failed its gates';
}

/**
 * Compares a candidate with the incumbent. They agree when both produced an output with the same
 * verdict on every gate rule (hence the same overall pass or fail), when both failed with the same
 * error code, or when both asked for clarification. Outputs are compared too, but whether they
 * are equal does not decide agreement: agents word things differently from one version to the
 * next, and the gates are what decides whether a result may flow downstream.
 */
export function compareShadow(incumbent: ShadowSide, candidate: ShadowSide): ShadowAgreement {
  const outputsEqual = ranToOutput(incumbent) && ranToOutput(candidate) && jsonEqual(incumbent.output, candidate.output);
  const disagreements: string[] = [];
  if (ranToOutput(incumbent) && ranToOutput(candidate)) {
    disagreements.push(...gateDisagreements(incumbent.gates, candidate.gates));
    if (incumbent.status !== candidate.status) {
      disagreements.push(
        `gates overall: incumbent ${VERDICT_WORD[incumbent.status === 'succeeded' ? 'passed' : 'failed']}, candidate ${
          VERDICT_WORD[candidate.status === 'succeeded' ? 'passed' : 'failed']
        }`,
      );
    }
  } else if (incumbent.status === 'failed' && candidate.status === 'failed') {
    if (incumbent.errorCode !== candidate.errorCode) {
      disagreements.push(`error code: incumbent ${incumbent.errorCode ?? 'unknown'}, candidate ${candidate.errorCode ?? 'unknown'}`);
    }
  } else if (incumbent.status !== candidate.status) {
    // One side produced an output (or asked) and the other did not: name what each did.
    if (!ranToOutput(candidate)) disagreements.push(`candidate ${describe(candidate)}`);
    if (!ranToOutput(incumbent)) disagreements.push(`incumbent ${describe(incumbent)}`);
  }
  return { agreed: disagreements.length === 0, disagreements, outputsEqual };
}

/** Deep equality of two JSON values: object key order is ignored, array order is not. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}
