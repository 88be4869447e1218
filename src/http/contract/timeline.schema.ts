// The public shape of GET /api/v1/pipelines/:id/timeline: a pipeline's events as one time-ordered
// list (domain/timeline.ts), and the mapping from the service's timeline to it.
import { z } from 'zod';
import { TIMELINE_ITEM_TYPES, type TimelineItem } from '../../domain/timeline.js';
import type { PipelineTimeline } from '../../services/timeline.service.js';
import { isoDate, jsonObject, toIso } from './common.schema.js';

export const timelineQuerySchema = z
  .object({
    download: z.enum(['0', '1']).optional().meta({ description: '`1`: answered as an attachment, `pipeline-<id>-timeline.json`.' }),
  })
  .strict();

export const timelineItemSchema = z
  .object({
    at: isoDate,
    type: z.enum(TIMELINE_ITEM_TYPES),
    stageKey: z.string().nullable(),
    attempt: z.number().int().nullable().meta({ description: 'The attempt it concerns; null: none (pipeline or decision items).' }),
    summary: z.string().meta({ description: 'One line for people, e.g. `build: attempt 1 failed (AGENT_ERROR), will retry after 1.2 s`.' }),
    data: jsonObject.meta({ description: 'The facts, per type (docs/api.md, "Timeline").' }),
  })
  .meta({ id: 'TimelineItem' });

export const timelineSchema = z
  .object({
    pipelineId: z.uuid(),
    traceId: z.string().nullable().meta({ description: "The W3C trace id of the submission's span; null: tracing was off." }),
    items: z.array(timelineItemSchema),
  })
  .meta({ id: 'PipelineTimeline' });

export type TimelineBody = z.input<typeof timelineSchema>;

function toTimelineItemBody(item: TimelineItem): z.input<typeof timelineItemSchema> {
  return { at: toIso(item.at), type: item.type, stageKey: item.stageKey, attempt: item.attempt, summary: item.summary, data: item.data };
}

export function toTimelineBody(timeline: PipelineTimeline): TimelineBody {
  return { pipelineId: timeline.pipelineId, traceId: timeline.traceId, items: timeline.items.map(toTimelineItemBody) };
}
