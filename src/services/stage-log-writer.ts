// Buffers one attempt's log lines and writes them to Postgres in chunks: about every second, at
// 64 KiB, and when the attempt ends, so a worker on any machine leaves its stage log where the
// API can read it. Capped per stage (all attempts): past the cap one "[log truncated]" line is
// written and the rest dropped. Best effort: a failed write is logged, never fails the stage.
import type { Logger } from '../domain/logger.js';
import type { StageLogStore } from './workspace.ports.js';

export const TRUNCATED_LINE = '[log truncated]';
const DEFAULT_FLUSH_MS = 1000;
const DEFAULT_FLUSH_BYTES = 64 * 1024;

export interface StageLogWriterOptions {
  store: StageLogStore;
  /** STAGE_LOG_MAX_BYTES: bytes kept per stage, all attempts together. */
  maxBytes: number;
  logger: Logger;
  /** Flush at least this often while lines come (default 1 s). */
  flushMs?: number;
  /** Flush once this many bytes wait (default 64 KiB). */
  flushBytes?: number;
}

/** One attempt's log. */
export interface StageLog {
  append(line: string): void;
  /** Writes what is left; resolves when it is stored (or failed). Further lines are dropped. */
  close(): Promise<void>;
}

export interface StageLogWriter {
  open(attempt: { stageId: string; runId: string; attempt: number }): StageLog;
}

/** The longest prefix of `text` under `bytes` UTF-8 bytes that ends a line (or any prefix without one). */
function cutToBytes(text: string, bytes: number): string {
  const cut = Buffer.from(text, 'utf8')
    .subarray(0, Math.max(0, bytes))
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  const lastNewline = cut.lastIndexOf('\n');
  return lastNewline >= 0 ? cut.slice(0, lastNewline + 1) : cut;
}

export function createStageLogWriter({
  store,
  maxBytes,
  logger,
  flushMs = DEFAULT_FLUSH_MS,
  flushBytes = DEFAULT_FLUSH_BYTES,
}: StageLogWriterOptions): StageLogWriter {
  return {
    open({ stageId, runId, attempt }) {
      let pending: string[] = [];
      let pendingBytes = 0;
      // Bytes this attempt took in: past the cap they would be dropped anyway, so stop holding them.
      let accepted = 0;
      let seq = 0;
      let kept: number | undefined;
      let truncated = false;
      let closed = false;
      let timer: NodeJS.Timeout | undefined;
      let writing: Promise<void> = Promise.resolve();

      const write = async (text: string) => {
        kept ??= await store.bytesKept(stageId);
        if (truncated || kept >= maxBytes) {
          truncated = true;
          return;
        }
        let chunk = text;
        if (Buffer.byteLength(chunk, 'utf8') > maxBytes - kept) {
          chunk = `${cutToBytes(chunk, maxBytes - kept)}${TRUNCATED_LINE}\n`;
          truncated = true;
        }
        seq += 1;
        await store.append({ stageId, runId, attempt, seq, text: chunk });
        kept += Buffer.byteLength(chunk, 'utf8');
      };

      const flush = () => {
        if (timer) clearTimeout(timer);
        timer = undefined;
        if (pending.length === 0) return writing;
        const text = pending.join('');
        pending = [];
        pendingBytes = 0;
        // One write at a time, in order; a failure loses its chunk, not the ones after it.
        writing = writing.then(() =>
          write(text).catch((error: unknown) =>
            logger.warn('stage log chunk not stored', { stageId, attempt, error: error instanceof Error ? error.message : String(error) }),
          ),
        );
        return writing;
      };

      return {
        append(line) {
          if (closed || truncated || accepted > maxBytes) return;
          const text = `${line}\n`;
          const bytes = Buffer.byteLength(text, 'utf8');
          pending.push(text);
          pendingBytes += bytes;
          accepted += bytes;
          if (pendingBytes >= flushBytes) void flush();
          else timer ??= setTimeout(() => void flush(), flushMs).unref();
        },
        async close() {
          closed = true;
          await flush();
        },
      };
    },
  };
}
