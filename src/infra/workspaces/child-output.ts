// What the workspace keeps of a program's output (`run` and `start` alike): stdout and stderr
// together, the last `capBytes` of it kept for the caller, and every whole line sent to the stage
// log as it comes. And how a program started in its own process group is signalled.
import type { ChildProcess } from 'node:child_process';

export interface ChildOutput {
  /** The kept output, as text. */
  text(): string;
  /** True when more came than the cap and the start was dropped. */
  truncated(): boolean;
  /** Logs the last line when it had no newline; call once the program has ended. */
  flush(): void;
}

export function captureOutput(child: ChildProcess, capBytes: number, log: (line: string) => void): ChildOutput {
  // The chunks as they came, oldest first, joined once when asked for: copying the kept bytes on
  // every chunk cost O(output x cap), minutes of a blocked event loop for a test printing 50 MB.
  const chunks: Buffer[] = [];
  let keptBytes = 0;
  let receivedBytes = 0;
  let pending = '';
  const take = (chunk: Buffer) => {
    chunks.push(chunk);
    keptBytes += chunk.length;
    receivedBytes += chunk.length;
    // Whole chunks that lie entirely before the last `capBytes` are dropped; text() cuts the rest.
    while (keptBytes - chunks[0]!.length >= capBytes) keptBytes -= chunks.shift()!.length;
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) log(line);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return {
    text: () => {
      const kept = Buffer.concat(chunks);
      return kept.subarray(Math.max(0, kept.length - capBytes)).toString('utf8');
    },
    truncated: () => receivedBytes > capBytes,
    flush: () => {
      if (pending) log(pending);
      pending = '';
    },
  };
}

/** Signals the child's whole process group (it was spawned `detached`): `npm start` and the node it started go together. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
