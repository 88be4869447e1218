// Shutdown steps run one after another; a failing step is reported and the rest still run
// (as BullMQ's Worker.close does), so one broken connection never leaks the others.

export type CloseStep = () => Promise<unknown>;

/** Awaits each step in turn; `onError` hears about each one that fails. */
export async function closeInOrder(steps: readonly CloseStep[], onError: (error: Error) => void): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
