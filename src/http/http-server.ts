// The API's HTTP server: the app behind Node's own limits for slow and malformed clients. Node
// answers those before Express sees a request (header overflow, timeouts, bytes that are not
// HTTP), with an empty body by default; here they get the JSON error every other refusal has.
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { ValidationError, type AppError } from '../domain/errors.js';
import { classifyNetworkError } from '../domain/network-errors.js';
import { errorBody } from './middleware/errors.js';

export interface HttpServerLimits {
  /** All request headers must arrive within this time (a slow-header client gets 408). */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this time; responses are not limited. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Open connections at once; Node drops new ones beyond. */
  maxConnections: number;
}

/** How often Node checks the two timeouts: its default (30 s) would let a slow client stay that long. */
const TIMEOUT_CHECK_MS = 1000;

/** The refusal for an error Node's HTTP parser or timers raised on a connection. */
function refusalFor(error: NodeJS.ErrnoException): AppError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ValidationError('HEADERS_TOO_LARGE', 'The request headers are larger than the server accepts.', {
        details: [{ field: '(headers)', message: 'too large' }],
      });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ValidationError(
        'REQUEST_TIMEOUT',
        'The request was not received in time: its headers or body came too slowly, or the body was shorter than its Content-Length.',
      );
    default:
      return new ValidationError('MALFORMED_REQUEST', 'The request is not valid HTTP/1.1.', {
        details: [{ field: '(request)', message: error.code ?? 'malformed' }],
      });
  }
}

function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset peer, or a response already begun: nothing can be said any more.
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (classifyNetworkError(error)?.kind === 'connection_lost' || !socket.writable || started) {
    socket.destroy();
    return;
  }
  const refusal = refusalFor(error);
  const body = JSON.stringify(errorBody(refusal, randomUUID()));
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

export function createHttpServer(app: RequestListener, limits: HttpServerLimits): Server {
  const server = createServer(
    {
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
    },
    app,
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', answerClientError);
  return server;
}

/** The limits of the environment's configuration. */
export function httpServerLimits(config: {
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_MAX_CONNECTIONS: number;
}): HttpServerLimits {
  return {
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    // Node refuses a request timeout shorter than the headers timeout.
    requestTimeoutMs: Math.max(config.HTTP_REQUEST_TIMEOUT_MS, config.HTTP_HEADERS_TIMEOUT_MS),
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: config.HTTP_MAX_CONNECTIONS,
  };
}
