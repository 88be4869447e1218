// A status as words and a glyph (never colour alone): the same in lists, the DAG and the inbox.
const GLYPHS: Record<string, string> = {
  queued: '◷',
  pending: '○',
  running: '▶',
  waiting: '⏸',
  paused: '‖',
  succeeded: '✓',
  failed: '✗',
  skipped: '↷',
  cancelled: '⊘',
  approved: '✓',
  rejected: '✗',
  escalated: '⇡',
  expired: '⌛',
  open: '?',
  answered: '✓',
};

export const glyphOf = (status: string): string => GLYPHS[status] ?? '•';

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`status status-${status}`}>
      <span class="status-glyph" aria-hidden="true">
        {glyphOf(status)}
      </span>{' '}
      {status}
    </span>
  );
}
