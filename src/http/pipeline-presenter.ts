// A pipeline as the API answers it: durations added, and its stages paged by size. The answer
// holds stages while its JSON stays under the page budget (RESPONSE_PAGE_BYTES, at least one
// stage, STAGE_PAGE_MAX at most); `stagesNextCursor` points GET /pipelines/:id/stages at the rest.
// A stage that waits for a reason read at request time (its agent switched off) carries `waiting`.
import { countWithinBytes, STAGE_PAGE_MAX, stagePage } from '../domain/response-paging.js';
import { jsonByteLength } from '../domain/json.js';
import type { PipelineDetail, StageView } from '../services/pipeline.ports.js';
import { toClarificationBody } from './contract/clarifications.schema.js';
import { toDecisionSummaryBody } from './contract/decisions.schema.js';
import {
  toPipelineSummaryBody,
  toStageBody,
  type PipelineBody,
  type StageBody,
  type StagePageBody,
  type StageWaitingBody,
} from './contract/pipelines.schema.js';

/** Why a stage waits, read when the answer is built (the API process's flags); null: no such reason. */
export type StageWaitingOf = (stage: StageView) => StageWaitingBody | null;

const noReason: StageWaitingOf = () => null;

function presentStage(stage: StageView, waitingOf: StageWaitingOf): StageBody {
  const waiting = waitingOf(stage);
  return waiting ? { ...toStageBody(stage), waiting } : toStageBody(stage);
}

/** Counted in the document's size in place of the real cursor: the longest one (STAGE_CURSOR_PATTERN). */
const LONGEST_CURSOR = '9999';

const durationMs = (start: Date | null, end: Date | null) => (start && end ? end.getTime() - start.getTime() : null);

/**
 * The pipeline with the stages that fit in `pageBytes`. `pipeline.stages` may be all of them or
 * only the first STAGE_PAGE_MAX + 1 (enough to know whether a next page exists).
 */
export function presentPipeline(pipeline: PipelineDetail, pageBytes: number, waitingOf: StageWaitingOf = noReason): PipelineBody {
  const head = {
    ...toPipelineSummaryBody(pipeline),
    durationMs: durationMs(pipeline.startedAt, pipeline.finishedAt),
    decisions: pipeline.decisions.map(toDecisionSummaryBody),
    clarifications: pipeline.clarifications.map(toClarificationBody),
    rerunOf: pipeline.rerunOf ?? null,
    rerunFrom: pipeline.rerunFrom ?? [],
    reruns: (pipeline.reruns ?? []).map((link) => ({ ...link, createdAt: link.createdAt.toISOString() })),
  };
  const stages = pipeline.stages.slice(0, STAGE_PAGE_MAX + 1).map((stage) => presentStage(stage, waitingOf));
  const baseBytes = jsonByteLength({ ...head, stages: [], stagesNextCursor: LONGEST_CURSOR });
  const shown = countWithinBytes(stages.slice(0, STAGE_PAGE_MAX), pageBytes, baseBytes);
  const page = stagePage(stages, 0, shown);
  return { ...head, stages: page.items, stagesNextCursor: page.nextCursor };
}

/** A page of GET /pipelines/:id/stages: `stages` were read from position `from`, `limit` + 1 of them at most. */
export function presentStagePage(
  stages: readonly StageView[],
  from: number,
  limit: number,
  pageBytes: number,
  waitingOf: StageWaitingOf = noReason,
): StagePageBody {
  const presented: StageBody[] = stages.map((stage) => presentStage(stage, waitingOf));
  const baseBytes = jsonByteLength({ items: [], nextCursor: LONGEST_CURSOR });
  const shown = countWithinBytes(presented.slice(0, limit), pageBytes, baseBytes);
  return stagePage(presented, from, shown);
}
