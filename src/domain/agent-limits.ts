// Throttling per agent type (AGENT_LIMITS): how many jobs of a type one worker process runs at
// once, and how many may start per window across every process (BullMQ's queue-wide limiter).
// Pure: the shape, its checks against the agent catalog, and what a worker is built with.
import { z } from 'zod';

/** Longest limiter window: a day (a longer one is surely a unit mistake). */
export const MAX_RATE_DURATION_MS = 86_400_000;

const rateSchema = z.strictObject({
  max: z.int().min(1).max(1_000_000),
  durationMs: z.int().min(1).max(MAX_RATE_DURATION_MS),
});

const agentLimitSchema = z.strictObject({
  /** Jobs of this type one worker process runs at once (default: WORKER_CONCURRENCY or --concurrency). */
  concurrency: z.int().min(1).max(1000).optional(),
  /** At most `max` jobs of this type start per `durationMs`, counted across every worker process. */
  rate: rateSchema.optional(),
});

/** AGENT_LIMITS parsed: agent type → its limits. Unknown keys and fields are refused naming them. */
export const agentLimitsSchema = z.record(z.string().min(1), agentLimitSchema);

export type RateLimit = z.output<typeof rateSchema>;
export type AgentLimit = z.output<typeof agentLimitSchema>;
export type AgentLimits = Readonly<Record<string, AgentLimit>>;

/** What one agent type's BullMQ worker is built with. */
export interface WorkerThrottle {
  concurrency: number;
  /** BullMQ's limiter (`duration` in ms); null: no rate limit for this type. */
  rate: { max: number; duration: number } | null;
}

/** The worker settings of `agentType`: its own limits over the process default concurrency. */
export function throttleFor(limits: AgentLimits, agentType: string, defaultConcurrency: number): WorkerThrottle {
  const own = Object.hasOwn(limits, agentType) ? limits[agentType] : undefined;
  return {
    concurrency: own?.concurrency ?? defaultConcurrency,
    rate: own?.rate ? { max: own.rate.max, duration: own.rate.durationMs } : null,
  };
}

/** The agent types AGENT_LIMITS names that the catalog does not know (a typo would limit nothing). */
export function unknownLimitedTypes(limits: AgentLimits, known: Iterable<string>): string[] {
  const types = new Set(known);
  return Object.keys(limits).filter((type) => !types.has(type));
}
