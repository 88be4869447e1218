// Schedules (docs/pipeline-operations.md, "Schedules"): how often one may fire and how many one
// identity may own, which bound the runs schedules submit beside RATE_LIMIT_SUBMIT. The rules
// themselves live in src/domain/schedule.ts.
import { int } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const scheduleVariables = defineGroup('Schedules', {
  SCHEDULE_MIN_INTERVAL_MS: {
    ...int(1000, 86_400_000),
    // The test profile keeps the one-second floor, so that the suites watch schedules tick.
    default: { development: '60000', test: '1000', production: '60000' },
    production: { min: 10_000, why: 'each schedule submits a pipeline per interval, outside RATE_LIMIT_SUBMIT' },
    description:
      "The shortest `everyMs` of a schedule, and the closest two fire times of a `cron` may be (among its next 100). Shorter: 400 `VALIDATION_FAILED` naming `everyMs` or `cron`. Checked when a schedule is created; with `SCHEDULE_MAX_PER_OWNER` it bounds what one identity's schedules submit (at most `SCHEDULE_MAX_PER_OWNER × 60000 / SCHEDULE_MIN_INTERVAL_MS` runs a minute, beside `RATE_LIMIT_SUBMIT`). See [pipeline-operations.md](pipeline-operations.md#schedules).",
  },
  SCHEDULE_MAX_PER_OWNER: {
    ...int(0, 10_000),
    default: 20,
    production: { min: 1, why: 'production keeps the per-identity cap on (0 turns it off)' },
    description:
      'Schedules one identity may own that have not ended (active and paused; delete one to free its place). One more: 409 `SCHEDULE_LIMIT_REACHED`, nothing recorded (0: no cap). See [pipeline-operations.md](pipeline-operations.md#schedules).',
  },
});
