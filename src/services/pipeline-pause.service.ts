// Pause and resume a pipeline (docs/pipeline-operations.md, "Pause and resume"): a paused
// pipeline starts no new stage (running ones finish; released ones wait as `paused`), a resume
// queues what was held and dispatches it. Postgres is written first, the jobs follow
// (services/release.ts). Both are idempotent: pausing a paused pipeline, or resuming one that is
// not paused, changes nothing and answers the pipeline as it is.
// Access: the pipeline's submitter (pause_own; a resume only of its own pause) or an operator
// (pause_any); each change's audit event commits with it.
import { randomBytes } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError } from '../domain/errors.js';
import { pauseLiftRefusal } from './pause-lift.js';
import { can, type Actor } from '../domain/identity.js';
import { TERMINAL_PIPELINE_STATUSES, type PipelineStatus } from '../domain/status.js';
import type { PipelineDetail } from './pipeline.ports.js';
import type { PipelinePauseRepository } from './pipeline-pause.ports.js';
import type { AgentQueues, ControlQueue } from './queue.ports.js';
import { afterCommitWith } from './release.js';

export interface PipelinePauseServiceDeps {
  repo: PipelinePauseRepository;
  /** Reads the pipeline (PIPELINE_NOT_FOUND for an unknown id): its submitter, and the answer. */
  pipelines: { get(id: string): Promise<PipelineDetail> };
  agentQueues: AgentQueues;
  control: ControlQueue;
  /** The job id suffix of one resume (default: 8 random hex digits). */
  newJobSuffix?: () => string;
}

/** A resume's answer: the pipeline as read after it, and the keys of the stages it queued again. */
export interface ResumedPipeline {
  pipeline: PipelineDetail;
  /** As its `pipeline.resumed` event lists them (key order); empty when it resumed nothing. */
  resumedStages: string[];
}

export function createPipelinePauseService(deps: PipelinePauseServiceDeps) {
  const { repo, pipelines } = deps;
  const afterCommit = afterCommitWith({ agentQueues: deps.agentQueues, control: deps.control });
  const newJobSuffix = deps.newJobSuffix ?? (() => `resume-${randomBytes(4).toString('hex')}`);

  /**
   * A submitter pauses what it submitted, and resumes it when the pause is its own; an operator (or
   * admin) pauses and resumes any pipeline. A pause someone else made (an operator's hold during an
   * incident) is not the submitter's to lift.
   */
  async function checkAccess(id: string, actor: Actor, verb: 'pause' | 'resume'): Promise<void> {
    if (can(actor.identity, 'pause_any')) return;
    const pipeline = await pipelines.get(id);
    if (!can(actor.identity, 'pause_own') || pipeline.submitter !== actor.identity.id) {
      throw new ForbiddenError('FORBIDDEN', `${actor.identity.name} may ${verb} only the pipelines it submitted; operators ${verb} any.`);
    }
  }

  /**
   * The 403 of a resume of someone else's pause, judged on the pipeline as the resume's statement
   * locked it (a pause made after the access check, an operator's hold, counts). A finished
   * pipeline has no hold left to lift: its resume is answered 409 PIPELINE_FINISHED, whoever paused
   * it, as an operator's is.
   */
  const liftRefusal = (id: string, actor: Actor, pipeline: { status: PipelineStatus; pausedBy: string | null }) =>
    TERMINAL_PIPELINE_STATUSES.has(pipeline.status)
      ? null
      : pauseLiftRefusal({
          kind: 'pipeline',
          id,
          identity: actor.identity,
          pausedBy: pipeline.pausedBy,
          anyPermission: 'pause_any',
          field: 'paused.by',
        });

  return {
    /**
     * Pauses a pipeline that is running or queued for admission. 409 PIPELINE_FINISHED when it
     * finished, PIPELINE_CANCELLING when it has a cancel request; a paused one is answered as is.
     */
    async pause(id: string, options: { reason: string | null }, actor: Actor): Promise<PipelineDetail> {
      await checkAccess(id, actor, 'pause');
      const outcome = await repo.pause({ pipelineId: id, by: actor.identity.id, reason: options.reason }, (done) =>
        done.changed
          ? {
              action: 'pipeline.paused',
              actor,
              targetType: 'pipeline',
              targetId: id,
              pipelineId: id,
              data: { reason: options.reason, held: done.held },
            }
          : null,
      );
      if (!outcome) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
      if (TERMINAL_PIPELINE_STATUSES.has(outcome.status)) {
        throw new ConflictError('PIPELINE_FINISHED', `Pipeline ${id} already finished (${outcome.status}).`);
      }
      if (outcome.cancelRequested) throw new ConflictError('PIPELINE_CANCELLING', `Pipeline ${id} is being cancelled.`);
      return pipelines.get(id);
    },

    /**
     * Resumes a paused pipeline: its paused stages are queued again and their jobs added. 409
     * PIPELINE_FINISHED when it finished; one that is not paused is answered as is (no stage
     * resumed). Either way a redispatch advance follows, so a resume whose jobs were lost (a
     * crash after the commit) is repaired by repeating it.
     */
    async resume(id: string, actor: Actor): Promise<ResumedPipeline> {
      await checkAccess(id, actor, 'resume');
      const mayLift = (pipeline: { status: PipelineStatus; pausedBy: string }) => liftRefusal(id, actor, pipeline) === null;
      const outcome = await repo.resume({ pipelineId: id, by: actor.identity.id, jobSuffix: newJobSuffix(), mayLift }, (done) =>
        done.changed
          ? {
              action: 'pipeline.resumed',
              actor,
              targetType: 'pipeline',
              targetId: id,
              pipelineId: id,
              data: { resumed: done.resumed },
            }
          : null,
      );
      if (!outcome) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
      if (outcome.refused) throw liftRefusal(id, actor, { status: outcome.status, pausedBy: outcome.refused.pausedBy })!;
      if (TERMINAL_PIPELINE_STATUSES.has(outcome.status)) {
        throw new ConflictError('PIPELINE_FINISHED', `Pipeline ${id} already finished (${outcome.status}).`);
      }
      await afterCommit({ pipelineId: id, stages: outcome.queued, advance: 'redispatch' }, { requestId: actor.requestId });
      // What this resume queued, from its own statement: the pipeline read after it may already
      // show those stages running or finished, and their dependants queued.
      return { pipeline: await pipelines.get(id), resumedStages: outcome.resumed };
    },
  };
}

export type PipelinePauseService = ReturnType<typeof createPipelinePauseService>;
