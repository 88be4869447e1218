// `noop`: returns its input. Used by smoke tests and the benchmark.
import { jsonObjectSchema } from '../domain/json.js';
import { defineAgent } from './define-agent.js';

export const noopAgent = defineAgent({
  type: 'noop',
  version: '1.0.0',
  description: 'Returns its input unchanged.',
  input: jsonObjectSchema,
  output: jsonObjectSchema,
  handler: async ({ input }) => input,
});
