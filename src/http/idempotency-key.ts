// The Idempotency-Key header of the creating routes (POST /pipelines, /pipelines/:id/rerun,
// /schedules): read and checked at the edge, and the replay marked on the answer.
import type { Request, Response } from 'express';
import { ValidationError } from '../domain/errors.js';
import { IDEMPOTENCY_KEY_PATTERN } from './contract/common.schema.js';

/**
 * The request's Idempotency-Key, or undefined without one; 400 VALIDATION_FAILED naming the header
 * when malformed, or when sent twice with different values (Node joins them with ", ", which was
 * refused as "no spaces", a message that did not say why). The same value twice is one key.
 */
export function idempotencyKeyOf(req: Request): string | undefined {
  const values = [...new Set(req.headersDistinct['idempotency-key'] ?? [])];
  if (values.length === 0) return undefined;
  if (values.length > 1) {
    throw new ValidationError('VALIDATION_FAILED', 'Invalid Idempotency-Key header.', {
      details: [{ field: 'Idempotency-Key', message: `sent ${values.length} times with different values; send one` }],
    });
  }
  const key = values[0]!;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ValidationError('VALIDATION_FAILED', 'Invalid Idempotency-Key header.', {
      details: [{ field: 'Idempotency-Key', message: '1 to 255 printable ASCII characters, no spaces' }],
    });
  }
  return key;
}

/** A replay answers as the first request did, plus `Idempotent-Replayed: true`. */
export function markReplayed(res: Response, replayed: boolean): void {
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
}
