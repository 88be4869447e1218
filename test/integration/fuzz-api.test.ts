// Property-based fuzzing of the API with fast-check, against the real Redis and Postgres:
// generated bodies (mutated valid documents and random ones), headers, query strings and path
// segments for POST /pipelines, the decision and clarification answers, the DLQ routes and the
// list and read routes. Every answer must be a JSON 2xx or a JSON 4xx with `error.code`, a 4xx
// must write nothing (Postgres rows and Redis queues compared around each request), nothing may
// log at `error`, and the API must still be ready and serving at the end.
// The seed is fixed; `FUZZ_RUNS=20000 FUZZ_SEED=42 npm run fuzz` runs it longer (docs/security.md, Fuzzing).
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { parse } from 'yaml';
import { z } from 'zod';
import { agentQueueName, CONTROL_QUEUE } from '../../src/infra/queue/queue-names.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';
import { bodyText } from '../support/fuzz/json-mutations.js';
import { createErrorCapturingLogger, createOracle, type Oracle } from '../support/fuzz/oracle.js';
import {
  bodyEncoding,
  commonHeaders,
  contentType,
  encodeBody,
  forgedCursor,
  pathSegment,
  queryString,
  dateText,
} from '../support/fuzz/request-parts.js';
import { createFuzzAgent, send, type FuzzRequest } from '../support/fuzz/send.js';
import { createWriteWatch, type WriteWatch } from '../support/fuzz/write-watch.js';
import { redisTargetOf } from '../../src/composition/redis-target.js';

const fuzzEnv = z
  .object({
    /** Runs per property (five properties, one request per run). */
    FUZZ_RUNS: z.coerce.number().int().min(1).default(400),
    FUZZ_SEED: z.coerce.number().int().default(20261111),
    /** A file to list every failing request in, instead of stopping at the first (long local runs). */
    FUZZ_COLLECT: z.string().min(1).optional(),
  })
  .parse({
    FUZZ_RUNS: process.env.FUZZ_RUNS || undefined,
    FUZZ_SEED: process.env.FUZZ_SEED || undefined,
    FUZZ_COLLECT: process.env.FUZZ_COLLECT || undefined,
  });

const RUNS = fuzzEnv.FUZZ_RUNS;
const SETTINGS = { seed: fuzzEnv.FUZZ_SEED, numRuns: RUNS };
/** Generous: a request takes a few milliseconds; long local runs scale with FUZZ_RUNS. */
const PROPERTY_TIMEOUT_MS = Math.max(120_000, RUNS * 200);

const API = '/api/v1';
const diamond = parse(readFileSync(new URL('../../examples/diamond.yaml', import.meta.url), 'utf8')) as Loose;

/** Valid definitions of several shapes: mutations of these reach every part of the schema. */
const VALID_DEFINITIONS: Loose[] = [
  diamond,
  { name: 'fuzz-minimal', stages: [{ key: 'a', agent: 'noop' }] },
  {
    name: 'fuzz-full',
    input: { service: 'checkout', confidence: 90 },
    stages: [
      { key: 'build', agent: 'noop', input: { artifact: 'a.tar' }, timeoutMs: 5000, continueOnFailure: true },
      {
        key: 'check',
        agent: 'sim_validation',
        dependsOn: ['build'],
        gates: [{ metric: 'coverage', operator: '>=', threshold: 80, severity: 'warning' }],
        category: 'technical_refactor',
        retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10, jitter: 0 } },
      },
    ],
  },
  {
    name: 'fuzz-nap',
    stages: [
      { key: 'nap', agent: 'sleep', input: { ms: 1 } },
      { key: 'fail', agent: 'fail', dependsOn: ['nap'], input: { failAttempts: 0 } },
    ],
  },
  {
    name: 'fuzz-vague',
    input: { requirements: 'Make it maybe faster', acceptanceCriteria: ['p95 under 100 ms'] },
    stages: [{ key: 'a', agent: 'noop' }],
  },
  { template: 'smoke', name: 'fuzz-template', input: { project: 'hello' } },
];

describe('API fuzzing with fast-check (integration)', () => {
  let h: Harness;
  let logs: ReturnType<typeof createErrorCapturingLogger>;
  let watch: WriteWatch;
  let oracle: Oracle;
  const agent = createFuzzAgent();
  const keys: Record<'submitter' | 'approver' | 'operator', { key: string; id: string }> = {} as never;
  const seeded = {
    pipelines: [] as string[],
    decisions: [] as string[],
    clarifications: [] as Loose[],
    dlqJobs: [] as string[],
    fingerprints: [] as string[],
  };
  const cursors: Record<string, string[]> = {};
  const collected: string[] = [];

  const submit = async (definition: unknown): Promise<string> => {
    const res = await request(h.baseUrl, 'POST', `${API}/pipelines`, definition, bearer(keys.submitter.key));
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    seeded.pipelines.push(res.body.id as string);
    return res.body.id as string;
  };
  const cursorOf = async (path: string): Promise<string[]> => {
    const res = await request(h.baseUrl, 'GET', `${API}${path}`, undefined, bearer(keys.operator.key));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.nextCursor ? [res.body.nextCursor as string] : [];
  };
  const auth = (who: keyof typeof keys): Record<string, string> => ({ authorization: `Bearer ${keys[who].key}` });

  /** A request with a generated body: its text, Content-Type, encoding and the common headers. */
  const withBody = (texts: fc.Arbitrary<string>) =>
    fc
      .record({ text: texts, type: contentType, encoding: bodyEncoding, headers: commonHeaders })
      .map(({ text, type, encoding, headers }) => {
        const encoded = encodeBody(text, encoding);
        return { body: encoded.body, headers: { ...headers, ...encoded.headers, ...(type === undefined ? {} : { 'content-type': type }) } };
      });

  before(async function () {
    this.timeout(120_000);
    logs = createErrorCapturingLogger();
    // One worker (with the conductor) opens the seeded decisions and fails the DLQ stages; it is
    // stopped before fuzzing so that nothing but the fuzzed requests writes.
    // No backlog mark: the suite's own valid submissions pile up queued (no worker runs them).
    h = await startHarness({ workers: 1, logger: logs.logger, env: { BREAKER_VOLUME_THRESHOLD: '100000', BACKLOG_HIGH_WATER: '0' } });
    keys.submitter = await h.createKey('fuzz-submitter', ['submitter']);
    keys.approver = await h.createKey('fuzz-approver', ['approver', 'engineering_manager', 'dba', 'tech_lead']);
    keys.operator = await h.createKey('fuzz-operator', ['operator', 'viewer']);

    const waiting = [
      ...(await Promise.all(
        [1, 2, 3].map((i) => submit({ name: `fuzz-deploy-${i}`, stages: [{ key: 'deploy', agent: 'sim_deployment' }] })),
      )),
      ...(await Promise.all(
        [1, 2].map((i) => submit({ name: `fuzz-migrate-${i}`, stages: [{ key: 'migrate', agent: 'noop', category: 'data_migration' }] })),
      )),
    ];
    const vague = await Promise.all(
      [1, 2].map((i) =>
        submit({
          name: `fuzz-vague-${i}`,
          input: { requirements: 'Make it maybe faster for some users' },
          stages: [{ key: 'a', agent: 'noop' }],
        }),
      ),
    );
    const failing = await Promise.all(
      [1, 2, 3].map((i) =>
        submit({ name: `fuzz-dlq-${i}`, stages: [{ key: 'boom', agent: 'fail', input: { message: `boom ${i}`, unrecoverable: true } }] }),
      ),
    );
    await submit({ name: 'fuzz-done', stages: [{ key: 'a', agent: 'noop' }] }).then((id) => waitForPipeline(h.baseUrl, id));
    for (const id of waiting) {
      const p = await waitUntil(h.baseUrl, id, (x) => (x.decisions as Loose[]).some((d) => d.status === 'pending'));
      seeded.decisions.push(...(p.decisions as Loose[]).map((d) => d.id as string));
    }
    for (const id of vague) {
      const list = await request(h.baseUrl, 'GET', `${API}/clarifications?pipelineId=${id}`);
      seeded.clarifications.push(...(list.body.items as Loose[]));
    }
    for (const id of failing) {
      expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('failed');
      const dlq = await request(h.baseUrl, 'GET', `${API}/dlq?pipelineId=${id}`, undefined, bearer(keys.operator.key));
      for (const item of dlq.body.items as Loose[]) {
        seeded.dlqJobs.push(item.jobId as string);
        seeded.fingerprints.push(item.fingerprint as string);
      }
    }
    expect(seeded.decisions).to.have.length(5);
    expect(seeded.clarifications).to.have.length(2);
    expect(seeded.dlqJobs).to.have.length(3);
    for (const path of ['/pipelines', '/decisions', '/clarifications', '/dlq']) cursors[path] = await cursorOf(`${path}?limit=1`);
    await Promise.all(h.workers.map((w) => w.close()));
    // The documents the mutations start from are valid as they stand.
    for (const definition of VALID_DEFINITIONS) {
      const res = await request(h.baseUrl, 'POST', `${API}/pipelines`, definition, bearer(keys.submitter.key));
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
    }

    watch = createWriteWatch({
      db: h.db,
      redis: redisTargetOf(h.config),
      prefix: h.config.QUEUE_PREFIX,
      queueNames: [CONTROL_QUEUE, ...[...h.catalog.keys()].map(agentQueueName)],
      identities: Object.values(keys).map((k) => k.id),
      pipelineIds: seeded.pipelines,
    });
    // Only what the fuzzed requests log counts.
    logs.errors.length = 0;
    oracle = createOracle({ baseUrl: h.baseUrl, agent, watch, errors: logs.errors, collect: fuzzEnv.FUZZ_COLLECT ? collected : undefined });
  });

  after(async () => {
    agent.destroy();
    await watch?.close();
    await h?.close();
    if (fuzzEnv.FUZZ_COLLECT) writeFileSync(fuzzEnv.FUZZ_COLLECT, collected.join('\n\n'));
    if (process.env.FUZZ_RUNS && oracle) {
      const total = [...oracle.statuses.values()].reduce((a, b) => a + b, 0);
      process.stdout.write(
        `fuzz: ${total} requests, seed ${SETTINGS.seed}, answers ${JSON.stringify(Object.fromEntries(oracle.statuses))}\n`,
      );
    }
  });

  it('POST /pipelines: mutated and random definitions, Content-Types, encodings and headers never answer 5xx, and a 4xx writes nothing', async function () {
    this.timeout(PROPERTY_TIMEOUT_MS);
    const submissions = withBody(bodyText(VALID_DEFINITIONS)).map(({ body, headers }): FuzzRequest => ({
      method: 'POST',
      path: `${API}/pipelines`,
      headers: { ...auth('submitter'), ...headers },
      body,
    }));

    await fc.assert(
      fc.asyncProperty(submissions, async (req) => {
        await oracle.check(req);
      }),
      SETTINGS,
    );
  });

  it('decisions: approve and reject with generated ids and bodies never answer 5xx, and a 4xx writes nothing', async function () {
    this.timeout(PROPERTY_TIMEOUT_MS);
    const bodies = bodyText([{ comment: 'looks good' }, { comment: 'not in this window' }, {}]);
    const answers = fc
      .record({
        id: pathSegment(seeded.decisions),
        verb: fc.constantFrom('approve', 'reject', 'Approve', ''),
        sent: withBody(bodies),
        bodyless: fc.boolean(),
      })
      .map(({ id, verb, sent, bodyless }): FuzzRequest => ({
        method: 'POST',
        path: `${API}/decisions/${id}/${verb}`,
        headers: { ...auth('approver'), ...sent.headers },
        body: bodyless ? undefined : sent.body,
      }));

    await fc.assert(
      fc.asyncProperty(answers, async (req) => {
        await oracle.check(req);
      }),
      SETTINGS,
    );
  });

  it('clarifications: answers with generated ids and bodies never answer 5xx, and a 4xx writes nothing', async function () {
    this.timeout(PROPERTY_TIMEOUT_MS);
    const full = seeded.clarifications.map((c) => ({
      answers: Object.fromEntries((c.questions as Loose[]).map((q) => [q.id as string, 'Every user; p95 under 100 ms'])),
    }));
    const answers = fc
      .record({ id: pathSegment(seeded.clarifications.map((c) => c.id as string)), sent: withBody(bodyText([...full, { answers: {} }])) })
      .map(({ id, sent }): FuzzRequest => ({
        method: 'POST',
        path: `${API}/clarifications/${id}/answer`,
        headers: { ...auth('approver'), ...sent.headers },
        body: sent.body,
      }));

    await fc.assert(
      fc.asyncProperty(answers, async (req) => {
        await oracle.check(req);
      }),
      SETTINGS,
    );
  });

  it('DLQ: list queries, bulk and single replays and deletes never answer 5xx, and a 4xx writes nothing', async function () {
    this.timeout(PROPERTY_TIMEOUT_MS);
    const fingerprint = fc.oneof(fc.constantFrom(...seeded.fingerprints), fc.stringMatching(/^[0-9a-f]{16}$/));
    const list = queryString({
      agent: fc.constantFrom('fail', 'noop', 'sim_deployment', 'Fail', 'agent.fail'),
      fingerprint,
      pipelineId: fc.oneof(fc.constantFrom(...seeded.pipelines), fc.uuid()),
      limit: fc.constantFrom('1', '20', '100'),
      cursor: fc.oneof(fc.constantFrom(...cursors['/dlq']!, 'x'), forgedCursor(seeded.dlqJobs)),
    }).map((q): FuzzRequest => ({ method: 'GET', path: `${API}/dlq${q}`, headers: auth('operator') }));
    const bulk = withBody(bodyText([...seeded.fingerprints.map((f) => ({ fingerprint: f })), { agent: 'fail', limit: 1 }])).map(
      ({ body, headers }): FuzzRequest => ({
        method: 'POST',
        path: `${API}/dlq/retry`,
        headers: { ...auth('operator'), ...headers },
        body,
      }),
    );
    const single = fc
      .record({
        id: pathSegment(seeded.dlqJobs),
        method: fc.constantFrom('POST', 'DELETE'),
        sent: withBody(bodyText([{}])),
        bodyless: fc.boolean(),
      })
      .map(({ id, method, sent, bodyless }): FuzzRequest => ({
        method,
        path: method === 'POST' ? `${API}/dlq/${id}/retry` : `${API}/dlq/${id}`,
        headers: { ...auth('operator'), ...sent.headers },
        body: bodyless ? undefined : sent.body,
      }));

    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 2, arbitrary: list }, { weight: 2, arbitrary: bulk }, { weight: 3, arbitrary: single }),
        async (req) => {
          await oracle.check(req);
        },
      ),
      SETTINGS,
    );
  });

  it('list and read routes: generated query strings, path segments and headers never answer 5xx', async function () {
    this.timeout(PROPERTY_TIMEOUT_MS);
    const pipelineId = pathSegment(seeded.pipelines);
    const limit = fc.constantFrom('1', '20', '100', '500');
    const cursor = (path: string, ids: readonly string[]) => fc.oneof(fc.constantFrom(...(cursors[path] ?? []), 'x'), forgedCursor(ids));
    const eventId = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), fc.constantFrom('', '-1', '1.5', 'abc'));
    const reads: Array<fc.Arbitrary<{ path: string; stream?: boolean }>> = [
      queryString({
        status: fc.constantFrom('queued', 'running', 'succeeded', 'failed', 'cancelled', 'waiting'),
        name: fc.constantFrom('fuzz-done', 'fuzz-deploy-1', '%25', '_'),
        limit,
        cursor: cursor('/pipelines', seeded.pipelines),
      }).map((q) => ({ path: `/pipelines${q}` })),
      queryString({
        status: fc.constantFrom('pending', 'escalated', 'approved', 'rejected', 'expired', 'cancelled'),
        category: fc.constantFrom('cost_impacting', 'data_migration', 'security_affecting'),
        pipelineId: fc.oneof(fc.constantFrom(...seeded.pipelines), fc.uuid()),
        limit,
        cursor: cursor('/decisions', seeded.decisions),
      }).map((q) => ({ path: `/decisions${q}` })),
      queryString({
        status: fc.constantFrom('open', 'answered', 'cancelled'),
        pipelineId: fc.oneof(fc.constantFrom(...seeded.pipelines), fc.uuid()),
        limit,
        cursor: cursor(
          '/clarifications',
          seeded.clarifications.map((c) => c.id as string),
        ),
      }).map((q) => ({ path: `/clarifications${q}` })),
      queryString({
        action: fc.constantFrom('pipeline.submitted', 'decision.approved', 'dlq.replayed', 'nope'),
        identity: fc.constantFrom(keys.submitter.id, keys.approver.id),
        targetType: fc.constantFrom('pipeline', 'decision', 'queue', 'user'),
        targetId: fc.oneof(fc.constantFrom(...seeded.pipelines), fc.uuid()),
        pipelineId: fc.oneof(fc.constantFrom(...seeded.pipelines), fc.uuid()),
        since: dateText,
        until: dateText,
        limit,
        cursor: eventId,
      }).map((q) => ({ path: `/audit${q}` })),
      queryString({ types: fc.constantFrom('stage.started', 'stage.finished,pipeline.finished', ',', 'nope'), lastEventId: eventId }).map(
        (q) => ({ path: `/events${q}`, stream: true }),
      ),
      fc
        .tuple(pipelineId, queryString({ types: fc.constantFrom('stage.started', 'nope'), lastEventId: eventId }))
        .map(([id, q]) => ({ path: `/pipelines/${id}/events${q}`, stream: true })),
      fc.tuple(pipelineId, queryString({ cursor: eventId, limit })).map(([id, q]) => ({ path: `/pipelines/${id}/audit${q}` })),
      fc
        .tuple(pipelineId, fc.constantFrom('', '/runs', '/runs/', '/', '/%2e%2e', '/../runs'))
        .map(([id, rest]) => ({ path: `/pipelines/${id}${rest}` })),
      pathSegment(seeded.decisions).map((id) => ({ path: `/decisions/${id}` })),
      pathSegment(seeded.clarifications.map((c) => c.id as string)).map((id) => ({ path: `/clarifications/${id}` })),
      pathSegment(['smoke', 'sdlc-simulated']).map((id) => ({ path: `/templates/${id}` })),
      fc.constantFrom('/agents', '/templates', '/whoami').map((path) => ({ path })),
    ];
    const readRequests = fc
      .record({ read: fc.oneof(...reads), headers: commonHeaders, lastEventId: fc.option(eventId, { freq: 4 }) })
      .map(({ read, headers, lastEventId }) => ({
        req: {
          method: 'GET',
          path: `${API}${read.path}`,
          headers: { authorization: `Bearer ${h.adminKey}`, ...headers, ...(lastEventId === null ? {} : { 'last-event-id': lastEventId }) },
        } satisfies FuzzRequest,
        stream: read.stream === true,
      }));
    const cancels = fc.record({ id: pipelineId, sent: withBody(bodyText([{}])), bodyless: fc.boolean() }).map(({ id, sent, bodyless }) => ({
      req: {
        method: 'POST',
        path: `${API}/pipelines/${id}/cancel`,
        headers: { ...auth('submitter'), ...sent.headers },
        body: bodyless ? undefined : sent.body,
      } satisfies FuzzRequest,
      stream: false,
    }));
    const otherMethods = fc
      .record({ read: fc.oneof(...reads), method: fc.constantFrom('HEAD', 'PUT', 'PATCH', 'DELETE', 'POST') })
      .map(({ read, method }) => ({
        req: { method, path: `${API}${read.path}`, headers: { authorization: `Bearer ${h.adminKey}` } } satisfies FuzzRequest,
        stream: method === 'HEAD' && read.stream === true,
      }));

    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 8, arbitrary: readRequests }, { weight: 1, arbitrary: cancels }, { weight: 1, arbitrary: otherMethods }),
        async ({ req, stream }) => {
          await oracle.check(req, { eventStream: stream });
        },
      ),
      SETTINGS,
    );
  });

  it('afterwards the process is healthy: /health/ready answers 200, a valid submission 202, and nothing logged at error level', async () => {
    const ready = await send(h.baseUrl, agent, { method: 'GET', path: '/health/ready', headers: {} });
    expect(ready.status, ready.text).to.equal(200);

    const created = await request(h.baseUrl, 'POST', `${API}/pipelines`, VALID_DEFINITIONS[1], bearer(keys.submitter.key));
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const read = await request(h.baseUrl, 'GET', `${API}/pipelines/${created.body.id as string}`);
    expect(read.body.name).to.equal('fuzz-minimal');

    expect(logs.errors).to.deep.equal([]);
    expect([...oracle.statuses.values()].reduce((a, b) => a + b, 0)).to.be.at.least(5 * RUNS);
  });
});
