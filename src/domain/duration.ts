// Durations as people write them ("500ms", "30s", "15m", "4h", "30d"), parsed to milliseconds.
import { z } from 'zod';

export const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d{1,9})(ms|s|m|h|d)$/;
const DURATION_FORMAT = 'must be a duration: a whole number and a unit, e.g. "500ms", "30s", "15m", "4h" or "2d"';

/** A schema for a positive duration of at most `maxMs` (named `maxText` in its error), parsed to milliseconds. */
export function durationSchemaUpTo(maxMs: number, maxText: string) {
  return z
    .string({ error: DURATION_FORMAT })
    .regex(DURATION_PATTERN, DURATION_FORMAT)
    .transform((text) => {
      const [, amount, unit] = DURATION_PATTERN.exec(text)!;
      return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    })
    .refine((ms) => ms > 0 && ms <= maxMs, `must be more than 0 and at most ${maxText}`);
}

/** `86400000` → `1d`, `5400000` → `90m`: the largest unit that divides it, as the schema above reads it. */
export function formatDuration(ms: number): string {
  const units = Object.entries(DURATION_UNITS_MS).sort(([, a], [, b]) => b - a);
  const [unit, size] = units.find(([, size]) => ms > 0 && ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}
