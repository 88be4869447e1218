// The public shape of the probes (GET /health, /health/ready) and of GET /health/detailed.
// GET /metrics is Prometheus text, not JSON: its document entry names the content type only.
import { z } from 'zod';

export const liveSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });

const componentSchema = z.object({ name: z.string(), ok: z.boolean(), error: z.string().optional() });

/** A section that could not be read; the rest of the answer is still given. */
const sectionError = z.object({ error: z.string() });

const workersSchema = z
  .record(z.string(), z.number())
  .meta({ description: 'Workers online per agent type, and `conductor` for the control queue (0: nothing consumes it).' });

/** The filesystem holding WORKSPACE_ROOT (src/domain/workspace-disk.ts). */
export const workspaceDiskSchema = z
  .object({
    path: z.string().meta({ description: 'WORKSPACE_ROOT, absolute.' }),
    freeBytes: z.number().meta({ description: 'Bytes an unprivileged process can still write there.' }),
    totalBytes: z.number(),
    freeRatio: z.number().meta({ description: '`freeBytes / totalBytes`, to 4 decimals.' }),
    minFreeBytes: z.number().meta({ description: 'WORKSPACE_DISK_MIN_FREE_MB in bytes.' }),
    ok: z.boolean().meta({ description: 'False when `freeBytes` is below `minFreeBytes`.' }),
  })
  .meta({ id: 'WorkspaceDisk' });

/** Agent types paused by an operator (docs/pipeline-operations.md, "Pause and resume"). */
export const pausedAgentsSchema = z
  .array(
    z.object({
      agent: z.string(),
      since: z.string().nullable().meta({ description: 'When it was paused (ISO 8601); null: paused outside the platform, no record.' }),
      by: z.string().nullable().meta({ description: 'Who paused it (identity id); null: paused outside the platform.' }),
      reason: z.string().nullable(),
    }),
  )
  .meta({ description: 'Agent types whose queue is paused for every worker: their jobs wait. An intended state, never `degraded`.' });

export const readySchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    shuttingDown: z.boolean().optional(),
    failing: z.array(z.string()).optional(),
    components: z.array(componentSchema),
    // Information only: neither ever makes readiness 503. Absent while shutting down.
    workers: z.union([workersSchema, sectionError]).optional(),
    workspaceDisk: z
      .union([workspaceDiskSchema.omit({ path: true }).meta({ id: 'PublicWorkspaceDisk' }), sectionError])
      .optional()
      .meta({ description: 'The workspace disk without its `path` (in /health/detailed): this answer is public.' }),
    pausedAgents: z
      .union([
        z.array(z.string()).meta({ description: 'Agent types whose queue is paused (their jobs wait); never a reason for 503.' }),
        sectionError,
      ])
      .optional(),
  })
  .meta({ id: 'Readiness' });

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
    workers: z.union([workersSchema, sectionError]).optional(),
    /** `ok: false` makes `status` degraded. */
    workspaceDisk: z.union([workspaceDiskSchema, sectionError]).optional(),
    breakers: z.union([z.record(z.string(), z.unknown()), sectionError]),
    flags: flagsHealthSchema.optional(),
    pausedAgents: z.union([pausedAgentsSchema, sectionError]).optional(),
    memory: z.record(z.string(), z.number()),
    /** Every configuration variable of the API process, secrets as `••••(length)`, URL passwords as `••••`. */
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'DetailedHealth' });

export type LiveBody = z.input<typeof liveSchema>;
export type ReadyBody = z.input<typeof readySchema>;
export type DetailedHealthBody = z.input<typeof detailedHealthSchema>;
export type FlagsHealthBody = z.input<typeof flagsHealthSchema>;
export type PausedAgentsBody = z.input<typeof pausedAgentsSchema>;
