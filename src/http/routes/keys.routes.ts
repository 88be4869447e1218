// /api/v1/keys: API keys (admin only). A key is shown once, in the answer that creates or
// rotates it; lists never show secrets. Revoking takes effect on the next request.
import { Router } from 'express';
import { noFieldsBodySchema } from '../contract/decisions.schema.js';
import { keyCreateSchema, keyListQuerySchema, keyRotateSchema, toApiKeyBody, toIssuedKeyBody } from '../contract/keys.schema.js';
import type { ApiKeyService } from '../../services/api-key.service.js';
import { actorOf, authorize } from '../middleware/authorize.js';
import { parseOrThrow, requireJson, uuidParam } from '../validate.js';

export function keysRouter(service: ApiKeyService): Router {
  const router = Router();

  router.post('/', authorize('manage_keys'), async (req, res) => {
    requireJson(req, 'the key request');
    const body = parseOrThrow(keyCreateSchema, req.body, 'Invalid key request.');
    const created = await service.create(
      { name: body.name, roles: body.roles, kind: body.kind, expiresInMs: body.expiresIn },
      actorOf(req),
    );
    res.setHeader('Location', `${req.baseUrl}/${created.record.id}`);
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(toIssuedKeyBody(created));
  });

  router.get('/', authorize('manage_keys'), async (req, res) => {
    const query = parseOrThrow(keyListQuerySchema, req.query, 'Invalid query.');
    res.json({ items: (await service.list(actorOf(req), { includeInactive: query.include === 'inactive' })).map(toApiKeyBody) });
  });

  router.post('/:id/revoke', authorize('manage_keys'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid key id.');
    parseOrThrow(noFieldsBodySchema, req.body ?? {}, 'Invalid revocation.');
    res.json(toApiKeyBody(await service.revoke(id, actorOf(req))));
  });

  router.post('/:id/rotate', authorize('manage_keys'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid key id.');
    const body = parseOrThrow(keyRotateSchema, req.body ?? {}, 'Invalid rotation.');
    const rotated = await service.rotate(id, { overlapMs: body.overlap, expiresInMs: body.expiresIn }, actorOf(req));
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ ...toIssuedKeyBody(rotated), replaced: toApiKeyBody(rotated.old) });
  });

  return router;
}
