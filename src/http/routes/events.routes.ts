// /api/v1 event routes: Server-Sent Event streams of the pipeline event log (all pipelines, or
// one) with resume by Last-Event-ID, and one pipeline's paginated history. Access: viewer and up.
// A stream ends when its credential is revoked or expires (src/http/credential-watch.ts).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Router, type Request, type Response } from 'express';
import { EVENT_TYPES, type EventType, type PipelineEvent } from '../../domain/events.js';
import { NotFoundError, UnavailableError, ValidationError } from '../../domain/errors.js';
import type { EventFilter, EventLogReader, EventStream } from '../../services/event-log.ports.js';
import {
  auditQuerySchema,
  EVENT_ID_PATTERN,
  streamQuerySchema,
  toPipelineAuditEntryBody,
  toPipelineEventBody,
} from '../contract/events.schema.js';
import { parseOrThrow, uuidParam } from '../validate.js';
import { authorize } from '../middleware/authorize.js';
import { createStreamQuota, type StreamQuota } from '../stream-quota.js';
import { createCredentialWatch } from '../credential-watch.js';

export interface EventRoutesDeps {
  feed: EventStream;
  reader: EventLogReader;
  pipelineExists(id: string): Promise<boolean>;
  logger: { warn(message: string, meta?: Record<string, unknown>): void };
  /** Comment frame interval that keeps proxies from closing an idle stream (default 15 s). */
  keepAliveMs?: number;
  /** Open streams per identity and in total (src/http/stream-quota.ts); absent: no caps. */
  streamQuota?: StreamQuota;
  /**
   * How often an open stream's credential is verified again (EVENT_STREAM_CREDENTIAL_CHECK_MS,
   * default 15 s): a revoked or expired one ends the stream.
   */
  credentialCheckMs?: number;
  /**
   * How long the backlog waits for a client to take a page it was sent before the stream is
   * ended as too slow (default 30 s).
   */
  backlogDrainTimeoutMs?: number;
}

const RECONNECT_DELAY_MS = 2000;
const BACKLOG_PAGE = 500;
/**
 * A live client this far behind is cut off; it reconnects with Last-Event-ID and reads the
 * backlog. The backlog itself is paced by the client instead: a page, then wait until it is taken.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How often open streams look for a server that stopped listening (shutdown). */
const SHUTDOWN_CHECK_MS = 250;
const MAX_BIGINT = 9223372036854775807n;
const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
/** Says the bound too: 20 digits are digits, and "digits only" did not tell why they were refused. */
const EVENT_ID_MESSAGE = `an event id: digits only, at most ${MAX_BIGINT} (the 'id:' line of a frame this API sent)`;
const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
  // The socket goes with the stream: a shutdown that ends the stream is not held up by it
  // lingering as an idle keep-alive connection.
  Connection: 'close',
} as const;

function isEventId(value: string): boolean {
  return EVENT_ID_PATTERN.test(value) && BigInt(value) <= MAX_BIGINT;
}

function parseTypes(raw: string | undefined): EventType[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = names.filter((t) => !KNOWN_TYPES.has(t));
  if (names.length === 0 || unknown.length > 0) {
    throw new ValidationError('VALIDATION_FAILED', 'Invalid query.', {
      details: [
        {
          field: 'types',
          message:
            names.length === 0
              ? 'list at least one event type'
              : `unknown event type ${unknown.map((t) => `"${t}"`).join(', ')}; known: ${EVENT_TYPES.join(', ')}`,
        },
      ],
    });
  }
  return names as EventType[];
}

/** The resume point a client asked for: the Last-Event-ID header, else ?lastEventId=. */
function lastEventIdOf(req: Request, fromQuery: string | undefined): string | undefined {
  const header = req.get('last-event-id');
  const [field, value] = header !== undefined && header !== '' ? ['Last-Event-ID', header.trim()] : ['lastEventId', fromQuery];
  if (value === undefined || value === '') return undefined;
  if (!isEventId(value))
    throw new ValidationError('VALIDATION_FAILED', `Invalid ${field}.`, { details: [{ field, message: EVENT_ID_MESSAGE }] });
  return value;
}

function frame(event: PipelineEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(toPipelineEventBody(event))}\n\n`;
}

interface OpenStream {
  server: Server | undefined;
  end(): void;
}

interface StreamSpec {
  filter: EventFilter;
  /** The client's Last-Event-ID (header or query), if it sent one. */
  resumedFrom?: string;
  /**
   * Covered already: only events with a greater id are sent. Absent: the stream starts now, with
   * the events committed from now on (see startNow).
   */
  after?: string;
}

export function eventsRouter(deps: EventRoutesDeps): Router {
  const { feed, reader, logger, keepAliveMs = 15_000, backlogDrainTimeoutMs = 30_000 } = deps;
  const credentials = createCredentialWatch({ intervalMs: deps.credentialCheckMs, logger });
  const quota = deps.streamQuota ?? createStreamQuota({ perIdentity: Number.POSITIVE_INFINITY, total: Number.POSITIVE_INFINITY });
  const router = Router();
  const streams = new Set<OpenStream>();
  let shutdownWatch: NodeJS.Timeout | undefined;

  // Entries close the HTTP server before the runtime, and server.close() waits for open
  // responses: a stream ends itself once its server stops listening.
  function watchForShutdown() {
    if (shutdownWatch) return;
    shutdownWatch = setInterval(() => {
      for (const s of [...streams]) if (s.server && !s.server.listening) s.end();
      if (streams.size === 0) {
        clearInterval(shutdownWatch);
        shutdownWatch = undefined;
      }
    }, SHUTDOWN_CHECK_MS);
    shutdownWatch.unref();
  }

  /**
   * Where a stream without a resume point starts. Not after the newest id: an insert that took a
   * lower id and commits later (ids are taken before commit) would then never reach the stream,
   * nor a client resuming from what it got. It starts at the feed's cursor (below it every id is
   * committed or given up) and leaves out the matching events already in the table up to the
   * newest id: what commits from now on is sent, in id order, each once.
   */
  async function startNow(filter: EventFilter): Promise<{ position: bigint; before: Set<string>; top: bigint }> {
    const floor = BigInt(feed.cursor());
    const top = BigInt(await reader.maxId());
    const before = new Set<string>();
    for (let cursor = floor; cursor < top;) {
      const page = await reader.readAfter(String(cursor), BACKLOG_PAGE, filter);
      for (const event of page) if (BigInt(event.id) <= top) before.add(event.id);
      if (page.length < BACKLOG_PAGE) break;
      cursor = BigInt(page[page.length - 1]!.id);
    }
    return { position: floor < top ? floor : top, before, top };
  }

  async function stream(req: Request, res: Response, spec: StreamSpec): Promise<void> {
    // HEAD gets the stream's headers and no stream: Node drops the writes of a HEAD answer and
    // sends its headers only when it ends, so a stream opened for it never answered and held
    // its slot and subscription until the client gave up.
    if (req.method === 'HEAD') {
      res.writeHead(200, STREAM_HEADERS).end();
      return;
    }
    const matches = (e: PipelineEvent) =>
      (!spec.filter.pipelineId || e.pipelineId === spec.filter.pipelineId) && (!spec.filter.types || spec.filter.types.includes(e.type));
    // Subscribe before reading the backlog; what arrives meanwhile waits here.
    let buffer: PipelineEvent[] | undefined = [];
    let position = 0n;
    let ended = false;
    // Set once the headers are out; cleanup may run before that.
    let keepAlive: NodeJS.Timeout | undefined = undefined;
    let stopWatching: (() => void) | undefined = undefined;
    // Over a cap this throws 429 before anything is sent; the slot goes back in cleanup.
    const releaseSlot = quota.acquire(req.identity?.id ?? '');

    // While the backlog is read, the pages' size is not the client's fault: each one waits to be
    // taken (drained) before the next is read. Live events cannot wait: past the bound, the end.
    let inBacklog = true;
    const tooSlow = () => {
      logger.warn('SSE client too slow: ending its stream', { requestId: req.requestId });
      open.end();
    };
    const write = (chunk: string) => {
      if (ended) return;
      res.write(chunk);
      if (!inBacklog && res.writableLength > MAX_BUFFERED_BYTES) tooSlow();
    };
    /** True once what was written is taken by the client; false when it closes or the wait times out. */
    const drained = () =>
      new Promise<boolean>((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          res.off('drain', onDrain);
          res.off('close', onClose);
          resolve(ok);
        };
        const onDrain = () => done(true);
        const onClose = () => done(false);
        const timer = setTimeout(() => done(false), backlogDrainTimeoutMs);
        res.once('drain', onDrain);
        res.once('close', onClose);
      });
    // Starting now: the events at or below the newest id that were already in the table then.
    let before: ReadonlySet<string> = new Set();
    // The resume point the client holds: its Last-Event-ID, then the id of each frame it got; and
    // whether it is exact (see below). A client's own Last-Event-ID is: everything after it is sent.
    let clientId = spec.resumedFrom;
    let clientExact = spec.resumedFrom !== undefined;
    // From here on `position` names exactly what is left to send: every matching event at or below
    // it was sent or is one `before` leaves out, every one above it is still to come. Starting
    // now, that holds once `position` reaches the newest id at the start (`top`): below it, an id
    // that is not in the table yet (taken, not committed) is still to be sent while the ones in
    // `before` are not, and no single id says both.
    let exactFrom = 0n;
    const send = (event: PipelineEvent) => {
      const id = BigInt(event.id);
      if (id <= position) return;
      // Passed over or sent, the backlog reads on from here: were a page of `before` events left
      // below the position, the next read would return the same page, for good.
      position = id;
      if (before.has(event.id)) return;
      clientId = event.id;
      // An id below `top` that committed late: a reconnect from it would repeat what `before` leaves out.
      clientExact = id >= exactFrom;
      write(frame(event));
    };
    /** Live, an event the stream does not send: everything up to it is covered all the same. */
    const pass = (event: PipelineEvent) => {
      const id = BigInt(event.id);
      if (id > position) position = id;
    };
    /**
     * An `id:` line with no data: per the SSE spec it sets the client's last event id without
     * dispatching an event, so a stream that ends before (or between) matching events still leaves
     * a resume point, and a reconnect neither skips what committed meanwhile nor repeats anything.
     */
    const checkpoint = () => {
      if (position < exactFrom || clientId === String(position)) return;
      clientId = String(position);
      clientExact = true;
      write(`id: ${clientId}\n\n`);
    };
    const cleanup = () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      if (keepAlive) clearInterval(keepAlive);
      stopWatching?.();
      streams.delete(open);
      releaseSlot();
    };
    const open: OpenStream = {
      server: (req.socket as Socket & { server?: Server }).server,
      end() {
        if (ended) return;
        cleanup();
        res.end();
      },
    };
    const unsubscribe = feed.subscribe(
      (event) => {
        if (ended) return;
        if (buffer) {
          if (matches(event)) buffer.push(event);
          return;
        }
        if (matches(event)) send(event);
        else pass(event);
        // A client that holds no exact resume point gets one as soon as there is one.
        if (!clientExact) checkpoint();
      },
      { onClose: () => open.end() },
    );
    res.on('close', cleanup);
    // A client gone while the route awaited (maxId, pipelineExists) sent its 'close' already:
    // without this its slot and subscription would stay taken for good.
    if (res.destroyed || req.socket.destroyed) cleanup();

    try {
      await feed.ready();
    } catch {
      cleanup();
      throw new UnavailableError('EVENTS_UNAVAILABLE', 'The event stream is not available; retry shortly.');
    }
    // Gone before the stream started: ended, so a shutdown does not wait for it (middleware/in-flight.ts).
    if (ended) return void res.end();
    if (spec.after === undefined) {
      try {
        ({ position, before, top: exactFrom } = await startNow(spec.filter));
      } catch {
        cleanup();
        throw new UnavailableError('EVENTS_UNAVAILABLE', 'The event stream is not available; retry shortly.');
      }
      if (ended) return void res.end();
    } else position = BigInt(spec.after);
    streams.add(open);
    watchForShutdown();
    res.writeHead(200, STREAM_HEADERS);
    write(`retry: ${RECONNECT_DELAY_MS}\n\n`);
    checkpoint();
    keepAlive = setInterval(() => {
      write(': keep-alive\n\n');
      checkpoint();
    }, keepAliveMs);
    keepAlive.unref();
    // A credential refused since the stream began ends it as a new request would be refused: a
    // last comment names the refusal (a reconnect gets the 401), and cleanup frees the slot.
    if (req.credential) {
      stopWatching = credentials.watch(req.credential, (refusal) => {
        write(`: credential refused: ${refusal.code}\n\n`);
        open.end();
      });
    }

    try {
      // The backlog runs up to the feed's cursor, which moves while we read: everything at or
      // below it is in the table, everything above it comes from the feed into the buffer.
      for (;;) {
        const upTo = BigInt(feed.cursor());
        if (ended || position >= upTo) break;
        const page = await reader.readAfter(String(position), BACKLOG_PAGE, spec.filter);
        let more = page.length === BACKLOG_PAGE;
        for (const event of page) {
          if (BigInt(event.id) > upTo) {
            more = false;
            break;
          }
          send(event);
        }
        if (!more && position < upTo) position = upTo;
        checkpoint();
        if (!ended && res.writableNeedDrain && !(await drained())) {
          if (!ended) tooSlow();
          return;
        }
      }
    } catch (error) {
      // Headers are out: end the stream and let the client reconnect with its Last-Event-ID.
      logger.warn('SSE backlog read failed: ending the stream', { requestId: req.requestId, error: (error as Error).message });
      open.end();
      return;
    }
    const backlogDone = buffer;
    buffer = undefined;
    inBacklog = false;
    for (const event of backlogDone) send(event);
  }

  router.get('/events', authorize('read'), async (req, res) => {
    const query = parseOrThrow(streamQuerySchema, req.query, 'Invalid query.');
    const types = parseTypes(query.types);
    // Without a resume point the stream starts now, with the events committed from now on.
    const after = lastEventIdOf(req, query.lastEventId);
    await stream(req, res, { filter: { types }, after, resumedFrom: after });
  });

  router.get('/pipelines/:id/events', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    const query = parseOrThrow(streamQuerySchema, req.query, 'Invalid query.');
    const types = parseTypes(query.types);
    const after = lastEventIdOf(req, query.lastEventId);
    if (!(await deps.pipelineExists(id))) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
    // A pipeline's stream starts at its first event unless the client resumes.
    await stream(req, res, { filter: { pipelineId: id, types }, after: after ?? '0', resumedFrom: after });
  });

  router.get('/pipelines/:id/audit', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    const query = parseOrThrow(auditQuerySchema, req.query, 'Invalid query.');
    if (query.cursor !== undefined && !isEventId(query.cursor)) {
      throw new ValidationError('VALIDATION_FAILED', 'Invalid query.', {
        details: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
      });
    }
    const [exists, events] = await Promise.all([
      deps.pipelineExists(id),
      reader.listAudit(id, { afterId: query.cursor, limit: query.limit + 1 }),
    ]);
    if (!exists) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
    const page = events.slice(0, query.limit);
    res.json({
      items: page.map(toPipelineAuditEntryBody),
      nextCursor: events.length > query.limit ? page[page.length - 1]!.id : null,
    });
  });

  return router;
}
