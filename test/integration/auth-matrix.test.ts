// An auth matrix generated over every route of the app. The routes are found by walking the
// Express router stack (and Bull Board's own route list); a hand-written table names the access
// each must have, so a new route without an entry, or without an authorize middleware, fails
// here by name. Then every route is called with every kind of credential: none, malformed,
// mistyped, unknown, revoked, expired, forged JWTs, a key per platform role and valid JWTs; and
// path spellings and Bull Board's refused writes are tried against the real Redis and Postgres.
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { crc32 } from 'node:zlib';
import { expect } from 'chai';
import { Queue, Worker, type Job } from 'bullmq';
import { SignJWT, type JWTPayload } from 'jose';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { startHarness, type Harness } from '../support/harness.js';
import { rawRequest, type RawResponse } from '../support/raw-request.js';
import { describeRules, enumerateRoutes, type RouteEntry } from '../support/route-inventory.js';
import { PUBLIC_PATHS } from '../../src/http/app.js';
import { BULL_BOARD_PATH } from '../../src/dashboard/bull-board.js';
import { DASHBOARD_PATH } from '../../src/http/dashboard-app.js';
import { API_KEY_PREFIX, base62FromBytes, formatApiKey, newApiKey } from '../../src/domain/api-key-format.js';
import { ERROR_CODES } from '../../src/domain/error-codes.js';
import { permissionsOf, type Permission } from '../../src/domain/identity.js';
import { agentQueueName, CONTROL_QUEUE } from '../../src/infra/queue/queue-names.js';
import { terminalActor } from '../../src/services/api-key.service.js';

const JWT_SECRET = 'auth-matrix-hmac-secret-0123456789-abcdef';
const JWT_ISSUER = 'https://idp.auth-matrix.test';
const JWT_AUDIENCE = 'agentic-sdlc-auth-matrix';
const METRICS_TOKEN = 'auth-matrix-metrics-token-0123456789';

/** What the matrix calls Bull Board with: a real agent queue. */
const BOARD_QUEUE = agentQueueName('noop');
/** The queue the refused-writes cases seed and watch (another agent queue, untouched by the matrix). */
const GUARDED_QUEUE = agentQueueName('sleep');
const REFUSED = 'BOARD_ACTION_REFUSED';

/**
 * Every route and the access it must have: `public`, or the permissions any of which let a caller
 * through (`a|b`; `metrics-token`: the METRICS_TOKEN too; rules of nested routers joined by
 * ` & `). `… → BOARD_ACTION_REFUSED`: the board refuses the write even to those who hold them.
 */
const EXPECTED: Readonly<Record<string, string>> = {
  // Probes and operator endpoints
  'GET /health': 'public',
  'GET /health/ready': 'public',
  // The OpenAPI document (docs/api.md): public, as specs conventionally are.
  'GET /api/v1/openapi.json': 'public',
  // The pipeline dashboard's static files (docs/dashboard.md): no data in them; `/` redirects there.
  'GET /': 'public',
  [`USE ${DASHBOARD_PATH}`]: 'public',
  'GET /health/detailed': 'operate',
  'GET /metrics': 'operate|metrics-token',
  // Pipelines
  'POST /api/v1/pipelines': 'submit',
  'GET /api/v1/pipelines': 'read',
  'GET /api/v1/pipelines/:id': 'read',
  'GET /api/v1/pipelines/:id/runs': 'read',
  'GET /api/v1/pipelines/:id/timeline': 'read',
  'GET /api/v1/pipelines/:id/stages': 'read',
  'GET /api/v1/pipelines/:id/stages/:key/logs': 'read',
  'POST /api/v1/pipelines/:id/cancel': 'cancel_own|cancel_any',
  'POST /api/v1/pipelines/:id/pause': 'pause_own|pause_any',
  'POST /api/v1/pipelines/:id/resume': 'pause_own|pause_any',
  'POST /api/v1/pipelines/:id/rerun': 'rerun_own|rerun_any',
  'POST /api/v1/pipelines/:id/priority': 'prioritize',
  // Schedules
  'POST /api/v1/schedules': 'schedule_own|schedule_any',
  'GET /api/v1/schedules': 'read',
  'GET /api/v1/schedules/:id': 'read',
  'POST /api/v1/schedules/:id/pause': 'schedule_own|schedule_any',
  'POST /api/v1/schedules/:id/resume': 'schedule_own|schedule_any',
  'DELETE /api/v1/schedules/:id': 'schedule_own|schedule_any',
  // Decisions and clarifications
  'GET /api/v1/decisions': 'read',
  'GET /api/v1/decisions/:id': 'read',
  'POST /api/v1/decisions/:id/approve': 'decide',
  'POST /api/v1/decisions/:id/reject': 'decide',
  'GET /api/v1/clarifications': 'read',
  'GET /api/v1/clarifications/:id': 'read',
  'POST /api/v1/clarifications/:id/answer': 'decide',
  // Catalog
  'GET /api/v1/agents': 'read',
  'GET /api/v1/agents/:type/canary': 'read',
  // Pause before resume: the matrix runs in this order, so the noop queue ends resumed.
  'POST /api/v1/agents/:type/pause': 'operate',
  'POST /api/v1/agents/:type/resume': 'operate',
  'GET /api/v1/templates': 'read',
  'GET /api/v1/templates/:name': 'read',
  // Dead-letter queue
  'GET /api/v1/dlq': 'operate',
  'POST /api/v1/dlq/retry': 'operate',
  'POST /api/v1/dlq/:jobId/retry': 'operate',
  'DELETE /api/v1/dlq/:jobId': 'operate',
  // Failed webhook deliveries
  'GET /api/v1/webhooks/failed': 'operate',
  'POST /api/v1/webhooks/failed/retry': 'operate',
  'POST /api/v1/webhooks/failed/:jobId/retry': 'operate',
  // Feature flags
  'GET /api/v1/flags': 'operate',
  // Keys, audit, identity
  'POST /api/v1/keys': 'manage_keys',
  'GET /api/v1/keys': 'manage_keys',
  'POST /api/v1/keys/:id/revoke': 'manage_keys',
  'POST /api/v1/keys/:id/rotate': 'manage_keys',
  'GET /api/v1/audit': 'read_audit',
  'GET /api/v1/whoami': 'read',
  // Event streams and a pipeline's audit trail
  'GET /api/v1/events': 'read',
  'GET /api/v1/pipelines/:id/events': 'read',
  'GET /api/v1/pipelines/:id/audit': 'read',
  // Bull Board: the page, its assets, its API
  'GET /admin/queues': 'operate',
  'GET /admin/queues/metrics-history': 'operate',
  'GET /admin/queues/job-schedulers': 'operate',
  'GET /admin/queues/queue/:queueName': 'operate',
  'GET /admin/queues/queue/:queueName/:jobId': 'operate',
  'USE /admin/queues/static': 'operate',
  'GET /admin/queues/api/redis/stats': 'operate',
  'GET /admin/queues/api/queues': 'operate',
  'GET /admin/queues/api/job-schedulers': 'operate',
  'GET /admin/queues/api/queues/:queueName/metrics': 'operate',
  'GET /admin/queues/api/queues/:queueName/default-job-options': 'operate',
  'GET /admin/queues/api/queues/:queueName/workers': 'operate',
  'GET /admin/queues/api/queues/:queueName/rate-limit': 'operate',
  'GET /admin/queues/api/queues/:queueName/job-data-schema': 'operate',
  'GET /admin/queues/api/queues/:queueName/:jobId/logs': 'operate',
  'GET /admin/queues/api/queues/:queueName/:jobId/flow': 'operate',
  'GET /admin/queues/api/queues/:queueName/:jobId': 'operate',
  // The board's write allow-list: retry, promote, pause, resume.
  'PUT /admin/queues/api/queues/pause': 'operate',
  'PUT /admin/queues/api/queues/resume': 'operate',
  'PUT /admin/queues/api/queues/:queueName/retry/:queueStatus': 'operate',
  'PUT /admin/queues/api/queues/:queueName/promote': 'operate',
  'PUT /admin/queues/api/queues/:queueName/pause': 'operate',
  'PUT /admin/queues/api/queues/:queueName/resume': 'operate',
  'PUT /admin/queues/api/queues/:queueName/:jobId/retry': 'operate',
  'PUT /admin/queues/api/queues/:queueName/:jobId/promote': 'operate',
  // Every other board write is refused.
  'POST /admin/queues/api/queues/:queueName/add': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/clean/:queueStatus': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/concurrency': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/rate-limit': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/rate-limit/release': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/empty': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/obliterate': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId/remove': `operate → ${REFUSED}`,
  'PATCH /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId/run': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/:jobId/clean': `operate → ${REFUSED}`,
  'PATCH /admin/queues/api/queues/:queueName/:jobId/update-data': `operate → ${REFUSED}`,
  'PATCH /admin/queues/api/queues/:queueName/:jobId/delay': `operate → ${REFUSED}`,
  'PATCH /admin/queues/api/queues/:queueName/:jobId/priority': `operate → ${REFUSED}`,
  'PUT /admin/queues/api/queues/:queueName/:jobId/remove-unprocessed-children': `operate → ${REFUSED}`,
};

/**
 * Handlers allowed to run before a route's authorization: each may only ever refuse (never read
 * or write anything). None today: even the queue gate of POST /pipelines runs after authorize.
 */
const KNOWN_PRE_GATES: Readonly<Record<string, readonly string[]>> = {};

/** What the matrix requests for an entry that names no single method: a mounted middleware, a `route.all`. */
const PROBES: Readonly<Record<string, { method: string; path: string }>> = {
  'USE /admin/queues/static': { method: 'GET', path: '/admin/queues/static/favicon.ico' },
  [`USE ${DASHBOARD_PATH}`]: { method: 'GET', path: `${DASHBOARD_PATH}/pipelines` },
};

const PIPELINE_ID = '6f1c1f4e-0b7a-4c55-9d1e-2f3a4b5c6d7e';
const OTHER_ID = '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b';
const JOB_ID = '3b2a1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d';
// A year no decision is ever issued in, so the id is well-formed but never exists whatever ran before.
const DECISION_ID = 'DEC-1999-00001';

/** A plausible value for each path parameter; an unknown one fails loudly. */
function fillPath(template: string): string {
  return template.replace(/:(\w+)/g, (_, name: string) => {
    switch (name) {
      case 'id':
        if (template.includes('/decisions/')) return DECISION_ID;
        return template.includes('/pipelines/') ? PIPELINE_ID : OTHER_ID;
      case 'jobId':
        return JOB_ID;
      case 'name':
        return 'no-such-template';
      case 'queueName':
        return BOARD_QUEUE;
      case 'queueStatus':
        return 'failed';
      case 'schedulerId':
        return 'no-such-scheduler';
      case 'type':
        return 'noop';
      case 'key':
        return 'no-such-stage';
      default:
        throw new Error(`auth matrix: no value for :${name} in ${template}; add one to fillPath`);
    }
  });
}

const UNAUTHENTICATED_CODES = Object.entries(ERROR_CODES)
  .filter(([, spec]) => spec.category === 'unauthenticated')
  .map(([code]) => code);

interface Access {
  public: boolean;
  /** Each inner list: any of these permits (`metrics-token` included); all lists must permit. */
  rules: string[][];
  /** The code every caller gets even when the rules let it through (the board's refused writes). */
  refusal?: string;
}

function parseAccess(value: string): Access {
  const [rule, refusal] = value.split(' → ');
  if (rule === 'public') return { public: true, rules: [] };
  return { public: false, rules: rule!.split(' & ').map((r) => r.split('|')), refusal };
}

const roleAllowed = (roles: readonly string[], access: Access) => {
  const granted = permissionsOf(roles);
  return access.rules.every((any) => any.some((p) => p !== 'metrics-token' && granted.has(p as Permission)));
};
const metricsTokenAllowed = (access: Access) => access.rules.every((any) => any.includes('metrics-token'));

type Expectation = { kind: 'unauthenticated'; code: string } | { kind: 'identity'; roles: string[] } | { kind: 'metrics-token' };

interface Credential {
  name: string;
  expect: Expectation;
  headers(): Record<string, string>;
  /** HTTP Basic: accepted on Bull Board's paths only (a browser's cached Basic credentials must not reach the API). */
  basic?: boolean;
}

const isBoardPath = (path: string) =>
  path
    .toLowerCase()
    .replace(/\/{2,}/g, '/')
    .startsWith(BULL_BOARD_PATH);
const through = (res: RawResponse) => res.status !== 401 && res.status !== 403;
const codeOf = (res: RawResponse): unknown => res.json?.error?.code;

/** Why a response is wrong for this route and credential; undefined when it is right. */
function mismatch(access: Access, path: string, credential: Credential, res: RawResponse): string | undefined {
  const got = `${res.status} ${String(codeOf(res) ?? '')}`.trim();
  if (access.public) return through(res) ? undefined : `public, got ${got}`;
  const wantUnauthenticated = (code: string): string | undefined => {
    if (res.status !== 401 || codeOf(res) !== code || !UNAUTHENTICATED_CODES.includes(code)) return `want 401 ${code}, got ${got}`;
    const challenge = res.headers['www-authenticate'];
    const scheme = isBoardPath(path) ? 'Basic' : 'Bearer';
    if (!challenge?.startsWith(`${scheme} realm=`)) return `want a ${scheme} WWW-Authenticate challenge, got ${String(challenge)}`;
    return undefined;
  };
  const wantForbidden = (code: string) => (res.status === 403 && codeOf(res) === code ? undefined : `want 403 ${code}, got ${got}`);
  const wantThrough = () => (through(res) ? undefined : `want neither 401 nor 403, got ${got}`);
  const permitted = () => (access.refusal ? wantForbidden(access.refusal) : wantThrough());

  const { expect: e } = credential;
  if (credential.basic && !isBoardPath(path)) return wantUnauthenticated('AUTHENTICATION_REQUIRED');
  if (e.kind === 'unauthenticated') return wantUnauthenticated(e.code);
  if (e.kind === 'metrics-token') {
    // The token is accepted on /metrics only; anywhere else it is just not an API key.
    if (path !== '/metrics') return wantUnauthenticated('API_KEY_MALFORMED');
    return metricsTokenAllowed(access) ? permitted() : wantForbidden('FORBIDDEN');
  }
  return roleAllowed(e.roles, access) ? permitted() : wantForbidden('FORBIDDEN');
}

const nowS = () => Math.floor(Date.now() / 1000);
const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** A token with sane defaults (sub, iss, aud, iat, exp in 10 min); `undefined` in `claims` drops a claim. */
async function signJwt(claims: JWTPayload, { secret = JWT_SECRET, alg = 'HS256' } = {}): Promise<string> {
  const payload: JWTPayload = { sub: 'alice', iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: nowS(), exp: nowS() + 600, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/** The same key with its last checksum character changed. */
function withBadChecksum(key: string): string {
  const last = key.at(-1)!;
  return `${key.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
}

describe('auth matrix over every route (integration)', function () {
  this.timeout(60_000);

  let h: Harness;
  let agent: Agent;
  let routes: RouteEntry[];
  const keys: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  const CREDENTIALS: readonly Credential[] = [
    { name: 'no credential', expect: { kind: 'unauthenticated', code: 'AUTHENTICATION_REQUIRED' }, headers: () => ({}) },
    { name: 'malformed bearer', expect: { kind: 'unauthenticated', code: 'API_KEY_MALFORMED' }, headers: () => bearer('not-a-key') },
    {
      name: 'malformed Basic password',
      expect: { kind: 'unauthenticated', code: 'API_KEY_MALFORMED' },
      headers: () => basic('operator', 'not-a-key'),
      basic: true,
    },
    {
      name: 'key with a bad checksum',
      expect: { kind: 'unauthenticated', code: 'API_KEY_MALFORMED' },
      headers: () => bearer(withBadChecksum(keys.admin!)),
    },
    { name: 'unknown key', expect: { kind: 'unauthenticated', code: 'API_KEY_INVALID' }, headers: () => bearer(keys.unknown!) },
    {
      name: "admin key's id with another secret",
      expect: { kind: 'unauthenticated', code: 'API_KEY_INVALID' },
      headers: () => bearer(keys.wrongSecret!),
    },
    { name: 'revoked admin key', expect: { kind: 'unauthenticated', code: 'API_KEY_REVOKED' }, headers: () => bearer(keys.revoked!) },
    {
      name: 'expired admin key',
      expect: { kind: 'unauthenticated', code: 'API_KEY_EXPIRED' },
      headers: () => ({ 'x-api-key': keys.expired! }),
    },
    {
      name: 'two different credentials',
      expect: { kind: 'unauthenticated', code: 'CREDENTIALS_AMBIGUOUS' },
      headers: () => ({ ...bearer(keys.admin!), 'x-api-key': keys.viewer! }),
    },
    { name: 'JWT alg none', expect: { kind: 'unauthenticated', code: 'TOKEN_INVALID' }, headers: () => bearer(tokens.none!) },
    { name: 'JWT wrong signature', expect: { kind: 'unauthenticated', code: 'TOKEN_INVALID' }, headers: () => bearer(tokens.forged!) },
    {
      name: 'JWT wrong audience',
      expect: { kind: 'unauthenticated', code: 'TOKEN_INVALID' },
      headers: () => bearer(tokens.wrongAudience!),
    },
    { name: 'JWT expired', expect: { kind: 'unauthenticated', code: 'TOKEN_INVALID' }, headers: () => bearer(tokens.expired!) },
    { name: 'JWT wrong issuer', expect: { kind: 'unauthenticated', code: 'TOKEN_INVALID' }, headers: () => bearer(tokens.wrongIssuer!) },
    { name: 'JWT without exp', expect: { kind: 'unauthenticated', code: 'TOKEN_INVALID' }, headers: () => bearer(tokens.noExpiry!) },
    {
      name: 'JWT HS512 (not an accepted alg)',
      expect: { kind: 'unauthenticated', code: 'TOKEN_INVALID' },
      headers: () => bearer(tokens.hs512!),
    },
    { name: 'METRICS_TOKEN', expect: { kind: 'metrics-token' }, headers: () => bearer(METRICS_TOKEN) },
    { name: 'viewer key', expect: { kind: 'identity', roles: ['viewer'] }, headers: () => bearer(keys.viewer!) },
    { name: 'viewer key as X-API-Key', expect: { kind: 'identity', roles: ['viewer'] }, headers: () => ({ 'x-api-key': keys.viewer! }) },
    { name: 'submitter key', expect: { kind: 'identity', roles: ['submitter'] }, headers: () => bearer(keys.submitter!) },
    { name: 'approver key', expect: { kind: 'identity', roles: ['approver'] }, headers: () => bearer(keys.approver!) },
    { name: 'operator key', expect: { kind: 'identity', roles: ['operator'] }, headers: () => bearer(keys.operator!) },
    {
      name: 'operator key as Basic password',
      expect: { kind: 'identity', roles: ['operator'] },
      headers: () => basic('ops', keys.operator!),
      basic: true,
    },
    { name: 'admin key', expect: { kind: 'identity', roles: ['admin'] }, headers: () => bearer(keys.admin!) },
    {
      name: 'JWT submitter+approver',
      expect: { kind: 'identity', roles: ['submitter', 'approver'] },
      headers: () => bearer(tokens.submitterApprover!),
    },
    { name: 'JWT team role only', expect: { kind: 'identity', roles: ['tech_lead'] }, headers: () => bearer(tokens.teamOnly!) },
  ];

  const send = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
    rawRequest(h.baseUrl, method, path, { headers, body: body ?? (['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined), agent });

  before(async () => {
    h = await startHarness({
      workers: 0,
      env: { JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, METRICS_TOKEN },
    });
    agent = new Agent({ keepAlive: true, maxSockets: 24 });
    routes = enumerateRoutes(h.api.app);

    for (const role of ['viewer', 'submitter', 'approver', 'operator', 'admin'])
      keys[role] = (await h.createKey(`matrix-${role}`, [role])).key;
    // Dedicated keys for the revoked and expired cases (admin, so only their state refuses them).
    const revoked = await h.createKey('matrix-revoked', ['admin']);
    await h.api.keys.revoke(revoked.recordId, terminalActor('test'));
    keys.revoked = revoked.key;
    keys.expired = (await h.createKey('matrix-expired', ['admin'], { expiresInMs: 1 })).key;
    const checksum = (text: string) => crc32(text);
    keys.unknown = newApiKey((n) => randomBytes(n), checksum).key;
    // A valid checksum and a stored public id (the admin key's 12 characters), but another secret.
    const adminKeyId = keys.admin!.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + 12);
    keys.wrongSecret = formatApiKey(
      adminKeyId,
      base62FromBytes(32, (n) => randomBytes(n)),
      checksum,
    );

    tokens.submitterApprover = await signJwt({ roles: ['submitter', 'approver'] });
    tokens.teamOnly = await signJwt({ sub: 'bob', roles: ['tech_lead'] });
    tokens.forged = await signJwt({ roles: ['admin'] }, { secret: 'some-other-secret-that-is-32-bytes-long!' });
    tokens.wrongIssuer = await signJwt({ iss: 'https://elsewhere.test', roles: ['admin'] });
    tokens.noExpiry = await signJwt({ exp: undefined, roles: ['admin'] });
    tokens.hs512 = await signJwt({ roles: ['admin'] }, { alg: 'HS512' });
    tokens.wrongAudience = await signJwt({ aud: 'someone-else', roles: ['admin'] });
    tokens.expired = await signJwt({ roles: ['admin'], iat: nowS() - 7200, exp: nowS() - 3600 });
    tokens.none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'mallory', iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: nowS(), exp: nowS() + 600, roles: ['admin'] })}.`;
    // The expired key's 1 ms lifetime has long passed by now; make sure of it.
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  after(async () => {
    agent?.destroy();
    await h?.close();
  });

  describe('route inventory', () => {
    const grouped = () => {
      const byKey = new Map<string, RouteEntry[]>();
      for (const route of routes) byKey.set(route.key, [...(byKey.get(route.key) ?? []), route]);
      return byKey;
    };

    it('walked routes — against the EXPECTED table — are exactly its keys', () => {
      // Arrange
      const walked = new Set(routes.map((r) => r.key));
      const table = new Set(Object.keys(EXPECTED));
      // Act
      const missing = [...walked].filter((k) => !table.has(k));
      const stale = [...table].filter((k) => !walked.has(k));
      // Assert
      expect(
        missing,
        `routes the app serves with no entry in EXPECTED (add one, with an authorize middleware): ${missing.join('; ')}`,
      ).to.deep.equal([]);
      expect(stale, `EXPECTED entries the app does not serve: ${stale.join('; ')}`).to.deep.equal([]);
    });

    it('each walked route — its ACCESS_RULE chain — equals the table entry', () => {
      // Arrange
      const wrong: string[] = [];
      // Act
      for (const [key, entries] of grouped()) {
        const described = [...new Set(entries.filter((e) => e.rules.length > 0).map((e) => describeRules(e.rules)))];
        if (described.length > 1) wrong.push(`${key}: conflicting rules ${described.join(' / ')}`);
        const actual = described[0] ?? 'public';
        const wanted = EXPECTED[key]?.split(' → ')[0];
        if (wanted !== undefined && actual !== wanted) wrong.push(`${key}: has ${actual}, table says ${wanted}`);
      }
      // Assert
      expect(wrong, wrong.join('\n')).to.deep.equal([]);
    });

    it('handlers before authorization — on every non-public route — are only the known refusing gates', () => {
      // Arrange
      const found: Record<string, string[]> = {};
      // Act
      for (const [key, entries] of grouped()) {
        if (EXPECTED[key] === 'public') continue;
        const unguarded = entries.flatMap((e) => e.unguarded);
        if (unguarded.length > 0) found[key] = unguarded;
      }
      // Assert
      expect(
        found,
        'handlers that run before any authorize middleware (authorize first, or list a gate that only refuses in KNOWN_PRE_GATES)',
      ).to.deep.equal(KNOWN_PRE_GATES);
    });

    it('public routes — in the table — are PUBLIC_PATHS served by GET, and the dashboard', () => {
      // Arrange
      const publicKeys = Object.entries(EXPECTED)
        .filter(([, access]) => access === 'public')
        .map(([key]) => key);
      // Act
      const expected = [...PUBLIC_PATHS.map((p) => `GET ${p}`), 'GET /', `USE ${DASHBOARD_PATH}`];
      // Assert
      expect(publicKeys.sort()).to.deep.equal([...expected].sort());
    });

    it('Bull Board routes — walked under /admin/queues — are exactly @bull-board/api appRoutes', () => {
      // Arrange
      const prefixed = (route: string) => `${BULL_BOARD_PATH}${route === '/' ? '' : route}`;
      const listed = new Set<string>();
      for (const { method, route } of appRoutes.api) {
        for (const m of [method].flat()) for (const r of [route].flat()) listed.add(`${m.toUpperCase()} ${prefixed(r)}`);
      }
      for (const r of [appRoutes.entryPoint.route].flat()) listed.add(`${appRoutes.entryPoint.method.toUpperCase()} ${prefixed(r)}`);
      // Act
      const walked = new Set(routes.filter((r) => r.method !== 'USE' && r.path.startsWith(BULL_BOARD_PATH)).map((r) => r.key));
      // Assert
      expect([...walked].sort()).to.deep.equal([...listed].sort());
    });
  });

  describe("Bull Board's refused writes", () => {
    let queue: Queue;
    let waiting: Job;
    let delayed: Job;

    /** What a refused write must leave as it was. */
    const snapshot = async () => {
      const [counts, paused, w, d] = await Promise.all([
        queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
        queue.isPaused(),
        queue.getJob(waiting.id!),
        queue.getJob(delayed.id!),
      ]);
      return {
        counts,
        paused,
        waiting: { data: w?.data as unknown, priority: w?.opts.priority },
        delayed: { delay: d?.opts.delay, state: await d?.getState() },
      };
    };

    before(async () => {
      // Arrange: one completed, one failed, one waiting and one delayed job on an agent queue.
      const connection = h.connection();
      queue = new Queue(GUARDED_QUEUE, { connection, prefix: h.config.QUEUE_PREFIX });
      const worker = new Worker(
        GUARDED_QUEUE,
        async (job) => {
          if ((job.data as { fail?: boolean }).fail) throw new Error('fails on purpose');
          return { ok: true };
        },
        { connection, prefix: h.config.QUEUE_PREFIX },
      );
      try {
        let settled = 0;
        const done = new Promise<void>((resolve) => {
          const count = () => (++settled === 2 ? resolve() : undefined);
          worker.on('completed', count);
          worker.on('failed', count);
        });
        await queue.add('auth-matrix', { fail: false }, { attempts: 1 });
        await queue.add('auth-matrix', { fail: true }, { attempts: 1 });
        await done;
      } finally {
        await worker.close();
      }
      waiting = await queue.add('auth-matrix', { untouched: true }, { attempts: 1 });
      delayed = await queue.add('auth-matrix', { later: true }, { attempts: 1, delay: 3_600_000 });
    });

    after(async () => {
      await queue?.close();
    });

    it('the seeded queue — before any write — holds one job in each state', async () => {
      // Act
      const { counts } = await snapshot();
      // Assert
      expect(counts).to.include({ completed: 1, failed: 1, waiting: 1, delayed: 1, active: 0 });
    });

    const q = GUARDED_QUEUE;
    const writes: [string, string, unknown?][] = [
      ['POST', `/admin/queues/api/queues/${q}/add`, { name: 'injected', data: { injected: true } }],
      ['PUT', `/admin/queues/api/queues/${q}/clean/completed`],
      ['PUT', `/admin/queues/api/queues/${q}/clean/failed`],
      ['PUT', `/admin/queues/api/queues/${q}/empty`],
      ['PUT', `/admin/queues/api/queues/${q}/obliterate`],
      ['PATCH', `/admin/queues/api/queues/${q}/:waiting/update-data`, { data: { hacked: true } }],
      ['PATCH', `/admin/queues/api/queues/${q}/:delayed/delay`, { delay: 0 }],
      ['PATCH', `/admin/queues/api/queues/${q}/:waiting/priority`, { priority: 1 }],
      ['PUT', `/admin/queues/api/queues/${q}/:waiting/clean`],
      ['DELETE', `/admin/queues/api/queues/${q}/:waiting`],
      ['PUT', `/admin/queues/api/queues/${q}/concurrency`, { concurrency: 1 }],
      ['PUT', `/admin/queues/api/queues/${q}/rate-limit`, { max: 1, duration: 1000 }],
      ['PUT', `/admin/queues/api/queues/${q}/retry/completed`],
      ['PUT', `/admin/queues/api/queues/${CONTROL_QUEUE}/pause`],
      ['POST', `/admin/queues/API/QUEUES/${q}/ADD`, { name: 'injected', data: { injected: true } }],
      ['PUT', `/admin/queues/Api/Queues/${q}/Empty`],
      ['PUT', `/ADMIN/QUEUES/api/queues/${q}/obliterate`],
      ['PUT', `/admin/queues/api/queues/${q}/empty/`],
      ['PUT', `/admin/queues//api/queues/${q}/empty`],
      ['PUT', `/admin/queues/api/queues/${q}/%65mpty`],
      ['PATCH', `/admin/queues/api/queues/${q}/:waiting/UPDATE-DATA`, { data: { hacked: true } }],
    ];
    for (const [role, keyName] of [
      ['operator', 'operator'],
      ['admin', 'admin'],
    ] as const) {
      for (const [method, template, body] of writes) {
        it(`${method} ${template} — ${role} key — 403 ${REFUSED} and the queue unchanged`, async () => {
          // Arrange
          const path = template.replace(':waiting', waiting.id!).replace(':delayed', delayed.id!);
          const before = await snapshot();
          // Act
          const res = await send(method, path, bearer(keys[keyName]!), body);
          // Assert
          expect(res.status, res.text.slice(0, 300)).to.equal(403);
          expect(codeOf(res)).to.equal(REFUSED);
          expect(await snapshot()).to.deep.equal(before);
        });
      }
    }

    it('the seeded queue — after every refused write — still holds one job in each state, its data as added', async () => {
      // Act
      const after = await snapshot();
      // Assert
      expect(after.counts).to.include({ completed: 1, failed: 1, waiting: 1, delayed: 1, active: 0 });
      expect(after.waiting.data).to.deep.equal({ untouched: true });
      expect(after.paused).to.equal(false);
    });
  });

  // No route is skipped for the admin role: with the fake ids every permitted call ends in a
  // 400/404 or touches only this harness's own queue prefix. The board's allowed writes that do
  // succeed are undone by the matrix itself (the table lists pause before resume, and runs in
  // order); its retries and promotes find nothing on the noop queue.
  describe('credential matrix', () => {
    for (const [key, value] of Object.entries(EXPECTED)) {
      const access = parseAccess(value);
      const summary = access.public
        ? 'never 401/403'
        : `401 for bad credentials, 403 FORBIDDEN without ${value.split(' → ')[0]}, ${access.refusal ? `403 ${access.refusal} with it` : 'through with it'}`;
      it(`${key} — every credential — ${summary}`, async () => {
        // Arrange
        const probe = PROBES[key];
        const [method, template] = probe ? [probe.method, probe.path] : (key.split(' ') as [string, string]);
        if (method === 'USE' || method === 'ALL') throw new Error(`no PROBES entry for ${key}: say which request exercises it`);
        const path = fillPath(template);
        // Act
        const results = await Promise.all(
          CREDENTIALS.map(async (credential) => ({ credential, res: await send(method, path, credential.headers()) })),
        );
        // Assert
        const wrong = results.flatMap(({ credential, res }) => {
          const why = mismatch(access, path, credential, res);
          return why ? [`${credential.name}: ${why}`] : [];
        });
        expect(wrong, `${method} ${path}\n${wrong.join('\n')}`).to.deep.equal([]);
      });
    }
  });

  describe('path spellings', () => {
    const BOARD_OR_KEYS = [
      '/Admin/queues',
      '/ADMIN/QUEUES/api/queues',
      '//admin/queues',
      '/admin/queues/%2e%2e/',
      '/admin//queues',
      '/admin/queues/',
      '/API/V1/KEYS',
      '/api/v1/keys/',
      '/api/v1//keys',
      '/api/v1/%6beys',
      '/%61dmin/queues',
      '/admin/queues/static/../api/queues',
      '/admin/queues/%2e%2e/%2e%2e/api/v1/keys',
      '/admin/queues/api/queues/?x=1',
      '/admin/queues;/api/queues',
    ];
    for (const path of BOARD_OR_KEYS) {
      it(`GET ${path} — anonymous, then with a viewer key — 401, then 403 or 404`, async () => {
        // Act
        const anonymous = await send('GET', path);
        const viewer = await send('GET', path, bearer(keys.viewer!));
        // Assert
        expect(anonymous.status, anonymous.text).to.equal(401);
        expect(codeOf(anonymous)).to.equal('AUTHENTICATION_REQUIRED');
        expect(anonymous.headers['www-authenticate']).to.be.a('string');
        expect(viewer.status, viewer.text.slice(0, 200)).to.be.oneOf([403, 404]);
      });
    }

    it('GET /api/v1/pipelines/ — anonymous, then with a viewer key — 401, then 200 like /api/v1/pipelines', async () => {
      // Act
      const anonymous = await send('GET', '/api/v1/pipelines/');
      const viewer = await send('GET', '/api/v1/pipelines/', bearer(keys.viewer!));
      // Assert
      expect(anonymous.status).to.equal(401);
      expect(viewer.status).to.equal(200);
      expect(viewer.json?.items).to.be.an('array');
    });

    for (const path of ['/health/', '/HEALTH', '/Health', '/health//', '/health/?verbose=1']) {
      it(`GET ${path} — anonymous — 401 or only the liveness answer`, async () => {
        // Act
        const res = await send('GET', path);
        // Assert
        if (res.status === 401) return;
        expect(res.status).to.equal(200);
        expect(res.json).to.deep.equal({ status: 'ok' });
      });
    }

    for (const [method, path] of [
      ['GET', '/health/detailed/'],
      ['GET', '/HEALTH/DETAILED'],
      ['GET', '/health/ready/../detailed'],
      ['GET', '/health/./detailed'],
      ['GET', '/health%2Fdetailed'],
      ['GET', '/metrics/'],
      ['GET', '/METRICS'],
      ['HEAD', '/health/detailed'],
      ['HEAD', '/api/v1/keys'],
      ['OPTIONS', '/api/v1/keys'],
      ['OPTIONS', '/admin/queues/api/queues'],
      ['POST', '/health'],
    ] as const) {
      it(`${method} ${path} — anonymous — 401`, async () => {
        // Act
        const res = await send(method, path);
        // Assert
        expect(res.status, res.text.slice(0, 200)).to.equal(401);
        expect(res.headers['www-authenticate']).to.be.a('string');
      });
    }
  });
});
