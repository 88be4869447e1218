// The audit events of API keys (key.created, key.revoked, key.rotated) and of agent-type pauses
// (agent.paused, agent.resumed) commit in the change's own transaction: after a call both the
// change and its event are there, and when the event cannot be written (a trigger on
// audit_events that raises, in a schema of this file's own) the call fails and the change is
// undone. The services run here on the real repositories; the Redis queue pause is an in-memory
// stand-in (it follows the commit, and is not part of the transaction).
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Actor } from '../../src/domain/identity.js';
import type { JsonObject } from '../../src/domain/json.js';
import { createAgentPauseRepository } from '../../src/infra/db/agent-pause.repository.js';
import { createApiKeyRepository } from '../../src/infra/db/api-key.repository.js';
import { createDatabase, type Database } from '../../src/infra/db/database.js';
import type { AgentQueuePause } from '../../src/services/agent-pause.ports.js';
import { createAgentPauseService, type AgentPauseService } from '../../src/services/agent-pause.service.js';
import { createApiKeyService, type ApiKeyService } from '../../src/services/api-key.service.js';
import { createTestSchema, dropSchema } from '../support/test-database.js';

const AGENT_TYPES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

const actor: Actor = {
  identity: { id: 'atomic-admin', name: 'atomic-admin', kind: 'user', via: 'api_key', roles: ['admin'] },
  requestId: 'req-atomic',
};

interface EventRow {
  action: string;
  identity_id: string;
  target_type: string;
  target_id: string | null;
  data: JsonObject;
}

describe('audit events commit with their change: API keys and agent pauses (integration)', function () {
  this.timeout(60_000);
  let schema: string | undefined;
  let db: Database;
  let keys: ApiKeyService;
  let pauses: AgentPauseService;
  /** The in-memory queue flags and the calls made to them. */
  const pausedQueues = new Set<string>();
  const queueCalls: string[] = [];
  const queues: AgentQueuePause = {
    pause: async (type) => void (queueCalls.push(`pause ${type}`), pausedQueues.add(type)),
    resume: async (type) => void (queueCalls.push(`resume ${type}`), pausedQueues.delete(type)),
    isPaused: async (type) => pausedQueues.has(type),
  };

  before(async function () {
    this.timeout(120_000);
    // A schema of its own: the failing trigger on audit_events must not reach other files' writes.
    const created = await createTestSchema();
    schema = created.schema;
    db = createDatabase(created.url, 2);
    keys = createApiKeyService({ repo: createApiKeyRepository(db) });
    pauses = createAgentPauseService({ store: createAgentPauseRepository(db), queues, types: AGENT_TYPES });
  });
  after(async () => {
    await keys?.close();
    await db?.close();
    if (schema) await dropSchema(schema);
  });
  beforeEach(() => {
    queueCalls.length = 0;
  });

  /** The audit events with this action and target, oldest first. */
  const events = async (action: string, targetId: string): Promise<EventRow[]> =>
    (
      await db.pool.query<EventRow>(
        'SELECT action, identity_id, target_type, target_id, data FROM audit_events WHERE action = $1 AND target_id = $2 ORDER BY id',
        [action, targetId],
      )
    ).rows;

  /** Runs `fn` while every insert into this schema's audit_events raises 'audit down'; the trigger is dropped afterwards. */
  async function withAuditDown<T>(fn: () => Promise<T>): Promise<T> {
    await db.pool.query(
      `CREATE FUNCTION "${schema}".audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit down'; END $$`,
    );
    await db.pool.query(
      `CREATE TRIGGER audit_down BEFORE INSERT ON "${schema}".audit_events FOR EACH ROW EXECUTE FUNCTION "${schema}".audit_down()`,
    );
    try {
      return await fn();
    } finally {
      await db.pool.query(`DROP TRIGGER IF EXISTS audit_down ON "${schema}".audit_events`);
      await db.pool.query(`DROP FUNCTION IF EXISTS "${schema}".audit_down()`);
    }
  }

  /** The error a call rejected with (fails when it resolved). */
  const rejection = async (call: Promise<unknown>): Promise<Error> => {
    const outcome = await call.then(
      () => null,
      (error: unknown) => error,
    );
    expect(outcome, 'the call should reject').to.be.instanceOf(Error);
    return outcome as Error;
  };

  const keyRow = async (id: string) =>
    (
      await db.pool.query<{ revoked_at: Date | null; revoked_by: string | null; expires_at: Date | null }>(
        'SELECT revoked_at, revoked_by, expires_at FROM api_keys WHERE id = $1',
        [id],
      )
    ).rows[0];

  describe('API keys', () => {
    it('create: the key and its key.created event are both there', async () => {
      // Arrange
      const name = unique('atomic-create');

      // Act
      const issued = await keys.create({ name, roles: ['viewer', 'tech_lead'], kind: 'service', expiresInMs: 3_600_000 }, actor);

      // Assert
      expect(await keyRow(issued.record.id), 'the key row').to.be.an('object');
      const found = await events('key.created', issued.record.id);
      expect(found).to.have.length(1);
      expect(found[0]).to.deep.equal({
        action: 'key.created',
        identity_id: actor.identity.id,
        target_type: 'api_key',
        target_id: issued.record.id,
        data: {
          name,
          keyId: issued.record.keyId,
          roles: ['viewer', 'tech_lead'],
          kind: 'service',
          expiresAt: issued.record.expiresAt!.toISOString(),
        },
      });
    });

    it('create while the audit insert fails: the call rejects and no key is made (the name stays free)', async () => {
      // Arrange
      const name = unique('atomic-create-down');

      // Act
      const error = await withAuditDown(() => rejection(keys.create({ name, roles: ['viewer'] }, actor)));
      const { rows } = await db.pool.query('SELECT 1 FROM api_keys WHERE name = $1', [name]);
      const { rows: eventRows } = await db.pool.query("SELECT 1 FROM audit_events WHERE action = 'key.created' AND data->>'name' = $1", [
        name,
      ]);
      const again = await keys.create({ name, roles: ['viewer'] }, actor);

      // Assert
      expect(error.message).to.include('audit down');
      expect(rows, 'api_keys rows with the name').to.have.length(0);
      expect(eventRows, 'key.created events with the name').to.have.length(0);
      expect(again.record.name, 'the name was never taken').to.equal(name);
    });

    it('revoke: the key is revoked and its key.revoked event is there; a second revoke (no change) records nothing', async () => {
      // Arrange
      const issued = await keys.create({ name: unique('atomic-revoke'), roles: ['viewer'] }, actor);

      // Act
      const revoked = await keys.revoke(issued.record.id, actor);
      const again = await rejection(keys.revoke(issued.record.id, actor));

      // Assert
      const row = await keyRow(issued.record.id);
      expect(row!.revoked_at).to.be.instanceOf(Date);
      expect(row!.revoked_by).to.equal(actor.identity.id);
      expect(revoked.revokedAt).to.be.instanceOf(Date);
      expect((again as Error & { code?: string }).code).to.equal('API_KEY_INACTIVE');
      const found = await events('key.revoked', issued.record.id);
      expect(found).to.deep.equal([
        {
          action: 'key.revoked',
          identity_id: actor.identity.id,
          target_type: 'api_key',
          target_id: issued.record.id,
          data: { name: issued.record.name, keyId: issued.record.keyId },
        },
      ]);
    });

    it('revoke while the audit insert fails: the call rejects and the key is not revoked (it still authenticates)', async () => {
      // Arrange
      const issued = await keys.create({ name: unique('atomic-revoke-down'), roles: ['viewer'] }, actor);

      // Act
      const error = await withAuditDown(() => rejection(keys.revoke(issued.record.id, actor)));
      const identity = await keys.authenticate(issued.key);

      // Assert
      expect(error.message).to.include('audit down');
      const row = await keyRow(issued.record.id);
      expect(row!.revoked_at).to.equal(null);
      expect(row!.revoked_by).to.equal(null);
      expect(identity.id).to.equal(issued.record.name);
      expect(await events('key.revoked', issued.record.id)).to.deep.equal([]);
    });

    it('rotate: the new key, the old one cut to the overlap, and their key.rotated event are all there', async () => {
      // Arrange
      const issued = await keys.create({ name: unique('atomic-rotate'), roles: ['viewer'] }, actor);

      // Act
      const rotated = await keys.rotate(issued.record.id, { overlapMs: 3_600_000 }, actor);

      // Assert
      const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM api_keys WHERE rotated_from = $1', [issued.record.id]);
      expect(rows.map((r) => r.id)).to.deep.equal([rotated.record.id]);
      expect((await keyRow(issued.record.id))!.expires_at).to.be.instanceOf(Date);
      const found = await events('key.rotated', issued.record.id);
      expect(found).to.deep.equal([
        {
          action: 'key.rotated',
          identity_id: actor.identity.id,
          target_type: 'api_key',
          target_id: issued.record.id,
          data: {
            name: issued.record.name,
            oldKeyId: issued.record.keyId,
            newId: rotated.record.id,
            newKeyId: rotated.record.keyId,
            oldExpiresAt: rotated.old.expiresAt!.toISOString(),
          },
        },
      ]);
    });

    it('rotate while the audit insert fails: the call rejects, no new key is made and the old one keeps its expiry', async () => {
      // Arrange
      const issued = await keys.create({ name: unique('atomic-rotate-down'), roles: ['viewer'] }, actor);

      // Act
      const error = await withAuditDown(() => rejection(keys.rotate(issued.record.id, { overlapMs: 1000 }, actor)));

      // Assert
      expect(error.message).to.include('audit down');
      const { rows } = await db.pool.query('SELECT 1 FROM api_keys WHERE rotated_from = $1', [issued.record.id]);
      expect(rows, 'keys rotated from it').to.have.length(0);
      expect((await keyRow(issued.record.id))!.expires_at, 'the old key never expires, as before').to.equal(null);
      expect(await events('key.rotated', issued.record.id)).to.deep.equal([]);
    });
  });

  describe('agent pauses', () => {
    const pauseRow = async (type: string) =>
      (
        await db.pool.query<{ paused_by: string; reason: string | null }>(
          'SELECT paused_by, reason FROM agent_pauses WHERE agent_type = $1',
          [type],
        )
      ).rows[0];

    it('pause: the record and its agent.paused event are both there, then the queue is paused; a second pause records nothing', async () => {
      // Arrange
      const type = 'alpha';

      // Act
      const state = await pauses.pause(type, { reason: 'maintenance' }, actor);
      await pauses.pause(type, { reason: 'again' }, actor);

      // Assert
      expect(state.paused).to.equal(true);
      expect(await pauseRow(type)).to.deep.equal({ paused_by: actor.identity.id, reason: 'maintenance' });
      expect(await events('agent.paused', type)).to.deep.equal([
        {
          action: 'agent.paused',
          identity_id: actor.identity.id,
          target_type: 'agent',
          target_id: type,
          data: { reason: 'maintenance', via: 'api' },
        },
      ]);
      expect(queueCalls).to.deep.equal([`pause ${type}`, `pause ${type}`]);
    });

    it('two first pauses at once: the one that waited answers with the first one’s record and records no event of its own', async () => {
      // Arrange: another request's pause, inserted and not yet committed.
      const type = 'epsilon';
      const other = await db.pool.connect();
      try {
        await other.query('BEGIN');
        await other.query("INSERT INTO agent_pauses (agent_type, paused_by, reason) VALUES ($1, 'other-operator', 'first')", [type]);

        // Act: this pause's INSERT waits for that row; then the other commits.
        const pausing = pauses.pause(type, { reason: 'second' }, actor);
        await new Promise((r) => setTimeout(r, 300));
        await other.query('COMMIT');
        const state = await pausing;

        // Assert
        expect(state.paused).to.equal(true);
        expect(state.pause).to.include({ agentType: type, pausedBy: 'other-operator', reason: 'first' });
        expect(await pauseRow(type)).to.deep.equal({ paused_by: 'other-operator', reason: 'first' });
        expect(await events('agent.paused', type)).to.deep.equal([]);
      } finally {
        await other.query('ROLLBACK').catch(() => undefined);
        other.release();
      }
    });

    it('pause while the audit insert fails: the call rejects, the agent is not paused in Postgres and its queue is left alone', async () => {
      // Arrange
      const type = 'beta';

      // Act
      const error = await withAuditDown(() => rejection(pauses.pause(type, { reason: 'maintenance' }, actor)));

      // Assert
      expect(error.message).to.include('audit down');
      expect(await pauseRow(type), 'the agent_pauses row').to.equal(undefined);
      expect(await events('agent.paused', type)).to.deep.equal([]);
      expect(queueCalls, 'queue calls').to.deep.equal([]);
      expect(pausedQueues.has(type)).to.equal(false);
    });

    it('resume: the record is gone and its agent.resumed event is there, then the queue is resumed', async () => {
      // Arrange
      const type = 'gamma';
      await pauses.pause(type, { reason: null }, actor);
      queueCalls.length = 0;

      // Act
      const state = await pauses.resume(type, actor);

      // Assert
      expect(state).to.deep.equal({ type, paused: false, pause: null });
      expect(await pauseRow(type)).to.equal(undefined);
      expect(await events('agent.resumed', type)).to.deep.equal([
        { action: 'agent.resumed', identity_id: actor.identity.id, target_type: 'agent', target_id: type, data: { via: 'api' } },
      ]);
      expect(queueCalls).to.deep.equal([`resume ${type}`]);
    });

    it('resume while the audit insert fails: the call rejects, the agent stays paused in Postgres and its queue stays paused', async () => {
      // Arrange
      const type = 'delta';
      await pauses.pause(type, { reason: 'hold' }, actor);
      queueCalls.length = 0;

      // Act
      const error = await withAuditDown(() => rejection(pauses.resume(type, actor)));

      // Assert
      expect(error.message).to.include('audit down');
      expect(await pauseRow(type)).to.deep.equal({ paused_by: actor.identity.id, reason: 'hold' });
      expect(await events('agent.resumed', type)).to.deep.equal([]);
      expect(queueCalls, 'queue calls').to.deep.equal([]);
      expect(pausedQueues.has(type)).to.equal(true);
    });
  });
});
