// The webhook delivery job's shape: `{ v: 2, eventId, urlIndex }` and nothing else, its job id,
// and the body receivers get.
import { expect } from 'chai';
import type { PipelineEvent } from '../../src/domain/events.js';
import { toWebhookBody, webhookBodySchema, webhookJobId, webhookJobSchema } from '../../src/infra/webhooks/webhook-payloads.js';

const PIPELINE = '00000000-0000-4000-8000-000000000001';

describe('webhook payloads (unit)', () => {
  it('a v2 job with a digit event id and an index: accepted as is', () => {
    expect(webhookJobSchema.parse({ v: 2, eventId: '1044', urlIndex: 0 })).to.deep.equal({ v: 2, eventId: '1044', urlIndex: 0 });
    expect(webhookJobSchema.safeParse({ v: 2, eventId: '9223372036854775807', urlIndex: 3 }).success).to.equal(true);
  });

  it('an old v1 job carrying a url and a body: refused', () => {
    const v1 = {
      v: 1,
      url: 'http://127.0.0.1:9/hooks',
      event: {
        id: '1',
        type: 'pipeline.finished',
        pipelineId: PIPELINE,
        stageKey: null,
        actor: 'system',
        data: {},
        createdAt: new Date(0).toISOString(),
      },
    };
    expect(webhookJobSchema.safeParse(v1).success).to.equal(false);
    expect(webhookJobSchema.safeParse({ ...v1, v: 2 }).success).to.equal(false);
  });

  it('a v2 job with an extra key (a url, a body): refused, not stripped', () => {
    expect(webhookJobSchema.safeParse({ v: 2, eventId: '1', urlIndex: 0, url: 'http://127.0.0.1:9/hooks' }).success).to.equal(false);
    expect(webhookJobSchema.safeParse({ v: 2, eventId: '1', urlIndex: 0, event: {} }).success).to.equal(false);
  });

  it('an event id that is not a positive bigint in decimal: refused', () => {
    for (const eventId of ['', '0', '012', '-1', '1.5', '1e3', 'abc', ' 1', '9223372036854775808', '99999999999999999999', 12]) {
      expect(webhookJobSchema.safeParse({ v: 2, eventId, urlIndex: 0 }).success, String(eventId)).to.equal(false);
    }
  });

  it('a url index that is not a non-negative integer: refused', () => {
    for (const urlIndex of [-1, 0.5, '0', null, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(webhookJobSchema.safeParse({ v: 2, eventId: '1', urlIndex }).success, String(urlIndex)).to.equal(false);
    }
    expect(webhookJobSchema.safeParse({ v: 2, eventId: '1' }).success).to.equal(false);
  });

  it('webhookJobId: `<eventId>-<urlIndex>`, never an integer string', () => {
    expect(webhookJobId('1044', 0)).to.equal('1044-0');
    expect(webhookJobId('1044', 12)).to.equal('1044-12');
  });

  it('toWebhookBody: the stored event with an ISO timestamp, valid against the body schema', () => {
    const event: PipelineEvent = {
      id: '7',
      pipelineId: PIPELINE,
      type: 'decision.requested',
      stageKey: 'ship',
      actor: 'policy',
      data: { decisionId: 'DEC-2026-00001' },
      createdAt: new Date('2026-11-29T10:15:02.301Z'),
    };
    const body = toWebhookBody(event);
    expect(body).to.deep.equal({ ...event, createdAt: '2026-11-29T10:15:02.301Z' });
    expect(webhookBodySchema.safeParse(body).success).to.equal(true);
  });
});
