// Queue and job names both sides use (producers in the API, workers in worker processes).

export const CONTROL_QUEUE = 'control';
export const ADVANCE_JOB = 'advance';
/** A delayed control job: applies a decision's deadline (the policy's default action). */
export const DEADLINE_JOB = 'decision-deadline';
/** A delayed control job: cancels an unfinished pipeline at its deadline (DEADLINE_EXCEEDED). */
export const PIPELINE_DEADLINE_JOB = 'pipeline-deadline';
/** A control job from the aging scheduler: one pass lifting the priority of stage jobs that waited. */
export const PRIORITY_AGING_JOB = 'priority-aging';
/** A control job from the reconciler's job scheduler: one pass of the reconciler. */
export const RECONCILE_JOB = 'reconcile';
export const STAGE_JOB = 'stage';
/** Webhook deliveries: one job per (event, receiver URL), id `<eventId>-<url index>`. */
export const WEBHOOK_QUEUE = 'webhooks';

/** One queue per agent type: its failed set is that agent's dead-letter queue. */
export function agentQueueName(agentType: string): string {
  return `agent.${agentType}`;
}

/** Pub/sub channel that carries stage cancellations to every worker process. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}
/** A control job from a schedule's job scheduler (id `schedule:<schedule id>`): one tick of that schedule. */
export const SCHEDULE_TICK_JOB = 'schedule-tick';
/** The job scheduler id of a schedule (one per schedule, on the control queue). */
export const SCHEDULE_SCHEDULER_PREFIX = 'schedule:';
