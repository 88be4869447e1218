// What the flag source knows about itself, followed from unleash-client's events: where the flag
// set it serves came from (FLAGS_FILE or the server), whether a fetch ever succeeded, the last
// fetch and the last error, and whether the last refresh failed (stale). The client's own
// `synchronized` event fires on the first `changed`, a bootstrap's included, and its `changed`
// does not say where the set came from, so both are worked out here: the bootstrap's flag objects
// are known (bootstrap-flags.ts) and the client keeps them as they are when it applies them.
import type { BootstrapOutcome } from './bootstrap-flags.js';

export type SetOrigin = 'none' | 'bootstrap' | 'server';

/** What a `changed` event was: the bootstrap applied, a fetch that changed the set, or the bootstrap arriving after the server (nothing new). */
export type ChangeKind = 'bootstrap' | 'fetched' | 'late-bootstrap';

export interface FlagSourceStateView {
  origin: SetOrigin;
  bootstrap: { file: string | null; loaded: boolean; flags: number; error: string | null };
  synchronized: boolean;
  lastFetchAt: Date | null;
  lastError: { message: string; at: Date } | null;
  stale: boolean;
}

// The fetcher reports some failed refreshes as warnings, not errors (404, 429, 5xx, a reset socket).
const FAILED_REFRESH_WARNING = /responded \d{3}|Socket keep alive error/;

/** True for a client warning that means a refresh failed. */
export const isFailedRefreshWarning = (message: string): boolean => FAILED_REFRESH_WARNING.test(message);

export function createFlagSourceState(options: { server: boolean; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  let bootstrap: BootstrapOutcome | null = null;
  let bootstrapObjects = new Set<object>();
  // The client applies (or skips, once connected) a non-empty bootstrap right after reading it,
  // with a `changed` event: that event is the bootstrap's, not a fetch.
  let bootstrapPending = false;
  let origin: SetOrigin = 'none';
  let synchronized = false;
  let lastFetchAt: Date | null = null;
  let lastError: { message: string; at: Date } | null = null;
  let stale = false;

  const fetched = () => {
    synchronized = true;
    lastFetchAt = now();
    stale = false;
  };

  return {
    bootstrapRead(outcome: BootstrapOutcome): void {
      bootstrap = outcome;
      bootstrapObjects = new Set(outcome.features);
      bootstrapPending = outcome.features.length > 0;
    },

    /** The client's `changed` with the set it now serves. */
    changed(features: readonly object[]): ChangeKind {
      const echo = bootstrapPending;
      bootstrapPending = false;
      // A set of bootstrap objects is the bootstrap's (the client never applies an empty bootstrap).
      const fromServer = options.server && (features.length === 0 || features.some((f) => !bootstrapObjects.has(f)));
      if (!fromServer) {
        origin = 'bootstrap';
        return 'bootstrap';
      }
      origin = 'server';
      if (echo && synchronized) return 'late-bootstrap';
      fetched();
      return 'fetched';
    },

    /** A refresh answered 304: the set is current. */
    unchanged(): void {
      fetched();
    },

    /** A failed refresh or an invalid definition; returns true when the source just became stale. */
    failed(message: string): boolean {
      lastError = { message, at: now() };
      if (!options.server || stale) return false;
      stale = true;
      return true;
    },

    view(): FlagSourceStateView {
      return {
        origin,
        bootstrap: {
          file: bootstrap?.file ?? null,
          loaded: (bootstrap?.features.length ?? 0) > 0,
          flags: bootstrap?.features.length ?? 0,
          error: bootstrap?.error ?? null,
        },
        synchronized,
        lastFetchAt,
        lastError,
        stale,
      };
    },
  };
}

export type FlagSourceState = ReturnType<typeof createFlagSourceState>;
