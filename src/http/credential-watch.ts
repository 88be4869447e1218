// Credentials of responses that outlive their request (event streams), verified again on a timer:
// a key revoked or expired, or a JWT expired, since the stream started ends the stream within one
// interval instead of when the client hangs up. Streams that presented the same credential share
// one verification per interval (one indexed key lookup, or one local JWT check), however many
// they are. Only a refusal (AuthenticationError) ends them: a verification that could not be made
// (Postgres or the JWKS endpoint down) is logged and tried again at the next interval, as a new
// request would get 503 and not 401.
import { AuthenticationError } from '../domain/errors.js';
import type { PresentedCredential } from './middleware/authenticate.js';

/** EVENT_STREAM_CREDENTIAL_CHECK_MS's default. */
export const DEFAULT_CREDENTIAL_CHECK_MS = 15_000;

export interface CredentialWatchOptions {
  /** How often each watched credential is verified again (default 15 s). */
  intervalMs?: number;
  logger: { warn(message: string, meta?: Record<string, unknown>): void };
}

export interface CredentialWatch {
  /**
   * Verifies `credential` again every interval until the returned function is called; the first
   * refusal calls `onRefused` with it, once, and stops watching.
   */
  watch(credential: PresentedCredential, onRefused: (refusal: AuthenticationError) => void): () => void;
  /** Credentials being watched now (each verified once per interval). */
  size(): number;
}

interface Watched {
  credential: PresentedCredential;
  listeners: Set<(refusal: AuthenticationError) => void>;
}

export function createCredentialWatch({ intervalMs = DEFAULT_CREDENTIAL_CHECK_MS, logger }: CredentialWatchOptions): CredentialWatch {
  const watched = new Map<string, Watched>();
  let timer: NodeJS.Timeout | undefined;
  let checking = false;

  async function verifyOne(fingerprint: string, entry: Watched): Promise<void> {
    try {
      await entry.credential.verify();
    } catch (error) {
      if (!(error instanceof AuthenticationError)) {
        logger.warn('event stream credential could not be verified again; kept until the next check', {
          error: (error as Error).message,
        });
        return;
      }
      // Another stream may have joined under a fresh entry meanwhile: only this one is ended.
      if (watched.get(fingerprint) === entry) watched.delete(fingerprint);
      for (const listener of [...entry.listeners]) listener(error);
      entry.listeners.clear();
      stopWhenIdle();
    }
  }

  async function checkAll(): Promise<void> {
    // A slow round (a database under load) is not overlapped by the next one.
    if (checking) return;
    checking = true;
    try {
      await Promise.all([...watched].map(([fingerprint, entry]) => verifyOne(fingerprint, entry)));
    } finally {
      checking = false;
    }
  }

  function stopWhenIdle(): void {
    if (watched.size > 0 || !timer) return;
    clearInterval(timer);
    timer = undefined;
  }

  return {
    watch(credential, onRefused) {
      let entry = watched.get(credential.fingerprint);
      if (!entry) {
        entry = { credential, listeners: new Set() };
        watched.set(credential.fingerprint, entry);
      }
      const mine = entry;
      // Its own function, so one stream watching twice is two listeners and each stop removes one.
      const listener = (refusal: AuthenticationError) => onRefused(refusal);
      mine.listeners.add(listener);
      if (!timer) {
        timer = setInterval(() => void checkAll(), intervalMs);
        timer.unref();
      }
      return () => {
        mine.listeners.delete(listener);
        if (mine.listeners.size === 0 && watched.get(credential.fingerprint) === mine) watched.delete(credential.fingerprint);
        stopWhenIdle();
      };
    },
    size: () => watched.size,
  };
}
