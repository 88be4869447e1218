// Agents used only by tests.
import { z } from 'zod';
import { BUILT_IN_AGENTS } from '../../src/agents/catalog.js';
import { defineAgent } from '../../src/agents/define-agent.js';
import { jsonObjectSchema } from '../../src/domain/json.js';

/** Returns what its context held: dependency outputs, pipeline input, attempt. */
export const inspectAgent = defineAgent({
  type: 'inspect',
  version: '1.0.0',
  input: jsonObjectSchema,
  output: jsonObjectSchema,
  handler: async ({ input, dependencies, pipelineInput, attempt, reportMetrics }) => {
    reportMetrics({ coverage: 91.5, lintErrors: 0 });
    return { input, dependencies, pipelineInput, attempt };
  },
});

/** Returns output that breaks its own contract: the stage must fail without retrying. */
export const badOutputAgent = defineAgent({
  type: 'bad_output',
  version: '1.0.0',
  input: jsonObjectSchema,
  output: z.object({ ok: z.literal(true) }),
  // Deliberately breaks its own contract.
  handler: async () => ({ ok: false }) as unknown as { ok: true },
});

export const TEST_AGENTS = [...BUILT_IN_AGENTS, inspectAgent, badOutputAgent];
