// A pipeline as the CLI reads and shows it: fetched whole (the stages the first answer left to
// GET /pipelines/:id/stages read in), its state for exit codes (waiting on a person or not), and
// its text form: a header, a stage table, and what a person is asked to do. Every server string
// in the text form is escaped (src/cli/terminal-text.ts).
import type { z } from 'zod';
import {
  ERROR_OF_PREVIOUS_ATTEMPT_STATUSES,
  OPEN_DECISION_STATUSES,
  TERMINAL_PIPELINE_STATUSES,
  type DecisionStatus,
} from '../domain/status.js';
import { pipelineSchema, stagePageSchema } from '../http/contract/pipelines.schema.js';
import type { ApiAnswer, ApiClient } from './api-client.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { formatTable, shortDuration, shortTime } from './table.js';
import { tty } from './terminal-text.js';

export type Pipeline = z.output<typeof pipelineSchema>;
type Stage = Pipeline['stages'][number];

/** GET /pipelines/:id with every stage; `raw` carries them too (stagesNextCursor: null). */
export async function fetchPipeline(client: ApiClient, id: string): Promise<ApiAnswer<Pipeline>> {
  const first = await client.request('GET', `/pipelines/${encodeURIComponent(id)}`, pipelineSchema);
  if (first.data.stagesNextCursor === null) return first;
  const stages = [...first.data.stages];
  const rawStages = [...((first.raw as { stages: unknown[] }).stages ?? [])];
  let cursor: string | null = first.data.stagesNextCursor;
  while (cursor !== null) {
    const page: ApiAnswer<z.output<typeof stagePageSchema>> = await client.request(
      'GET',
      `/pipelines/${encodeURIComponent(id)}/stages?cursor=${encodeURIComponent(cursor)}`,
      stagePageSchema,
    );
    stages.push(...page.data.items);
    rawStages.push(...(page.raw as { items: unknown[] }).items);
    cursor = page.data.nextCursor;
  }
  return {
    data: { ...first.data, stages, stagesNextCursor: null },
    raw: { ...(first.raw as object), stages: rawStages, stagesNextCursor: null },
  };
}

export type PipelineState = Pipeline['status'] | 'waiting';

/** The pipeline's status, except `waiting` while it is unfinished and holds an open decision or clarification. */
export function pipelineState(p: Pipeline): PipelineState {
  if (TERMINAL_PIPELINE_STATUSES.has(p.status)) return p.status;
  const waiting =
    p.stages.some((s) => s.status === 'waiting') ||
    p.decisions.some((d) => OPEN_DECISION_STATUSES.has(d.status as DecisionStatus)) ||
    p.clarifications.some((c) => c.status === 'open');
  return waiting ? 'waiting' : p.status;
}

/** The exit code a pipeline in this state ends a command with; undefined while it still runs. */
export function exitCodeOf(state: PipelineState): ExitCode | undefined {
  switch (state) {
    case 'succeeded':
      return EXIT.ok;
    case 'failed':
    case 'cancelled':
      return EXIT.failed;
    case 'waiting':
      return EXIT.waitingForPerson;
    default:
      return undefined;
  }
}

function stageNote(p: Pipeline, s: Stage): string {
  // The API keeps the last attempt's error while the next one is queued or runs: it is why the
  // stage runs again, not how it ended.
  if (s.error && ERROR_OF_PREVIOUS_ATTEMPT_STATUSES.has(s.status)) {
    const progress = s.status === 'running' && s.progress > 0 ? `${Math.round(s.progress)}%, ` : '';
    return `${progress}attempt ${s.attempts} after ${s.error.code}: ${s.error.message}`;
  }
  if (s.error) return `${s.error.code}: ${s.error.message}`;
  if (s.reused) return `reused from pipeline ${s.reused.fromPipeline}`;
  const decision = p.decisions.find((d) => d.stageKey === s.key && OPEN_DECISION_STATUSES.has(d.status as DecisionStatus));
  if (decision) return `waits for ${decision.id} (${decision.category})`;
  if (s.status === 'waiting') return 'waits for an answer';
  if (s.status === 'paused') return 'held: the pipeline is paused';
  if (s.waiting) return `held: ${s.waiting.flag} is on`;
  // The API's progress is already a percentage, 0–100 (docs/api.md, `stages[].progress`).
  if (s.status === 'running' && s.progress > 0) return `${Math.round(s.progress)}%`;
  return '';
}

/** The lines that tell a person what the pipeline waits for and the command that answers it. */
export function waitingLines(p: Pipeline): string[] {
  const lines: string[] = [];
  for (const d of p.decisions.filter((d) => OPEN_DECISION_STATUSES.has(d.status as DecisionStatus)))
    lines.push(tty`  decision ${d.id} (${d.category}, stage ${d.stageKey}): sdlc approve ${d.id}  |  sdlc reject ${d.id} --comment "why"`);
  for (const c of p.clarifications.filter((c) => c.status === 'open'))
    lines.push(tty`  clarification ${c.id} (${c.questions.length} question(s)): sdlc answer ${c.id}`);
  return lines.length === 0 ? [] : ['waiting for a person:', ...lines];
}

/** Header line, stage table, waiting lines. */
export function formatPipeline(p: Pipeline): string {
  const state = pipelineState(p);
  const deadline = p.deadlineAt ? tty`, deadline ${p.deadlineAt}` : '';
  const header = `${tty`${p.id}  ${p.name}  ${state === 'waiting' ? 'running, waiting for a person' : p.status}  (${shortDuration(p.durationMs)}, ${p.priority}`}${deadline})`;
  const table = formatTable(
    p.stages,
    [
      { header: 'STAGE', value: (s) => s.key },
      { header: 'AGENT', value: (s) => s.agent },
      { header: 'STATUS', value: (s) => s.status },
      { header: 'ATTEMPTS', value: (s) => String(s.attempts), right: true },
      { header: 'DURATION', value: (s) => shortDuration(s.durationMs), right: true },
      { header: 'NOTE', value: (s) => stageNote(p, s) },
    ],
    'no stages',
  );
  const message = (p.error as { message?: unknown } | null)?.message;
  const failure = p.status === 'failed' && p.error ? [tty`error: ${typeof message === 'string' ? message : JSON.stringify(p.error)}`] : [];
  const paused =
    p.paused && !TERMINAL_PIPELINE_STATUSES.has(p.status)
      ? [
          tty`paused since ${shortTime(p.paused.at)} by ${p.paused.by}${p.paused.reason ? `: ${p.paused.reason}` : ''}  (sdlc resume ${p.id})`,
        ]
      : [];
  const reason = p.cancelReason ? [tty`cancelled: ${p.cancelReason}`] : [];
  return [header, table, ...failure, ...reason, ...paused, ...lineageLines(p), ...waitingLines(p)].join('\n');
}

/** Re-run from a stage: the pipeline this one re-runs, and its own re-runs (sdlc rerun). */
export function lineageLines(p: Pipeline): string[] {
  const lines: string[] = [];
  if (p.rerunOf) lines.push(tty`re-run of ${p.rerunOf} from ${p.rerunFrom.join(', ')}`);
  for (const r of p.reruns) lines.push(tty`re-run as ${r.id} (${r.status}, ${shortTime(r.createdAt)})`);
  return lines;
}
