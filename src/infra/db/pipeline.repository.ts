// Pipelines and stages in Postgres, one module per responsibility: submission
// (pipeline-submission.repository.ts), reading (pipeline-read.repository.ts), lists
// (pipeline-list.repository.ts), timelines (pipeline-timeline.repository.ts), the conductor's
// read and apply (pipeline-advance.repository.ts), cancel (pipeline-cancel.repository.ts) and
// priority changes (pipeline-priority.repository.ts).
import type { PipelineRepository } from '../../services/pipeline.ports.js';
import type { Database } from './database.js';
import { createAdvanceStore } from './pipeline-advance.repository.js';
import { createCancelStore } from './pipeline-cancel.repository.js';
import { createPriorityStore } from './pipeline-priority.repository.js';
import { createPipelineLister } from './pipeline-list.repository.js';
import { createPipelineReader } from './pipeline-read.repository.js';
import { createTimelineStore } from './pipeline-timeline.repository.js';
import { createSubmissionStore } from './pipeline-submission.repository.js';

/** `autoApproval`: the `platform.auto-approval` switch, read at each submission (default on): off, no root starts by its confidence. */
export interface PipelineRepositoryOptions {
  autoApproval?: () => boolean;
}

export function createPipelineRepository(database: Database, options: PipelineRepositoryOptions = {}): PipelineRepository {
  return {
    ...createSubmissionStore(database, options.autoApproval),
    ...createPipelineReader(database),
    ...createPipelineLister(database),
    ...createTimelineStore(database),
    ...createCancelStore(database),
    ...createPriorityStore(database),
    ...createAdvanceStore(database),
  };
}
