// The event feed over a fake reader: ordering through the gap tracker, polling only while
// subscribed, surviving failed reads, ending subscriptions on close.
import { expect } from 'chai';
import type { PipelineEvent } from '../../src/domain/events.js';
import { createEventFeed, type EventFeed } from '../../src/infra/events/event-feed.js';

const PIPELINE = '00000000-0000-4000-8000-000000000001';

function event(id: number): PipelineEvent {
  return { id: String(id), pipelineId: PIPELINE, type: 'stage.started', stageKey: 'a', actor: 'system', data: {}, createdAt: new Date(0) };
}

function fakeReader() {
  const visible = new Map<number, PipelineEvent>();
  const state = { reads: 0, failNext: 0, settled: '0' };
  return {
    state,
    commit: (...ids: number[]) => ids.forEach((id) => visible.set(id, event(id))),
    reader: {
      async readAfter(afterId: string, limit: number) {
        state.reads++;
        if (state.failNext > 0) {
          state.failNext--;
          throw new Error('connection refused');
        }
        return [...visible.values()]
          .filter((e) => BigInt(e.id) > BigInt(afterId))
          .sort((a, b) => Number(a.id) - Number(b.id))
          .slice(0, limit);
      },
      async maxSettledId() {
        return state.settled;
      },
    },
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('event feed (unit)', () => {
  const warnings: string[] = [];
  const logger = { warn: (m: string) => void warnings.push(m), debug: () => undefined };
  let feed: EventFeed | undefined;
  afterEach(async () => {
    await feed?.close();
    feed = undefined;
    warnings.length = 0;
  });

  it('an id that commits after a higher one: subscribers get both in id order', async () => {
    const fake = fakeReader();
    // The clock stands still: only the commit of 2 can release 3.
    feed = createEventFeed({ reader: fake.reader, pollMs: 2, logger, now: () => 0, startAfter: '0' });
    await feed.start();
    const seen: string[] = [];
    feed.subscribe((e) => seen.push(e.id));
    fake.commit(1, 3);
    await waitFor(() => seen.length === 1, 'event 1');
    const readsBefore = fake.state.reads;
    await waitFor(() => fake.state.reads > readsBefore + 2, 'more polls');
    expect(seen).to.deep.equal(['1']);
    fake.commit(2);
    await waitFor(() => seen.length === 3, 'events 2 and 3');
    expect(seen).to.deep.equal(['1', '2', '3']);
    expect(feed.cursor()).to.equal('3');
  });

  it('an id that never commits: the events above it come out once the clock passes the gap timeout', async () => {
    const fake = fakeReader();
    let clock = 0;
    feed = createEventFeed({ reader: fake.reader, pollMs: 2, gapTimeoutMs: 1000, logger, now: () => clock, startAfter: '0' });
    await feed.start();
    const seen: string[] = [];
    feed.subscribe((e) => seen.push(e.id));
    fake.commit(2, 3);
    const readsBefore = fake.state.reads;
    await waitFor(() => fake.state.reads > readsBefore + 2, 'polls');
    expect(seen).to.deep.equal([]);
    clock = 1000;
    await waitFor(() => seen.length === 2, 'events 2 and 3');
    expect(seen).to.deep.equal(['2', '3']);
  });

  it('a failed read: logged, retried on the next tick, nothing thrown', async () => {
    const fake = fakeReader();
    feed = createEventFeed({ reader: fake.reader, pollMs: 2, logger, startAfter: '0' });
    await feed.start();
    fake.state.failNext = 2;
    fake.commit(1);
    const seen: string[] = [];
    feed.subscribe((e) => seen.push(e.id));
    await waitFor(() => seen.length === 1, 'event 1');
    expect(warnings.filter((w) => w.includes('read failed'))).to.have.length(2);
  });

  it('no subscriber: no reads; first subscriber: polling starts from the settled top; last one gone: polling stops', async () => {
    const fake = fakeReader();
    fake.commit(1, 2, 3);
    fake.state.settled = '2';
    feed = createEventFeed({ reader: fake.reader, pollMs: 2, logger });
    await feed.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(fake.state.reads).to.equal(0);

    const seen: string[] = [];
    const unsubscribe = feed.subscribe((e) => seen.push(e.id));
    await feed.ready();
    await waitFor(() => seen.length === 1, 'event 3');
    expect(seen).to.deep.equal(['3']);

    unsubscribe();
    await new Promise((r) => setTimeout(r, 20));
    const reads = fake.state.reads;
    await new Promise((r) => setTimeout(r, 30));
    expect(fake.state.reads).to.equal(reads);
  });

  it('alwaysPoll: reads with no subscriber', async () => {
    const fake = fakeReader();
    feed = createEventFeed({ reader: fake.reader, pollMs: 2, logger, startAfter: '0', alwaysPoll: true });
    await feed.start();
    await waitFor(() => fake.state.reads > 3, 'reads');
  });

  it('close: ends every subscription through its onClose, and ready() then rejects', async () => {
    const fake = fakeReader();
    feed = createEventFeed({ reader: fake.reader, pollMs: 2, logger, startAfter: '0' });
    await feed.start();
    let closed = 0;
    feed.subscribe(() => undefined, { onClose: () => closed++ });
    feed.subscribe(() => undefined, { onClose: () => closed++ });
    await feed.close();
    await feed.close();
    expect(closed).to.equal(2);
    let rejected = false;
    await feed.ready().catch(() => (rejected = true));
    expect(rejected).to.equal(true);
  });
});
