// The deployment agent's port to long-lived processes: a release's service outlives the stage
// that starts it, which the workspace's run (it waits for exit) cannot give. Implemented in
// src/infra/workspaces/release-processes.ts; tests may pass their own.

/** A started release process. */
export interface ReleaseProcess {
  readonly pid: number;
  /** Stops the process and everything it started (SIGTERM, then SIGKILL); resolves once it is gone. Idempotent. */
  stop(): Promise<void>;
}

export interface ReleaseProcesses {
  /**
   * Starts `command` with `args` (no shell) in `cwd`, detached, with a minimal environment plus
   * `env`; resolves once it has started, without waiting for it to serve.
   */
  start(cwd: string, command: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<ReleaseProcess>;
  /** A TCP port on the loopback interface that is free now. */
  freePort(): Promise<number>;
}
