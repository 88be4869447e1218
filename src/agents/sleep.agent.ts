// `sleep`: waits for `ms`, reporting progress, and stops early when its AbortSignal fires.
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { defineAgent } from './define-agent.js';

const STEPS = 10;

export const sleepAgent = defineAgent({
  type: 'sleep',
  version: '1.0.0',
  description: 'Waits `ms` milliseconds (honours cancel and timeout).',
  input: z.object({ ms: z.number().int().min(0).max(3_600_000) }).loose(),
  output: z.object({ sleptMs: z.number() }),
  handler: async ({ input, signal, progress }) => {
    const started = Date.now();
    const step = input.ms / STEPS;
    for (let i = 1; i <= STEPS; i++) {
      // Rejects with an AbortError as soon as the signal fires.
      await delay(step, undefined, { signal });
      await progress(i * (100 / STEPS));
    }
    return { sleptMs: Date.now() - started };
  },
});
