// Humans answer clarifications here. The answers are stored, merged into the input of what
// asked (a stage, or the pipeline when its requirements were unclear at submission), and that
// work runs again.
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { mergeAnswers, validateAnswers } from '../domain/requirements-check.js';
import type { Actor } from '../domain/identity.js';
import { recordedThenQueued } from './decision.service.js';
import { afterCommitWith } from './release.js';
import type { ClarificationListQuery, ClarificationRepository, ClarificationView } from './clarification.ports.js';
import type { AgentQueues, ControlQueue } from './queue.ports.js';

export interface ClarificationServiceDeps {
  repo: ClarificationRepository;
  agentQueues: AgentQueues;
  control: ControlQueue;
}

export function createClarificationService({ repo, agentQueues, control }: ClarificationServiceDeps) {
  const afterCommit = afterCommitWith({ agentQueues, control });
  async function get(id: string): Promise<ClarificationView> {
    const clarification = await repo.get(id);
    if (!clarification) throw new NotFoundError('CLARIFICATION_NOT_FOUND', `No clarification ${id}.`);
    return clarification;
  }

  return {
    get,
    list: (query: ClarificationListQuery): Promise<ClarificationView[]> => repo.list(query),

    async answer(id: string, answers: Record<string, unknown>, by: Actor): Promise<ClarificationView> {
      const actor = by.identity.id;
      const { requestId } = by;
      const asked = await get(id);
      if (asked.status !== 'open') {
        throw new ConflictError('CLARIFICATION_CLOSED', `Clarification ${id} is already ${asked.status}.`, {
          details: [{ field: 'id', message: `status is ${asked.status}` }],
        });
      }
      const problems = validateAnswers(asked.questions, answers);
      if (problems.length > 0)
        throw new ValidationError('VALIDATION_FAILED', 'The answers are incomplete or invalid.', { details: problems });
      const items = mergeAnswers(asked.questions, answers);
      const stored = Object.fromEntries(items.map((i) => [i.id, i.answer]));
      const merged = { clarificationId: id, askedBy: asked.askedBy, answeredBy: actor, answers: items };
      const result = await repo.answer({ id, actor, answers: stored, merged }, () => ({
        action: 'clarification.answered',
        actor: by,
        targetType: 'clarification',
        targetId: id,
        pipelineId: asked.pipelineId,
        data: { questions: items.map((i) => i.id) },
      }));
      if (result.kind === 'not_found') throw new NotFoundError('CLARIFICATION_NOT_FOUND', `No clarification ${id}.`);
      if (result.kind === 'closed') {
        throw new ConflictError('CLARIFICATION_CLOSED', `Clarification ${id} is already ${result.status}.`, {
          details: [{ field: 'id', message: `status is ${result.status}` }],
        });
      }
      await recordedThenQueued(id, async () => {
        await afterCommit(
          { pipelineId: asked.pipelineId, stages: result.released ? [result.released] : [], advance: result.rootsReleased && 'advance' },
          { requestId },
        );
        // The roots go through the decision policy like any ready stage: the conductor starts them.
      });
      return result.clarification;
    },
  };
}

export type ClarificationService = ReturnType<typeof createClarificationService>;
