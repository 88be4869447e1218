// How long finished jobs stay in Redis: completed and failed (the DLQ) jobs by count and age, and
// the length of each queue's events stream. Postgres keeps the record whatever these say; see
// docs/retention.md.
import { DURATION_UNITS_MS } from '../../domain/duration.js';
import { duration, int } from '../field-types.js';
import { defineGroup } from '../variable.js';

const DAY_MS = DURATION_UNITS_MS.d;

export const retentionVariables = defineGroup('Retention', {
  COMPLETED_JOBS_KEEP: {
    ...int(0),
    default: 1000,
    production: { max: 100_000, why: 'kept jobs use Redis memory, and Redis may not evict' },
    description:
      'Completed jobs kept in Redis per queue (every agent queue, the control queue, the webhook deliveries), for inspection in Bull Board. `0` removes each job as it completes. Postgres keeps the permanent record either way. See [retention.md](retention.md).',
  },
  COMPLETED_JOBS_MAX_AGE: {
    ...duration(30 * DAY_MS),
    default: '24h',
    description:
      'Completed jobs older than this are removed too (a job stays while it is within both this age and `COMPLETED_JOBS_KEEP`). BullMQ applies it when another job of the same queue completes, never on a timer. Webhook deliveries are kept at least an hour whatever this says: they are what makes a second relay’s add of the same delivery a no-op.',
  },
  FAILED_JOBS_KEEP: {
    ...int(0),
    default: 10_000,
    production: {
      min: 100,
      max: 100_000,
      why: 'the failed sets are the dead-letter queue, which replays need; each job holds its error and stack trace in Redis memory',
    },
    description:
      'Failed jobs kept in Redis per queue. The failed sets of the agent queues are the dead-letter queue: a job trimmed from one can no longer be listed or replayed (`GET /dlq`, `sdlc replay`), while its stage stays `failed` in Postgres with its error and runs. `0` keeps none (no DLQ). See [dead-letter-queue.md](dead-letter-queue.md#retention).',
  },
  FAILED_JOBS_MAX_AGE: {
    ...duration(365 * DAY_MS),
    default: '14d',
    production: { min: DAY_MS, why: 'operators need a failure to stay replayable at least a day' },
    description:
      'Failed jobs older than this are removed too (kept while within both this age and `FAILED_JOBS_KEEP`). Applied when another job of the same queue fails, never on a timer, so a queue that stops failing keeps its last failures.',
  },
  QUEUE_EVENTS_MAX_LEN: {
    ...int(0, 1_000_000),
    default: 1000,
    production: { max: 100_000, why: 'each queue’s events stream is held in Redis memory' },
    description:
      'Approximate length of each queue’s BullMQ events stream (`streams.events.maxLen`; BullMQ’s own default is 10,000). The platform reads no events stream: it serves only a `QueueEvents` listener you attach yourself. Redis trims it in whole stream nodes, so it may hold up to about 100 more.',
  },
});
