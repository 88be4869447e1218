// The ports of the event log as its readers see it: the SSE streams and the pipeline audit
// history (src/http/routes/events.routes.ts). infra/events implements them (EventFeed, the event
// repository); the composition root passes them in, so the routes never import infra.
import type { EventType, PipelineEvent } from '../domain/events.js';

export interface EventFilter {
  pipelineId?: string;
  /** Only these types (all when absent). */
  types?: readonly EventType[];
}

/** Reads the append-only log (pipeline_events) by id. */
export interface EventLogReader {
  /** Events with id > `afterId`, in id order, at most `limit`. */
  readAfter(afterId: string, limit: number, filter?: EventFilter): Promise<PipelineEvent[]>;
  /** One pipeline's audit events with id > `afterId`, in id order. */
  listAudit(pipelineId: string, opts: { afterId?: string; limit: number }): Promise<PipelineEvent[]>;
  /** The highest id in the log, "0" when it is empty. */
  maxId(): Promise<string>;
}

/** New events as they are written, fanned out in id order to in-process subscribers. */
export interface EventStream {
  subscribe(listener: (event: PipelineEvent) => void, options?: { onClose?: () => void }): () => void;
  /** The last id handed to subscribers: everything at or below it has been delivered. */
  cursor(): string;
  /** Resolves once the stream is positioned for the current subscribers (cursor() is then final). */
  ready(): Promise<void>;
}
