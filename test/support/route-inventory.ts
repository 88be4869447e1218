// The routes an Express 5 app serves, found by walking its router stack, each with the access
// rules (ACCESS_RULE, src/http/middleware/authorize.ts) that guard it: an authorize middleware in
// the route's own stack, or one mounted at the root of an enclosing router (as Bull Board's
// `router.use(authorize('operate'))`), which guards every layer after it in that router.
// Mounted sub-apps (Bull Board's ExpressAdapter) are walked through their `router`. Paths given
// as RegExps cannot be named as a route: the walk throws, naming the layer.
import { METHODS } from 'node:http';
import type { Express } from 'express';
import { ACCESS_RULE, type AccessRule } from '../../src/http/middleware/authorize.js';

type LayerPath = string | RegExp | readonly (string | RegExp)[];

interface Handle {
  (...args: never[]): unknown;
  stack?: Layer[];
  router?: { stack: Layer[] };
  [ACCESS_RULE]?: AccessRule;
}

interface Layer {
  name: string;
  rawPath?: LayerPath;
  handle: Handle;
  route?: { path: LayerPath; methods: Record<string, boolean | undefined>; stack: { name: string; handle: Handle }[] };
}

export interface RouteEntry {
  /** `GET /api/v1/pipelines/:id`; `USE /admin/queues/static` for a middleware mounted at a sub-path (static files). */
  key: string;
  /** Upper case; `ALL` for `route.all`, `USE` for a mounted middleware. */
  method: string;
  path: string;
  /** The rules that apply, outermost (enclosing routers) first, then the route's own. */
  rules: AccessRule[];
  /** Handlers that run before any rule applies (none for a guarded route). */
  unguarded: string[];
}

const asList = (path: LayerPath | undefined): (string | RegExp)[] =>
  path === undefined ? ['/'] : Array.isArray(path) ? [...path] : [path as string | RegExp];

function stringPaths(path: LayerPath | undefined, where: string): string[] {
  return asList(path).map((p) => {
    if (typeof p !== 'string')
      throw new Error(
        `route inventory: ${where} is mounted at the RegExp ${String(p)}; a route table cannot name it — give it a string path (or teach test/support/route-inventory.ts)`,
      );
    if (/[*{}()]/.test(p))
      throw new Error(
        `route inventory: ${where} has the path pattern ${p}; only :params are understood — teach test/support/route-inventory.ts`,
      );
    return p;
  });
}

/** `/api/v1` + `/pipelines` + `/` → `/api/v1/pipelines` (a router's `/` is its mount path). */
export function joinPath(prefix: string, path: string): string {
  const joined = `${prefix}${path === '/' ? '' : path}`;
  return joined === '' ? '/' : joined;
}

/** A rule as the route table writes it: `operate|metrics-token`, rules of nested routers joined by ` & `. */
export function describeRules(rules: readonly AccessRule[]): string {
  if (rules.length === 0) return 'public';
  return rules.map((r) => [...r.permissions, ...(r.metricsToken ? ['metrics-token'] : [])].join('|')).join(' & ');
}

function walk(stack: readonly Layer[], prefix: string, inherited: readonly AccessRule[], out: RouteEntry[]): void {
  const active = [...inherited];
  for (const layer of stack) {
    const where = `${prefix || '/'} › ${layer.route ? `route ${String(layer.route.path)}` : layer.name}`;
    if (layer.route) {
      const route = layer.route;
      const ruled = route.stack.findIndex((s) => s.handle[ACCESS_RULE] !== undefined);
      const own = ruled === -1 ? [] : [route.stack[ruled]!.handle[ACCESS_RULE]!];
      const unguarded = active.length > 0 ? [] : route.stack.slice(0, ruled === -1 ? undefined : ruled).map((s) => s.name);
      const declared = Object.keys(route.methods).filter((m) => route.methods[m]);
      // `route.all()` declares every method: one `ALL` entry rather than thirty-odd.
      const methods = METHODS.every((m) => declared.includes(m.toLowerCase())) ? ['_all'] : declared;
      for (const path of stringPaths(route.path, where)) {
        for (const m of methods) {
          const method = m === '_all' ? 'ALL' : m.toUpperCase();
          const full = joinPath(prefix, path);
          out.push({ key: `${method} ${full}`, method, path: full, rules: [...active, ...own], unguarded });
        }
      }
      continue;
    }
    const mounts = stringPaths(layer.rawPath, where).map((p) => joinPath(prefix, p));
    const nested = layer.handle.stack ?? layer.handle.router?.stack;
    if (nested) {
      for (const mount of mounts) walk(nested, mount === '/' ? '' : mount, active, out);
      continue;
    }
    const atRoot = mounts.every((m) => m === (prefix || '/'));
    const rule = layer.handle[ACCESS_RULE];
    if (rule) {
      if (!atRoot)
        throw new Error(
          `route inventory: ${where} is an authorize middleware mounted at ${mounts.join(', ')}; only root-mounted ones are understood`,
        );
      active.push(rule);
      continue;
    }
    // Root-mounted middleware (helmet, authenticate, the board's write gate…) is no route.
    if (atRoot) continue;
    for (const mount of mounts)
      out.push({ key: `USE ${mount}`, method: 'USE', path: mount, rules: [...active], unguarded: active.length > 0 ? [] : [layer.name] });
  }
}

/** Every route of the app, in the order Express tries them (a path may appear more than once). */
export function enumerateRoutes(app: Express): RouteEntry[] {
  const router = (app as unknown as { router?: { stack: Layer[] } }).router;
  if (!router) throw new Error('route inventory: app.router is missing (not Express 5?)');
  const out: RouteEntry[] = [];
  walk(router.stack, '', [], out);
  return out;
}
