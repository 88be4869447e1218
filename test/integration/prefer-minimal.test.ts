// POST /pipelines with `Prefer: return=minimal` (RFC 7240): the 202 carries the pipeline's id,
// status and links only, with `Preference-Applied: return=minimal`; the pipeline is recorded as
// any other. Without the preference (or with one the API does not understand) the answer is the
// whole pipeline document, as before. No worker runs: the pipelines stay as submitted.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

const definition = (name: string) => ({
  name,
  stages: [
    { key: 'build', agent: 'noop' },
    { key: 'ship', agent: 'noop', dependsOn: ['build'] },
  ],
});

describe('POST /pipelines with Prefer: return=minimal (integration)', function () {
  this.timeout(30_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => h?.close());

  const submit = async (headers: Record<string, string>, body: unknown = definition(`prefer-${randomUUID()}`)) => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, body, headers);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res;
  };

  it('answers id, status and links, says so in Preference-Applied, and records the whole pipeline', async () => {
    const name = `prefer-minimal-${randomUUID()}`;
    const res = await submit({ prefer: 'return=minimal' }, definition(name));
    const id = res.body.id as string;
    const self = `${PIPELINES}/${id}`;
    expect(res.body).to.deep.equal({ id, status: 'running', links: { self, events: `${self}/events` } });
    expect(res.headers.get('preference-applied')).to.equal('return=minimal');
    expect(res.headers.get('location')).to.equal(self);

    const read = await request(h.baseUrl, 'GET', self);
    expect(read.status).to.equal(200);
    expect(read.body.name).to.equal(name);
    expect((read.body.stages as Loose[]).map((s) => [s.key, s.status])).to.deep.equal([
      ['build', 'queued'],
      ['ship', 'pending'],
    ]);
  });

  it('without the header, the answer is the whole pipeline document and no Preference-Applied', async () => {
    const res = await submit({});
    expect(res.body).to.include.keys('name', 'stages', 'input', 'submitter', 'createdAt');
    expect(res.body).to.not.have.property('links');
    expect(res.headers.get('preference-applied')).to.equal(null);
  });

  it('a replay of an Idempotency-Key answers the same minimal body, marked replayed', async () => {
    const key = `prefer-${randomUUID()}`;
    const body = definition(`prefer-replay-${randomUUID()}`);
    const first = await submit({ prefer: 'return=minimal', 'idempotency-key': key }, body);
    const again = await submit({ prefer: 'return=minimal', 'idempotency-key': key }, body);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect(again.headers.get('preference-applied')).to.equal('return=minimal');
    expect(again.body).to.deep.equal(first.body);
    // The same key without the preference answers the whole document of the same pipeline.
    const whole = await submit({ 'idempotency-key': key }, body);
    expect(whole.body.id).to.equal(first.body.id);
    expect(whole.body).to.have.property('stages');
  });

  it('reads the header as RFC 7240 does: any case, quoted, among other preferences, the first return only', async () => {
    for (const prefer of ['respond-async, RETURN="Minimal"; x=1', 'wait=10, return=minimal', 'return=minimal, return=representation']) {
      const res = await submit({ prefer });
      expect(res.headers.get('preference-applied'), prefer).to.equal('return=minimal');
      expect(Object.keys(res.body).sort(), prefer).to.deep.equal(['id', 'links', 'status']);
    }
    for (const prefer of ['return=representation', 'return=representation, return=minimal', 'return=tiny', 'return', 'respond-async']) {
      const res = await submit({ prefer });
      expect(res.headers.get('preference-applied'), prefer).to.equal(null);
      expect(res.body, prefer).to.have.property('stages');
    }
  });
});
