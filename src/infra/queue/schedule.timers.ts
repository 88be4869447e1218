// The schedules' BullMQ job schedulers, on the control queue: one per active schedule, id
// `schedule:<schedule id>`, whose jobs (`schedule-tick`, data `{ scheduleId }`) the control
// worker hands to the schedule service. BullMQ adds one delayed job per tick whatever the number
// of producers and workers, so a tick happens once; the service's tick row makes a redelivery
// harmless. The record is the schedules table: these are rebuilt from it (ScheduleService.sync).
import type { Queue } from 'bullmq';
import type { ScheduleTimers } from '../../services/schedule.ports.js';
import { SCHEDULE_SCHEDULER_PREFIX, SCHEDULE_TICK_JOB } from './queue-names.js';
import { DEFAULT_QUEUE_RETENTION, finishedJobOptions, type QueueRetention } from './retention.js';

/**
 * `queue`: the control queue's producer. `failFast` runs before each write (the API passes
 * assertRedisReady). A tick job is retried as a conductor step is (Postgres or Redis down).
 */
export function createScheduleTimers(queue: Queue, options: { failFast?: () => void; retention?: QueueRetention } = {}): ScheduleTimers {
  const failFast = options.failFast ?? (() => undefined);
  const retention = options.retention ?? DEFAULT_QUEUE_RETENTION;
  const schedulerId = (scheduleId: string) => `${SCHEDULE_SCHEDULER_PREFIX}${scheduleId}`;
  return {
    async install(schedule, plan) {
      failFast();
      const { timing } = schedule;
      const template = {
        name: SCHEDULE_TICK_JOB,
        data: { scheduleId: schedule.id },
        opts: { attempts: 12, backoff: { type: 'exponential', delay: 200, jitter: 0.5 }, ...finishedJobOptions(retention) },
      };
      const bounds = {
        ...(plan.startAt && !plan.immediately ? { startDate: plan.startAt } : {}),
        ...(timing.endAt ? { endDate: timing.endAt } : {}),
      };
      await queue.upsertJobScheduler(
        schedulerId(schedule.id),
        timing.kind === 'every'
          ? { every: timing.everyMs, ...bounds }
          : { pattern: timing.cron, tz: timing.timezone, ...bounds, ...(plan.immediately ? { immediately: true } : {}) },
        template,
      );
    },
    async remove(scheduleId) {
      failFast();
      await queue.removeJobScheduler(schedulerId(scheduleId));
    },
    async next() {
      failFast();
      const schedulers = await queue.getJobSchedulers(0, -1, true);
      const next = new Map<string, number>();
      for (const s of schedulers) {
        if (s.key.startsWith(SCHEDULE_SCHEDULER_PREFIX) && typeof s.next === 'number') {
          next.set(s.key.slice(SCHEDULE_SCHEDULER_PREFIX.length), s.next);
        }
      }
      return next;
    },
  };
}
