// The built-in SDLC agents are simulators: they do no real work, but report the output,
// metrics and confidence a real agent would, so gates and the decision policy can be tried
// and tested end to end. `input.simulate` overrides what they report. Each registers a second
// version, NEXT_SIMULATED_VERSION, for gradual rollouts and shadow runs: it reports the same, with
// `input.simulate.next` over it, so the two versions can be made to disagree on purpose.
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { defineAgent, type Agent } from '../define-agent.js';

const metricValue = z.union([z.number(), z.string(), z.boolean()]);

/** The incumbent version of every simulated agent. */
export const SIMULATED_VERSION = '1.0.0';
/** The candidate (`next`) version of every simulated agent. */
export const NEXT_SIMULATED_VERSION = '1.1.0';

const reportSchema = {
  /** Merged over the agent's default metrics (what its quality gates read). */
  metrics: z.record(z.string().max(100), metricValue).optional(),
  /** Percent 0–100, reported as `output.confidence` (the decision policy reads it downstream). */
  confidence: z.number().min(0).max(100).optional(),
};

export const simulateSchema = z
  .object({
    ...reportSchema,
    delayMs: z.number().int().min(0).max(600_000).optional(),
    /** What the next version reports instead (over the above); the incumbent ignores it. */
    next: z.object(reportSchema).strict().optional(),
  })
  .strict();

type Simulate = z.output<typeof simulateSchema>;

export interface SimulatedAgentSpec {
  type: string;
  description: string;
  metrics: Record<string, number | string | boolean>;
  summary: string;
}

export function defineSimulatedAgent({ type, description, metrics, summary }: SimulatedAgentSpec): Agent {
  /** Waits `delayMs`, then reports the defaults with `overrides` merged over them in order. */
  const simulate = async (
    simulated: Simulate | undefined,
    overrides: (Omit<Simulate, 'delayMs' | 'next'> | undefined)[],
    { signal, reportMetrics }: { signal: AbortSignal; reportMetrics(values: Record<string, number | string | boolean>): void },
  ) => {
    if (simulated?.delayMs) await delay(simulated.delayMs, undefined, { signal });
    const reported = Object.assign({ ...metrics }, ...overrides.map((o) => o?.metrics));
    const confidence = overrides.reduce<number>((current, o) => o?.confidence ?? current, 95);
    reportMetrics(reported);
    return { summary, confidence, metrics: reported };
  };
  return defineAgent({
    type,
    version: SIMULATED_VERSION,
    description: `${description} (simulated: set input.simulate to change what it reports)`,
    input: z.object({ simulate: simulateSchema.optional() }).loose(),
    output: z.object({ summary: z.string(), confidence: z.number(), metrics: z.record(z.string(), metricValue) }).loose(),
    handler: ({ input, ...ctx }) => simulate(input.simulate, [input.simulate], ctx),
    next: {
      version: NEXT_SIMULATED_VERSION,
      handler: ({ input, ...ctx }) => simulate(input.simulate, [input.simulate, input.simulate?.next], ctx),
    },
  });
}
