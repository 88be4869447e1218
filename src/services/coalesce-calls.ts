// Coalesces calls per key: callers that arrive before a pending call has *started* share its
// result. Safe for reads that must observe the callers' own earlier writes, since the shared
// call always starts after every caller that joined it.

/** Wraps `fn` so concurrent calls for one key within `windowMs` run it once. */
export function coalesceByKey<T>(fn: (key: string) => Promise<T>, windowMs: number): (key: string) => Promise<T> {
  const pending = new Map<string, Promise<T>>();
  return (key) => {
    const waiting = pending.get(key);
    if (waiting) return waiting;
    const call = new Promise<void>((resolve) => setTimeout(resolve, windowMs)).then(() => {
      // Leaves the map as it starts: later callers get a fresh call that starts after them.
      pending.delete(key);
      return fn(key);
    });
    pending.set(key, call);
    return call;
  };
}
