// The error body every error answer carries: the shape errorBody() (middleware/errors.ts) writes.
import { z } from 'zod';
import { ERROR_CATEGORIES } from '../../domain/errors.js';
import type { ErrorBody } from '../middleware/errors.js';

export const errorDetailSchema = z.object({
  field: z.string(),
  message: z.string(),
  code: z.string().optional(),
});

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'A stable code of the catalogue (docs/error-handling.md).' }),
      message: z.string(),
      requestId: z.string(),
      details: z.array(errorDetailSchema),
      category: z.enum(ERROR_CATEGORIES),
      retryable: z.boolean(),
      hint: z.string(),
    }),
  })
  .meta({ id: 'ErrorBody' });

// errorBody() is typed by ErrorBody: this line fails to compile when the two drift apart.
export const _errorBodyAgrees: (body: ErrorBody) => z.input<typeof errorBodySchema> = (body) => body;
