// /api/v1/keys: API keys (admin only). A key is shown once, in the answer that creates or
// rotates it; lists never show secrets. Revoking takes effect on the next request.
import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_ROTATION_OVERLAP_MS, keyLifetimeSchema, rotationOverlapSchema } from '../../domain/identity.js';
import type { ApiKeyService, IssuedKey } from '../../services/api-key.service.js';
import { actorOf, authorize } from '../middleware/authorize.js';
import { parseOrThrow, requireJson, uuidParam } from '../validate.js';

const createSchema = z
  .object({
    name: z.string().min(1).max(100),
    roles: z.array(z.string().max(64)).min(1).max(20),
    kind: z.enum(['user', 'service']).default('user'),
    /** "30d", "12h"…; absent: never expires. */
    expiresIn: keyLifetimeSchema.optional(),
  })
  .strict();

const rotateSchema = z
  .object({
    /** How long the old key keeps working ("1h" by default; "0s" is refused, revoke instead). */
    overlap: rotationOverlapSchema.default(DEFAULT_ROTATION_OVERLAP_MS),
    expiresIn: keyLifetimeSchema.optional(),
  })
  .strict();

const listQuerySchema = z.object({ include: z.enum(['inactive']).optional() }).strict();

const issued = ({ key, record }: IssuedKey) => ({ ...record, key, warning: 'The key is shown once: store it now.' });

export function keysRouter(service: ApiKeyService): Router {
  const router = Router();

  router.post('/', authorize('manage_keys'), async (req, res) => {
    requireJson(req, 'the key request');
    const body = parseOrThrow(createSchema, req.body, 'Invalid key request.');
    const created = await service.create(
      { name: body.name, roles: body.roles, kind: body.kind, expiresInMs: body.expiresIn },
      actorOf(req),
    );
    res.setHeader('Location', `${req.baseUrl}/${created.record.id}`);
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(issued(created));
  });

  router.get('/', authorize('manage_keys'), async (req, res) => {
    const query = parseOrThrow(listQuerySchema, req.query, 'Invalid query.');
    res.json({ items: await service.list(actorOf(req), { includeInactive: query.include === 'inactive' }) });
  });

  router.post('/:id/revoke', authorize('manage_keys'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid key id.');
    res.json(await service.revoke(id, actorOf(req)));
  });

  router.post('/:id/rotate', authorize('manage_keys'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid key id.');
    const body = parseOrThrow(rotateSchema, req.body ?? {}, 'Invalid rotation.');
    const rotated = await service.rotate(id, { overlapMs: body.overlap, expiresInMs: body.expiresIn }, actorOf(req));
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ ...issued(rotated), replaced: rotated.old });
  });

  return router;
}
