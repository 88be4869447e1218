// The public shape of pause and resume (docs/pipeline-operations.md, "Pause and resume"): the
// optional bodies of POST /pipelines/:id/pause|resume and /agents/:type/pause|resume, a pipeline's
// resume answer (the Pipeline with the stages it queued again), and an agent type's pause as those
// answer it. A pipeline's pause is the `paused` field of the Pipeline.
import { z } from 'zod';
import type { AgentPauseState } from '../../services/agent-pause.service.js';
import { isoDate, toIso } from './common.schema.js';
import { pipelineSchema } from './pipelines.schema.js';
import { noActorField, noFieldsBodySchema } from './decisions.schema.js';
import { CONTROL_CHARACTER_MESSAGE, isDisplayText } from '../../domain/display-text.js';

export const PAUSE_REASON_MAX = 500;

/** The body is optional (no JSON body: no reason); who pauses is the authenticated caller. */
export const pauseBodySchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1, 'say why, or leave it out')
      .max(PAUSE_REASON_MAX)
      .refine(isDisplayText, CONTROL_CHARACTER_MESSAGE)
      .optional()
      .meta({ description: 'Why (an incident, a freeze); shown with the pause and in its event and audit record.' }),
    actor: noActorField,
  })
  .strict();

export const resumeBodySchema = noFieldsBodySchema;

/**
 * What POST /pipelines/:id/resume answers: the pipeline, read after the resume, and the stages
 * the resume itself queued again. A stage that finishes fast has moved on in `stages` by then, so
 * `resumedStages` is the list to show, not the stages that read `queued`.
 */
export const pipelineResumedSchema = pipelineSchema
  .extend({
    resumedStages: z.array(z.string()).meta({
      description:
        'The keys of the stages this resume queued again (key order), as its `pipeline.resumed` event lists them; [] when the pipeline was not paused.',
    }),
  })
  .meta({ id: 'PipelineResumed' });

export type PipelineResumedBody = z.input<typeof pipelineResumedSchema>;

/** A recorded pause: since when, by whom (identity id), why. */
export const pauseRecordSchema = z.object({ at: isoDate, by: z.string(), reason: z.string().nullable() });

export const agentPauseSchema = z
  .object({
    type: z.string(),
    paused: z
      .boolean()
      .meta({ description: 'Its queue is paused now, for every worker (by this API, Bull Board, or outside the platform).' }),
    pause: pauseRecordSchema.nullable().meta({
      description: 'The platform’s record of the pause (POST /agents/:type/pause); null: not paused, or paused outside the platform.',
    }),
  })
  .meta({ id: 'AgentPause' });

export type AgentPauseBody = z.input<typeof agentPauseSchema>;

export const toAgentPauseBody = (state: AgentPauseState): AgentPauseBody => ({
  type: state.type,
  paused: state.paused,
  pause: state.pause ? { at: toIso(state.pause.pausedAt), by: state.pause.pausedBy, reason: state.pause.reason } : null,
});
