// The SDK's port to a pipeline's workspace: the folder its stages share (a clone of
// `input.repository`, or empty for an agent that creates the project) and the only way an agent
// runs a tool. Tools are programs with argument arrays, never shell strings, so nothing from a
// stage's input is ever parsed by a shell. Implemented in src/infra/workspaces/.

/** How one program run ended, with its combined stdout and stderr (capped). */
export interface ToolRun {
  command: string;
  args: readonly string[];
  /** The working directory, relative to the workspace root ('' for the root). */
  cwd: string;
  /** null when the program was killed (timeout, abort) or could not start. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The timeout it ran under: the one asked for, or less when the stage's deadline left less (null: a started program without one). */
  timeoutMs: number | null;
  /** True when the stage's deadline (`ctx.deadline`) cut the timeout asked for. */
  cutByDeadline: boolean;
  durationMs: number;
  /** stdout and stderr interleaved as they came, cut to `outputCapBytes` (the end is kept). */
  output: string;
  /** True when `output` was cut. */
  truncated: boolean;
}

export interface ToolOptions {
  /** A folder relative to the workspace root (default the root); one resolving outside is refused. */
  cwd?: string;
  /**
   * Killed (SIGTERM, then SIGKILL 2 s later) after this long; default 10 minutes. Bounded by the
   * stage's deadline (less a few seconds), so the program times out before the stage does.
   */
  timeoutMs?: number;
  /**
   * Extra environment variables. The child gets only PATH, HOME, LANG, TERM, TMPDIR, CI=true and
   * these: the worker's own environment (its secrets) is never inherited.
   */
  env?: Readonly<Record<string, string>>;
  /** Kept bytes of combined output (default 256 KiB); the whole output still goes to the stage log. */
  outputCapBytes?: number;
  /** Written to the program's stdin, then closed (default: stdin closed at once). */
  stdin?: string;
}

/** Options of `start`: those of `run` but stdin (a background program gets none). */
export interface StartOptions extends Omit<ToolOptions, 'stdin' | 'timeoutMs'> {
  /** Stopped (like `stop()`) after this long; default: runs until stopped or the stage's signal aborts. */
  timeoutMs?: number;
}

/** A program `start` left running in the background. */
export interface StartedProcess {
  readonly pid: number;
  /**
   * Stops it and everything it started (its process group: SIGTERM, then SIGKILL 2 s later);
   * resolves once it has exited. Idempotent; resolves at once when it had already exited.
   */
  stop(): Promise<void>;
  /** Resolves when it exits, however (never rejects); `output` is its combined output, capped. */
  readonly exited: Promise<ToolRun>;
}

export interface AgentWorkspace {
  /** The absolute path of the pipeline's workspace; it exists. */
  readonly root: string;
  /**
   * The absolute path of `relative` inside the workspace, symlinks resolved as far as they exist.
   * Throws UnrecoverableStageError WORKSPACE_PATH_ESCAPE when it resolves outside the root.
   */
  resolve(relative: string): Promise<string>;
  /**
   * Runs `command` with `args` (no shell) in the workspace; its output goes to the stage log as
   * well. Resolves with how it ended, whatever the exit code; rejects only when the stage's signal
   * aborted it (with the signal's reason).
   */
  run(command: string, args: readonly string[], options?: ToolOptions): Promise<ToolRun>;
  /**
   * Starts `command` with `args` (no shell) in the workspace and returns once it runs, without
   * waiting for it to exit: for a service a stage must talk to. Same environment and path rules as
   * `run`; its output goes to the stage log. It is stopped when the stage's signal aborts; the
   * caller stops it otherwise (in a `finally`). Rejects when the program cannot start.
   */
  start(command: string, args: readonly string[], options?: StartOptions): Promise<StartedProcess>;
  /** Appends a line to the stage's log (kept as the stage's log artifact). */
  log(line: string): void;
  /**
   * Runs `fn` while holding the workspace's lock `name` (letters, digits, - and _), so stages
   * running side by side on one workspace (validation ∥ e2e_test) do not install or build at once.
   * Held across processes of one machine; a lock whose holder died is taken over.
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** How a run ended, for a message (one wording: src/domain/run-ending.ts). */
export { describeEnding } from '../domain/run-ending.js';
