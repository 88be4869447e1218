// The public shape of the audit trail (GET /api/v1/audit) and of the caller's identity
// (GET /api/v1/whoami), their request schemas, and the mapping from the audit log's view.
import { z } from 'zod';
import type { Identity } from '../../domain/identity.js';
import { AUDIT_ACTIONS, type AuditEventView } from '../../services/identity.ports.js';
import { cursorPage, isoDate, jsonObject, toIso, uuidInput, wholeNumberParam } from './common.schema.js';

export const AUDIT_CURSOR_PATTERN = /^\d{1,19}$/;
export const AUDIT_TARGET_TYPES = [
  'pipeline',
  'decision',
  'clarification',
  'dlq_job',
  'api_key',
  'queue',
  'agent',
  'schedule',
  'webhook_delivery',
] as const;

export const auditListQuerySchema = z
  .object({
    action: z.enum(AUDIT_ACTIONS).optional(),
    identity: z.string().min(1).max(200).optional(),
    targetType: z.enum(AUDIT_TARGET_TYPES).optional(),
    targetId: z.string().min(1).max(200).optional(),
    pipelineId: uuidInput().optional(),
    since: z.iso.datetime({ offset: true, error: 'an ISO 8601 date-time' }).optional(),
    until: z.iso.datetime({ offset: true, error: 'an ISO 8601 date-time' }).optional(),
    limit: wholeNumberParam(1, 500).default(100),
    cursor: z.string().regex(AUDIT_CURSOR_PATTERN, 'not a cursor returned by this API').optional(),
  })
  .strict();

const identitySchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  via: z.string(),
  roles: z.array(z.string()),
});

export const auditEventSchema = z
  .object({
    id: z.string().meta({ description: 'A decimal event id; also the page cursor.' }),
    at: isoDate,
    action: z.string(),
    identity: identitySchema,
    requestId: z.string().nullable(),
    sourceAddress: z.string().nullable(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    pipelineId: z.string().nullable(),
    data: jsonObject,
  })
  .meta({ id: 'AuditEvent' });

export const auditPageSchema = cursorPage(auditEventSchema).meta({ id: 'AuditPage' });

export const whoamiSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['user', 'service']),
    via: z.enum(['api_key', 'jwt', 'cli', 'metrics_token']),
    roles: z.array(z.string()),
  })
  .meta({ id: 'Identity' });

export function toAuditEventBody(e: AuditEventView): z.input<typeof auditEventSchema> {
  return {
    id: e.id,
    at: toIso(e.at),
    action: e.action,
    identity: { id: e.identity.id, name: e.identity.name, kind: e.identity.kind, via: e.identity.via, roles: e.identity.roles },
    requestId: e.requestId,
    sourceAddress: e.sourceAddress,
    targetType: e.targetType,
    targetId: e.targetId,
    pipelineId: e.pipelineId,
    data: e.data,
  };
}

export const toWhoamiBody = (identity: Identity): z.input<typeof whoamiSchema> => ({
  id: identity.id,
  name: identity.name,
  kind: identity.kind,
  via: identity.via,
  roles: [...identity.roles],
});
