// The error hierarchy: the category → HTTP status table, each class's code, category,
// retryability and hint, the classification of what agent handlers throw, and the JSON body the
// error middleware writes.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { NextFunction, Request, Response } from 'express';
import {
  AgentError,
  AppError,
  CATEGORY_DEFAULTS,
  CircuitOpenError,
  ConfigurationError,
  ConflictError,
  DatabaseTimeoutError,
  DownstreamError,
  ERROR_CATEGORIES,
  ERROR_CODES,
  HTTP_STATUS_BY_CATEGORY,
  InternalError,
  NotFoundError,
  TooManyRequestsError,
  UnavailableError,
  UnrecoverableStageError,
  ValidationError,
  classifyError,
  describeCode,
  httpStatusOf,
  isUnrecoverable,
} from '../../src/domain/errors.js';
import { errorHandler, MAX_ERROR_DETAILS, notFoundHandler } from '../../src/http/middleware/errors.js';

describe('error hierarchy (unit)', () => {
  describe('HTTP status table', () => {
    it('every category has exactly one status, and the table is the one the classes use', () => {
      expect(Object.keys(HTTP_STATUS_BY_CATEGORY)).to.have.members([...ERROR_CATEGORIES]);
      expect(HTTP_STATUS_BY_CATEGORY).to.deep.equal({
        validation: 400,
        unauthenticated: 401,
        forbidden: 403,
        not_found: 404,
        conflict: 409,
        agent: 502,
        pipeline: 422,
        downstream: 502,
        configuration: 500,
        unavailable: 503,
        rate_limited: 429,
        internal: 500,
      });
    });

    it('a code with its own status (415, 413) overrides its category', () => {
      expect(httpStatusOf({ code: 'UNSUPPORTED_MEDIA_TYPE', category: 'validation' })).to.equal(415);
      expect(httpStatusOf({ code: 'PAYLOAD_TOO_LARGE', category: 'validation' })).to.equal(413);
      expect(httpStatusOf({ code: 'MALFORMED_JSON', category: 'validation' })).to.equal(400);
    });

    it('the code table of docs/error-handling.md matches ERROR_CODES (category, status, retryable)', () => {
      const doc = readFileSync(new URL('../../docs/error-handling.md', import.meta.url), 'utf8');
      const rows = new Map(
        [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (\w+) \| (\d{3}) \| (yes|no) \|/gm)].map((m) => [m[1], `${m[2]} ${m[3]} ${m[4]}`]),
      );
      const expected = Object.entries(ERROR_CODES).map(([code, spec]) => [
        code,
        `${spec.category} ${httpStatusOf({ code, category: spec.category })} ${spec.retryable ? 'yes' : 'no'}`,
      ]);
      expect([...rows]).to.deep.equal(expected);
    });

    it('every catalogued code has a known category and a hint', () => {
      for (const [code, spec] of Object.entries(ERROR_CODES)) {
        expect(ERROR_CATEGORIES, code).to.include(spec.category);
        expect(spec.hint, code).to.be.a('string').with.length.greaterThan(10);
        expect(code).to.match(/^[A-Z][A-Z0-9_]+$/);
      }
      for (const category of ERROR_CATEGORIES) expect(CATEGORY_DEFAULTS[category].hint, category).to.have.length.greaterThan(10);
    });
  });

  describe('classes', () => {
    const cases: { error: AppError; name: string; code: string; category: string; status: number; retryable: boolean }[] = [
      {
        error: new ValidationError('VALIDATION_FAILED', 'bad'),
        name: 'ValidationError',
        code: 'VALIDATION_FAILED',
        category: 'validation',
        status: 400,
        retryable: false,
      },
      {
        error: new ValidationError('MALFORMED_JSON', 'bad'),
        name: 'ValidationError',
        code: 'MALFORMED_JSON',
        category: 'validation',
        status: 400,
        retryable: false,
      },
      {
        error: new ValidationError('UNSUPPORTED_MEDIA_TYPE', 'json please'),
        name: 'ValidationError',
        code: 'UNSUPPORTED_MEDIA_TYPE',
        category: 'validation',
        status: 415,
        retryable: false,
      },
      {
        error: new NotFoundError('PIPELINE_NOT_FOUND', 'no'),
        name: 'NotFoundError',
        code: 'PIPELINE_NOT_FOUND',
        category: 'not_found',
        status: 404,
        retryable: false,
      },
      {
        error: new ConflictError('DECISION_CLOSED', 'closed'),
        name: 'ConflictError',
        code: 'DECISION_CLOSED',
        category: 'conflict',
        status: 409,
        retryable: false,
      },
      {
        error: new UnavailableError('QUEUE_UNAVAILABLE', 'down'),
        name: 'UnavailableError',
        code: 'QUEUE_UNAVAILABLE',
        category: 'unavailable',
        status: 503,
        retryable: true,
      },
      {
        error: new TooManyRequestsError('BACKLOG_FULL', 'full'),
        name: 'TooManyRequestsError',
        code: 'BACKLOG_FULL',
        category: 'rate_limited',
        status: 429,
        retryable: true,
      },
      {
        error: new ConfigurationError('CONFIG_INVALID', 'bad env'),
        name: 'ConfigurationError',
        code: 'CONFIG_INVALID',
        category: 'configuration',
        status: 500,
        retryable: false,
      },
      {
        error: new InternalError('INTERNAL', 'An unexpected error occurred.'),
        name: 'InternalError',
        code: 'INTERNAL',
        category: 'internal',
        status: 500,
        retryable: false,
      },
      {
        error: new AgentError('AGENT_ERROR', 'flaky'),
        name: 'AgentError',
        code: 'AGENT_ERROR',
        category: 'agent',
        status: 502,
        retryable: true,
      },
      {
        error: new DownstreamError('DOWNSTREAM_ERROR', 'LLM API 503'),
        name: 'DownstreamError',
        code: 'DOWNSTREAM_ERROR',
        category: 'downstream',
        status: 502,
        retryable: true,
      },
      {
        error: new UnrecoverableStageError('AGENT_UNRECOVERABLE', 'no'),
        name: 'UnrecoverableStageError',
        code: 'AGENT_UNRECOVERABLE',
        category: 'agent',
        status: 502,
        retryable: false,
      },
      {
        error: new CircuitOpenError('AGENT_CIRCUIT_OPEN', 'open', { agentType: 'scaffold', retryAfterMs: 1500 }),
        name: 'CircuitOpenError',
        code: 'AGENT_CIRCUIT_OPEN',
        category: 'downstream',
        status: 502,
        retryable: true,
      },
      {
        error: new DatabaseTimeoutError('DATABASE_TIMEOUT', 'statement cancelled'),
        name: 'DatabaseTimeoutError',
        code: 'DATABASE_TIMEOUT',
        category: 'downstream',
        status: 503,
        retryable: true,
      },
    ];
    for (const c of cases) {
      it(`${c.name} ${c.code}: ${c.category}, ${c.status}, ${c.retryable ? 'retryable' : 'not retryable'}, with a hint`, () => {
        expect(c.error).to.be.instanceOf(AppError).and.instanceOf(Error);
        expect(c.error).to.include({ name: c.name, code: c.code, category: c.category });
        expect(c.error.status).to.equal(c.status);
        expect(c.error.retryable).to.equal(c.retryable);
        expect(c.error.hint).to.be.a('string').with.length.greaterThan(10);
        expect(c.error.describe()).to.deep.equal({
          code: c.code,
          category: c.category,
          retryable: c.retryable,
          hint: c.error.hint,
          message: c.error.message,
        });
      });
    }

    it('every class takes (code, message, { details, retryAfterSeconds, cause }); 503 and 429 (DATABASE_TIMEOUT too) default to Retry-After 5', () => {
      const cause = new Error('socket closed');
      const validation = new ValidationError('KEY_TOO_LONG', 'bad', { details: [{ field: 'name', message: 'too long' }], cause });
      expect(validation).to.include({ code: 'KEY_TOO_LONG', message: 'bad', cause });
      expect(validation.details).to.deep.equal([{ field: 'name', message: 'too long' }]);
      expect(new NotFoundError('PIPELINE_NOT_FOUND', 'no').details).to.deep.equal([]);
      expect(new UnavailableError('QUEUE_UNAVAILABLE', 'down').retryAfterSeconds).to.equal(5);
      expect(new UnavailableError('QUEUE_UNAVAILABLE', 'down', { retryAfterSeconds: 9 }).retryAfterSeconds).to.equal(9);
      expect(new TooManyRequestsError('RATE_LIMITED', 'slow down').retryAfterSeconds).to.equal(5);
      expect(new DatabaseTimeoutError('DATABASE_TIMEOUT', 'slow').retryAfterSeconds).to.equal(5);
      expect(new ConflictError('DECISION_CLOSED', 'closed').retryAfterSeconds).to.equal(undefined);
      const circuit = new CircuitOpenError('AGENT_CIRCUIT_OPEN', 'open', { agentType: 'scaffold', retryAfterMs: 1500 });
      expect(circuit).to.include({ agentType: 'scaffold', retryAfterMs: 1500 });
    });

    it('the compiler refuses a code outside the catalogue, or of another category (checked by tsc in npm test)', () => {
      // @ts-expect-error not a catalogued code
      const unknown = new NotFoundError('SOMETHING_ELSE', 'no');
      // @ts-expect-error DECISION_CLOSED is a conflict, not a not_found
      const misplaced = new NotFoundError('DECISION_CLOSED', 'closed');
      // At run time the category's defaults still apply, so nothing crashes on the way out.
      expect(unknown.hint).to.equal(CATEGORY_DEFAULTS.not_found.hint);
      expect(misplaced.status).to.equal(404);
    });

    it('a hint or retryability can be set per error; the code catalogue gives specific hints', () => {
      expect(new NotFoundError('PIPELINE_NOT_FOUND', 'no').hint).to.equal(ERROR_CODES.PIPELINE_NOT_FOUND!.hint);
      expect(new AgentError('QUOTA', 'quota exhausted').hint).to.equal(CATEGORY_DEFAULTS.agent.hint);
      expect(new AgentError('QUOTA', 'quota gone', { retryable: false, hint: 'buy more' })).to.include({
        retryable: false,
        hint: 'buy more',
        code: 'QUOTA',
      });
    });

    it('UnrecoverableStageError is the non-retryable AgentError; catalogued codes keep their category', () => {
      const error = new UnrecoverableStageError('AGENT_INPUT_INVALID', 'input rejected');
      expect(error).to.be.instanceOf(AgentError);
      expect(error).to.include({ retryable: false, category: 'validation', code: 'AGENT_INPUT_INVALID' });
      expect(new UnrecoverableStageError('AGENT_OUTPUT_INVALID', 'contract').category).to.equal('agent');
    });
  });

  describe('classifyError (what a handler threw)', () => {
    it('an error of the hierarchy describes itself', () => {
      expect(classifyError(new DownstreamError('DOWNSTREAM_ERROR', 'git host 502'))).to.include({
        code: 'DOWNSTREAM_ERROR',
        category: 'downstream',
        retryable: true,
      });
      expect(classifyError(new UnrecoverableStageError('AUTH', 'bad credentials'))).to.include({
        code: 'AUTH',
        category: 'agent',
        retryable: false,
      });
    });

    it('a plain Error is a retryable agent error that keeps its own string code', () => {
      expect(classifyError(new Error('boom'))).to.deep.equal({
        code: 'AGENT_ERROR',
        category: 'agent',
        retryable: true,
        hint: CATEGORY_DEFAULTS.agent.hint,
        message: 'boom',
      });
      expect(classifyError(Object.assign(new Error('nope'), { code: 'MY_CODE' }))).to.include({
        code: 'MY_CODE',
        category: 'agent',
        retryable: true,
      });
    });

    it('a network failure (its code, or its cause code as fetch gives) is downstream and retryable', () => {
      expect(classifyError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).to.include({
        code: 'ECONNREFUSED',
        category: 'downstream',
        retryable: true,
      });
      const fetchFailure = new TypeError('fetch failed', {
        cause: Object.assign(new Error('timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
      });
      expect(classifyError(fetchFailure)).to.include({ code: 'UND_ERR_CONNECT_TIMEOUT', category: 'downstream', retryable: true });
    });

    it('an error that crossed a process boundary as data keeps its classification (by name, or by its fields)', () => {
      const byName = { name: 'UnrecoverableStageError', message: 'refused', code: 'AGENT_INPUT_INVALID' };
      expect(classifyError(byName)).to.include({ code: 'AGENT_INPUT_INVALID', category: 'validation', retryable: false });
      const described = Object.assign(new Error('rate limited upstream'), {
        code: 'UPSTREAM_429',
        category: 'downstream',
        retryable: true,
        hint: 'wait',
      });
      expect(classifyError(described)).to.include({ code: 'UPSTREAM_429', category: 'downstream', retryable: true, hint: 'wait' });
    });

    it('a thrown non-Error is a retryable agent error; long messages are cut at 4000 characters', () => {
      expect(classifyError('a string')).to.include({ code: 'AGENT_ERROR', message: 'a string', retryable: true });
      expect(classifyError(new Error('x'.repeat(5000))).message).to.have.length(4000);
    });

    it('isUnrecoverable follows the classification', () => {
      expect(isUnrecoverable(new UnrecoverableStageError('AGENT_UNRECOVERABLE', 'no'))).to.equal(true);
      expect(isUnrecoverable({ name: 'UnrecoverableStageError', message: 'no' })).to.equal(true);
      expect(isUnrecoverable(new ValidationError('VALIDATION_FAILED', 'bad'))).to.equal(true);
      expect(isUnrecoverable(new Error('flaky'))).to.equal(false);
    });

    it('describeCode gives records built without an error object their catalogue entry', () => {
      expect(describeCode('STAGE_CANCELLED', 'cancelled')).to.deep.equal({
        code: 'STAGE_CANCELLED',
        message: 'cancelled',
        ...ERROR_CODES.STAGE_CANCELLED,
      });
      expect(describeCode('WORKER_SHUTDOWN', 'stopped')).to.include({ category: 'unavailable', retryable: true });
      expect(describeCode('GATE_FAILED', 'gate')).to.include({ category: 'pipeline', retryable: false });
      expect(describeCode('STAGE_TIMEOUT', 'slow')).to.include({ category: 'agent', retryable: true });
    });
  });

  describe('error middleware: the JSON body', () => {
    interface Sent {
      status?: number;
      body?: { error: Record<string, unknown> };
      headers: Record<string, string>;
    }
    function fakeExchange(): { req: Request; res: Response; sent: Sent } {
      const sent: Sent = { headers: {} };
      const res = {
        headersSent: false,
        setHeader(name: string, value: string) {
          sent.headers[name] = value;
          return res;
        },
        status(code: number) {
          sent.status = code;
          return res;
        },
        json(body: Sent['body']) {
          sent.body = body;
          return res;
        },
      };
      const req = { requestId: 'req-1', method: 'GET', path: '/nowhere' };
      return { req: req as unknown as Request, res: res as unknown as Response, sent };
    }
    const silent = { debug() {}, info() {}, warn() {}, error() {}, close() {} };
    const handle = (error: unknown) => {
      const exchange = fakeExchange();
      errorHandler({ logger: silent })(error, exchange.req, exchange.res, (() => undefined) as NextFunction);
      return exchange.sent;
    };

    it('an AppError: its status and { code, message, requestId, details, category, retryable, hint }', () => {
      const sent = handle(new ConflictError('PIPELINE_FINISHED', 'already finished', { details: [{ field: 'id', message: 'succeeded' }] }));
      expect(sent.status).to.equal(409);
      expect(sent.body).to.deep.equal({
        error: {
          code: 'PIPELINE_FINISHED',
          message: 'already finished',
          requestId: 'req-1',
          details: [{ field: 'id', message: 'succeeded' }],
          category: 'conflict',
          retryable: false,
          hint: ERROR_CODES.PIPELINE_FINISHED!.hint,
        },
      });
    });

    it(`lists at most MAX_ERROR_DETAILS (${MAX_ERROR_DETAILS}) details, and counts the rest in one more`, () => {
      const details = Array.from({ length: 60_000 }, (_, i) => ({
        field: `answers.k${i}`,
        code: 'unknown_question',
        message: 'not asked',
      }));
      const listed = handle(new ValidationError('VALIDATION_FAILED', 'bad answers', { details })).body!.error.details as unknown[];
      expect(listed).to.have.length(MAX_ERROR_DETAILS + 1);
      expect(listed.slice(0, MAX_ERROR_DETAILS)).to.deep.equal(details.slice(0, MAX_ERROR_DETAILS));
      expect(listed[MAX_ERROR_DETAILS]).to.deep.equal({
        field: '(more)',
        code: 'too_many_problems',
        message: `${60_000 - MAX_ERROR_DETAILS} more problems not listed; fix these and send again`,
      });
      const exact = Array.from({ length: MAX_ERROR_DETAILS }, (_, i) => ({ field: `f${i}`, message: 'bad' }));
      expect(handle(new ValidationError('VALIDATION_FAILED', 'bad', { details: exact })).body!.error.details).to.deep.equal(exact);
    });

    it('an error with retryAfterSeconds sends Retry-After (503 and 429)', () => {
      const unavailable = handle(new UnavailableError('QUEUE_UNAVAILABLE', 'down', { retryAfterSeconds: 7 }));
      expect(unavailable.status).to.equal(503);
      expect(unavailable.headers['Retry-After']).to.equal('7');
      expect(unavailable.body!.error).to.include({ category: 'unavailable', retryable: true });
      const full = handle(new TooManyRequestsError('BACKLOG_FULL', 'full', { retryAfterSeconds: 30 }));
      expect(full.status).to.equal(429);
      expect(full.headers['Retry-After']).to.equal('30');
    });

    it('body-parser errors become 413 / 400 / 415 validation errors', () => {
      expect(handle(Object.assign(new Error('too big'), { type: 'entity.too.large', status: 413 }))).to.deep.include({ status: 413 });
      const malformed = handle(Object.assign(new Error('Unexpected token'), { type: 'entity.parse.failed', status: 400 }));
      expect(malformed.status).to.equal(400);
      expect(malformed.body!.error).to.include({ code: 'MALFORMED_JSON', category: 'validation', retryable: false });
      expect(handle(Object.assign(new Error('unsupported charset'), { status: 415, expose: true })).body!.error).to.include({
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
    });

    it('a lost Redis connection is 503 DEPENDENCY_UNAVAILABLE; anything else a plain 500 INTERNAL without details', () => {
      const down = handle(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
      expect(down.status).to.equal(503);
      expect(down.body!.error).to.include({ code: 'DEPENDENCY_UNAVAILABLE', category: 'unavailable', retryable: true });
      const bug = handle(new TypeError('x is undefined'));
      expect(bug.status).to.equal(500);
      expect(bug.body!.error).to.include({ code: 'INTERNAL', category: 'internal', message: 'An unexpected error occurred.' });
      expect(bug.body!.error.details).to.deep.equal([]);
    });

    it('an unknown route is 404 ROUTE_NOT_FOUND with the same shape', () => {
      const exchange = fakeExchange();
      notFoundHandler()(exchange.req, exchange.res);
      expect(exchange.sent.status).to.equal(404);
      expect(Object.keys(exchange.sent.body!.error)).to.have.members([
        'code',
        'message',
        'requestId',
        'details',
        'category',
        'retryable',
        'hint',
      ]);
      expect(exchange.sent.body!.error).to.include({ code: 'ROUTE_NOT_FOUND', category: 'not_found' });
    });
  });
});
