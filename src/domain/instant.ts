// Instants a client sends (a schedule's start and end dates, a report's `since`): ISO 8601
// date-times with an offset, no later than the last millisecond of year 9999 in UTC. A valid
// `9999-12-31T23:59:59-23:59` is 10000-01-01 in UTC, which `Date.toISOString()` writes as
// `+010000-…`: no date of the API's contract (four-digit years), so it is refused where it enters.
import { z } from 'zod';

/** 9999-12-31T23:59:59.999Z: the last instant an answer can write with a four-digit year. */
export const LATEST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An ISO 8601 date-time with an offset, at most LATEST_INSTANT_MS; `message` for a malformed one. */
export function isoInstant(message: string) {
  return (
    z.iso
      .datetime({ offset: true, error: message })
      // A malformed value (NaN) is the format check's to name, once.
      .refine((value) => !(Date.parse(value) > LATEST_INSTANT_MS), 'after 9999-12-31T23:59:59.999Z (UTC), the latest date accepted')
  );
}
