// SSE streams and the audit trail against the real API, Redis and Postgres. The test database
// is shared by every test of the run, so each test looks only at its own pipelines' events.
import { randomUUID } from 'node:crypto';
import { get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { createEventFeed, type EventFeed } from '../../src/infra/events/event-feed.js';
import { createEventReader } from '../../src/infra/events/event.repository.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { captureLogger } from '../support/capture-logger.js';
import { errorHandler } from '../../src/http/middleware/errors.js';
import { authenticate } from '../../src/http/middleware/authenticate.js';
import { requestId } from '../../src/http/middleware/request-id.js';
import { eventsRouter } from '../../src/http/routes/events.routes.js';
import { createCredentialVerifier } from '../../src/composition/credential-verifier.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, type Loose } from '../support/http.js';
import { SseClient } from '../support/sse-client.js';

async function eventIdsOf(harness: Harness, pipelineId: string): Promise<string[]> {
  const { rows } = await harness.db.pool.query<{ id: string }>(
    'SELECT id::text AS id FROM pipeline_events WHERE pipeline_id = $1 ORDER BY pipeline_events.id',
    [pipelineId],
  );
  return rows.map((r) => r.id);
}

const LINEAR = {
  name: 'sse-linear',
  stages: [
    { key: 'build', agent: 'noop' },
    { key: 'test', agent: 'noop', dependsOn: ['build'] },
    { key: 'deploy', agent: 'noop', dependsOn: ['test'] },
  ],
};

describe('event streams and audit (integration)', () => {
  // No workers: pipelines stay as submitted and each test writes the events it streams.
  let h: Harness;
  const clients: SseClient[] = [];
  const open = async (path: string, headers: Record<string, string> = {}) => {
    const client = await SseClient.open(`${h.baseUrl}${path}`, headers);
    clients.push(client);
    return client;
  };
  const dbEventIds = (pipelineId: string) => eventIdsOf(h, pipelineId);
  // Readers parse each row with its payload schema (src/domain/event-payloads.ts): a fixture is
  // a well-formed payload of its type, with the fields a test cares about on top.
  const WELL_FORMED: Record<string, Loose> = {
    'stage.started': { attempt: 1, workerId: 'w' },
    'stage.finished': { status: 'succeeded' },
    'gate.evaluated': { metric: 'm', operator: 'gte', severity: 'blocking', verdict: 'pass', attempt: 1 },
    'decision.requested': {
      decisionId: 'DEC-X',
      category: 'c',
      confidence: 50,
      approvers: [],
      deadlineAt: '2026-01-01T00:00:00Z',
      after: { status: 'pending' },
    },
    'decision.resolved': { decisionId: 'DEC-X', status: 'approved', after: { status: 'approved' } },
    'clarification.requested': { clarificationId: 'c', questions: [], after: { status: 'open' } },
    'pipeline.finished': { status: 'succeeded' },
  };
  const insertEvent = async (pipelineId: string, type: string, data: Loose = {}, stageKey: string | null = null, actor = 'system') =>
    (
      await h.db.pool.query<{ id: string }>(
        'INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data) VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id::text AS id',
        [pipelineId, type, stageKey, actor, JSON.stringify({ ...WELL_FORMED[type], ...data })],
      )
    ).rows[0]!.id;
  /** A submitted pipeline (nothing runs it) with a few stage events of its own. */
  const pipelineWithHistory = async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', LINEAR);
    expect(created.status).to.equal(202);
    const id = created.body.id as string;
    for (const key of ['build', 'test']) {
      await insertEvent(id, 'stage.started', { attempt: 1 }, key);
      await insertEvent(id, 'stage.finished', { status: 'succeeded', attempt: 1 }, key);
    }
    return id;
  };

  before(async () => {
    h = await startHarness({ workers: 0, env: { EVENTS_POLL_MS: '50' } });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await h.close();
  });

  describe('GET /api/v1/pipelines/:id/events', () => {
    it('headers and first frame: text/event-stream, no-cache, X-Accel-Buffering: no, then retry: 2000', async () => {
      const id = await pipelineWithHistory();
      const client = await open(`/api/v1/pipelines/${id}/events`);
      expect(client.headers.get('content-type')).to.match(/^text\/event-stream/);
      expect(client.headers.get('cache-control')).to.equal('no-cache');
      expect(client.headers.get('x-accel-buffering')).to.equal('no');
      await client.waitFor((events) => events.length > 0, 'the backlog');
      expect(client.frames[0]).to.deep.equal({ retry: '2000' });
    });

    it("without Last-Event-ID: the pipeline's whole history from its first event", async () => {
      const id = await pipelineWithHistory();
      const expected = await dbEventIds(id);
      const client = await open(`/api/v1/pipelines/${id}/events`);
      await client.waitFor((events) => events.length >= expected.length, 'the whole history');
      expect(client.events.map((e) => e.id)).to.deep.equal(expected);
    });

    it('Last-Event-ID: exactly the events after that id, then new ones live, none twice', async () => {
      const id = await pipelineWithHistory();
      const history = await dbEventIds(id);
      expect(history.length).to.be.greaterThan(3);
      const resumeAfter = history[1]!;
      const client = await open(`/api/v1/pipelines/${id}/events`, { 'Last-Event-ID': resumeAfter });
      await client.waitFor((events) => events.length >= history.length - 2, 'the backlog after Last-Event-ID');
      const late = await insertEvent(id, 'decision.requested', { decisionId: 'DEC-TEST-1' }, 'deploy', 'policy');
      await client.waitFor((events) => events.some((e) => e.id === late), 'the live event');
      expect(client.events.map((e) => e.id)).to.deep.equal([...history.slice(2), late]);
    });

    it('?lastEventId= (for clients without EventSource): same resume as the header', async () => {
      const id = await pipelineWithHistory();
      const history = await dbEventIds(id);
      const client = await open(`/api/v1/pipelines/${id}/events?lastEventId=${history[history.length - 2]}`);
      await client.waitFor((events) => events.length >= 1, 'the last event');
      expect(client.events.map((e) => e.id)).to.deep.equal(history.slice(-1));
    });

    it('an insert that commits after a later one: the client still gets both, in id order', async () => {
      const id = await pipelineWithHistory();
      const history = await dbEventIds(id);
      const client = await open(`/api/v1/pipelines/${id}/events`);
      await client.waitFor((events) => events.length >= history.length, 'the backlog');

      const slow = await h.db.pool.connect();
      try {
        await slow.query('BEGIN');
        const first = (
          await slow.query<{ id: string }>(
            "INSERT INTO pipeline_events (pipeline_id, type, data) VALUES ($1, 'decision.requested', $2::jsonb) RETURNING id::text AS id",
            [id, JSON.stringify(WELL_FORMED['decision.requested'])],
          )
        ).rows[0]!.id;
        const second = await insertEvent(id, 'decision.resolved', { status: 'approved' });
        expect(BigInt(second) > BigInt(first)).to.equal(true);
        // Several polls see `second` while `first` is still uncommitted (the gap timeout is 2 s).
        await new Promise((r) => setTimeout(r, 300));
        await slow.query('COMMIT');
        await client.waitFor((events) => events.some((e) => e.id === second), 'both events');
        expect(client.events.map((e) => e.id)).to.deep.equal([...history, first, second]);
      } finally {
        slow.release();
      }
    });

    it('unknown pipeline: 404 PIPELINE_NOT_FOUND; id not a UUID: 400 naming id', async () => {
      const missing = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${randomUUID()}/events`);
      expect(missing.status).to.equal(404);
      expect(missing.body.error.code).to.equal('PIPELINE_NOT_FOUND');
      const bad = await request(h.baseUrl, 'GET', '/api/v1/pipelines/not-a-uuid/events');
      expect(bad.status).to.equal(400);
      expect(bad.body.error.details.map((d: Loose) => d.field)).to.deep.equal(['id']);
    });

    it('Last-Event-ID that is not digits: 400 naming Last-Event-ID', async () => {
      const id = await pipelineWithHistory();
      const res = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}/events`, undefined, { 'Last-Event-ID': '12abc' });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: Loose) => d.field)).to.deep.equal(['Last-Event-ID']);
      expect(res.body.error.requestId).to.be.a('string');
    });

    it('Last-Event-ID of digits past the largest event id: 400 whose message gives the bound, not "digits only"', async () => {
      const id = await pipelineWithHistory();
      const res = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}/events`, undefined, { 'Last-Event-ID': '9999999999999999999' });
      expect(res.status).to.equal(400);
      expect(res.body.error.details[0].field).to.equal('Last-Event-ID');
      expect(res.body.error.details[0].message).to.include('at most 9223372036854775807');
    });
  });

  describe('GET /api/v1/events', () => {
    it('without Last-Event-ID: starts now (no older events), then every new event', async () => {
      const id = await pipelineWithHistory();
      const client = await open('/api/v1/events');
      const fresh = await insertEvent(id, 'clarification.requested', { questions: [] });
      await client.waitFor((events) => events.some((e) => e.id === fresh), 'the new event');
      expect(client.eventsOf(id).map((e) => e.id)).to.deep.equal([fresh]);
    });

    it('without Last-Event-ID, opened right after a burst of 600 events (more than a backlog page, none settled yet): the burst is not sent, the next event is', async () => {
      const id = await pipelineWithHistory();
      // Newer than the feed's gap timeout (2 s), so the stream's start lists them as "already
      // there": a full backlog page of them once held the stream in its backlog for good.
      await h.db.pool.query(
        `INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
           SELECT $1, 'stage.started', 'burst', 'system', $2::jsonb FROM generate_series(1, 600)`,
        [id, JSON.stringify(WELL_FORMED['stage.started'])],
      );
      const client = await open('/api/v1/events');
      const fresh = await insertEvent(id, 'pipeline.finished');
      await client.waitFor((events) => events.some((e) => e.id === fresh), 'the event after the burst');
      expect(client.eventsOf(id).map((e) => e.id)).to.deep.equal([fresh]);
    });

    it('without Last-Event-ID, opened while an earlier id is uncommitted: that event is sent when it commits, the older ones are not', async () => {
      const id = await pipelineWithHistory();
      const slow = await h.db.pool.connect();
      try {
        await slow.query('BEGIN');
        const late = (
          await slow.query<{ id: string }>(
            "INSERT INTO pipeline_events (pipeline_id, type, data) VALUES ($1, 'decision.requested', $2::jsonb) RETURNING id::text AS id",
            [id, JSON.stringify(WELL_FORMED['decision.requested'])],
          )
        ).rows[0]!.id;
        const committedBefore = await insertEvent(id, 'clarification.requested', { questions: [] });
        expect(BigInt(committedBefore) > BigInt(late)).to.equal(true);
        // The stream starts while `late` is still open: it is written after the request arrived.
        const client = await open('/api/v1/events');
        await slow.query('COMMIT');
        const fresh = await insertEvent(id, 'pipeline.finished');
        await client.waitFor((events) => events.some((e) => e.id === fresh), 'the new event');
        expect(client.eventsOf(id).map((e) => e.id)).to.deep.equal([late, fresh]);
      } finally {
        slow.release();
      }
    });

    it('?types=: only those types are sent', async () => {
      const client = await open('/api/v1/events?types=pipeline.finished,decision.resolved');
      const id = await pipelineWithHistory();
      await insertEvent(id, 'decision.requested');
      const resolved = await insertEvent(id, 'decision.resolved', { status: 'approved' });
      await insertEvent(id, 'stage.started', {}, 'deploy');
      const last = await insertEvent(id, 'pipeline.finished', { status: 'succeeded' });
      await client.waitFor((events) => events.some((e) => e.id === last), 'the last event');
      expect(client.events.every((e) => e.type === 'pipeline.finished' || e.type === 'decision.resolved')).to.equal(true);
      expect(client.eventsOf(id).map((e) => e.id)).to.deep.equal([resolved, last]);
    });

    it('a stream that sent no event yet still leaves a resume point (an id line, no data): a reconnect with it gets what committed in between', async () => {
      // Nothing this stream matches happens while it is open: before, the client held no
      // Last-Event-ID, so its reconnect started "now" and silently skipped the events below.
      const client = await open('/api/v1/events?types=stage.paused');
      const id = randomUUID();
      await insertEvent(id, 'stage.started', {}, 'build');
      const idFrames = () => client.frames.filter((f) => f.id !== undefined && f.event === undefined && f.data === undefined);
      const deadline = Date.now() + 20_000;
      while (idFrames().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(idFrames(), 'an id line').to.not.deep.equal([]);
      expect(client.events, 'no event is dispatched').to.deep.equal([]);
      const resumeAt = idFrames().at(-1)!.id!;
      client.close();

      // Committed while the client is away (a dropped connection, a failed backlog read).
      const missed = await insertEvent(id, 'stage.paused', {}, 'build');
      const again = await open('/api/v1/events?types=stage.paused', { 'last-event-id': resumeAt });
      await again.waitFor((events) => events.some((e) => e.id === missed), 'the event committed in between');
      expect(again.eventsOf(id).map((e) => e.id)).to.deep.equal([missed]);
    });

    it('a resume point never skips an earlier id that commits later, nor repeats one sent before the stream opened', async () => {
      const id = randomUUID();
      const slow = await h.db.pool.connect();
      try {
        await slow.query('BEGIN');
        const late = (
          await slow.query<{ id: string }>(
            "INSERT INTO pipeline_events (pipeline_id, type, stage_key, data) VALUES ($1, 'stage.paused', 'build', '{}'::jsonb) RETURNING id::text AS id",
            [id],
          )
        ).rows[0]!.id;
        const committedBefore = await insertEvent(id, 'stage.paused', {}, 'test');
        const client = await open('/api/v1/events?types=stage.paused');
        // Every id line the stream sends while `late` is open is below it: a reconnect from one
        // of them still gets `late`.
        await insertEvent(randomUUID(), 'stage.started', {}, 'build');
        await new Promise((r) => setTimeout(r, 300));
        for (const f of client.frames.filter((f) => f.id !== undefined && f.event === undefined)) {
          expect(BigInt(f.id!) < BigInt(late), `id line ${f.id} while ${late} is uncommitted`).to.equal(true);
        }
        await slow.query('COMMIT');
        await client.waitFor((events) => events.some((e) => e.id === late), 'the late event');
        // The late event's own id is not a resume point (a reconnect from it would get
        // `committedBefore`): an id line follows it once the stream has passed the start's top.
        const idLineAfterLate = () => client.frames.slice(client.frames.findIndex((f) => f.id === late)).find((f) => f.id && !f.event);
        const deadline = Date.now() + 20_000;
        while (!idLineAfterLate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const resumeAt = idLineAfterLate()!.id!;
        client.close();
        // Resumed from it: neither the event committed before the first stream opened nor `late` again.
        const fresh = await insertEvent(id, 'stage.paused', {}, 'deploy');
        const again = await open('/api/v1/events?types=stage.paused', { 'last-event-id': resumeAt });
        await again.waitFor((events) => events.some((e) => e.id === fresh), 'the fresh event');
        expect(again.eventsOf(id).map((e) => e.id)).to.deep.equal([fresh]);
        expect(client.eventsOf(id).map((e) => e.id)).to.deep.equal([late]);
        expect(committedBefore).to.not.equal(late);
      } finally {
        slow.release();
      }
    });

    it('?types= with an unknown type: 400 naming types', async () => {
      const res = await request(h.baseUrl, 'GET', '/api/v1/events?types=stage.finished,stage.exploded');
      expect(res.status).to.equal(400);
      expect(res.body.error.details.map((d: Loose) => d.field)).to.deep.equal(['types']);
      expect(res.body.error.details[0].message).to.include('stage.exploded');
    });
  });

  describe('GET /api/v1/pipelines/:id/audit', () => {
    it('audit events only, paginated with cursor and limit, before/after taken from data', async () => {
      const id = await pipelineWithHistory();
      const gate = await insertEvent(
        id,
        'gate.evaluated',
        { metric: 'coverage', verdict: 'fail', before: { status: 'running' }, after: { status: 'failed' } },
        'test',
        'policy',
      );
      await insertEvent(id, 'stage.started', { attempt: 2 }, 'test');
      await insertEvent(id, 'decision.requested', { decisionId: 'DEC-TEST-2' }, 'deploy', 'policy');
      await insertEvent(id, 'decision.resolved', { status: 'approved', after: { status: 'approved' } }, 'deploy', 'alice@example.com');
      const auditIds = (
        await h.db.pool.query<{ id: string }>(
          "SELECT id::text AS id FROM pipeline_events WHERE pipeline_id = $1 AND type IN ('gate.evaluated', 'decision.requested', 'decision.voted', 'decision.escalated', 'decision.resolved', 'clarification.requested', 'clarification.resolved') ORDER BY pipeline_events.id",
          [id],
        )
      ).rows.map((r) => r.id);

      const items: Loose[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { status: number; body: Loose } = await request(
          h.baseUrl,
          'GET',
          `/api/v1/pipelines/${id}/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).to.equal(200);
        expect(res.body.items.length).to.be.at.most(2);
        items.push(...res.body.items);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 50);
      expect(items.map((i) => i.id)).to.deep.equal(auditIds);
      expect(items.some((i) => i.type === 'stage.started')).to.equal(false);

      const gateItem = items.find((i) => i.id === gate)!;
      expect(gateItem).to.include({ type: 'gate.evaluated', stageKey: 'test', actor: 'policy' });
      expect(gateItem.before).to.deep.equal({ status: 'running' });
      expect(gateItem.after).to.deep.equal({ status: 'failed' });
      expect(gateItem.data.metric).to.equal('coverage');
      expect(Number.isNaN(new Date(gateItem.at).getTime())).to.equal(false);
      const resolved = items[items.length - 1]!;
      expect(resolved).to.include({ type: 'decision.resolved', actor: 'alice@example.com', before: null });
      expect(resolved.after).to.deep.equal({ status: 'approved' });
    });

    it('unknown pipeline: 404; limit 0 or 501, or a cursor that is not an id: 400 naming the field', async () => {
      const missing = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${randomUUID()}/audit`);
      expect(missing.status).to.equal(404);
      expect(missing.body.error.code).to.equal('PIPELINE_NOT_FOUND');
      const id = await pipelineWithHistory();
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['cursor=abc', 'cursor'],
      ]) {
        const res = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}/audit?${query}`);
        expect(res.status, query).to.equal(400);
        expect(
          res.body.error.details.map((d: Loose) => d.field),
          query,
        ).to.deep.equal([field]);
      }
    });
  });

  describe('shutdown', () => {
    it('the harness closes while a stream is open: the stream ends and close() returns', async () => {
      const other = await startHarness({ workers: 0 });
      const client = await SseClient.open(`${other.baseUrl}/api/v1/events`);
      expect(client.status).to.equal(200);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('timed out'), 10_000);
      });
      try {
        const outcome = await Promise.race([other.close().then(() => 'closed'), timeout]);
        expect(outcome).to.equal('closed');
        expect(await Promise.race([client.ended.then(() => 'ended'), timeout])).to.equal('ended');
      } finally {
        clearTimeout(timer);
        client.close();
      }
    });
  });
});

describe('event stream of a running pipeline (integration)', () => {
  let run: Harness;
  const clients: SseClient[] = [];
  const open = async (baseUrl: string, path: string) => {
    const client = await SseClient.open(`${baseUrl}${path}`);
    clients.push(client);
    return client;
  };
  before(async () => {
    run = await startHarness({ env: { EVENTS_POLL_MS: '50' } });
  });
  after(async () => {
    for (const c of clients.splice(0)) c.close();
    await run.close();
  });

  it('a pipeline run while a client listens: stage.started before stage.finished for each stage, pipeline.finished last, every event once in id order', async () => {
    const all = await open(run.baseUrl, '/api/v1/events');
    expect(all.status).to.equal(200);
    const created = await request(run.baseUrl, 'POST', '/api/v1/pipelines', LINEAR);
    const id = created.body.id as string;
    const one = await open(run.baseUrl, `/api/v1/pipelines/${id}/events`);

    await one.waitFor((events) => events.some((e) => e.type === 'pipeline.finished'), 'pipeline.finished');
    await all.waitFor(
      (events) => events.some((e) => e.pipelineId === id && e.type === 'pipeline.finished'),
      'pipeline.finished on /events',
    );
    const events = one.eventsOf(id);
    const ids = events.map((e) => BigInt(e.id));
    expect(ids).to.deep.equal([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(events.map((e) => e.id)).to.deep.equal(await eventIdsOf(run, id));
    for (const key of ['build', 'test', 'deploy']) {
      const started = events.findIndex((e) => e.type === 'stage.started' && e.stageKey === key);
      const finished = events.findIndex((e) => e.type === 'stage.finished' && e.stageKey === key);
      expect(started, `stage.started of ${key}`).to.be.greaterThan(-1);
      expect(finished, `stage.finished of ${key}`).to.be.greaterThan(started);
    }
    expect(events[events.length - 1]!.type).to.equal('pipeline.finished');
    expect(events[events.length - 1]!.data.status).to.equal('succeeded');
    // The live stream of every pipeline saw the same events of this one.
    expect(all.eventsOf(id).map((e) => e.id)).to.deep.equal(events.map((e) => e.id));
    // Each frame's id and event name match its data.
    const frames = one.frames.filter((f) => f.event);
    expect(frames.map((f) => [f.id, f.event])).to.deep.equal(events.map((e) => [e.id, e.type]));
  });

  it('a gated stage and a decision: gate verdicts, decision requested and resolved arrive in order; a resumed client gets the rest', async () => {
    const created = await request(run.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'sse-human',
      stages: [
        { key: 'check', agent: 'sim_validation' },
        { key: 'ship', agent: 'sim_deployment', dependsOn: ['check'] },
      ],
    });
    const id = created.body.id as string;
    const first = await open(run.baseUrl, `/api/v1/pipelines/${id}/events`);
    await first.waitFor((events) => events.some((e) => e.type === 'decision.requested'), 'decision.requested');
    const lastSeen = first.eventsOf(id).at(-1)!.id;
    first.close();

    const decisionId = first.eventsOf(id).find((e) => e.type === 'decision.requested')!.data.decisionId as string;
    // deployment → cost_impacting: an engineering_manager approves (the actor is the key's identity).
    const manager = await run.createKey('alice', ['approver', 'engineering_manager']);
    const approved = await request(run.baseUrl, 'POST', `/api/v1/decisions/${decisionId}/approve`, {}, bearer(manager.key));
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    const resumed = await SseClient.open(`${run.baseUrl}/api/v1/pipelines/${id}/events`, { 'Last-Event-ID': lastSeen });
    clients.push(resumed);
    await resumed.waitFor((events) => events.some((e) => e.type === 'pipeline.finished'), 'pipeline.finished');

    const types = [...first.eventsOf(id), ...resumed.eventsOf(id)].map((e) => `${e.type}${e.stageKey ? `:${e.stageKey}` : ''}`);
    expect(types).to.deep.equal([
      'stage.started:check',
      'gate.evaluated:check',
      'gate.evaluated:check',
      'gate.evaluated:check',
      'gate.evaluated:check',
      'stage.finished:check',
      'decision.requested:ship',
      'decision.resolved:ship',
      'stage.started:ship',
      'gate.evaluated:ship',
      'stage.finished:ship',
      'pipeline.finished',
    ]);
    expect(resumed.eventsOf(id).every((e) => BigInt(e.id) > BigInt(lastSeen))).to.equal(true);
    expect([...first.eventsOf(id), ...resumed.eventsOf(id)].map((e) => e.id)).to.deep.equal(await eventIdsOf(run, id));
  });
});

describe('event stream housekeeping (integration)', () => {
  // The router on its own app, to shorten the keep-alive and count the feed's subscribers; the
  // app authenticates like the real one, and the streams are opened with a viewer's key.
  let h: Harness;
  let feed: EventFeed;
  let server: Server;
  let baseUrl: string;
  let viewer: Record<string, string>;
  let subscribed = 0;

  before(async () => {
    h = await startHarness({ workers: 0 });
    viewer = bearer((await h.createKey('sse-viewer', ['viewer'])).key);
    const logger = createLogger({ level: 'error', service: 'test', silent: true });
    const reader = createEventReader(h.db, logger);
    feed = createEventFeed({ reader, pollMs: 20, logger });
    await feed.start();
    const countingFeed: Pick<EventFeed, 'subscribe' | 'cursor' | 'ready'> = {
      subscribe(listener, options) {
        subscribed++;
        const off = feed.subscribe(listener, options);
        let done = false;
        return () => {
          if (!done) subscribed--;
          done = true;
          off();
        };
      },
      cursor: () => feed.cursor(),
      ready: () => feed.ready(),
    };
    const app = express();
    app.use(requestId());
    app.use(authenticate({ verify: createCredentialVerifier({ config: h.config, keys: h.api.keys }), publicPaths: [] }));
    app.use(
      '/api/v1',
      eventsRouter({
        feed: countingFeed,
        reader,
        pipelineExists: (id) => reader.pipelineExists(id),
        logger,
        keepAliveMs: 50,
        backlogDrainTimeoutMs: 3000,
      }),
    );
    app.use(errorHandler({ logger }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await feed.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.close();
  });

  it('an idle stream: a ": keep-alive" comment at the interval', async () => {
    const client = await SseClient.open(`${baseUrl}/api/v1/events`, viewer);
    try {
      const deadline = Date.now() + 5000;
      while (!client.frames.some((f) => f.comment === 'keep-alive') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(client.frames.some((f) => f.comment === 'keep-alive')).to.equal(true);
    } finally {
      client.close();
    }
  });

  it('a client that disconnects: its feed subscription is removed', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => SseClient.open(`${baseUrl}/api/v1/events`, viewer)));
    expect(clients.map((c) => c.status)).to.deep.equal([200, 200, 200]);
    expect(subscribed).to.equal(3);
    for (const c of clients) c.close();
    const deadline = Date.now() + 5000;
    while (subscribed > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(subscribed).to.equal(0);
  });

  /**
   * A submitted pipeline with `count` stage.finished events of about `padBytes` each, written a
   * minute ago: a stream reads them as its backlog, not from the feed as live events.
   */
  async function pipelineWithBigHistory(count: number, padBytes: number): Promise<string> {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { name: 'sse-big', stages: [{ key: 'a', agent: 'noop' }] });
    const id = created.body.id as string;
    await h.db.pool.query(
      `INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data, created_at)
       SELECT $1, 'stage.finished', 'a', 'system', jsonb_build_object('status', 'succeeded', 'pad', repeat('x', $3::int)),
              now() - interval '1 minute'
       FROM generate_series(1, $2::int)`,
      [id, count, padBytes],
    );
    return id;
  }

  it('a backlog larger than the slow-reader bound (1 MB), read at full speed: all of it in one stream', async () => {
    // 600 events of 8 KB: each page of the backlog (500 events, 4 MB) is more than the bound.
    const id = await pipelineWithBigHistory(600, 8000);
    const client = await SseClient.open(`${baseUrl}/api/v1/pipelines/${id}/events`, viewer);
    try {
      await Promise.race([client.waitFor((events) => events.length >= 600, 'the whole backlog', 30_000), client.ended]);
      expect(client.endedByServer, 'the server ended the stream').to.equal(false);
      expect(client.events).to.have.length(600);
    } finally {
      client.close();
    }
  });

  it('a client that stops reading during the backlog: its stream ends, and its subscription with it', async () => {
    const id = await pipelineWithBigHistory(20_000, 1000);
    const before = subscribed;
    let response: IncomingMessage | undefined;
    const req = get(`${baseUrl}/api/v1/pipelines/${id}/events`, { headers: viewer }, (res) => {
      response = res;
      // Reads nothing: the socket's buffers fill and the server's writes stop draining.
      res.pause();
    });
    req.on('error', () => undefined);
    try {
      const deadline = Date.now() + 20_000;
      while (subscribed === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(subscribed, 'the stream subscribed').to.equal(before + 1);
      while (subscribed > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(response?.statusCode).to.equal(200);
      expect(subscribed, 'the stalled stream was ended').to.equal(before);
    } finally {
      req.destroy();
    }
  });
});

describe('event rows that do not match their schema (integration)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await h.close();
  });

  it('are served as `unknown` with the stored type and the problems, and logged once per read as a warning', async () => {
    const lines: Loose[] = [];
    const reader = createEventReader(h.db, captureLogger(lines));
    const pipelineId = randomUUID();
    const { rows } = await h.db.pool.query<{ id: string }>(
      "INSERT INTO pipeline_events (pipeline_id, type, data) VALUES ($1, 'pipeline.finished', $2::jsonb) RETURNING id::text AS id",
      [pipelineId, JSON.stringify({ status: 42 })],
    );
    const eventId = rows[0]!.id;

    const event = (await reader.readById(eventId))!;
    expect(event).to.include({ id: eventId, type: 'unknown', pipelineId });
    expect(event.data).to.have.property('storedType', 'pipeline.finished');
    expect((event.data as { issues: string[] }).issues.join(' ')).to.match(/status/);
    const warnings = lines.filter((l) => l.message === 'stored event does not match its schema; served as unknown');
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include({ level: 'warn', eventId });
  });
});
