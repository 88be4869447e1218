// An open event stream whose credential stops being good ends, against the real API, Postgres and
// Redis: a revoked key, an expired key and an expired JWT each end their stream within the
// credential check interval (200 ms here) with a last comment naming the refusal, and free the
// identity's stream slot; a stream whose key stays good stays open across several checks.
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request } from '../support/http.js';
import { SseClient } from '../support/sse-client.js';

const CHECK_MS = 200;
const JWT_SECRET = 'events-revocation-secret-0123456789abcdef';
const JWT_ISSUER = 'https://idp.example.test/';
const JWT_AUDIENCE = 'agentic-sdlc-tests';

const pipeline = (name: string) => ({ name, stages: [{ key: 'only', agent: 'noop' }] });

async function pollUntil(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('event streams of a credential that stops being good (integration)', function () {
  this.timeout(60_000);
  let h: Harness;
  let url: string;
  const clients: SseClient[] = [];
  const open = async (key: string) => {
    const client = await SseClient.open(url, bearer(key));
    clients.push(client);
    return client;
  };
  const revoke = async (recordId: string) => {
    const res = await request(h.baseUrl, 'POST', `/api/v1/keys/${recordId}/revoke`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  };
  /** A pipeline submitted and paused now (nothing runs it here): its `pipeline.paused` event is new. */
  const pipelineWithNewEvent = async (name: string) => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', pipeline(name));
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    const id = String(res.body.id);
    const paused = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/pause`, {});
    expect(paused.status, JSON.stringify(paused.body)).to.equal(202);
    return id;
  };

  before(async () => {
    h = await startHarness({
      workers: 0,
      env: {
        EVENT_STREAM_CREDENTIAL_CHECK_MS: String(CHECK_MS),
        MAX_EVENT_STREAMS_PER_IDENTITY: '1',
        JWT_SECRET,
        JWT_ISSUER,
        JWT_AUDIENCE,
        JWT_CLOCK_TOLERANCE_S: '0',
      },
    });
    url = `${h.baseUrl}/api/v1/events`;
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await h.close();
  });

  it('a key revoked while its stream is open: the stream ends naming API_KEY_REVOKED, and gets no later event', async () => {
    // Arrange
    const viewer = await h.createKey('sse-revoked', ['viewer']);
    const witness = await open((await h.createKey('sse-witness', ['viewer'])).key);
    const stream = await open(viewer.key);
    expect(stream.status).to.equal(200);

    // Act
    await revoke(viewer.recordId);
    await pollUntil('the revoked stream to end', () => stream.endedByServer);
    const after = await pipelineWithNewEvent('after-revoke');
    await witness.waitFor((events) => events.some((e) => e.pipelineId === after), 'the new event on a stream of another key');

    // Assert
    expect(stream.frames.at(-1)?.comment).to.equal('credential refused: API_KEY_REVOKED');
    expect(stream.eventsOf(after)).to.deep.equal([]);
    const again = await SseClient.open(url, bearer(viewer.key));
    clients.push(again);
    expect(again.status).to.equal(401);
  });

  it("the revoked stream's slot is freed: a new key of the same identity opens a stream (MAX_EVENT_STREAMS_PER_IDENTITY=1)", async () => {
    // Arrange
    const first = await h.createKey('sse-slot', ['viewer']);
    const stream = await open(first.key);
    expect(stream.status).to.equal(200);

    // Act
    await revoke(first.recordId);
    await pollUntil('the revoked stream to end', () => stream.endedByServer);
    const second = await h.createKey(first.name, ['viewer'], { exactName: true });
    const next = await open(second.key);

    // Assert
    expect(second.id).to.equal(first.id);
    expect(next.status).to.equal(200);
  });

  it('a key that stays good: its stream outlives three checks that each ended a revoked stream, and keeps delivering', async () => {
    // Arrange
    const kept = await h.createKey('sse-kept', ['viewer']);
    const stream = await open(kept.key);
    expect(stream.status).to.equal(200);

    for (let round = 1; round <= 3; round++) {
      // Act: a stream revoked now ends at the next check, which checks the kept key too.
      const doomed = await h.createKey(`sse-doomed-${round}`, ['viewer']);
      const other = await open(doomed.key);
      await revoke(doomed.recordId);
      await pollUntil(`revoked stream ${round} to end`, () => other.endedByServer);
      const id = await pipelineWithNewEvent(`kept-${round}`);

      // Assert
      await stream.waitFor((events) => events.some((e) => e.pipelineId === id), `round ${round}'s pipeline.paused`);
      expect(stream.endedByServer).to.equal(false);
    }
    expect(stream.frames.some((f) => f.comment?.startsWith('credential refused'))).to.equal(false);
  });

  it('a key that expires while its stream is open: the stream ends naming API_KEY_EXPIRED', async () => {
    // Arrange
    const shortLived = await h.createKey('sse-expiring', ['viewer'], { expiresInMs: 1500 });
    const stream = await open(shortLived.key);
    expect(stream.status).to.equal(200);

    // Act
    await pollUntil('the expired stream to end', () => stream.endedByServer);

    // Assert
    expect(stream.frames.at(-1)?.comment).to.equal('credential refused: API_KEY_EXPIRED');
  });

  it('a JWT that expires while its stream is open: the stream ends naming TOKEN_INVALID', async () => {
    // Arrange
    const token = await new SignJWT({ roles: ['viewer'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(`sse-jwt-${Date.now()}`)
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const stream = await open(token);
    expect(stream.status).to.equal(200);

    // Act
    await pollUntil('the expired JWT stream to end', () => stream.endedByServer);

    // Assert
    expect(stream.frames.at(-1)?.comment).to.equal('credential refused: TOKEN_INVALID');
  });
});
