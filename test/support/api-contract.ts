// Checks an answer of the API against the contract the OpenAPI document is generated from
// (src/http/contract/api-routes.ts): the route that serves the method and path, the status
// among those it declares, the content type, and the JSON body against the status's schema.
// request() (test/support/http.ts) runs it on every answer, so every e2e test checks the shapes
// it reads. Bull Board (/admin/queues) is not part of the API and is not checked.
import { z } from 'zod';
import { API_ROUTES, responsesOf, type RouteContract } from '../../src/http/contract/api-routes.js';
import { errorBodySchema } from '../../src/http/contract/errors.schema.js';

const UNCHECKED_PREFIXES = ['/admin/queues'];

interface CompiledRoute {
  route: RouteContract;
  pattern: RegExp;
}

const compiled: CompiledRoute[] = API_ROUTES.map((route) => ({
  route,
  // As Express matches: any case, with or without a trailing slash; a parameter is one segment.
  pattern: new RegExp(`^${route.path.replace(/[.]/g, '\\.').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`, 'i'),
}));

/** The contract route of a request, preferring a literal segment over a parameter (`/dlq/retry` over `/dlq/:jobId`). */
export function contractRouteOf(method: string, path: string): RouteContract | undefined {
  const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  const matches = compiled.filter((c) => c.route.method === m && c.pattern.test(path));
  matches.sort((a, b) => (a.route.path.match(/:/g)?.length ?? 0) - (b.route.path.match(/:/g)?.length ?? 0));
  return matches[0]?.route;
}

export interface AnswerToCheck {
  method: string;
  /** The path, query string included or not. */
  path: string;
  status: number;
  contentType: string | null;
  /** The body as text ('' when there is none). */
  text: string;
}

function check(schema: z.ZodType, body: unknown, where: string): void {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new Error(`API contract: ${where} does not match its schema: ${issues}\nbody: ${JSON.stringify(body).slice(0, 2000)}`);
  }
}

/** Throws, naming the route, status and field, when the answer is not what the contract says. */
export function checkAnswer({ method, path, status, contentType, text }: AnswerToCheck): void {
  const pathOnly = new URL(path, 'http://x').pathname;
  if (UNCHECKED_PREFIXES.some((p) => pathOnly === p || pathOnly.startsWith(`${p}/`))) return;
  const where = `${method} ${pathOnly} → ${status}`;
  const isJson = contentType?.startsWith('application/json') ?? false;
  const route = contractRouteOf(method, pathOnly);
  if (!route) {
    // No such route: the one error handler answers (404 ROUTE_NOT_FOUND, or an edge refusal).
    if (status >= 400 && isJson) return check(errorBodySchema, JSON.parse(text), where);
    if (status >= 400 && method.toUpperCase() === 'HEAD') return;
    throw new Error(`API contract: ${where} is served but no route of src/http/contract/api-routes.ts matches it`);
  }
  const declared = responsesOf(route)[status];
  if (!declared) {
    throw new Error(
      `API contract: ${where}: the status is not among those the route declares (${Object.keys(responsesOf(route)).join(', ')})`,
    );
  }
  if (method.toUpperCase() === 'HEAD') return;
  if (declared.schema) {
    if (!isJson) throw new Error(`API contract: ${where} answered ${contentType ?? 'no content type'}, the contract says JSON`);
    return check(declared.schema, JSON.parse(text), where);
  }
  if (declared.contentType) {
    if (!contentType?.startsWith(declared.contentType))
      throw new Error(`API contract: ${where} answered ${contentType ?? 'no content type'}, the contract says ${declared.contentType}`);
    return;
  }
  if (text !== '') throw new Error(`API contract: ${where} has a body, the contract says none`);
}
