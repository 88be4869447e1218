// Gives an attempt of a workspace agent its pipeline's workspace and its stage log: the workspace
// is acquired (created, cloned once per pipeline) before the handler runs, every line the agent
// writes through it goes to the stage log, and the log is flushed before the attempt is recorded.
import type { Agent, AgentWorkspace } from '../agents/define-agent.js';
import type { JsonObject } from '../domain/json.js';
import type { StageTimeout } from '../domain/stage-deadline.js';
import { repositoryOf } from '../domain/workspace-repository.js';
import type { StageLogWriter } from './stage-log-writer.js';
import type { WorkspaceProvider } from './workspace.ports.js';

/** Absent: no agent gets a workspace (a deployment without workspace agents, unit tests). */
export interface StageWorkspaceDeps {
  workspaces: WorkspaceProvider;
  logs: StageLogWriter;
}

export interface StageAttempt {
  pipelineId: string;
  stageId: string;
  runId: string;
  attempt: number;
  pipelineInput: JsonObject;
}

/**
 * Runs `fn` with the pipeline's workspace when `agent` needs one (and `deps` is wired), else with
 * none. The attempt's log is complete in Postgres when this settles, whatever `fn` did.
 */
export async function withStageWorkspace<T>(
  deps: StageWorkspaceDeps | undefined,
  agent: Agent,
  attempt: StageAttempt,
  { signal, deadline }: Pick<StageTimeout, 'signal' | 'deadline'>,
  fn: (workspace: AgentWorkspace | undefined) => Promise<T>,
): Promise<T> {
  if (!deps || !agent.needsWorkspace) return fn(undefined);
  const log = deps.logs.open({ stageId: attempt.stageId, runId: attempt.runId, attempt: attempt.attempt });
  try {
    const workspace = await deps.workspaces.acquire({
      pipelineId: attempt.pipelineId,
      repository: repositoryOf(attempt.pipelineInput),
      log: (line) => log.append(line),
      signal,
      deadline,
    });
    return await fn(workspace);
  } catch (error) {
    log.append(`(attempt ${attempt.attempt} ended: ${error instanceof Error ? error.message : String(error)})`);
    throw error;
  } finally {
    await log.close();
  }
}
