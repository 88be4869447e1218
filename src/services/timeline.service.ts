// A pipeline's timeline (GET /api/v1/pipelines/:id/timeline): read through the repository,
// built by the pure domain/timeline.ts.
import { NotFoundError } from '../domain/errors.js';
import { buildTimeline, type TimelineItem } from '../domain/timeline.js';
import type { PipelineRepository } from './pipeline.ports.js';

export interface PipelineTimeline {
  pipelineId: string;
  /** The W3C trace id of the submission's span; null: tracing was off. */
  traceId: string | null;
  items: TimelineItem[];
}

/** Throws PIPELINE_NOT_FOUND for an unknown id. */
export async function readPipelineTimeline(repo: Pick<PipelineRepository, 'readTimeline'>, id: string): Promise<PipelineTimeline> {
  const found = await repo.readTimeline(id);
  if (!found) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
  const { pipeline, events } = found;
  return { pipelineId: pipeline.id, traceId: pipeline.traceId, items: buildTimeline(pipeline, events) };
}
