// The request's server span: continues the client's W3C `traceparent` (else starts a trace) and
// runs the rest of the request in its context, so the jobs it adds (bullmq-otel) and the log
// lines it writes carry the same trace. Named `METHOD /route/template` when the response is sent.
// A middleware rather than @opentelemetry/instrumentation-http: that one patches `http` through
// require hooks, which an ESM process run by tsx does not pass through reliably, and it cannot
// know Express's route template anyway.
import { context, isSpanContextValid, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import { routeTemplateOf } from './route-template.js';
import { PROBE_PATH } from './probe-path.js';

export function requestTracing({ tracerName = 'agentic-sdlc-http' }: { tracerName?: string } = {}) {
  return function traceRequest(req: Request, res: Response, next: NextFunction) {
    if (PROBE_PATH.test(req.path)) return next();
    const parent = propagation.extract(context.active(), req.headers);
    const span = trace
      .getTracer(tracerName)
      .startSpan(
        req.method,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path, 'url.scheme': req.protocol } },
        parent,
      );
    // W3C Trace Context's response header: the client learns the trace to quote to an operator.
    const { traceId, spanId, traceFlags } = span.spanContext();
    if (isSpanContextValid(span.spanContext())) res.setHeader('traceresponse', `00-${traceId}-${spanId}-0${traceFlags & 1}`);
    let ended = false;
    const end = (aborted: boolean) => {
      if (ended) return;
      ended = true;
      const route = routeTemplateOf(res);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      // A client leaving an event stream is how streams end: noted, not an error.
      if (aborted) span.setAttribute('http.client_closed', true);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', () => end(false));
    res.once('close', () => end(!res.writableFinished));
    context.with(trace.setSpan(parent, span), next);
  };
}
