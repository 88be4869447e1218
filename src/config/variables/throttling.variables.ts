// Throttling per agent type: worker concurrency and a rate limit shared by every worker process
// (docs/throttling.md). The shape and its rules live in src/domain/agent-limits.ts.
import { z } from 'zod';
import { agentLimitsSchema } from '../../domain/agent-limits.js';
import { defineGroup } from '../variable.js';

const EXAMPLE = '{"http":{"concurrency":4,"rate":{"max":10,"durationMs":1000}}}';

/** JSON text parsed, then checked field by field (a bad field is reported as `AGENT_LIMITS.<type>.<field>`). */
const agentLimitsText = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a JSON object, e.g. ${EXAMPLE}` });
      return z.NEVER;
    }
  })
  .pipe(agentLimitsSchema);

export const throttlingVariables = defineGroup('Throttling', {
  AGENT_LIMITS: {
    schema: agentLimitsText,
    type: 'JSON object: agent type → `{ concurrency?, rate?: { max, durationMs } }`',
    default: '{}',
    example: '{}',
    description: `Limits per agent type, for agents that call rate-limited services, e.g. \`${EXAMPLE}\`. \`concurrency\` (1–1,000): jobs of that type one worker process runs at once, instead of \`WORKER_CONCURRENCY\` / \`--concurrency\`. \`rate\`: at most \`max\` jobs of that type start per \`durationMs\` (1 ms–24 h), counted in Redis across **every** worker process (BullMQ's queue-wide limiter); jobs over the limit wait in the queue and use no attempt. Give every worker process the same value. A type the catalog does not know (built-ins and \`AGENT_MODULES\`) stops the worker at boot, naming it. \`{}\`: no limits. See [throttling.md](throttling.md).`,
  },
});
