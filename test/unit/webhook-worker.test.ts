// resolveWebhookDelivery over a fake event reader: what a delivery job may send (the stored
// event to a configured URL) and every refusal, with no network and no Redis.
import { UnrecoverableError } from 'bullmq';
import { expect } from 'chai';
import type { EventType, PipelineEvent } from '../../src/domain/events.js';
import { toWebhookBody } from '../../src/infra/webhooks/webhook-payloads.js';
import { resolveWebhookDelivery } from '../../src/jobs/webhook.worker.js';

const PIPELINE = '00000000-0000-4000-8000-000000000001';
const URLS = ['http://127.0.0.1:9/first', 'http://127.0.0.1:9/second'];

function event(id: string, type: EventType): PipelineEvent {
  return { id, pipelineId: PIPELINE, type, stageKey: null, actor: 'system', data: { status: 'succeeded' }, createdAt: new Date(0) };
}

function fakeReader(events: PipelineEvent[], fail = false) {
  const reads: string[] = [];
  return {
    reads,
    async readById(id: string) {
      reads.push(id);
      if (fail) throw new Error('connection refused');
      return events.find((e) => e.id === id) ?? null;
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

describe('webhook worker: resolving a delivery job (unit)', () => {
  it('a v2 job naming a stored webhook event and a configured URL: that URL and the stored event as the body', async () => {
    const stored = event('42', 'pipeline.finished');
    const reader = fakeReader([stored]);
    const delivery = await resolveWebhookDelivery({ id: '42-1', data: { v: 2, eventId: '42', urlIndex: 1 } }, URLS, reader);
    expect(delivery.url).to.equal(URLS[1]);
    expect(delivery.event).to.equal(stored);
    expect(delivery.body).to.equal(JSON.stringify(toWebhookBody(stored)));
    expect(reader.reads).to.deep.equal(['42']);
  });

  it('an old v1 job with a url and a body: refused (UnrecoverableError), nothing read, the url not in the message', async () => {
    const reader = fakeReader([event('42', 'pipeline.finished')]);
    const data = { v: 1, url: 'http://evil.example/steal?token=s3cret', event: toWebhookBody(event('42', 'pipeline.finished')) };
    const error = await refusal(resolveWebhookDelivery({ id: '42-0', data }, URLS, reader));
    expect(error).to.be.instanceOf(UnrecoverableError);
    expect(error.message).to.match(/^webhook job refused: data is not/);
    expect(error.message).not.to.include('evil.example');
    expect(error.message).not.to.include('s3cret');
    expect(reader.reads).to.deep.equal([]);
  });

  it('a job id that does not match its data: refused before any read', async () => {
    const reader = fakeReader([event('42', 'pipeline.finished')]);
    const error = await refusal(resolveWebhookDelivery({ id: 'again-1', data: { v: 2, eventId: '42', urlIndex: 0 } }, URLS, reader));
    expect(error).to.be.instanceOf(UnrecoverableError);
    expect(error.message).to.include('job id does not match');
    expect(reader.reads).to.deep.equal([]);
  });

  it('a url index beyond the configured list: refused before any read', async () => {
    const reader = fakeReader([event('42', 'pipeline.finished')]);
    const error = await refusal(resolveWebhookDelivery({ id: '42-2', data: { v: 2, eventId: '42', urlIndex: 2 } }, URLS, reader));
    expect(error).to.be.instanceOf(UnrecoverableError);
    expect(error.message).to.include('urlIndex 2 is not a configured receiver');
    expect(reader.reads).to.deep.equal([]);
  });

  it('an event id that is not stored: refused', async () => {
    const error = await refusal(resolveWebhookDelivery({ id: '43-0', data: { v: 2, eventId: '43', urlIndex: 0 } }, URLS, fakeReader([])));
    expect(error).to.be.instanceOf(UnrecoverableError);
    expect(error.message).to.include('event 43 does not exist');
  });

  it('a stored event of a type webhooks do not carry (stage.finished): refused', async () => {
    const reader = fakeReader([event('44', 'stage.finished')]);
    const error = await refusal(resolveWebhookDelivery({ id: '44-0', data: { v: 2, eventId: '44', urlIndex: 0 } }, URLS, reader));
    expect(error).to.be.instanceOf(UnrecoverableError);
    expect(error.message).to.include('not a webhook event');
  });

  it('the read fails (Postgres down): the reader error, retryable (not an UnrecoverableError)', async () => {
    const error = await refusal(
      resolveWebhookDelivery({ id: '42-0', data: { v: 2, eventId: '42', urlIndex: 0 } }, URLS, fakeReader([], true)),
    );
    expect(error).not.to.be.instanceOf(UnrecoverableError);
    expect(error.message).to.equal('connection refused');
  });
});
