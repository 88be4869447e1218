// Server-sent events read with fetch(): EventSource cannot send an Authorization header, so the
// stream is read as text and parsed frame by frame (the WHATWG event-stream format), and on a
// drop it reconnects after the server's `retry:` delay with Last-Event-ID, so no event is lost.
// A 401 (the key was revoked or expired; the API ends the open stream of such a key) is not
// retried: every retry would be one more failed authentication from this address, and a tab
// left open would spend the address's RATE_LIMIT_AUTH_FAILURES budget for every key behind it.
// A 429 or 503 with Retry-After (too many streams, a dependency down, the API restarting) is
// retried no sooner than it says: every open tab reconnecting each 2 s would keep the API busy
// refusing them, and a stream quota's slot is not free before then anyway.
import { z } from 'zod';
import { failure, isRefusal, type ApiError } from './api.js';

export const streamEventSchema = z.looseObject({
  id: z.string(),
  pipelineId: z.string(),
  type: z.string(),
  stageKey: z.string().nullable(),
});
export type StreamEvent = z.infer<typeof streamEventSchema>;

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

/** Splits event-stream text into frames; returns those complete and the unfinished rest. */
export function parseFrames(buffer: string): { frames: SseFrame[]; rest: string } {
  const normalized = buffer.replace(/\r\n?/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop() ?? '';
  const frames: SseFrame[] = [];
  for (const block of blocks) {
    const frame: SseFrame = { event: 'message', data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') frame.event = value;
      else if (field === 'id') frame.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) frame.retry = Number(value);
    }
    frame.data = data.join('\n');
    // An `id:` with no data is a resume point: it sets the last event id and dispatches nothing.
    if (data.length > 0 || frame.retry !== undefined || frame.id !== undefined) frames.push(frame);
  }
  return { frames, rest };
}

export interface StreamOptions {
  /** `/api/v1/events` or `/api/v1/pipelines/:id/events`. */
  path: string;
  key: string;
  onEvent(event: StreamEvent): void;
  /** Connected (true) or dropped and waiting to reconnect (false). */
  onState?(connected: boolean, error?: string): void;
  /** The key was refused (401): the stream stops for good. */
  onRefused?(error: ApiError): void;
  /** Waits before a reconnect (tests look at the delay); a timer by default. */
  wait?(ms: number): Promise<void>;
}

const DEFAULT_RETRY_MS = 2000;

/**
 * The delay a Retry-After header asks for, in ms (delta-seconds or an HTTP date; RFC 9110
 * §10.2.3), or undefined when there is none or it cannot be read.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reads the stream until the returned function is called, or until the key is refused. */
export function openStream({ path, key, onEvent, onState, onRefused, wait = sleep }: StreamOptions): () => void {
  const abort = new AbortController();
  let lastEventId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;
  /** The refusal's Retry-After, for the next reconnect only. */
  let retryAfter: number | undefined;

  /** Reads one connection to its end; false when the key was refused and nothing may follow. */
  const readOnce = async (): Promise<boolean> => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const res = await fetch(path, { headers, signal: abort.signal });
    if (!res.ok) {
      retryAfter = retryAfterMs(res.headers.get('retry-after'));
      const error = await failure(res);
      if (!isRefusal(error)) throw error;
      onRefused?.(error);
      return false;
    }
    if (!res.body) throw new Error(`the event stream answered ${res.status} without a body`);
    onState?.(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      const { frames, rest } = parseFrames(buffer + value);
      buffer = rest;
      for (const frame of frames) {
        if (frame.retry !== undefined) retryMs = frame.retry;
        if (frame.id) lastEventId = frame.id;
        if (!frame.data) continue;
        const parsed = streamEventSchema.safeParse(JSON.parse(frame.data));
        if (parsed.success) onEvent(parsed.data);
      }
    }
  };

  void (async () => {
    while (!abort.signal.aborted) {
      try {
        if (!(await readOnce())) return;
        onState?.(false);
      } catch (error) {
        if (abort.signal.aborted) return;
        onState?.(false, error instanceof Error ? error.message : String(error));
      }
      if (abort.signal.aborted) return;
      // The stream's own `retry:` at least; longer when the refusal said Retry-After.
      const delay = Math.max(retryMs, retryAfter ?? 0);
      retryAfter = undefined;
      await wait(delay);
    }
  })();
  return () => abort.abort();
}
