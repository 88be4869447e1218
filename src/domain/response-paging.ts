// Paging a response by its size, pure: how many items of a list fit in a byte budget once the
// rest of the document is counted, and the cursor of what is left. Items are JSON-serialized to
// be measured, one at a time, so nothing larger than one item is built to decide.
import { jsonByteLength } from './json.js';

/** Stages in one page at most, whatever their size (GET /pipelines/:id and /pipelines/:id/stages). */
export const STAGE_PAGE_MAX = 100;

/**
 * How many of `items`, in order, fit in `budgetBytes` once `baseBytes` (the document around them)
 * are spent: at least one when there is any, so a page always moves forward.
 */
export function countWithinBytes(items: readonly unknown[], budgetBytes: number, baseBytes = 0): number {
  let used = baseBytes;
  for (let i = 0; i < items.length; i++) {
    // The comma between array items.
    used += jsonByteLength(items[i]) + (i > 0 ? 1 : 0);
    if (used > budgetBytes) return Math.max(1, i);
  }
  return items.length;
}

/** The cursor of a stage page: the position of its first stage, as a decimal string. */
export const STAGE_CURSOR_PATTERN = /^\d{1,4}$/;

/**
 * One page of stages read from position `from` on: the first `shown` of `items`, and the cursor
 * of the next page (the position after the last one shown) when items were left out.
 */
export function stagePage<T>(items: readonly T[], from: number, shown: number): { items: T[]; nextCursor: string | null } {
  return { items: items.slice(0, shown), nextCursor: shown < items.length ? String(from + shown) : null };
}
