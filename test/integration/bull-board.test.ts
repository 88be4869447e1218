// Bull Board at /admin/queues: the operator gate (an operator's API key as Bearer or as the HTTP
// Basic password; no key 401 with a Basic challenge, a viewer 403), the board's API listing every
// queue, the read-only control queue (writes answer 403 BOARD_ACTION_REFUSED), the allow-list of
// writes (clean, add, empty, obliterate refused), pause/resume of an agent queue as the platform's
// agent-type pause (recorded, audited via bull-board; a board resume lifts an API pause), and a
// failed job of an agent queue that is no stage job (its retry is refused: the board's retry there
// is a DLQ replay), and a completed job's retry refused (403) on any queue. With webhooks on, the
// webhook queue's pause/resume pass through, audited; a delivered (completed) webhook's retry is
// refused, a failed one's is retried. API only (no platform workers), against the real Redis
// and Postgres. Then, with a worker: the board's retry of a failed stage job is a DLQ replay (the
// stage and pipeline reopen and finish), one job or all of an agent queue's, audited under the
// operator's identity with `via: 'bull-board'`.
import { expect } from 'chai';
import { Queue, Worker, type Job } from 'bullmq';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, type Loose } from '../support/http.js';
import { basicAuth } from '../support/keys.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { captureLogger } from '../support/capture-logger.js';
import { agentQueueName, CONTROL_QUEUE } from '../../src/infra/queue/queue-names.js';

const BOARD = '/admin/queues';
const BASIC_CHALLENGE = 'Basic realm="agentic-sdlc", charset="UTF-8"';

/** A job of `name` taken by a throwaway worker of this test: it completes, or fails its only attempt. */
async function finishedJob(h: Harness, name: string, outcome: 'completed' | 'failed'): Promise<{ queue: Queue; job: Job }> {
  const connection = h.connection();
  const queue = new Queue(name, { connection, prefix: h.config.QUEUE_PREFIX });
  const job = await queue.add('board-test', { note: `${outcome} once` }, { attempts: 1 });
  const worker = new Worker(
    name,
    async () => {
      if (outcome === 'failed') throw new Error('boom');
      return 'done';
    },
    { connection, prefix: h.config.QUEUE_PREFIX },
  );
  try {
    // Another test's job may be waiting too: this one's outcome is the one awaited.
    await new Promise<void>((resolve) => worker.on(outcome, (done: Job | undefined) => done?.id === job.id && resolve()));
    expect(await job.getState()).to.equal(outcome);
    return { queue, job };
  } finally {
    await worker.close();
  }
}

describe('Bull Board at /admin/queues (integration)', () => {
  let h: Harness;
  let operator: { key: string; id: string };
  let viewer: { key: string; id: string };
  /** What the API logged (the board's errors among them). */
  const logged: Loose[] = [];
  before(async () => {
    h = await startHarness({ workers: 0, logger: captureLogger(logged) });
    operator = await h.createKey('board-operator', ['operator']);
    viewer = await h.createKey('board-viewer', ['viewer']);
  });
  after(async () => {
    await h?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${h.baseUrl}${path}`, { headers });
  const send = (method: string, path: string, headers: Record<string, string> = bearer(operator.key)) =>
    fetch(`${h.baseUrl}${BOARD}${path}`, { method, headers });
  const errorCode = async (res: Response) => ((await res.json()) as Loose).error?.code as string;

  it('answers 401 with a Basic challenge without a key, or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-an-api-key-at-all' }, basicAuth('wrong-password-wrong-password')]) {
      const res = await get(BOARD, headers);
      expect(res.status, JSON.stringify(headers)).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal(BASIC_CHALLENGE);
      await res.text();
    }
    const none = await get(`${BOARD}/api/queues`);
    expect(none.status).to.equal(401);
    expect(await errorCode(none)).to.equal('AUTHENTICATION_REQUIRED');
  });

  it('answers 403 FORBIDDEN to a key without the operator role (a viewer), as Bearer or Basic', async () => {
    for (const headers of [bearer(viewer.key), basicAuth(viewer.key)]) {
      const res = await get(BOARD, headers);
      expect(res.status).to.equal(403);
      expect(await errorCode(res)).to.equal('FORBIDDEN');
    }
  });

  it('serves the board (HTML, base path /admin/queues/) with an operator key as Bearer or as the Basic password, and to an admin', async () => {
    for (const headers of [bearer(operator.key), basicAuth(operator.key), bearer(h.adminKey)]) {
      const res = await get(BOARD, headers);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      expect(res.headers.get('content-security-policy')).to.contain("script-src 'self'");
      const html = await res.text();
      expect(html).to.contain('<base href="/admin/queues/"');
    }
  });

  it('its API lists the agent queues and the control queue (read-only), and no webhook queue while webhooks are off', async () => {
    const res = await get(`${BOARD}/api/queues`, bearer(operator.key));
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    const byName = new Map(body.queues.map((q) => [q.name, q]));
    expect(byName.get(CONTROL_QUEUE)?.readOnlyMode).to.equal(true);
    const agentNames = [...h.catalog.keys()].map(agentQueueName);
    expect(agentNames.length).to.be.greaterThan(0);
    for (const name of agentNames) expect(byName.get(name)?.readOnlyMode, name).to.equal(false);
    expect(byName.has('webhooks')).to.equal(false);
  });

  it('refuses every write to the control queue with 403 BOARD_ACTION_REFUSED', async () => {
    for (const [method, path] of [
      ['POST', 'retry/failed'],
      ['PUT', 'retry/failed'],
      ['PUT', 'clean/completed'],
      ['PUT', 'pause'],
      ['PUT', 'resume'],
      ['DELETE', 'some-job'],
      ['PATCH', 'some-job/clean'],
    ] as const) {
      const res = await send(method, `/api/queues/${CONTROL_QUEUE}/${path}`);
      expect(res.status, `${method} ${path}`).to.equal(403);
      expect(await errorCode(res), `${method} ${path}`).to.equal('BOARD_ACTION_REFUSED');
    }
  });

  it('refuses the writes that would bypass the platform on an agent queue (add, clean, empty, obliterate) with 403 BOARD_ACTION_REFUSED', async () => {
    const name = encodeURIComponent(agentQueueName([...h.catalog.keys()][0]!));
    for (const [method, path] of [
      ['POST', `/api/queues/${name}/add`],
      ['PUT', `/api/queues/${name}/clean/completed`],
      ['PUT', `/api/queues/${name}/empty`],
      ['PUT', `/api/queues/${name}/obliterate`],
      ['PUT', `/api/queues/${name}/retry/completed`],
      ['PATCH', `/api/queues/${name}/some-job/update-data`],
    ] as const) {
      const res = await send(method, path);
      expect(res.status, `${method} ${path}`).to.equal(403);
      expect(await errorCode(res), `${method} ${path}`).to.equal('BOARD_ACTION_REFUSED');
    }
  });

  it('a write Bull Board made (promote all) but the audit could not record: still 200, and an error line names the write and the operator', async () => {
    const name = agentQueueName([...h.catalog.keys()][0]!);
    await h.db.pool.query(
      `CREATE FUNCTION refuse_board_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit store down'; END $$`,
    );
    await h.db.pool.query(
      'CREATE TRIGGER board_audit_down BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_board_audit()',
    );
    let line: Loose | undefined;
    try {
      const promoted = await send('PUT', `/api/queues/${encodeURIComponent(name)}/promote`);
      expect(promoted.status).to.be.within(200, 299);
      await promoted.text();
      await pollUntil(
        'the unaudited write logged',
        async () => {
          line = logged.find((l) => l.message === 'bull board write done but not audited');
          return line !== undefined;
        },
        5_000,
        50,
      );
    } finally {
      await h.db.pool.query('DROP FUNCTION IF EXISTS refuse_board_audit() CASCADE');
    }
    expect(line).to.deep.include({ level: 'error', action: 'promote_all', queue: name, actor: operator.id });
    expect(line!.error).to.include('audit store down');
  });

  it("a board pause of an agent queue is the platform's agent pause: recorded under the operator, shown by GET /agents, audited agent.paused via bull-board", async () => {
    const type = [...h.catalog.keys()][0]!;
    const name = agentQueueName(type);
    const pauser = await h.createKey('board-pauser', ['operator']);
    const queue = new Queue(name, { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      const paused = await send('PUT', `/api/queues/${encodeURIComponent(name)}/pause`, bearer(pauser.key));
      expect(paused.status).to.equal(200);
      expect(await paused.json()).to.deep.equal({});
      expect(await queue.isPaused()).to.equal(true);

      const agents = (await request(h.baseUrl, 'GET', '/api/v1/agents')).body.items as Loose[];
      const shown = agents.find((a) => a.type === type);
      expect(shown).to.deep.include({ paused: true });
      expect(shown!.pause, 'the platform has a record of the board pause').to.include({ by: pauser.id, reason: null });
      const trail = await request(h.baseUrl, 'GET', `/api/v1/audit?action=agent.paused&identity=${encodeURIComponent(pauser.id)}`);
      expect(trail.body.items).to.have.length(1);
      expect(trail.body.items[0]).to.deep.include({ targetType: 'agent', targetId: type });
      expect(trail.body.items[0].data).to.deep.equal({ reason: null, via: 'bull-board' });
    } finally {
      await request(h.baseUrl, 'POST', `/api/v1/agents/${type}/resume`);
      await queue.close();
    }
  });

  it('a board resume of an agent type paused through the API lifts the pause record (no reconcile pass pauses it again), audited agent.resumed via bull-board', async () => {
    const type = [...h.catalog.keys()][0]!;
    const name = agentQueueName(type);
    const resumer = await h.createKey('board-resumer', ['operator']);
    const queue = new Queue(name, { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      const held = await request(h.baseUrl, 'POST', `/api/v1/agents/${type}/pause`, { reason: 'INC-7 vendor down' });
      expect(held.status).to.equal(200);

      const resumed = await send('PUT', `/api/queues/${encodeURIComponent(name)}/resume`, bearer(resumer.key));
      expect(resumed.status).to.equal(200);
      expect(await resumed.json()).to.deep.equal({});
      expect(await queue.isPaused()).to.equal(false);

      const agents = (await request(h.baseUrl, 'GET', '/api/v1/agents')).body.items as Loose[];
      expect(
        agents.find((a) => a.type === type),
        'the record the reconciler re-applies is gone',
      ).to.deep.include({ paused: false, pause: null });
      const trail = await request(h.baseUrl, 'GET', `/api/v1/audit?action=agent.resumed&identity=${encodeURIComponent(resumer.id)}`);
      expect(trail.body.items).to.have.length(1);
      expect(trail.body.items[0]).to.deep.include({ targetType: 'agent', targetId: type });
      expect(trail.body.items[0].data).to.deep.equal({ via: 'bull-board' });
    } finally {
      await queue.close();
    }
  });

  it("pause all / resume all on the board pause and resume every agent type through the platform's record", async () => {
    const types = [...h.catalog.keys()];
    const paused = await send('PUT', '/api/queues/pause');
    expect(paused.status).to.equal(200);
    await paused.text();
    try {
      const agents = (await request(h.baseUrl, 'GET', '/api/v1/agents')).body.items as Loose[];
      for (const type of types) {
        const shown = agents.find((a) => a.type === type);
        expect(shown, type).to.deep.include({ paused: true });
        expect(shown!.pause, type).to.include({ by: operator.id });
      }
    } finally {
      const resumed = await send('PUT', '/api/queues/resume');
      expect(resumed.status).to.equal(200);
      await resumed.text();
    }
    const agents = (await request(h.baseUrl, 'GET', '/api/v1/agents')).body.items as Loose[];
    for (const type of types)
      expect(
        agents.find((a) => a.type === type),
        type,
      ).to.deep.include({ paused: false, pause: null });
    const control = new Queue(CONTROL_QUEUE, { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      expect(await control.isPaused(), 'the read-only control queue').to.equal(false);
    } finally {
      await control.close();
    }
  });

  it('refuses the retry of a completed job of an agent queue with 403 BOARD_ACTION_REFUSED: it stays completed, nothing audited', async () => {
    const name = agentQueueName([...h.catalog.keys()][0]!);
    const retrier = await h.createKey('board-retrier', ['operator']);
    const { queue, job } = await finishedJob(h, name, 'completed');
    try {
      const res = await send('PUT', `/api/queues/${encodeURIComponent(name)}/${job.id}/retry`, bearer(retrier.key));
      expect(res.status).to.equal(403);
      const body = (await res.json()) as Loose;
      expect(body.error.code).to.equal('BOARD_ACTION_REFUSED');
      expect(body.error.message).to.match(/completed/);
      expect(await queue.getJobState(job.id!)).to.equal('completed');
      const trail = await request(h.baseUrl, 'GET', `/api/v1/audit?identity=${encodeURIComponent(retrier.id)}`);
      expect(trail.body.items).to.deep.equal([]);
    } finally {
      await queue.close();
    }
  });

  it('refuses the retry of a failed job of an agent queue that is no stage job (409 DLQ_JOB_MALFORMED): the job stays failed', async () => {
    const agentType = [...h.catalog.keys()][0]!;
    const name = agentQueueName(agentType);
    const connection = h.connection();
    const queue = new Queue(name, { connection, prefix: h.config.QUEUE_PREFIX });
    const worker = new Worker(
      name,
      async () => {
        throw new Error('boom');
      },
      { connection, prefix: h.config.QUEUE_PREFIX },
    );
    try {
      const failed = new Promise<void>((resolve) => worker.on('failed', () => resolve()));
      const job = await queue.add('board-test', { note: 'fails once' }, { attempts: 1 });
      await failed;
      await worker.close();
      expect(await job.getState()).to.equal('failed');

      const res = await send('PUT', `/api/queues/${encodeURIComponent(name)}/${job.id}/retry`);
      expect(res.status).to.equal(409);
      expect(await errorCode(res)).to.equal('DLQ_JOB_MALFORMED');
      expect(await queue.getJobState(job.id!)).to.equal('failed');
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});

describe('Bull Board with webhooks configured (integration)', () => {
  let h: Harness;
  let operator: { key: string; id: string };
  before(async () => {
    h = await startHarness({ workers: 0, env: { WEBHOOK_URLS: 'http://127.0.0.1:9/hook', WEBHOOK_SECRET: 'webhook-secret-0123456789' } });
    operator = await h.createKey('board-operator', ['operator']);
  });
  after(async () => {
    await h?.close();
  });

  it('also shows the webhook deliveries queue, writable', async () => {
    const res = await fetch(`${h.baseUrl}${BOARD}/api/queues`, { headers: bearer(operator.key) });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean; description?: string }[] };
    const webhooks = body.queues.find((q) => q.name === 'webhooks');
    expect(webhooks, body.queues.map((q) => q.name).join(', ')).to.not.equal(undefined);
    expect(webhooks!.readOnlyMode).to.equal(false);
    expect(webhooks!.description).to.equal('Webhook deliveries (retry re-sends one)');
  });

  const put = (path: string, key = operator.key) =>
    fetch(`${h.baseUrl}${BOARD}/api/queues/webhooks/${path}`, { method: 'PUT', headers: bearer(key) });
  const boardActions = async (identityId: string): Promise<Loose[]> =>
    (await request(h.baseUrl, 'GET', `/api/v1/audit?action=bullboard.action&identity=${encodeURIComponent(identityId)}`)).body.items;

  it('refuses the retry of a delivered (completed) webhook with 403 BOARD_ACTION_REFUSED: not sent again, nothing audited', async () => {
    const sender = await h.createKey('board-resender', ['operator']);
    const { queue, job } = await finishedJob(h, 'webhooks', 'completed');
    try {
      const res = await put(`${job.id}/retry`, sender.key);
      expect(res.status).to.equal(403);
      const body = (await res.json()) as Loose;
      expect(body.error.code).to.equal('BOARD_ACTION_REFUSED');
      expect(body.error.message).to.match(/completed/);
      expect(await queue.getJobState(job.id!)).to.equal('completed');
      expect(await boardActions(sender.id)).to.deep.equal([]);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('retries a failed webhook delivery: 204, the job waits to be sent again, audited bullboard.action under the operator', async () => {
    const sender = await h.createKey('board-redeliverer', ['operator']);
    const { queue, job } = await finishedJob(h, 'webhooks', 'failed');
    try {
      const res = await put(`${job.id}/retry`, sender.key);
      expect(res.status).to.equal(204);
      expect(await queue.getJobState(job.id!)).to.equal('waiting');
      let actions: Loose[] = [];
      await pollUntil('the retry audited', async () => (actions = await boardActions(sender.id)).length > 0, 5_000, 50);
      expect(actions).to.have.length(1);
      expect(actions[0]).to.deep.include({ targetType: 'queue', targetId: 'webhooks' });
      expect(actions[0].data).to.deep.equal({ action: 'retry_job', queue: 'webhooks', jobId: job.id });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('pause / resume of the webhook queue stay BullMQ pass-through (no agent pause record), audited bullboard.action', async () => {
    const pauser = await h.createKey('board-webhook-pauser', ['operator']);
    const queue = new Queue('webhooks', { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      const paused = await put('pause', pauser.key);
      expect(paused.status).to.equal(200);
      await paused.text();
      expect(await queue.isPaused()).to.equal(true);
      const agents = (await request(h.baseUrl, 'GET', '/api/v1/agents')).body.items as Loose[];
      expect(agents.filter((a) => a.paused)).to.deep.equal([]);
      const resumed = await put('resume', pauser.key);
      expect(resumed.status).to.equal(200);
      await resumed.text();
      expect(await queue.isPaused()).to.equal(false);
    } finally {
      await queue.close();
    }
    let actions: Loose[] = [];
    await pollUntil('the board actions audited', async () => (actions = await boardActions(pauser.id)).length >= 2, 5_000, 50);
    expect(actions.map((a) => a.data.action).sort()).to.deep.equal(['pause', 'resume']);
    for (const a of actions) expect(a).to.deep.include({ targetType: 'queue', targetId: 'webhooks' });
  });
});

describe('Bull Board retry of failed stage jobs is a DLQ replay (integration)', () => {
  let h: Harness;
  let operator: { key: string; id: string };
  before(async () => {
    h = await startHarness();
    operator = await h.createKey('board-replayer', ['operator']);
  });
  after(async () => {
    await h?.close();
  });

  /** A one-stage pipeline whose `fail` stage fails its first attempt, and has only one. */
  const failedOnce = async (name: string): Promise<Loose> => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name,
      stages: [{ key: 'flaky', agent: 'fail', input: { message: 'flaky for now', failAttempts: 1 }, retry: { attempts: 1 } }],
    });
    expect(created.status).to.equal(202);
    const failed = await waitForPipeline(h.baseUrl, created.body.id);
    expect(failed.status).to.equal('failed');
    return failed;
  };
  const put = (path: string) =>
    fetch(`${h.baseUrl}${BOARD}/api/queues/${encodeURIComponent(agentQueueName('fail'))}/${path}`, {
      method: 'PUT',
      headers: bearer(operator.key),
    });

  it('retry of one job: 204, the stage reopens and the pipeline succeeds; the audit names the operator, via bull-board', async () => {
    const failed = await failedOnce('board-retry-one');
    const jobId = failed.stages[0].id as string;
    const res = await put(`${jobId}/retry`);
    expect(res.status).to.equal(204);
    const done = await waitForPipeline(h.baseUrl, failed.id);
    expect(done.status).to.equal('succeeded');
    // The pipeline's audit names the operator's identity (no more a 'bull-board' actor)…
    const audit = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${failed.id}/audit`);
    const replayed = audit.body.items.filter((e: Loose) => e.type === 'dlq.replayed');
    expect(replayed, JSON.stringify(audit.body.items)).to.have.length(1);
    expect(replayed[0]).to.deep.include({ actor: operator.id, stageKey: 'flaky' });
    expect(replayed[0].data).to.include({ via: 'bull-board', mode: 'reopened' });
    // …and the audit trail records the channel: via bull-board, under the operator's key.
    const trail = await request(h.baseUrl, 'GET', `/api/v1/audit?action=dlq.replayed&pipelineId=${failed.id}`);
    expect(trail.status).to.equal(200);
    expect(trail.body.items).to.have.length(1);
    const event = trail.body.items[0] as Loose;
    expect(event).to.deep.include({ targetType: 'dlq_job', targetId: jobId, pipelineId: failed.id });
    expect(event.identity).to.deep.include({ id: operator.id, via: 'api_key', roles: ['operator'] });
    expect(event.data).to.deep.include({ via: 'bull-board', agent: 'fail', stageKey: 'flaky' });
  });

  it('a retry the DLQ refuses (the stage had continueOnFailure, its pipeline went on) answers 409 with the reason; the job stays failed', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'board-retry-refused',
      stages: [
        { key: 'optional', agent: 'fail', input: { message: 'never mind' }, retry: { attempts: 1 }, continueOnFailure: true },
        { key: 'after', agent: 'noop', dependsOn: ['optional'], input: {} },
      ],
    });
    const done = await waitForPipeline(h.baseUrl, created.body.id);
    expect(done.status).to.equal('succeeded');
    const jobId = done.stages[0].id as string;
    const res = await put(`${jobId}/retry`);
    expect(res.status).to.equal(409);
    expect(((await res.json()) as Loose).error.code).to.equal('CONTINUED_ON_FAILURE');
    const queue = new Queue(agentQueueName('fail'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      expect(await queue.getJobState(jobId)).to.equal('failed');
    } finally {
      await queue.close();
    }
  });

  it('retry all failed of an agent queue: every failed stage job replayed, their pipelines succeed', async () => {
    const pipelines = await Promise.all([failedOnce('board-retry-all-1'), failedOnce('board-retry-all-2')]);
    const res = await put('retry/failed');
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { retried: number; skipped: number };
    expect(body.retried).to.be.at.least(2);
    for (const p of pipelines) {
      expect((await waitForPipeline(h.baseUrl, p.id)).status).to.equal('succeeded');
      const trail = await request(h.baseUrl, 'GET', `/api/v1/audit?action=dlq.replayed&pipelineId=${p.id}`);
      expect(trail.body.items).to.have.length(1);
      expect(trail.body.items[0].identity.id).to.equal(operator.id);
      expect(trail.body.items[0].data.via).to.equal('bull-board');
    }
  });
});
