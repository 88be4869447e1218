// Pause and resume an agent type (operators; docs/pipeline-operations.md, "Pause and resume"):
// BullMQ's global pause of its queue, so no worker of any process takes its jobs (running ones
// finish, new ones wait in the queue, stages stay `queued`). Postgres is the record, written
// first: the pause is recorded in agent_pauses, then the queue is paused; the reconciler pauses
// the queue again whenever Redis lost the flag (a flush, a failover). A resume deletes the record
// and resumes the queue (also one paused in Redis only). Each change is audited in the same
// transaction as its record (the store writes the event), before the queue follows. The API and
// Bull Board's pause/resume of an agent queue both come here; the audit's `via` names which.
import { NotFoundError } from '../domain/errors.js';
import type { Actor } from '../domain/identity.js';
import type { AgentPauseRecord, AgentPauseStore, AgentQueuePause } from './agent-pause.ports.js';

/** An agent type's pause as the API shows it. */
export interface AgentPauseState {
  type: string;
  /** Its queue is paused in Redis now. */
  paused: boolean;
  /** The platform's record of the pause; null: none (not paused, or paused in Redis behind the platform's back). */
  pause: AgentPauseRecord | null;
}

export interface AgentPauseServiceDeps {
  store: AgentPauseStore;
  queues: AgentQueuePause;
  /** The agent types this deployment knows (the catalogue). */
  types: readonly string[];
}

/**
 * The reconciler's repair: pauses again every recorded type whose queue is not paused (Redis lost
 * the flag). Returns the types it paused. A type the catalogue no longer knows is left alone.
 */
export async function reapplyAgentPauses({ store, queues, types }: AgentPauseServiceDeps): Promise<string[]> {
  const repaired: string[] = [];
  for (const { agentType } of await store.list()) {
    if (!types.includes(agentType) || (await queues.isPaused(agentType))) continue;
    await queues.pause(agentType);
    repaired.push(agentType);
  }
  return repaired;
}

export function createAgentPauseService({ store, queues, types }: AgentPauseServiceDeps) {
  const known = (type: string): void => {
    if (!types.includes(type)) {
      throw new NotFoundError('AGENT_NOT_FOUND', `No agent type "${type}"; known: ${[...types].sort().join(', ')}.`);
    }
  };

  const state = async (type: string, record: AgentPauseRecord | null): Promise<AgentPauseState> => ({
    type,
    paused: await queues.isPaused(type),
    pause: record,
  });

  return {
    /**
     * Pauses the type's queue for every worker; a second pause keeps the first one's record.
     * `via`: where it was asked for (`api`, the default, or `bull-board`), recorded in the audit.
     */
    async pause(type: string, { reason, via = 'api' }: { reason: string | null; via?: string }, actor: Actor): Promise<AgentPauseState> {
      known(type);
      const { record } = await store.record({ agentType: type, by: actor.identity.id, reason }, ({ created }) =>
        created ? { action: 'agent.paused', actor, targetType: 'agent', targetId: type, data: { reason, via } } : null,
      );
      await queues.pause(type);
      return state(type, record);
    },

    /** Resumes the type's queue (whoever paused it) and deletes the record; `via` as for pause. */
    async resume(type: string, actor: Actor, { via = 'api' }: { via?: string } = {}): Promise<AgentPauseState> {
      known(type);
      await store.clear(type, (cleared) =>
        cleared ? { action: 'agent.resumed', actor, targetType: 'agent', targetId: type, data: { via } } : null,
      );
      await queues.resume(type);
      return state(type, null);
    },

    /** Every known type's pause, in catalogue order. */
    async states(): Promise<AgentPauseState[]> {
      const records = new Map((await store.list()).map((r) => [r.agentType, r]));
      return Promise.all(types.map((type) => state(type, records.get(type) ?? null)));
    },

    /** The types whose queue is paused in Redis now (what readiness reports; Postgres is not read). */
    async pausedTypes(): Promise<string[]> {
      const paused = await Promise.all(types.map((type) => queues.isPaused(type)));
      return types.filter((_, i) => paused[i]);
    },

    /** See reapplyAgentPauses. */
    reapply: (): Promise<string[]> => reapplyAgentPauses({ store, queues, types }),
  };
}

export type AgentPauseService = ReturnType<typeof createAgentPauseService>;
