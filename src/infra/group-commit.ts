// Group commit: calls that arrive while earlier ones are in flight are sent together as one
// statement (one round trip, one commit, one WAL flush) instead of one each. There is no timer:
// an item alone goes at once (after the current microtask, so calls made in one tick share a
// batch), and batches form only when `maxInFlight` are already running, that is under load, where
// they save the most. The same idea as Postgres' own commit_delay, on the client side.
//
// A batch that fails with an error one item may have caused (`itemError`: a value the statement
// refuses) is retried item by item, so the bad item fails alone and the others are recorded. Any
// other error (the database or Redis down or frozen) fails the whole batch at once, as each item
// would have failed alone, without a second wait.

export interface GroupCommitOptions<I, O> {
  /** Runs one batch; resolves with one result per item, in the items' order. */
  run(items: readonly I[]): Promise<readonly O[]>;
  /** Items with the same key never share a batch (a later one waits for the next batch). */
  key?: (item: I) => string;
  /** Most items per batch. */
  maxBatch: number;
  /** Most batches running at once (each holds one pooled connection). */
  maxInFlight: number;
  /** True for an error one item may have caused: the batch is then retried item by item (default: never). */
  itemError?: (error: unknown) => boolean;
}

export interface GroupCommit<I, O> {
  submit(item: I): Promise<O>;
}

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export function createGroupCommit<I, O>({
  run,
  key,
  maxBatch,
  maxInFlight,
  itemError = () => false,
}: GroupCommitOptions<I, O>): GroupCommit<I, O> {
  if (!(maxBatch >= 1 && maxInFlight >= 1)) throw new Error('group commit: maxBatch and maxInFlight must be at least 1');
  let queue: Pending<I, O>[] = [];
  let inFlight = 0;
  let scheduled = false;

  /** Takes up to maxBatch items from the queue, leaving a second item of a key for the next batch. */
  function take(): Pending<I, O>[] {
    if (!key) return queue.splice(0, maxBatch);
    const batch: Pending<I, O>[] = [];
    const later: Pending<I, O>[] = [];
    const keys = new Set<string>();
    for (const pending of queue) {
      const k = key(pending.item);
      if (batch.length < maxBatch && !keys.has(k)) {
        keys.add(k);
        batch.push(pending);
      } else later.push(pending);
    }
    queue = later;
    return batch;
  }

  async function settle(batch: readonly Pending<I, O>[]): Promise<void> {
    try {
      const results = await run(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1 || !itemError(error)) {
        for (const p of batch) p.reject(error);
        return;
      }
      // Item by item, so that only the item the statement refused fails.
      await Promise.all(batch.map((p) => settle([p])));
    }
  }

  function pump(): void {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = take();
      inFlight++;
      void settle(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(pump);
        }
      });
    },
  };
}
