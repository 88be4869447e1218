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
  let kept = Buffer.alloc(0);
  let truncated = false;
  let pending = '';
  const take = (chunk: Buffer) => {
    kept = Buffer.concat([kept, chunk]);
    if (kept.length > capBytes) {
      kept = kept.subarray(kept.length - capBytes);
      truncated = true;
    }
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) log(line);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return {
    text: () => kept.toString('utf8'),
    truncated: () => truncated,
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
