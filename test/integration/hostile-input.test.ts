// Hostile bodies and query strings get a 400 naming the field, never a 500, and change nothing:
// JSON nested past JSON_MAX_DEPTH (refused before parsing), NUL characters and lone surrogates
// anywhere in a body or query, keys and strings over their caps. Each route the issue named is
// tried (POST /pipelines, decisions' approve and reject, a clarification's answer, GET
// /pipelines?name=), with a captured logger: no line at `error` level for any of it.
import { expect } from 'chai';
import { captureLogger } from '../support/capture-logger.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, expectError, request, waitUntil, type JsonResponse, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';
const MAX_DEPTH = 24;
const MAX_KEY = 100;
const MAX_STRING = 5000;

/** `levels` objects inside one another around `leaf`. */
function nest(levels: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

/** Asserts a 400 with `code` whose details name `field`. */
function expectRefused(res: JsonResponse<Loose>, code: string, field: string): void {
  expectError(res, 400, code);
  expect(
    (res.body.error.details as Loose[]).map((d) => d.field),
    JSON.stringify(res.body.error),
  ).to.include(field);
}

const stage = { key: 'a', agent: 'noop' };

describe('hostile input (integration)', function () {
  this.timeout(60_000);
  let h: Harness;
  const lines: Loose[] = [];
  let submitter: { key: string };
  let manager: { key: string };
  const pipelineRows = () => h.db.prisma.pipeline.count();
  const post = (path: string, body: unknown, key?: string) => request(h.baseUrl, 'POST', path, body, key ? bearer(key) : {});

  before(async () => {
    h = await startHarness({
      workers: 1,
      logger: captureLogger(lines),
      env: { JSON_MAX_DEPTH: String(MAX_DEPTH), JSON_MAX_KEY_LENGTH: String(MAX_KEY), JSON_MAX_STRING_LENGTH: String(MAX_STRING) },
    });
    submitter = await h.createKey('submitter', ['submitter']);
    manager = await h.createKey('manager', ['approver', 'engineering_manager']);
  });
  after(async () => {
    await h?.close();
  });

  it('POST /pipelines: 1,500 levels and one level over JSON_MAX_DEPTH get 400 JSON_TOO_DEEP naming (body) and the limit; exactly the limit is accepted', async () => {
    // Arrange: the root object is level 1, so `input: nest(k)` nests 1 + k levels.
    const before = await pipelineRows();

    // Act
    const deep = await post(PIPELINES, { name: 'deep', input: nest(1500), stages: [stage] });
    const overByOne = await post(PIPELINES, { name: 'over', input: nest(MAX_DEPTH), stages: [stage] });
    const rowsAfterRefusals = await pipelineRows();
    const atLimit = await post(PIPELINES, { name: 'hostile-at-limit', input: nest(MAX_DEPTH - 1), stages: [stage] });

    // Assert
    for (const res of [deep, overByOne]) {
      expectRefused(res, 'JSON_TOO_DEEP', '(body)');
      expect(res.body.error.message).to.include(String(MAX_DEPTH));
    }
    expect(rowsAfterRefusals).to.equal(before);
    expect(atLimit.status, JSON.stringify(atLimit.body)).to.equal(202);
  });

  it('POST /pipelines in UTF-16: nesting is counted on the decoded text (JSON_TOO_DEEP); a charset no decoder knows gets 415', async () => {
    // Act
    const send = (body: Buffer | string, charset: string) =>
      fetch(`${h.baseUrl}${PIPELINES}`, {
        method: 'POST',
        headers: { ...bearer(submitter.key), 'content-type': `application/json; charset=${charset}` },
        body,
      });
    const utf16 = await send(Buffer.from(JSON.stringify({ name: 'x', input: nest(MAX_DEPTH), stages: [stage] }), 'utf16le'), 'utf-16le');
    const utf7 = await send('{}', 'utf-7');

    // Assert
    expect(utf16.status).to.equal(400);
    expect(((await utf16.json()) as Loose).error.code).to.equal('JSON_TOO_DEEP');
    expect(utf7.status).to.equal(415);
    expect(((await utf7.json()) as Loose).error.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
  });

  it('POST /pipelines: NUL and lone surrogates in the name, an input key, an input value or a stage input get 400 INVALID_CHARACTER naming the field; no row is written', async () => {
    // Arrange
    const before = await pipelineRows();
    const cases: Array<[unknown, string, string]> = [
      [{ name: 'a\u0000b', stages: [stage] }, 'name', 'nul'],
      [{ name: 'x', input: { 'a\u0000': 1 }, stages: [stage] }, 'input.a\\u0000', 'nul'],
      [{ name: 'x', input: { a: { b: ['ok', 'x\u0000'] } }, stages: [stage] }, 'input.a.b[1]', 'nul'],
      [{ name: 'x', stages: [{ ...stage, input: { text: '\u0000' } }] }, 'stages[0].input.text', 'nul'],
      // JSON.stringify would escape a lone surrogate the same way; written out to show the bytes sent.
      ['{"name":"a\\ud800","stages":[{"key":"a","agent":"noop"}]}', 'name', 'lone_surrogate'],
      ['{"name":"x","input":{"k":"\\udc00"},"stages":[{"key":"a","agent":"noop"}]}', 'input.k', 'lone_surrogate'],
      ['{"name":"x","input":{"\\ud800":1},"stages":[{"key":"a","agent":"noop"}]}', 'input.\\ud800', 'lone_surrogate'],
    ];

    for (const [body, field, kind] of cases) {
      // Act
      const res = await post(PIPELINES, body, submitter.key);

      // Assert
      expectRefused(res, 'INVALID_CHARACTER', field);
      expect((res.body.error.details as Loose[])[0]!.code).to.equal(kind);
    }
    expect(await pipelineRows()).to.equal(before);
  });

  it('POST /pipelines: a key over JSON_MAX_KEY_LENGTH gets 400 KEY_TOO_LONG, a string over JSON_MAX_STRING_LENGTH 400 STRING_TOO_LONG; at the caps it is accepted', async () => {
    // Arrange
    const before = await pipelineRows();

    // Act
    const longKey = await post(PIPELINES, { name: 'x', input: { ['k'.repeat(MAX_KEY + 1)]: 1 }, stages: [stage] });
    const longString = await post(PIPELINES, { name: 'x', stages: [{ ...stage, input: { text: 's'.repeat(MAX_STRING + 1) } }] });
    const rowsAfterRefusals = await pipelineRows();
    const atCaps = await post(PIPELINES, {
      name: 'hostile-at-caps',
      input: { ['k'.repeat(MAX_KEY)]: 's'.repeat(MAX_STRING) },
      stages: [stage],
    });

    // Assert
    expectRefused(longKey, 'KEY_TOO_LONG', `input.${'k'.repeat(64)}…`);
    expectRefused(longString, 'STRING_TOO_LONG', 'stages[0].input.text');
    expect(rowsAfterRefusals).to.equal(before);
    expect(atCaps.status, JSON.stringify(atCaps.body)).to.equal(202);
  });

  it('GET /pipelines?name= and other lists: a NUL in a value or a name, or an over-long value, gets 400 naming ?param', async () => {
    // Act
    const nulName = await request(h.baseUrl, 'GET', `${PIPELINES}?name=a%00b`);
    const nulParamName = await request(h.baseUrl, 'GET', `${PIPELINES}?na%00me=x`);
    const nulStatus = await request(h.baseUrl, 'GET', '/api/v1/decisions?status=%00');
    const longName = await request(h.baseUrl, 'GET', `${PIPELINES}?name=${'n'.repeat(MAX_STRING + 1)}`);
    const plain = await request(h.baseUrl, 'GET', `${PIPELINES}?name=${encodeURIComponent('déjà vu 🎉')}`);

    // Assert
    expectRefused(nulName, 'INVALID_CHARACTER', '?name');
    expectRefused(nulParamName, 'INVALID_CHARACTER', '?na\\u0000me');
    expectRefused(nulStatus, 'INVALID_CHARACTER', '?status');
    expectRefused(longName, 'STRING_TOO_LONG', '?name');
    expect(plain.status, JSON.stringify(plain.body)).to.equal(200);
  });

  it('decisions: a reject comment with a NUL, an approve comment with a lone surrogate and a deep body get 400 naming the field; the decision stays pending with no vote, then approves', async () => {
    // Arrange: a deployment waits for an engineering_manager.
    const created = await post(
      PIPELINES,
      { name: 'hostile-decision', stages: [{ key: 'deploy', agent: 'sim_deployment' }] },
      submitter.key,
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const waiting = await waitUntil(h.baseUrl, created.body.id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    const id = (waiting.decisions as Loose[]).find((d) => d.status === 'pending')!.id as string;

    // Act
    const rejectNul = await post(`/api/v1/decisions/${id}/reject`, { comment: 'no\u0000' }, manager.key);
    const approveSurrogate = await post(`/api/v1/decisions/${id}/approve`, '{"comment":"ok \\ud800"}', manager.key);
    const rejectDeep = await post(`/api/v1/decisions/${id}/reject`, { comment: 'deep', extra: nest(1500) }, manager.key);
    const after = (await request(h.baseUrl, 'GET', `/api/v1/decisions/${id}`)).body;
    const approved = await post(`/api/v1/decisions/${id}/approve`, { comment: 'fine' }, manager.key);

    // Assert
    expectRefused(rejectNul, 'INVALID_CHARACTER', 'comment');
    expectRefused(approveSurrogate, 'INVALID_CHARACTER', 'comment');
    expectRefused(rejectDeep, 'JSON_TOO_DEEP', '(body)');
    expect(after.status).to.equal('pending');
    expect(after.votes).to.deep.equal([]);
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
  });

  it('clarifications: an answer with a NUL or a lone-surrogate key gets 400 naming answers.<id>; the clarification stays open, then takes a clean answer', async () => {
    // Arrange: vague requirements open a clarification.
    const created = await post(PIPELINES, { name: 'hostile-clarify', input: { requirements: 'tbd' }, stages: [stage] }, submitter.key);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const waiting = await waitUntil(h.baseUrl, created.body.id, (p) => (p.clarifications as Loose[]).some((c) => c.status === 'open'));
    const asked = (await request(h.baseUrl, 'GET', `/api/v1/clarifications/${(waiting.clarifications as Loose[])[0]!.id}`)).body;
    const ids = (asked.questions as Loose[]).map((q) => q.id as string);
    const path = `/api/v1/clarifications/${asked.id}/answer`;

    // Act
    const nul = await post(path, { answers: Object.fromEntries(ids.map((q) => [q, 'EU\u0000'])) }, manager.key);
    const surrogateKey = await post(path, `{"answers":{"\\udfff":"x"}}`, manager.key);
    const after = (await request(h.baseUrl, 'GET', `/api/v1/clarifications/${asked.id}`)).body;
    const answered = await post(path, { answers: Object.fromEntries(ids.map((q) => [q, 'all EU users, required'])) }, manager.key);

    // Assert
    expectRefused(nul, 'INVALID_CHARACTER', `answers.${ids[0]}`);
    expectRefused(surrogateKey, 'INVALID_CHARACTER', 'answers.\\udfff');
    expect(after.status).to.equal('open');
    expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
  });

  it('decisions and clarifications: ESC and other terminal controls in a comment or an answer get 400 naming it; line breaks and tabs are kept', async () => {
    // Arrange: a deployment waiting for a manager, and vague requirements waiting for an answer.
    const deploy = await post(PIPELINES, { name: 'escape-decision', stages: [{ key: 'deploy', agent: 'sim_deployment' }] }, submitter.key);
    const vague = await post(PIPELINES, { name: 'escape-clarify', input: { requirements: 'tbd' }, stages: [stage] }, submitter.key);
    const deciding = await waitUntil(h.baseUrl, deploy.body.id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    const asking = await waitUntil(h.baseUrl, vague.body.id, (p) => (p.clarifications as Loose[]).some((c) => c.status === 'open'));
    const decision = (deciding.decisions as Loose[]).find((d) => d.status === 'pending')!.id as string;
    const asked = (await request(h.baseUrl, 'GET', `/api/v1/clarifications/${(asking.clarifications as Loose[])[0]!.id}`)).body;
    const ids = (asked.questions as Loose[]).map((q) => q.id as string);
    const answerPath = `/api/v1/clarifications/${asked.id}/answer`;

    // Act
    const escReject = await post(`/api/v1/decisions/${decision}/reject`, { comment: 'no \u001b[2J\u001b[31mAPPROVED' }, manager.key);
    const bellApprove = await post(`/api/v1/decisions/${decision}/approve`, { comment: 'ok\u0007\u0008\u0008' }, manager.key);
    const escAnswer = await post(answerPath, { answers: Object.fromEntries(ids.map((q) => [q, 'EU \u001b]0;owned\u0007'])) }, manager.key);
    const pendingAfter = (await request(h.baseUrl, 'GET', `/api/v1/decisions/${decision}`)).body;
    const openAfter = (await request(h.baseUrl, 'GET', `/api/v1/clarifications/${asked.id}`)).body;
    const approved = await post(`/api/v1/decisions/${decision}/approve`, { comment: 'ok:\n- staging first\n\t- then prod' }, manager.key);
    const answered = await post(answerPath, { answers: Object.fromEntries(ids.map((q) => [q, 'EU users,\r\nrequired'])) }, manager.key);

    // Assert
    expectRefused(escReject, 'VALIDATION_FAILED', 'comment');
    expectRefused(bellApprove, 'VALIDATION_FAILED', 'comment');
    expectRefused(escAnswer, 'VALIDATION_FAILED', `answers.${ids[0]}`);
    expect(pendingAfter.votes).to.deep.equal([]);
    expect(openAfter.status).to.equal('open');
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body.votes[0].comment).to.equal('ok:\n- staging first\n\t- then prod');
    expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
  });

  it('a "__proto__" key anywhere in a body (an input, a stage input, a template request, a schedule) gets 400 naming it; no row is written; "constructor" is stored as sent', async () => {
    // Arrange: written out, since a JS object literal's __proto__ sets a prototype and JSON.stringify leaves it out.
    // Before the fix the schemas dropped the key without a word: `input` was stored as {} and a
    // strict schema's unknown-key check never saw it.
    const before = await pipelineRows();
    const schedulesBefore = await h.db.prisma.schedule.count();
    const cases: Array<[string, string, string]> = [
      [PIPELINES, '{"name":"x","input":{"__proto__":{"admin":true}},"stages":[{"key":"a","agent":"noop"}]}', 'input.__proto__'],
      [PIPELINES, '{"name":"x","stages":[{"key":"a","agent":"noop","input":{"k":{"__proto__":1}}}]}', 'stages[0].input.k.__proto__'],
      [PIPELINES, '{"__proto__":{"priority":"urgent"},"template":"smoke"}', '__proto__'],
      ['/api/v1/schedules', '{"template":"smoke","cron":"0 2 * * *","input":{"__proto__":{"x":1}}}', 'input.__proto__'],
    ];

    for (const [path, body, field] of cases) {
      // Act
      const res = await post(path, body, submitter.key);

      // Assert
      expectRefused(res, 'VALIDATION_FAILED', field);
      expect((res.body.error.details as Loose[])[0]!.code).to.equal('reserved_key');
    }
    const kept = await post(
      PIPELINES,
      '{"name":"hostile-constructor","input":{"constructor":{"prototype":1}},"stages":[{"key":"a","agent":"noop"}]}',
      submitter.key,
    );
    expect(kept.status, JSON.stringify(kept.body)).to.equal(202);
    expect(kept.body.input).to.deep.equal({ constructor: { prototype: 1 } });
    expect(await pipelineRows()).to.equal(before + 1);
    expect(await h.db.prisma.schedule.count()).to.equal(schedulesBefore);
  });

  it('a key given twice in one object (the name, a stage key, an input key, a decision vote) gets 400 naming it, detail duplicate_key; no row is written', async () => {
    // Arrange: JSON.parse kept the last value without a word (202, name "b"), while a proxy or
    // an audit tool reading the same bytes may keep the first.
    const before = await pipelineRows();
    const cases: Array<[string, string, string]> = [
      [PIPELINES, '{"name":"a","name":"b","stages":[{"key":"a","agent":"noop"}]}', 'name'],
      [PIPELINES, '{"name":"x","stages":[{"key":"a","agent":"noop","key":"b"}]}', 'stages[0].key'],
      [PIPELINES, '{"template":"smoke","input":{"project":"p","project":"q"}}', 'input.project'],
      [PIPELINES, '{"template":"smoke","input":{"project":"p"},"priority":"low","\\u0070riority":"urgent"}', 'priority'],
      ['/api/v1/decisions/DEC-2026-99999/approve', '{"comment":"ok","comment":"no"}', 'comment'],
    ];

    for (const [path, body, field] of cases) {
      // Act
      const res = await post(path, body, path === PIPELINES ? submitter.key : manager.key);

      // Assert
      expectRefused(res, 'VALIDATION_FAILED', field);
      expect((res.body.error.details as Loose[])[0]!.code).to.equal('duplicate_key');
    }
    expect(await pipelineRows()).to.equal(before);
  });

  it('none of the above wrote an error-level log line; the refusals were logged at info', () => {
    // Assert
    expect(lines.filter((l) => l.level === 'error').map((l) => l.message)).to.deep.equal([]);
    const refusals = lines.filter((l) => l.message === 'request completed' && l.status === 400);
    expect(refusals.length).to.be.at.least(20);
    expect(new Set(refusals.map((l) => l.level))).to.deep.equal(new Set(['info']));
  });
});
