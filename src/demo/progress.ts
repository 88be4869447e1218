// What the demo prints as a pipeline moves: one line per stage whose status changed since the last
// look, with its time and what it reported. Pure, so the wording is tested without a platform.
import { z } from 'zod';

export const stageViewSchema = z
  .object({
    key: z.string(),
    status: z.string(),
    startedAt: z.string().nullable().optional(),
    finishedAt: z.string().nullable().optional(),
    output: z.unknown().optional(),
    error: z.object({ code: z.string().optional(), message: z.string().optional() }).loose().nullable().optional(),
  })
  .loose();

export const decisionViewSchema = z.object({ id: z.string(), stageKey: z.string(), status: z.string(), category: z.string() }).loose();

export const pipelineViewSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    stages: z.array(stageViewSchema),
    decisions: z.array(decisionViewSchema).default([]),
  })
  .loose();

export type StageView = z.infer<typeof stageViewSchema>;
export type PipelineView = z.infer<typeof pipelineViewSchema>;

const MARK: Record<string, string> = {
  queued: '·',
  running: '▶',
  waiting: '⏸',
  succeeded: '✔',
  failed: '✖',
  skipped: '↷',
  cancelled: '✖',
};

const summaryOf = (output: unknown): string | undefined =>
  typeof output === 'object' && output !== null && typeof (output as { summary?: unknown }).summary === 'string'
    ? (output as { summary: string }).summary
    : undefined;

function seconds(stage: StageView): string {
  if (!stage.startedAt || !stage.finishedAt) return '';
  const ms = Date.parse(stage.finishedAt) - Date.parse(stage.startedAt);
  return Number.isFinite(ms) ? ` in ${(ms / 1000).toFixed(1)} s` : '';
}

/** One line for a stage that is now `stage.status`. */
export function stageLine(stage: StageView): string {
  const mark = MARK[stage.status] ?? ' ';
  const head = `  ${mark} ${stage.key.padEnd(13)} ${stage.status}`;
  if (stage.status === 'succeeded') return `${head}${seconds(stage)}${summaryOf(stage.output) ? `: ${summaryOf(stage.output)}` : ''}`;
  if (stage.status === 'failed')
    return `${head}${seconds(stage)}: ${stage.error?.code ?? 'error'}: ${stage.error?.message ?? ''}`.trimEnd();
  return head;
}

/** The lines for what changed between `before` (the last statuses seen, by key) and `now`; updates `before`. */
export function progressLines(before: Map<string, string>, now: PipelineView): string[] {
  const lines: string[] = [];
  for (const stage of now.stages) {
    if (before.get(stage.key) === stage.status) continue;
    before.set(stage.key, stage.status);
    // Pending is where every stage starts: only moves out of it are news.
    if (stage.status !== 'pending') lines.push(stageLine(stage));
  }
  return lines;
}

/** The decision a person must take now, if any. */
export function openDecision(pipeline: PipelineView): z.infer<typeof decisionViewSchema> | undefined {
  return pipeline.decisions.find((d) => d.status === 'pending' || d.status === 'escalated');
}
