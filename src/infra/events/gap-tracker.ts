// Puts events read from a sequence-numbered log back in id order. Ids come from a sequence,
// so the row with id 10 may commit after the row with id 11: a reader that moved past 11 would
// never see 10. The tracker hands out contiguous ids only, holds later ones while an id is
// missing, and gives up on the missing id once the events above it have waited out the gap
// timeout (a rolled-back insert leaves a hole that never fills). Pure: time comes in as a number.

/** Default wait for a missing id before the events above it are released anyway. */
export const DEFAULT_GAP_TIMEOUT_MS = 2000;

export interface GapTrackerOptions {
  /** The id (decimal string) everything at or below which counts as delivered. */
  after: string;
  /** How long events wait above a missing id (default 2 s). */
  gapTimeoutMs?: number;
}

export interface GapTrackerResult<T> {
  /** Events to deliver now, in id order. */
  ready: T[];
  /** Ids given up on by this call ("10" or "10-12"), for the log. */
  skipped: string[];
}

interface Held<T> {
  id: bigint;
  event: T;
  seenAt: number;
}

export interface GapTracker<T extends { id: string }> {
  /**
   * Takes events just read (in any order; repeats and ids at or below the cursor are ignored)
   * and returns what can be delivered at `now` (ms). Call it with `[]` to release on timeout.
   */
  offer(events: readonly T[], now: number): GapTrackerResult<T>;
  /** The last delivered id: read again from here (held events come back and are ignored). */
  cursor(): string;
  /** How many events wait above a missing id. */
  held(): number;
}

function skippedRange(from: bigint, to: bigint): string {
  return from === to ? String(from) : `${from}-${to}`;
}

/** Creates a tracker positioned after `options.after`. */
export function createGapTracker<T extends { id: string }>(options: GapTrackerOptions): GapTracker<T> {
  const gapTimeoutMs = options.gapTimeoutMs ?? DEFAULT_GAP_TIMEOUT_MS;
  let cursor = BigInt(options.after);
  const held = new Map<bigint, Held<T>>();

  return {
    offer(events, now) {
      for (const event of events) {
        const id = BigInt(event.id);
        if (id > cursor && !held.has(id)) held.set(id, { id, event, seenAt: now });
      }
      const ready: T[] = [];
      const skipped: string[] = [];
      if (held.size === 0) return { ready, skipped };

      const sorted = [...held.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      // A missing id was handed out before every id above it, so its wait started when the
      // first of those was seen: the earliest sighting among the events at or after it.
      const waitingSince = new Array<number>(sorted.length);
      for (let i = sorted.length - 1, earliest = Infinity; i >= 0; i--) {
        earliest = Math.min(earliest, sorted[i]!.seenAt);
        waitingSince[i] = earliest;
      }
      for (let i = 0; i < sorted.length; i++) {
        const entry = sorted[i]!;
        if (entry.id !== cursor + 1n) {
          if (now - waitingSince[i]! < gapTimeoutMs) break;
          skipped.push(skippedRange(cursor + 1n, entry.id - 1n));
        }
        ready.push(entry.event);
        cursor = entry.id;
        held.delete(entry.id);
      }
      return { ready, skipped };
    },
    cursor: () => String(cursor),
    held: () => held.size,
  };
}
