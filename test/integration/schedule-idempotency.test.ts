// Idempotency-Key on POST /api/v1/schedules, against the real API and Postgres: a repeat answers
// the first schedule (201, Idempotent-Replayed), another body is 409 IDEMPOTENCY_KEY_REUSED,
// concurrent creates with one key make one schedule, keys are per creating identity, a malformed
// key is a 400 naming the header, a deleted schedule's key stays spent (409 SCHEDULE_DELETED), and
// under SCHEDULE_MAX_PER_OWNER a repeat is still a replay.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, expectError, expectValidationError, request } from '../support/http.js';

const SCHEDULES = '/api/v1/schedules';

/** A schedule body whose name is this test's own (so its rows can be counted), far-future ticks. */
const scheduleBody = (name = `idem-${randomUUID()}`) => ({
  definition: { name, input: { a: 1, b: 2 }, stages: [{ key: 'only', agent: 'noop' }] },
  cron: '0 3 * * *',
  timezone: 'Europe/Paris',
});

describe('schedule creation with Idempotency-Key (integration)', function () {
  this.timeout(60_000);

  /** A harness in a schema of its own (a schedule here ticks in no other file's queues); `env` adds settings. */
  function withHarness(env: Record<string, string>): () => Harness {
    let h: Harness | undefined;
    before(async function () {
      this.timeout(120_000);
      h = await startHarness({ workers: 0, ownSchema: true, env });
    });
    after(async () => {
      await h?.close();
    });
    return () => h!;
  }

  const post = (h: Harness, body: unknown, headers: Record<string, string>) => request(h.baseUrl, 'POST', SCHEDULES, body, headers);

  /** Schedules named `name`, the key rows of `key` and the `schedule.created` events that carry it. */
  async function counts(h: Harness, name: string, key: string): Promise<{ schedules: number; keys: number; audits: number }> {
    const { rows } = await h.db.pool.query<{ schedules: number; keys: number; audits: number }>(
      `SELECT (SELECT count(*)::int FROM schedules WHERE name = $1) AS schedules,
              (SELECT count(*)::int FROM schedule_idempotency_keys WHERE idempotency_key = $2) AS keys,
              (SELECT count(*)::int FROM audit_events WHERE action = 'schedule.created' AND data->>'idempotencyKey' = $2) AS audits`,
      [name, key],
    );
    return rows[0]!;
  }

  describe('without a cap per owner', () => {
    const harness = withHarness({});

    it('same key and body (keys in another order): 201 with the first schedule, Idempotent-Replayed, nothing new recorded', async () => {
      const h = harness();
      const key = `key-${randomUUID()}`;
      const body = scheduleBody();
      const first = await post(h, body, { 'Idempotency-Key': key });
      const reordered = { timezone: body.timezone, cron: body.cron, definition: { ...body.definition, input: { b: 2, a: 1 } } };
      const second = await post(h, reordered, { 'Idempotency-Key': key });
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      expect(first.headers.get('idempotent-replayed')).to.equal(null);
      expect(second.status, JSON.stringify(second.body)).to.equal(201);
      expect(second.headers.get('idempotent-replayed')).to.equal('true');
      expect(second.headers.get('location')).to.equal(`${SCHEDULES}/${first.body.id}`);
      expect(second.body).to.deep.equal(first.body);
      expect(await counts(h, body.definition.name, key)).to.deep.equal({ schedules: 1, keys: 1, audits: 1 });
    });

    it('same key with another body: 409 IDEMPOTENCY_KEY_REUSED naming the header and the first schedule', async () => {
      const h = harness();
      const key = `key-${randomUUID()}`;
      const body = scheduleBody();
      const first = await post(h, body, { 'Idempotency-Key': key });
      const other = await post(h, { ...body, cron: '0 4 * * *' }, { 'Idempotency-Key': key });
      expectError(other, 409, 'IDEMPOTENCY_KEY_REUSED');
      expect(other.body.error.details[0]).to.include({ field: 'Idempotency-Key', message: `already used by schedule ${first.body.id}` });
      expect(await counts(h, body.definition.name, key)).to.deep.equal({ schedules: 1, keys: 1, audits: 1 });
    });

    it('ten concurrent creates with one key: one schedule, every answer 201 with its id', async () => {
      const h = harness();
      const key = `key-${randomUUID()}`;
      const body = scheduleBody();
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(h, body, { 'Idempotency-Key': key })));
      expect(answers.map((a) => a.status)).to.deep.equal(Array(10).fill(201));
      expect(new Set(answers.map((a) => a.body.id)).size).to.equal(1);
      expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).to.have.length(9);
      expect(await counts(h, body.definition.name, key)).to.deep.equal({ schedules: 1, keys: 1, audits: 1 });
    });

    it('keys are per creating identity: two submitters with one key get a schedule each, and neither conflicts', async () => {
      const h = harness();
      const alice = await h.createKey('idem-alice', ['submitter']);
      const bob = await h.createKey('idem-bob', ['submitter']);
      const key = `key-${randomUUID()}`;
      const body = scheduleBody();
      const hers = await post(h, body, { 'Idempotency-Key': key, ...bearer(alice.key) });
      const his = await post(h, body, { 'Idempotency-Key': key, ...bearer(bob.key) });
      const hisOther = await post(h, { ...body, cron: '0 5 * * *' }, { 'Idempotency-Key': `${key}-b`, ...bearer(bob.key) });
      expect([hers.status, his.status, hisOther.status]).to.deep.equal([201, 201, 201]);
      expect(his.body.id).to.not.equal(hers.body.id);
      expect(his.headers.get('idempotent-replayed')).to.equal(null);
      expect([hers.body.owner, his.body.owner]).to.deep.equal([alice.id, bob.id]);
      expect((await counts(h, body.definition.name, key)).schedules).to.equal(3);
    });

    for (const [what, key] of [
      ['a space', 'has space'],
      ['256 characters', 'k'.repeat(256)],
      ['a non-ASCII character', 'clé'],
    ] as const) {
      it(`a key with ${what}: 400 VALIDATION_FAILED naming Idempotency-Key, nothing created`, async () => {
        const h = harness();
        const body = scheduleBody();
        const res = await post(h, body, { 'Idempotency-Key': key });
        expectValidationError(res, 'Idempotency-Key');
        expect((await counts(h, body.definition.name, key)).schedules).to.equal(0);
      });
    }

    it("a deleted schedule's key stays spent: a retry gets 409 SCHEDULE_DELETED (another body IDEMPOTENCY_KEY_REUSED), a new key creates", async () => {
      const h = harness();
      const key = `key-${randomUUID()}`;
      const body = scheduleBody();
      const first = await post(h, body, { 'Idempotency-Key': key });
      expect((await request(h.baseUrl, 'DELETE', `${SCHEDULES}/${first.body.id}`)).status).to.equal(204);
      const retry = await post(h, body, { 'Idempotency-Key': key });
      expectError(retry, 409, 'SCHEDULE_DELETED');
      expect(retry.body.error.details[0].field).to.equal('Idempotency-Key');
      const other = await post(h, { ...body, cron: '0 4 * * *' }, { 'Idempotency-Key': key });
      expectError(other, 409, 'IDEMPOTENCY_KEY_REUSED');
      expect(await counts(h, body.definition.name, key)).to.deep.equal({ schedules: 0, keys: 1, audits: 1 });
      const fresh = await post(h, body, { 'Idempotency-Key': `${key}-2` });
      expect(fresh.status).to.equal(201);
      expect(fresh.body.id).to.not.equal(first.body.id);
    });

    it('without a key nothing changes: two equal creates are two schedules', async () => {
      const h = harness();
      const body = scheduleBody();
      const [a, b] = [await post(h, body, {}), await post(h, body, {})];
      expect([a.status, b.status]).to.deep.equal([201, 201]);
      expect(a.body.id).to.not.equal(b.body.id);
    });
  });

  describe('with SCHEDULE_MAX_PER_OWNER', () => {
    const harness = withHarness({ SCHEDULE_MAX_PER_OWNER: '1' });

    it('a repeat of the create that filled the cap is a replay, not SCHEDULE_LIMIT_REACHED; concurrent ones too', async () => {
      const h = harness();
      const carol = await h.createKey('idem-carol', ['submitter']);
      const key = `key-${randomUUID()}`;
      const body = scheduleBody();
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(h, body, { 'Idempotency-Key': key, ...bearer(carol.key) })));
      expect(
        answers.map((a) => a.status),
        JSON.stringify(answers.map((a) => a.body)),
      ).to.deep.equal(Array(10).fill(201));
      expect(new Set(answers.map((a) => a.body.id)).size).to.equal(1);
      const again = await post(h, body, { 'Idempotency-Key': key, ...bearer(carol.key) });
      expect(again.status).to.equal(201);
      expect(again.body.id).to.equal(answers[0]!.body.id);
      const fresh = await post(h, body, { 'Idempotency-Key': `${key}-2`, ...bearer(carol.key) });
      expectError(fresh, 409, 'SCHEDULE_LIMIT_REACHED');
      expect(await counts(h, body.definition.name, key)).to.deep.equal({ schedules: 1, keys: 1, audits: 1 });
    });
  });
});
