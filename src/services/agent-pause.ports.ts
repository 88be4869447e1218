// The ports of pausing an agent type: the record in Postgres (infra/db/agent-pause.repository.ts)
// and BullMQ's global pause of its queue in Redis (infra/queue/agent-queue-pause.ts).
import type { AuditOf } from './identity.ports.js';

/** An agent type an operator paused, as Postgres records it. */
export interface AgentPauseRecord {
  agentType: string;
  pausedAt: Date;
  pausedBy: string;
  reason: string | null;
}

/** What recording a pause did: the record as it stands, and whether this call created it. */
export interface RecordedAgentPause {
  record: AgentPauseRecord;
  created: boolean;
}

/**
 * The record of agent-type pauses (Postgres). Each change takes the audit event of its outcome
 * (AuditOf), written in the change's own transaction: the change and its event commit together.
 */
export interface AgentPauseStore {
  /** Records the pause; an existing one is kept as it was (the first pause's time and author). */
  record(args: { agentType: string; by: string; reason: string | null }, audit?: AuditOf<RecordedAgentPause>): Promise<RecordedAgentPause>;
  /** Deletes the record; false when there was none. */
  clear(agentType: string, audit?: AuditOf<boolean>): Promise<boolean>;
  list(): Promise<AgentPauseRecord[]>;
}

/** An agent type's queue in Redis: BullMQ's global pause (every worker stops taking its jobs). */
export interface AgentQueuePause {
  pause(agentType: string): Promise<void>;
  resume(agentType: string): Promise<void>;
  isPaused(agentType: string): Promise<boolean>;
}
