// The Idempotency-Key header of the creating routes (POST /pipelines, /pipelines/:id/rerun,
// /schedules): read and checked at the edge, and the replay marked on the answer.
import type { Request, Response } from 'express';
import { ValidationError } from '../domain/errors.js';
import { IDEMPOTENCY_KEY_PATTERN } from './contract/common.schema.js';

/** The request's Idempotency-Key, or undefined without one; 400 VALIDATION_FAILED naming the header when malformed. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
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
