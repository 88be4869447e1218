// What every command's action gets: the API client (made from the global --server/--key at the
// moment it is first needed, so `keys` and `config` run without one), where to print, the
// terminal facts that choose between prompting and reading a pipe, and where the exit code goes.
import type { ApiClient } from './api-client.js';
import type { ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

export interface CliStdin extends NodeJS.ReadableStream {
  isTTY?: boolean;
}

export interface CommandContext {
  client(): ApiClient;
  output: Output;
  stdin: CliStdin;
  /** stdout is a terminal: `watch` redraws in place. */
  stdoutIsTty: boolean;
  /** The terminal's width, when stdout is one. */
  columns: number | undefined;
  /** Milliseconds between two reads of a pipeline that is being followed. */
  pollMs: number;
  /** How long watch waits out an unreachable API (SDLC_WATCH_RECONNECT_MS; default WATCH_RECONNECT_MS). */
  reconnectMs?: number;
  /** The process's exit code when the action returns (0 unless set). */
  exit(code: ExitCode): void;
}
