// The OpenAPI document against the app: every route Express mounts is in the document with the
// same method, path and access rule, and every operation of the document is mounted (Bull Board,
// a mounted sub-app with its own API, is not part of ours). Then the document itself: OpenAPI
// 3.1, every $ref resolves, every operation has responses and declares its path parameters, and
// GET /api/v1/openapi.json serves it to an anonymous caller. The app is createApp() itself with
// every optional route on; its services are never called, so they are inert stand-ins.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { createApp, type AppDeps } from '../../src/http/app.js';
import { API_ROUTES, openApiPath } from '../../src/http/contract/api-routes.js';
import { buildOpenApiDocument } from '../../src/http/contract/openapi.js';
import { ANONYMOUS, request } from '../support/http.js';
import { describeRules, enumerateRoutes } from '../support/route-inventory.js';
import { checkAnswer } from '../support/api-contract.js';

const NOT_OURS = '/admin/queues';
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;

type Json = Record<string, unknown>;

/** `METHOD /path/{param}` of every operation in the document. */
function documentOperations(doc: Json): string[] {
  const paths = doc.paths as Record<string, Json>;
  return Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`),
  );
}

/** Every `$ref` in the document, with where it sits. */
function refsOf(value: unknown, at: string, out: { ref: string; at: string }[] = []): { ref: string; at: string }[] {
  if (Array.isArray(value)) value.forEach((v, i) => refsOf(v, `${at}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string') out.push({ ref: v, at });
      else refsOf(v, `${at}.${key}`, out);
    }
  }
  return out;
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Json)[key] : undefined), doc);
}

const inert = {} as never;
const silent = { debug() {}, info() {}, warn() {}, error() {}, close() {} };

function appWithEveryRoute() {
  const deps: AppDeps = {
    auth: {
      verify: () => Promise.reject(new Error('no credentials in this test')),
      metricsToken: 'openapi-test-metrics-token',
    },
    keys: inert,
    audit: inert,
    pipelines: inert,
    reruns: inert,
    schedules: inert,
    stageLogs: inert,
    decisions: inert,
    clarifications: inert,
    agentDirectory: { list: () => Promise.resolve([]), types: () => ['noop'] },
    canary: inert,
    pipelinePauses: inert,
    agentPauses: inert,
    templates: inert,
    logger: silent,
    version: 'test',
    bodyLimit: '1mb',
    responsePageBytes: 1 << 20,
    inputLimits: { maxDepth: 32, maxKeyLength: 256, maxStringLength: 1 << 20 },
    readiness: [],
    events: { feed: inert, reader: inert, pipelineExists: () => Promise.resolve(false), logger: silent },
    dlq: inert,
    webhooks: inert,
    flags: inert,
    detailedHealth: { version: 'test', components: [], queues: () => Promise.resolve({}), breakers: () => Promise.resolve({}) },
    metrics: { contentType: 'text/plain', metrics: () => Promise.resolve('') },
    bullBoard: { path: NOT_OURS, router: express.Router() },
  };
  return createApp(deps);
}

describe('OpenAPI document', function () {
  const app = appWithEveryRoute();
  const doc = buildOpenApiDocument('test') as unknown as Json;
  let server: Server;
  let baseUrl: string;

  before(async () => {
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  describe('against the routes Express mounts', () => {
    const mounted = () => enumerateRoutes(app).filter((r) => r.path !== NOT_OURS && !r.path.startsWith(`${NOT_OURS}/`));

    it('every mounted route is an operation of the document', () => {
      const operations = new Set(documentOperations(doc));
      expect(mounted().length, 'the walk finds the routes').to.equal(API_ROUTES.length);
      const missing = mounted()
        .map((r) => `${r.method} ${openApiPath(r.path)}`)
        .filter((key) => !operations.has(key));
      expect(missing, 'mounted but not in the document (add them to src/http/contract/api-routes.ts)').to.deep.equal([]);
    });

    it('every operation of the document is mounted', () => {
      const served = new Set(mounted().map((r) => `${r.method} ${openApiPath(r.path)}`));
      const extra = documentOperations(doc).filter((key) => !served.has(key));
      expect(extra, 'in the document but not mounted').to.deep.equal([]);
    });

    it('the access rule of each route in the contract is the authorize rule beside it', () => {
      const ruleOf = new Map(mounted().map((r) => [`${r.method} ${r.path}`, describeRules(r.rules)]));
      const differing = API_ROUTES.map((route) => {
        const key = `${route.method.toUpperCase()} ${route.path}`;
        const declared = route.access === 'public' ? 'public' : describeRules([route.access]);
        return { key, declared, mounted: ruleOf.get(key) };
      }).filter((r) => r.declared !== r.mounted);
      expect(differing).to.deep.equal([]);
    });
  });

  describe('is valid OpenAPI 3.1', () => {
    it('states openapi 3.1.x, a title and a version', () => {
      expect(doc.openapi).to.match(/^3\.1\.\d+$/);
      expect((doc.info as Json).title)
        .to.be.a('string')
        .and.not.equal('');
      expect((doc.info as Json).version).to.equal('test');
    });

    it('resolves every $ref', () => {
      const refs = refsOf(doc, '#');
      expect(refs.length, 'the document uses components').to.be.greaterThan(10);
      const dangling = refs.filter(({ ref }) => resolvePointer(doc, ref) === undefined);
      expect(dangling).to.deep.equal([]);
    });

    it('gives every operation responses, each with a description', () => {
      for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
        for (const method of METHODS) {
          const operation = item[method] as Json | undefined;
          if (!operation) continue;
          const responses = operation.responses as Record<string, Json> | undefined;
          expect(responses, `${method} ${path}`).to.be.an('object');
          expect(Object.keys(responses!).length, `${method} ${path}`).to.be.greaterThan(0);
          for (const [status, response] of Object.entries(responses!)) {
            expect(status, `${method} ${path}`).to.match(/^[1-5]\d\d$/);
            expect(response.description, `${method} ${path} ${status}`).to.be.a('string').and.not.equal('');
          }
        }
      }
    });

    it('declares each path parameter of each path, and names the security of guarded operations', () => {
      const schemes = Object.keys(((doc.components as Json).securitySchemes as Json) ?? {});
      expect(schemes).to.include.members(['apiKey', 'bearer']);
      for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
        const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const method of METHODS) {
          const operation = item[method] as Json | undefined;
          if (!operation) continue;
          const params = ((operation.parameters as Json[] | undefined) ?? []).filter((p) => p.in === 'path');
          expect(params.map((p) => p.name).sort(), `${method} ${path}`).to.deep.equal([...names].sort());
          for (const p of params) expect(p.required, `${method} ${path} ${String(p.name)}`).to.equal(true);
          const security = operation.security as Json[];
          const route = API_ROUTES.find((r) => r.method === method && openApiPath(r.path) === path)!;
          if (route.access === 'public') expect(security, `${method} ${path}`).to.deep.equal([]);
          else
            expect(
              security.flatMap((s) => Object.keys(s)),
              `${method} ${path}`,
            ).to.have.members(['apiKey', 'bearer']);
        }
      }
    });
  });

  describe('GET /api/v1/openapi.json', () => {
    it('serves the document to an anonymous caller', async () => {
      const res = await request(baseUrl, 'GET', '/api/v1/openapi.json', undefined, ANONYMOUS);
      expect(res.status).to.equal(200);
      expect(res.body.openapi).to.equal(doc.openapi);
      expect(Object.keys(res.body.paths as Json).sort()).to.deep.equal(Object.keys(doc.paths as Json).sort());
    });
  });

  describe('the answer check of request() (test/support/api-contract.ts)', () => {
    const json = 'application/json; charset=utf-8';
    const whoami = { id: 'k', name: 'k', kind: 'user', via: 'api_key', roles: ['viewer'] };
    const answer =
      (status: number, body: unknown, path = '/api/v1/whoami', method = 'GET') =>
      () =>
        checkAnswer({ method, path, status, contentType: json, text: JSON.stringify(body) });

    it('passes an answer that matches its route and status', () => {
      expect(answer(200, whoami)).to.not.throw();
      expect(
        answer(403, {
          error: { code: 'FORBIDDEN', message: 'm', requestId: 'r', details: [], category: 'forbidden', retryable: false, hint: 'h' },
        }),
      ).to.not.throw();
    });

    it('fails a body that lacks a field, naming it', () => {
      const { roles: _roles, ...withoutRoles } = whoami;
      expect(answer(200, withoutRoles)).to.throw(/GET \/api\/v1\/whoami → 200.*roles/);
    });

    it('fails a status the route does not declare', () => {
      expect(answer(201, whoami)).to.throw(/not among those the route declares/);
    });

    it('fails a success on a path no route serves', () => {
      expect(answer(200, {}, '/api/v1/nowhere')).to.throw(/no route/);
    });

    it('matches POST /dlq/retry to the bulk replay, not to a job', () => {
      expect(answer(202, { matched: 0, replayed: 0, replayedJobIds: [], skipped: [] }, '/api/v1/dlq/retry', 'POST')).to.not.throw();
    });
  });
});
