// Queue and job names both sides use (producers in the API, workers in worker processes).

export const CONTROL_QUEUE = 'control';
export const ADVANCE_JOB = 'advance';
export const STAGE_JOB = 'stage';

/** One queue per agent type: its failed set is that agent's dead-letter queue. */
export function agentQueueName(agentType: string): string {
  return `agent.${agentType}`;
}

/** Pub/sub channel that carries stage cancellations to every worker process. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}
