// Reads a stage's log back for the API: every attempt (or one), each opened by a header line,
// read from Postgres a page at a time so a long log is streamed, never held whole in memory.
import { NotFoundError } from '../domain/errors.js';
import type { StageLogCursor, StageLogReader } from './workspace.ports.js';

/** Chunks per read; a chunk is at most about 64 KiB. */
const DEFAULT_PAGE_SIZE = 16;

export interface StageLogService {
  /**
   * The stage's log as text pieces, in order. Throws NotFoundError PIPELINE_NOT_FOUND or
   * STAGE_NOT_FOUND before anything is read, so the caller can still answer 404.
   */
  read(pipelineId: string, stageKey: string, options?: { attempt?: number }): Promise<AsyncIterable<string>>;
}

/** The line that opens each attempt's log. */
export function attemptHeader(attempt: number, runId: string): string {
  return `=== attempt ${attempt} (run ${runId}) ===\n`;
}

export function createStageLogService({
  reader,
  pageSize = DEFAULT_PAGE_SIZE,
}: {
  reader: StageLogReader;
  pageSize?: number;
}): StageLogService {
  return {
    async read(pipelineId, stageKey, { attempt } = {}) {
      const stageId = await reader.findStage(pipelineId, stageKey);
      if (stageId === undefined) throw new NotFoundError('PIPELINE_NOT_FOUND', `Pipeline ${pipelineId} not found.`);
      if (stageId === null) throw new NotFoundError('STAGE_NOT_FOUND', `Pipeline ${pipelineId} has no stage "${stageKey}".`);
      async function* pieces(): AsyncGenerator<string> {
        let after: StageLogCursor | undefined;
        for (;;) {
          const chunks = await reader.page(stageId!, { attempt, after, limit: pageSize });
          for (const chunk of chunks) {
            if (after?.attempt !== chunk.attempt || after.runId !== chunk.runId) yield attemptHeader(chunk.attempt, chunk.runId);
            yield chunk.text;
            after = { attempt: chunk.attempt, runId: chunk.runId, seq: chunk.seq };
          }
          if (chunks.length < pageSize) return;
        }
      }
      return pieces();
    },
  };
}
