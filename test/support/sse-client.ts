// A minimal Server-Sent Events client over fetch for tests against the event streams: keeps every
// frame (comments included), parses the events' data, and says when the server ended the stream.
import { withAuth, type Loose } from './http.js';

export interface Frame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

export interface StreamedEvent {
  id: string;
  type: string;
  pipelineId: string;
  stageKey: string | null;
  actor: string;
  data: Loose;
  createdAt: string;
}

/**
 * A minimal SSE client over fetch: keeps every frame, parses the events' data. Sends the
 * harness's key for the URL's origin unless `headers` name a credential.
 */
export class SseClient {
  readonly frames: Frame[] = [];
  readonly ended: Promise<void>;
  /** True once the server ended the stream (not set by close()). */
  endedByServer = false;
  private readonly controller: AbortController;

  private constructor(
    readonly status: number,
    readonly headers: Headers,
    body: ReadableStream<Uint8Array>,
    controller: AbortController,
  ) {
    this.controller = controller;
    this.ended = this.pump(body);
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const controller = new AbortController();
    const res = await fetch(url, {
      headers: withAuth(new URL(url).origin, { accept: 'text/event-stream', ...headers }),
      signal: controller.signal,
    });
    return new SseClient(res.status, res.headers, res.body!, controller);
  }

  get events(): StreamedEvent[] {
    return this.frames.filter((f) => f.event !== undefined).map((f) => JSON.parse(f.data ?? '{}') as StreamedEvent);
  }

  eventsOf(pipelineId: string): StreamedEvent[] {
    return this.events.filter((e) => e.pipelineId === pipelineId);
  }

  async waitFor(predicate: (events: StreamedEvent[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (Date.now() > deadline)
        throw new Error(`stream: timed out waiting for ${what}; got ${JSON.stringify(this.events.map((e) => [e.id, e.type]))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.controller.abort();
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of body) {
        text += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const frame: Frame = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) frame.comment = line.slice(1).trim();
            const match = /^(id|event|data|retry): ?(.*)$/.exec(line);
            if (match) frame[match[1] as 'id' | 'event' | 'data' | 'retry'] = match[2];
          }
          this.frames.push(frame);
        }
      }
      this.endedByServer = true;
    } catch {
      // Aborted by close().
    }
  }
}
