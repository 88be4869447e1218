// The foot of a cursor-paged list (decisions, questions, schedules): how many are shown, whether
// the API has more, and a button that reads the next page. Without it the 101st item of a busy
// installation was invisible and nothing said so.
import { useEffect, useRef } from 'preact/hooks';
import type { PagedList } from '../hooks.js';

export function LoadMore<T>({ list, noun, id }: { list: PagedList<T>; noun: string; id: string }) {
  const count = list.items?.length ?? 0;
  const countRef = useRef<HTMLParagraphElement>(null);
  const clicked = useRef(false);
  // The button leaves with the last page: focus goes to the count it announced, not to the body.
  useEffect(() => {
    if (!list.more && clicked.current) {
      clicked.current = false;
      countRef.current?.focus();
    }
  }, [list.more]);
  if (!list.more && count === 0) return null;
  return (
    <div class="pager load-more">
      {/* Polite: the new count is read out after a click, without moving focus. */}
      <p id={`${id}-count`} role="status" tabIndex={-1} ref={countRef}>
        {list.more ? `Showing the first ${count} ${noun}; there are more.` : `Showing all ${count} ${noun}.`}
      </p>
      {list.more && (
        <button
          type="button"
          // Not `disabled`: a button disabled while the page loads would drop the keyboard focus.
          aria-disabled={list.loading || undefined}
          onClick={() => {
            clicked.current = true;
            list.loadMore();
          }}
          aria-describedby={`${id}-count`}
        >
          Load more {noun}
        </button>
      )}
    </div>
  );
}
