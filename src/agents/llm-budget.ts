// The token budget of a pipeline's `llm` stages: where the budget is set, what upstream stages
// spent (each llm output carries a ledger of every llm stage above it, by stage key, so a diamond
// counts once). Pure.
import { z } from 'zod';
import type { JsonObject, JsonValue } from '../domain/json.js';

/** The key of the cost_impacting decision an overspend asks for (ctx.requestDecision). */
export const BUDGET_DECISION_KEY = 'llm-budget';

const pipelineBudget = z.object({ llm: z.object({ tokenBudget: z.number().int().nonnegative() }).loose() }).loose();
const ledgerCarrier = z
  .object({
    tokenLedger: z.record(z.string(), z.number().nonnegative()).optional(),
    usage: z.object({ totalTokens: z.number().nonnegative() }).loose().optional(),
  })
  .loose();

/** The budget in force: the stage's own, else the pipeline input's `llm.tokenBudget`; undefined for none. */
export function tokenBudgetOf(stageBudget: number | undefined, pipelineInput: JsonObject): number | undefined {
  if (stageBudget !== undefined) return stageBudget;
  const parsed = pipelineBudget.safeParse(pipelineInput);
  return parsed.success ? parsed.data.llm.tokenBudget : undefined;
}

/**
 * The tokens spent by the llm stages upstream, by stage key: the union of the dependencies'
 * ledgers, and a dependency's own `usage.totalTokens` when it carries no ledger.
 */
export function upstreamLedger(dependencies: Record<string, JsonValue>): Record<string, number> {
  const ledger: Record<string, number> = {};
  for (const [key, output] of Object.entries(dependencies)) {
    const parsed = ledgerCarrier.safeParse(output);
    if (!parsed.success) continue;
    if (parsed.data.tokenLedger) Object.assign(ledger, parsed.data.tokenLedger);
    else if (parsed.data.usage) ledger[key] = parsed.data.usage.totalTokens;
  }
  return ledger;
}

export const spentIn = (ledger: Record<string, number>): number => Object.values(ledger).reduce((sum, n) => sum + n, 0);
