// The public shape of API keys (never a secret's hash; the secret itself only in the answer that
// issues it), the request schemas of /api/v1/keys, and the mapping from the key service's views.
import { z } from 'zod';
import { DEFAULT_ROTATION_OVERLAP_MS, keyLifetimeSchema, rotationOverlapSchema } from '../../domain/identity.js';
import type { IssuedKey } from '../../services/api-key.service.js';
import type { ApiKeyView } from '../../services/identity.ports.js';
import { isoDate, itemList, toIso, toIsoOrNull } from './common.schema.js';

// --- requests -------------------------------------------------------------------------------

export const keyCreateSchema = z
  .object({
    name: z.string().min(1).max(100),
    roles: z.array(z.string().max(64)).min(1).max(20),
    kind: z.enum(['user', 'service']).default('user'),
    /** "30d", "12h"…; absent: never expires. */
    expiresIn: keyLifetimeSchema.optional(),
  })
  .strict();

export const keyRotateSchema = z
  .object({
    /** How long the old key keeps working ("1h" by default; "0s" is refused, revoke instead). */
    overlap: rotationOverlapSchema.default(DEFAULT_ROTATION_OVERLAP_MS),
    expiresIn: keyLifetimeSchema.optional(),
  })
  .strict();

export const keyListQuerySchema = z.object({ include: z.enum(['inactive']).optional() }).strict();

// --- responses ------------------------------------------------------------------------------

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    keyId: z.string().meta({ description: 'The public part after `sdlc_`.' }),
    name: z.string(),
    kind: z.enum(['user', 'service']),
    roles: z.array(z.string()),
    createdAt: isoDate,
    createdBy: z.string(),
    expiresAt: isoDate.nullable(),
    revokedAt: isoDate.nullable(),
    revokedBy: z.string().nullable(),
    lastUsedAt: isoDate.nullable(),
    rotatedFrom: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });

export const issuedKeySchema = apiKeySchema
  .extend({ key: z.string().meta({ description: 'The key itself: shown in this answer only.' }), warning: z.string() })
  .meta({ id: 'IssuedApiKey' });

export const rotatedKeySchema = issuedKeySchema.extend({ replaced: apiKeySchema }).meta({ id: 'RotatedApiKey' });

export const apiKeyListSchema = itemList(apiKeySchema).meta({ id: 'ApiKeyList' });

export type ApiKeyBody = z.input<typeof apiKeySchema>;

// --- mapping --------------------------------------------------------------------------------

export function toApiKeyBody(k: ApiKeyView): ApiKeyBody {
  return {
    id: k.id,
    keyId: k.keyId,
    name: k.name,
    kind: k.kind,
    roles: k.roles,
    createdAt: toIso(k.createdAt),
    createdBy: k.createdBy,
    expiresAt: toIsoOrNull(k.expiresAt),
    revokedAt: toIsoOrNull(k.revokedAt),
    revokedBy: k.revokedBy,
    lastUsedAt: toIsoOrNull(k.lastUsedAt),
    rotatedFrom: k.rotatedFrom,
  };
}

export const toIssuedKeyBody = ({ key, record }: IssuedKey): z.input<typeof issuedKeySchema> => ({
  ...toApiKeyBody(record),
  key,
  warning: 'The key is shown once: store it now.',
});
