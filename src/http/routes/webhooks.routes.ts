// /api/v1/webhooks/failed: webhook deliveries that used their attempts (or got a final answer),
// and their redelivery, one or all, with BullMQ's own retry of the failed job.
// Access: operator (and admin) on every route, like the DLQ; each redelivery is audited.
import { Router } from 'express';
import {
  deliveryJobIdParams,
  toFailedDeliveryBody,
  toFailedDeliveryPageBody,
  toRedeliverAllReportBody,
  webhookRequestSchemas,
} from '../contract/webhooks.schema.js';
import { REDELIVER_ALL_DEFAULT_LIMIT, type WebhookDeliveryService } from '../../services/webhook-delivery.service.js';
import { parseOrThrow } from '../validate.js';
import { actorOf, authorize } from '../middleware/authorize.js';

export function webhooksRouter(service: WebhookDeliveryService): Router {
  const router = Router();

  router.get('/failed', authorize('operate'), async (req, res) => {
    const { limit } = parseOrThrow(webhookRequestSchemas.listQuery, req.query, 'Invalid query.');
    res.json(toFailedDeliveryPageBody(await service.list(limit)));
  });

  // Redeliver all: `retry` is not a delivery id, so this never shadows /failed/:jobId/retry.
  router.post('/failed/retry', authorize('operate'), async (req, res) => {
    // The body is optional: without one, the default limit.
    const body = parseOrThrow(webhookRequestSchemas.retryAllBody, req.body ?? {}, 'Invalid redelivery request.');
    res.status(202).json(toRedeliverAllReportBody(await service.redeliverAll(body.limit ?? REDELIVER_ALL_DEFAULT_LIMIT, actorOf(req))));
  });

  router.post('/failed/:jobId/retry', authorize('operate'), async (req, res) => {
    const { jobId } = parseOrThrow(deliveryJobIdParams, req.params, 'Invalid delivery id.');
    // The body is optional: without one (or without a JSON Content-Type) nobody is named.
    parseOrThrow(webhookRequestSchemas.retryBody, req.body ?? {}, 'Invalid redelivery request.');
    res.status(202).json(toFailedDeliveryBody(await service.redeliver(jobId, actorOf(req))));
  });

  return router;
}
