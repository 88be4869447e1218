// The public shape of the probes (GET /health, /health/ready) and of GET /health/detailed.
// GET /metrics is Prometheus text, not JSON: its document entry names the content type only.
import { z } from 'zod';

export const liveSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });

const componentSchema = z.object({ name: z.string(), ok: z.boolean(), error: z.string().optional() });

export const readySchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    shuttingDown: z.boolean().optional(),
    failing: z.array(z.string()).optional(),
    components: z.array(componentSchema),
  })
  .meta({ id: 'Readiness' });

const sectionError = z.object({ error: z.string() });

/** The switches this API process reads from its feature flags; intended states, so they never make the answer `degraded`. */
export const flagsHealthSchema = z
  .object({
    agentsSwitchedOff: z
      .array(z.object({ agent: z.string(), flag: z.string() }))
      .meta({ description: 'Agent types whose kill switch (`agent.<type>.kill`) is on: their queued stages wait.' }),
    platform: z
      .record(z.string(), z.boolean())
      .meta({ description: 'Each platform switch by flag name (`platform.webhooks`, `platform.auto-approval`): true = on.' }),
  })
  .meta({ id: 'FlagsHealth' });

export const detailedHealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    uptimeSeconds: z.number(),
    components: z.array(componentSchema.extend({ latencyMs: z.number() })),
    queues: z.union([z.record(z.string(), z.record(z.string(), z.number())), sectionError]),
    workers: z.union([z.record(z.string(), z.number()), sectionError]).optional(),
    breakers: z.union([z.record(z.string(), z.unknown()), sectionError]),
    flags: flagsHealthSchema.optional(),
    memory: z.record(z.string(), z.number()),
    /** Every configuration variable of the API process, secrets as `••••(length)`, URL passwords as `••••`. */
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'DetailedHealth' });

export type LiveBody = z.input<typeof liveSchema>;
export type ReadyBody = z.input<typeof readySchema>;
export type DetailedHealthBody = z.input<typeof detailedHealthSchema>;
export type FlagsHealthBody = z.input<typeof flagsHealthSchema>;
