// Re-run from a stage (POST /pipelines/:id/rerun): a new pipeline, linked to a finished one, that
// takes over the outputs of the stages it need not run again and runs the rest. It is a
// submission of the old definition, input and labels as they ended, answers to its questions
// included (the same validation, admission control, Idempotency-Key, audit and start as
// POST /pipelines) with the reuse facts of domain/rerun.ts; the re-runner is its submitter. Docs: docs/pipeline-operations.md, "Re-run from a stage".
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { can, type Actor } from '../domain/identity.js';
import { inheritedCategories } from '../domain/decision-policy.js';
import { inheritedPriority } from '../domain/pipeline-scheduling.js';
import {
  definitionAsItEnded,
  planRerun,
  rerunFromProblems,
  rerunNotFinished,
  rerunRequestSchema,
  type RerunPlan,
} from '../domain/rerun.js';
import { zodIssuesToDetails } from '../domain/pipeline-definition.js';
import type { AgentCatalog } from '../agents/catalog.js';
import type { PipelineService, SubmitResult } from './pipeline.service.js';
import type { RerunSourceReader, ReusedOutput } from './rerun.ports.js';

export interface RerunServiceDeps {
  source: RerunSourceReader;
  /** The submission path a re-run goes through. */
  pipelines: Pick<PipelineService, 'submit'>;
  /** Which agent types work in the pipeline's workspace (their files are not carried into a re-run). */
  agents: Pick<AgentCatalog, 'get'>;
}

export interface RerunOptions {
  actor: Actor;
  /** Scoped to the actor, shared with POST /pipelines; a repeat with the same old pipeline and `from` answers the first re-run. */
  idempotencyKey?: string;
}

export function createRerunService({ source, pipelines, agents }: RerunServiceDeps) {
  return {
    /**
     * Re-runs pipeline `id` from the stages `body.from` names (absent: domain/rerun.ts's
     * default). 400 naming `from[i]` for an unknown key, 403 unless the caller submitted it
     * (`rerun_own`) or may re-run any (`rerun_any`), 404 for an unknown pipeline, 409
     * PIPELINE_NOT_FINISHED while it is queued or running, 409 RERUN_DEFINITION_INVALID when its
     * definition no longer validates (an agent type gone, say).
     */
    async rerun(id: string, body: unknown, options: RerunOptions): Promise<SubmitResult & { plan: RerunPlan }> {
      const { actor } = options;
      const request = rerunRequestSchema.safeParse(body ?? {});
      if (!request.success) {
        throw new ValidationError('VALIDATION_FAILED', 'The re-run request is invalid.', { details: zodIssuesToDetails(request.error) });
      }
      const old = await source.readRerunSource(id);
      if (!old) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
      if (!can(actor.identity, 'rerun_any') && (!can(actor.identity, 'rerun_own') || old.submitter !== actor.identity.id)) {
        throw new ForbiddenError('FORBIDDEN', `${actor.identity.name} may re-run only the pipelines it submitted; operators re-run any.`);
      }
      const notFinished = rerunNotFinished(id, old.status);
      if (notFinished) throw notFinished;
      const from = request.data.from;
      const problems = from ? rerunFromProblems(old.stages, from) : [];
      if (problems.length > 0) {
        throw new ValidationError('VALIDATION_FAILED', `Pipeline ${id} has no such stage.`, { details: problems });
      }
      const stages = old.stages.map((stage) => ({ ...stage, workspace: agents.get(stage.agent)?.needsWorkspace ?? false }));
      const plan = planRerun(stages, from);
      const byKey = new Map(old.stages.map((stage) => [stage.key, stage]));
      const reused = new Map<string, ReusedOutput>(
        plan.reuse.map((key) => {
          const stage = byKey.get(key)!;
          return [key, { stageId: stage.id, output: stage.output, outputContractVersion: stage.outputContractVersion }];
        }),
      );
      const ended = definitionAsItEnded(old.definition, old.input, new Map(old.stages.map((stage) => [stage.key, stage.input])));
      // As with its priority, a re-runner without the right to override a stage's implied category
      // gets the implied one rather than a 403 (a template's categories are its author's and stay).
      const definition =
        old.template || !Array.isArray(ended.stages) ? ended : { ...ended, stages: inheritedCategories(ended.stages, actor.identity) };
      try {
        const result = await pipelines.submit(
          { ...definition, labels: old.labels, priority: inheritedPriority(old.priority, actor.identity) },
          { actor, idempotencyKey: options.idempotencyKey, rerun: { of: id, from: plan.from, reused, template: old.template } },
        );
        return { ...result, plan };
      } catch (error) {
        // The stored definition no longer validates (an agent type or its contract changed): the
        // request is fine, the old pipeline cannot be re-run as it was.
        if (error instanceof ValidationError && error.code === 'VALIDATION_FAILED') {
          throw new ConflictError('RERUN_DEFINITION_INVALID', `Pipeline ${id}'s definition no longer validates: ${error.message}`, {
            details: error.details,
          });
        }
        throw error;
      }
    },
  };
}

export type RerunService = ReturnType<typeof createRerunService>;
