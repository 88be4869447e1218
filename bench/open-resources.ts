// What the load and soak phases hold open (worker processes, the submitting API runtime), so
// that the bench's cleanup after an error or Ctrl-C, and a test's `after`, close what a phase
// could not, before the prefix's keys and the schema go. Each close is idempotent.
export interface Closable {
  close(): Promise<void>;
}

const open = new Set<Closable>();

/** Lists `resource` until it is closed through untrack() or closeEverythingOpen(). */
export function track<T extends Closable>(resource: T): T {
  open.add(resource);
  return resource;
}

export function untrack(resource: Closable): void {
  open.delete(resource);
}

/** Closes, newest first, everything still listed: worker processes before the API runtime that feeds them. */
export async function closeEverythingOpen(): Promise<void> {
  for (const resource of [...open].reverse()) {
    open.delete(resource);
    try {
      await resource.close();
    } catch (error) {
      console.error(`bench: closing a leftover resource failed: ${(error as Error).message}`);
    }
  }
}
