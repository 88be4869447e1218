// `watch`, `submit --wait`: follow a pipeline until it ends (or, with --until-human, until it
// waits on a person). On a terminal the table is redrawn in place; otherwise (a log, a pipe, CI)
// one line per change, then the final table. Polls GET /pipelines/:id: it works through any
// proxy and needs no SSE support in between. Server text is escaped where it enters a line
// (src/cli/terminal-text.ts); the redraw's own cursor moves go out through Output.control.
import type { ApiAnswer, ApiClient } from './api-client.js';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';
import type { Output } from './output.js';
import {
  exitCodeOf,
  fetchPipeline,
  formatPipeline,
  pipelineState,
  waitingLines,
  type Pipeline,
  type PipelineState,
} from './pipeline-view.js';
import { tty } from './terminal-text.js';

export interface WatchOptions {
  /** Stop with exit 3 once the pipeline waits on a person, instead of waiting for the answer. */
  untilHuman: boolean;
  /** Redraw in place (stdout is a terminal and the output is text). */
  redraw: boolean;
  /** The terminal's width: redrawn lines are cut to it, or a wrapped line would break the redraw. */
  columns?: number;
  /** Progress goes to stderr and nothing is drawn: stdout keeps one document for --json. */
  quiet: boolean;
  intervalMs: number;
  /**
   * How long a pipeline already read may stay unreadable (the API restarting: refused connections,
   * 502/503/504) before watch gives up with that error (default 60 s, `SDLC_WATCH_RECONNECT_MS`).
   */
  reconnectMs?: number;
}

/** Default of WatchOptions.reconnectMs: long enough for an API process to restart. */
export const WATCH_RECONNECT_MS = 60_000;

export interface WatchResult {
  pipeline: ApiAnswer<Pipeline>;
  code: ExitCode;
}

const clock = () => new Date().toISOString().slice(11, 19);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const lineCount = (text: string) => text.split('\n').length;

/** Lines for what changed between two reads of the pipeline (all of it when `before` is undefined). */
export function changeLines(before: Pipeline | undefined, after: Pipeline): string[] {
  const lines: string[] = [];
  const previous = new Map(before?.stages.map((s) => [s.key, s]) ?? []);
  for (const s of after.stages) {
    const old = previous.get(s.key);
    if (old && old.status === s.status && old.attempts === s.attempts) continue;
    const attempt = s.attempts > 1 ? `  attempt ${s.attempts}` : '';
    const error = s.error && s.status !== 'succeeded' ? tty`  ${s.error.code}: ${s.error.message}` : '';
    lines.push(`${tty`${clock()}  ${s.key}  ${s.status}`}${attempt}${error}`);
  }
  const was: PipelineState | undefined = before && pipelineState(before);
  const now = pipelineState(after);
  if (was !== now) {
    lines.push(tty`${clock()}  pipeline ${after.name}  ${now === 'waiting' ? 'waiting for a person' : now}`);
    if (now === 'waiting') lines.push(...waitingLines(after));
  }
  return lines;
}

export async function watchPipeline(client: ApiClient, id: string, options: WatchOptions, output: Output): Promise<WatchResult> {
  let previous: Pipeline | undefined;
  let drawn = 0;
  let shown = '';
  let unreachableSince: number | undefined;
  const reconnectMs = options.reconnectMs ?? WATCH_RECONNECT_MS;
  for (;;) {
    let answer: ApiAnswer<Pipeline>;
    try {
      answer = await fetchPipeline(client, id);
    } catch (error) {
      // The first read answers at once (a wrong server or id); after it, the pipeline runs on
      // whatever the API does, so a restart of the API is waited out, on stderr.
      if (!(error instanceof CliError) || !error.transient || previous === undefined) throw error;
      const now = Date.now();
      if (unreachableSince === undefined) {
        unreachableSince = now;
        output.err(`${error.message.split('\n')[0]}; trying again for up to ${Math.round(reconnectMs / 1000)} s`);
      }
      if (now - unreachableSince >= reconnectMs) throw error;
      await sleep(options.intervalMs);
      continue;
    }
    if (unreachableSince !== undefined) output.err(`${clock()}  the API answers again`);
    unreachableSince = undefined;
    const pipeline = answer.data;
    const state = pipelineState(pipeline);
    const code = exitCodeOf(state);
    const done = code !== undefined && (code !== EXIT.waitingForPerson || options.untilHuman);
    if (options.quiet) {
      for (const line of changeLines(previous, pipeline)) output.err(line);
    } else if (options.redraw) {
      // A pseudo-terminal without a size reports 0 columns: assume 80.
      const width = Math.max((options.columns ? options.columns : 80) - 1, 20);
      const text = formatPipeline(pipeline)
        .split('\n')
        .map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line))
        .join('\n');
      if (text !== shown) {
        // Back to the start of the last drawing, clear to the end of the screen, draw again.
        if (drawn > 0) output.control(`\x1b[${drawn}F\x1b[J`);
        output.out(text);
        drawn = lineCount(text);
        shown = text;
      }
    } else {
      for (const line of changeLines(previous, pipeline)) output.out(line);
      if (done) output.out(formatPipeline(pipeline));
    }
    if (done) return { pipeline: answer, code };
    previous = pipeline;
    await sleep(options.intervalMs);
  }
}
