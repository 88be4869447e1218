// Times and durations as people read them.
export const formatTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export const formatDuration = (start: string | null | undefined, end: string | null | undefined): string =>
  start ? formatMs((end ? new Date(end).getTime() : Date.now()) - new Date(start).getTime()) : '—';

export const pretty = (value: unknown): string => JSON.stringify(value, null, 2) ?? 'null';

/**
 * A user's text inside a sentence of plain text (a confirm dialog cannot hold a `<bdi>`): wrapped
 * in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE, so a right-to-left name, or an override
 * (U+202E) it opens and never closes, turns that text only and never the words after it.
 */
export const isolate = (text: string): string => `\u2068${text}\u2069`;
