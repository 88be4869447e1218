// The dashboard's event-stream reader (dashboard/src/sse.ts, docs/dashboard.md#live-updates)
// against the real API, Postgres and Redis: a stream refused 429 STREAM_QUOTA_EXCEEDED (the
// identity already holds MAX_EVENT_STREAMS_PER_IDENTITY streams) waits the answer's Retry-After
// (10 s) before it reconnects, not the stream's 2 s default. Before, every open tab retried such a
// refusal each 2 s. The reader's wait is recorded, not slept: no timing is asserted.
import { expect } from 'chai';
import { openStream, retryAfterMs } from '../../dashboard/src/sse.js';
import { STREAM_QUOTA_RETRY_AFTER_SECONDS } from '../../src/http/stream-quota.js';
import { startHarness, type Harness } from '../support/harness.js';

async function pollUntil(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("dashboard event streams honour a refusal's Retry-After (integration)", function () {
  this.timeout(60_000);
  let h: Harness;
  const closers: (() => void)[] = [];

  before(async () => {
    h = await startHarness({ workers: 0, env: { MAX_EVENT_STREAMS_PER_IDENTITY: '1' } });
  });
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });
  after(async () => {
    await h?.close();
  });

  it('openStream — a second stream of an identity allowed one — is refused 429 and waits Retry-After before reconnecting', async () => {
    // Arrange: the identity's one stream, open
    const { key } = await h.createKey('sse-retry-after', ['viewer']);
    const path = `${h.baseUrl}/api/v1/events`;
    let firstLive = false;
    closers.push(openStream({ path, key, onEvent: () => {}, onState: (connected) => (firstLive ||= connected) }));
    await pollUntil('the first stream to connect', () => firstLive);

    // Act: a second one
    const states: { connected: boolean; error?: string }[] = [];
    const waits: number[] = [];
    const close = openStream({
      path,
      key,
      onEvent: () => {},
      onState: (connected, error) => states.push({ connected, error }),
      wait: (ms) => {
        waits.push(ms);
        close();
        return Promise.resolve();
      },
    });
    closers.push(close);
    await pollUntil('the reconnect wait', () => waits.length > 0);

    // Assert
    expect(states).to.have.length(1);
    expect(states[0]!.connected).to.equal(false);
    expect(states[0]!.error).to.contain('MAX_EVENT_STREAMS_PER_IDENTITY');
    expect(waits).to.deep.equal([STREAM_QUOTA_RETRY_AFTER_SECONDS * 1000]);
  });

  it('retryAfterMs — delta-seconds, an HTTP date, none, garbage — the delay in ms, or undefined', () => {
    // Arrange
    const now = Date.parse('2026-12-08T03:00:00Z');
    // Act / Assert
    expect(retryAfterMs('10', now)).to.equal(10_000);
    expect(retryAfterMs(' 3 ', now)).to.equal(3_000);
    expect(retryAfterMs('Tue, 08 Dec 2026 03:00:30 GMT', now)).to.equal(30_000);
    expect(retryAfterMs('Tue, 08 Dec 2026 02:59:00 GMT', now)).to.equal(0);
    expect(retryAfterMs(null, now)).to.equal(undefined);
    expect(retryAfterMs('soon', now)).to.equal(undefined);
  });
});
