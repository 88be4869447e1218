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
