// Server-sent events read with fetch(): EventSource cannot send an Authorization header, so the
// stream is read as text and parsed frame by frame (the WHATWG event-stream format), and on a
// drop it reconnects after the server's `retry:` delay with Last-Event-ID, so no event is lost.
import { z } from 'zod';

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
    if (data.length > 0 || frame.retry !== undefined) frames.push(frame);
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
}

const DEFAULT_RETRY_MS = 2000;

/** Reads the stream until the returned function is called. */
export function openStream({ path, key, onEvent, onState }: StreamOptions): () => void {
  const abort = new AbortController();
  let lastEventId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;

  const readOnce = async () => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const res = await fetch(path, { headers, signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`the event stream answered ${res.status}`);
    onState?.(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
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
        await readOnce();
        onState?.(false);
      } catch (error) {
        if (abort.signal.aborted) return;
        onState?.(false, error instanceof Error ? error.message : String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();
  return () => abort.abort();
}
