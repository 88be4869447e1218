// The built-in SDLC agents are simulators: they do no real work, but report the output,
// metrics and confidence a real agent would, so gates and the decision policy can be tried
// and tested end to end. `input.simulate` overrides what they report.
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { defineAgent, type Agent } from '../define-agent.js';

const metricValue = z.union([z.number(), z.string(), z.boolean()]);

export const simulateSchema = z
  .object({
    /** Merged over the agent's default metrics (what its quality gates read). */
    metrics: z.record(z.string().max(100), metricValue).optional(),
    /** Percent 0–100, reported as `output.confidence` (the decision policy reads it downstream). */
    confidence: z.number().min(0).max(100).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
  })
  .strict();

export interface SimulatedAgentSpec {
  type: string;
  description: string;
  metrics: Record<string, number | string | boolean>;
  summary: string;
}

export function defineSimulatedAgent({ type, description, metrics, summary }: SimulatedAgentSpec): Agent {
  return defineAgent({
    type,
    version: '1.0.0',
    description: `${description} (simulated: set input.simulate to change what it reports)`,
    input: z.object({ simulate: simulateSchema.optional() }).loose(),
    output: z.object({ summary: z.string(), confidence: z.number(), metrics: z.record(z.string(), metricValue) }).loose(),
    handler: async ({ input, signal, reportMetrics }) => {
      if (input.simulate?.delayMs) await delay(input.simulate.delayMs, undefined, { signal });
      const reported = { ...metrics, ...input.simulate?.metrics };
      reportMetrics(reported);
      return { summary, confidence: input.simulate?.confidence ?? 95, metrics: reported };
    },
  });
}
