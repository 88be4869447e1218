// Pipeline priorities and deadlines (docs/pipeline-operations.md, "Priorities and deadlines"):
// how fast waiting lifts a pipeline's or a stage job's priority, and how far ahead a deadline may be.
// The rules themselves live in src/domain/pipeline-priority.ts.
import { int } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const priorityVariables = defineGroup('Priorities and deadlines', {
  PRIORITY_AGING_MS: {
    ...int(0, 86_400_000),
    default: 60_000,
    description:
      'Aging step: every step a queued pipeline (admission) or a stage job (its agent queue) waits lifts it one priority level, counting from `low`, so after 3 steps anything competes as `urgent` and low priority waits at most about 3 steps plus the urgent work queued before it. The worker processes run the aging pass of the agent queues every step (a BullMQ job scheduler on the control queue, one per deployment). `0`: no aging (low priority may starve). Give the API and the workers the same value. See [pipeline-operations.md](pipeline-operations.md#priorities-and-deadlines).',
  },
  PIPELINE_DEADLINE_MAX_MS: {
    ...int(1000, 31_536_000_000),
    default: 2_592_000_000,
    description:
      "How far ahead a submission's `deadline` (or `deadlineIn`) may be; further is a 400 naming the field. Default 30 days. See [pipeline-operations.md](pipeline-operations.md#priorities-and-deadlines).",
  },
});
