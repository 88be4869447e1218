// Request schemas of GET /api/v1/pipelines/:id/stages/:key/logs.
import { z } from 'zod';
import { STAGE_KEY_PATTERN } from '../../domain/pipeline-definition.js';
import { uuidInput, wholeNumberParam } from './common.schema.js';

export const stageLogParams = z.object({
  id: uuidInput(),
  key: z.string().regex(STAGE_KEY_PATTERN, 'must be a stage key'),
});

export const stageLogQuerySchema = z
  .object({
    /** One attempt only (1 for the first); absent: every attempt. */
    attempt: wholeNumberParam(1, 1000).optional(),
  })
  .strict();
