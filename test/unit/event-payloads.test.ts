// Unit tests for the event payload schemas (src/domain/event-payloads.ts): one schema per event
// type, checked where TypeScript writes events, and rows that do not parse surfaced as `unknown`.
import { expect } from 'chai';
import { EVENT_PAYLOADS, eventData, parseEventRow, type StoredEventRow } from '../../src/domain/event-payloads.js';
import { EVENT_TYPES } from '../../src/domain/events.js';

const row = (type: string, data: unknown): StoredEventRow => ({
  id: '7',
  pipeline_id: 'p',
  type,
  stage_key: 's',
  actor: 'system',
  data,
  created_at: new Date(0),
});

describe('event payloads (unit)', () => {
  it('every event type has a schema, and every schema an event type', () => {
    expect(Object.keys(EVENT_PAYLOADS).sort()).to.deep.equal([...EVENT_TYPES].sort());
  });

  it('a well-formed row parses to its type, extra fields kept', () => {
    const event = parseEventRow(row('stage.finished', { status: 'succeeded', attempt: 2, extra: true }));
    expect(event.type).to.equal('stage.finished');
    expect(event.data).to.deep.equal({ status: 'succeeded', attempt: 2, extra: true });
    expect(event).to.include({ id: '7', pipelineId: 'p', stageKey: 's', actor: 'system' });
  });

  it('a payload that does not match its schema becomes an explicit unknown event, not a crash', () => {
    const event = parseEventRow(row('stage.finished', { status: 'exploded' }));
    expect(event.type).to.equal('unknown');
    expect(event.data.storedType).to.equal('stage.finished');
    expect((event.data.issues as string[])[0]).to.match(/^status: /);
  });

  it('an unknown stored type, or a stored "unknown", becomes unknown', () => {
    expect(parseEventRow(row('stage.teleported', {})).data).to.deep.equal({
      storedType: 'stage.teleported',
      issues: ['unknown event type "stage.teleported"'],
    });
    expect(parseEventRow(row('unknown', { storedType: 'x', issues: [] })).data.storedType).to.equal('unknown');
  });

  it('eventData refuses a payload a writer got wrong', () => {
    expect(eventData('pipeline.finished', { status: 'failed' })).to.deep.equal({ status: 'failed' });
    // @ts-expect-error a status pipelines never finish with
    expect(() => eventData('pipeline.finished', { status: 'running' })).to.throw();
  });
});
