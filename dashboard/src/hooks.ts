// Loading state for a view, and live refreshes driven by the event stream.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { messageOf, type Api } from './api.js';
import { openStream, type StreamEvent } from './sse.js';

export interface Resource<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): void;
}

/** Runs `load` now and whenever `deps` change or `reload()` is called; keeps the last data while reloading. */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState((s) => ({ data: s.data, error: messageOf(error), loading: false })),
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * Opens the event stream at `path` with `api`'s key while the view is shown and calls `onChange`
 * (debounced) for each event `accept` lets through, with the events taken since its last call
 * (`undefined` after a reconnect: anything may have changed); returns the stream's state for the
 * page to show. A refused key is told to `api.onRefused` (the page signs out) and not tried again.
 */
export function useLiveRefresh(
  path: string | undefined,
  api: Api,
  onChange: (events: readonly StreamEvent[] | undefined) => void,
  accept?: (event: StreamEvent) => boolean,
): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const changeRef = useRef(onChange);
  changeRef.current = onChange;
  const acceptRef = useRef(accept);
  acceptRef.current = accept;
  useEffect(() => {
    if (!path) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let taken: StreamEvent[] = [];
    let wasLive = false;
    const close = openStream({
      path,
      key: api.key,
      onRefused: api.onRefused,
      onEvent: (event) => {
        if (acceptRef.current && !acceptRef.current(event)) return;
        taken.push(event);
        clearTimeout(timer);
        timer = setTimeout(() => {
          const events = taken;
          taken = [];
          changeRef.current(events);
        }, 250);
      },
      onState: (connected) => {
        setState(connected ? 'live' : 'reconnecting');
        // Events missed while down are replayed by Last-Event-ID; a reload catches anything older.
        if (connected && wasLive) changeRef.current(undefined);
        wasLive ||= connected;
      },
    });
    return () => {
      clearTimeout(timer);
      close();
    };
  }, [path, api]);
  return state;
}

/** The most items a list route of the API answers a page (its `limit` is 1–100, docs/api.md). */
export const LIST_PAGE_MAX = 100;

/** One page of a cursor-paged list of the API (`{ items, nextCursor }`, docs/api.md). */
export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PagedList<T> {
  /** Every item read so far, in the API's order; undefined until the first page came. */
  items?: T[];
  /** The API has more after the last item shown. */
  more: boolean;
  error?: string;
  loading: boolean;
  /** Reads the list again from its start, as many pages as are shown (an event, Refresh). */
  reload(): void;
  /** Reads the next page and adds it below. */
  loadMore(): void;
}

/**
 * A list the API pages with a cursor (100 a page at most), read a page at a time: the first page
 * now and whenever `deps` change, the next one on `loadMore()`. A `reload()` reads again as many
 * pages as were shown, so a live refresh does not fold a list the reader had opened further.
 */
export function usePagedList<T>(loadPage: (cursor: string | undefined) => Promise<CursorPage<T>>, deps: readonly unknown[]): PagedList<T> {
  const [state, setState] = useState<{ items?: T[]; next: string | null; error?: string; loading: boolean }>({ next: null, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(loadPage);
  loadRef.current = loadPage;
  // Pages shown, and which read is current: an older answer arriving late is dropped.
  const shown = useRef(1);
  const generation = useRef(0);
  const dependencies = useRef<readonly unknown[]>(deps);
  useEffect(() => {
    if (dependencies.current.length !== deps.length || deps.some((d, i) => !Object.is(d, dependencies.current[i]))) shown.current = 1;
    dependencies.current = deps;
    const mine = ++generation.current;
    const pages = shown.current;
    setState((s) => ({ ...s, loading: true }));
    (async () => {
      const items: T[] = [];
      let cursor: string | undefined;
      let next: string | null = null;
      for (let n = 0; n < pages; n++) {
        const page = await loadRef.current(cursor);
        items.push(...page.items);
        next = page.nextCursor;
        if (!next) break;
        cursor = next;
      }
      return { items, next };
    })().then(
      ({ items, next }) => mine === generation.current && setState({ items, next, loading: false }),
      (error: unknown) => mine === generation.current && setState((s) => ({ ...s, error: messageOf(error), loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const loadMore = () => {
    const cursor = state.next;
    if (!cursor || state.loading) return;
    // Counted now: a reload that overtakes this read reads this page too.
    shown.current += 1;
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(cursor).then(
      (page) => {
        if (mine !== generation.current) return;
        setState((s) => ({ items: [...(s.items ?? []), ...page.items], next: page.nextCursor, loading: false }));
      },
      (error: unknown) => {
        if (mine !== generation.current) return;
        shown.current -= 1;
        setState((s) => ({ ...s, error: messageOf(error), loading: false }));
      },
    );
  };
  return { items: state.items, more: state.next !== null, error: state.error, loading: state.loading, reload, loadMore };
}
