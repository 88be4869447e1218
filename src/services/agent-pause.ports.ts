// The ports of pausing an agent type: the record in Postgres (infra/db/agent-pause.repository.ts)
// and BullMQ's global pause of its queue in Redis (infra/queue/agent-queue-pause.ts).

/** An agent type an operator paused, as Postgres records it. */
export interface AgentPauseRecord {
  agentType: string;
  pausedAt: Date;
  pausedBy: string;
  reason: string | null;
}

/** The record of agent-type pauses (Postgres). */
export interface AgentPauseStore {
  /** Records the pause; an existing one is kept as it was (the first pause's time and author). */
  record(args: { agentType: string; by: string; reason: string | null }): Promise<{ record: AgentPauseRecord; created: boolean }>;
  /** Deletes the record; false when there was none. */
  clear(agentType: string): Promise<boolean>;
  list(): Promise<AgentPauseRecord[]>;
}

/** An agent type's queue in Redis: BullMQ's global pause (every worker stops taking its jobs). */
export interface AgentQueuePause {
  pause(agentType: string): Promise<void>;
  resume(agentType: string): Promise<void>;
  isPaused(agentType: string): Promise<boolean>;
}
