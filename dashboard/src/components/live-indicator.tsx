// Whether the view's event stream is connected, announced politely to screen readers.
import type { LiveState } from '../hooks.js';

const TEXT: Record<LiveState, string> = { connecting: 'Connecting…', live: '● Live', reconnecting: 'Reconnecting…' };

export function LiveIndicator({ state }: { state: LiveState }) {
  return (
    <span class={`live live-${state}`} role="status" aria-live="polite">
      {TEXT[state]}
    </span>
  );
}
