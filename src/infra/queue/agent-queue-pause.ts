// BullMQ's global pause of an agent queue (Queue.pause/resume: a flag in the queue's meta hash):
// every worker of every process stops taking its jobs, running ones finish, new jobs wait.
// The same flag Bull Board's pause sets; the platform records its own pauses in Postgres.
import type { Queue } from 'bullmq';
import type { AgentQueuePause } from '../../services/agent-pause.ports.js';

export function createAgentQueuePause(queueFor: (agentType: string) => Queue, failFast: () => void = () => undefined): AgentQueuePause {
  return {
    async pause(agentType) {
      failFast();
      await queueFor(agentType).pause();
    },
    async resume(agentType) {
      failFast();
      await queueFor(agentType).resume();
    },
    async isPaused(agentType) {
      failFast();
      return queueFor(agentType).isPaused();
    },
  };
}
