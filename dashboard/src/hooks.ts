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
 * (debounced) for each event `accept` lets through; returns the stream's state for the page to
 * show. A refused key is told to `api.onRefused` (the page signs out) and not tried again.
 */
export function useLiveRefresh(
  path: string | undefined,
  api: Api,
  onChange: () => void,
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
    let wasLive = false;
    const close = openStream({
      path,
      key: api.key,
      onRefused: api.onRefused,
      onEvent: (event) => {
        if (acceptRef.current && !acceptRef.current(event)) return;
        clearTimeout(timer);
        timer = setTimeout(() => changeRef.current(), 250);
      },
      onState: (connected) => {
        setState(connected ? 'live' : 'reconnecting');
        // Events missed while down are replayed by Last-Event-ID; a reload catches anything older.
        if (connected && wasLive) changeRef.current();
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
