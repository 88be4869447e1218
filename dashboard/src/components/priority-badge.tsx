// A pipeline's priority as a word and a glyph (never colour alone); `normal` is shown too, so a
// column of badges reads evenly. Absent (an older API): nothing.
const GLYPHS: Record<string, string> = { urgent: '⇈', high: '↑', normal: '·', low: '↓' };

export function PriorityBadge({ priority }: { priority?: string | undefined }) {
  if (!priority) return null;
  return (
    <span class={`priority priority-${priority}`} title={`priority: ${priority}`}>
      <span aria-hidden="true">{GLYPHS[priority] ?? '•'}</span> {priority}
    </span>
  );
}
