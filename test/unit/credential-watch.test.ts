// The credential watch behind event streams (src/http/credential-watch.ts) with made-up
// credentials: streams of one credential share one verification per interval, a refusal ends
// every one of them once, a verification that fails for another reason keeps them.
import { expect } from 'chai';
import { AuthenticationError, UnavailableError } from '../../src/domain/errors.js';
import type { Identity } from '../../src/domain/identity.js';
import { createCredentialWatch } from '../../src/http/credential-watch.js';

const IDENTITY: Identity = { id: 'k', name: 'k', kind: 'user', via: 'api_key', roles: ['viewer'] };
const quiet = { warn: () => undefined };

/** A credential whose verify() counts its calls and answers with `outcome()` (an error is thrown). */
function fakeCredential(fingerprint: string, outcome: () => Error | undefined = () => undefined) {
  const credential = {
    fingerprint,
    calls: 0,
    async verify(): Promise<Identity> {
      credential.calls += 1;
      const error = outcome();
      if (error) throw error;
      return IDENTITY;
    },
  };
  return credential;
}

async function pollUntil(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('credential watch (unit)', () => {
  it('two streams of one credential: one verification per interval for both, as for a credential with one stream', async () => {
    // Arrange
    const watch = createCredentialWatch({ intervalMs: 10, logger: quiet });
    const shared = fakeCredential('a');
    const alone = fakeCredential('b');
    const stops = [watch.watch(shared, () => undefined), watch.watch({ ...shared, verify: shared.verify }, () => undefined)];
    stops.push(watch.watch(alone, () => undefined));

    // Act
    await pollUntil('three rounds', () => alone.calls >= 3);

    // Assert
    expect(watch.size()).to.equal(2);
    expect(shared.calls).to.equal(alone.calls);
    for (const stop of stops) stop();
    expect(watch.size()).to.equal(0);
  });

  it('a refused credential: every stream of it is told once, with the refusal; other credentials stay watched', async () => {
    // Arrange
    let revoked = false;
    const refusal = new AuthenticationError('API_KEY_REVOKED', 'revoked');
    const watch = createCredentialWatch({ intervalMs: 10, logger: quiet });
    const doomed = fakeCredential('a', () => (revoked ? refusal : undefined));
    const kept = fakeCredential('b');
    const told: unknown[][] = [[], []];
    watch.watch(doomed, (r) => told[0]!.push(r));
    watch.watch(doomed, (r) => told[1]!.push(r));
    const stopKept = watch.watch(kept, () => expect.fail('a good credential was refused'));
    await pollUntil('a first round', () => doomed.calls >= 1);

    // Act
    revoked = true;
    await pollUntil('the refusal', () => told[0]!.length > 0 && told[1]!.length > 0);
    const callsAtRefusal = doomed.calls;
    const keptAtRefusal = kept.calls;
    await pollUntil('two more rounds', () => kept.calls >= keptAtRefusal + 2);

    // Assert
    expect(told).to.deep.equal([[refusal], [refusal]]);
    expect(doomed.calls).to.equal(callsAtRefusal);
    expect(watch.size()).to.equal(1);
    stopKept();
  });

  it('a verification that cannot be made (503): logged, the stream is kept and verified again', async () => {
    // Arrange
    const warnings: string[] = [];
    const watch = createCredentialWatch({ intervalMs: 10, logger: { warn: (m) => void warnings.push(m) } });
    const unreachable = fakeCredential('a', () => new UnavailableError('DEPENDENCY_UNAVAILABLE', 'database down'));
    let refused = false;

    // Act
    const stop = watch.watch(unreachable, () => (refused = true));
    await pollUntil('three rounds', () => unreachable.calls >= 3);

    // Assert
    expect(refused).to.equal(false);
    expect(watch.size()).to.equal(1);
    expect(warnings.length).to.be.at.least(3);
    stop();
  });
});
