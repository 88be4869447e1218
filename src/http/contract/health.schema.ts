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

export const detailedHealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    uptimeSeconds: z.number(),
    components: z.array(componentSchema.extend({ latencyMs: z.number() })),
    queues: z.union([z.record(z.string(), z.record(z.string(), z.number())), sectionError]),
    workers: z.union([z.record(z.string(), z.number()), sectionError]).optional(),
    breakers: z.union([z.record(z.string(), z.unknown()), sectionError]),
    memory: z.record(z.string(), z.number()),
  })
  .meta({ id: 'DetailedHealth' });

export type LiveBody = z.input<typeof liveSchema>;
export type ReadyBody = z.input<typeof readySchema>;
export type DetailedHealthBody = z.input<typeof detailedHealthSchema>;
