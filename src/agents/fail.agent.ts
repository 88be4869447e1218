// `fail`: fails on purpose (optionally only its first N attempts); for retry, DLQ and
// continueOnFailure drills.
import { z } from 'zod';
import { UnrecoverableStageError } from '../domain/errors.js';
import { defineAgent } from './define-agent.js';

export const failAgent = defineAgent({
  type: 'fail',
  version: '1.0.0',
  description: 'Throws on its first `failAttempts` attempts (all, by default), then succeeds.',
  input: z
    .object({
      message: z.string().max(1000).default('failed on purpose'),
      failAttempts: z.number().int().min(0).optional(),
      unrecoverable: z.boolean().default(false),
    })
    .strict(),
  output: z.object({ succeededOnAttempt: z.number() }),
  handler: async ({ input, attempt }) => {
    if (input.failAttempts === undefined || attempt <= input.failAttempts) {
      if (input.unrecoverable) throw new UnrecoverableStageError('AGENT_FAILED_ON_PURPOSE', input.message);
      throw new Error(input.message);
    }
    return { succeededOnAttempt: attempt };
  },
});
