// A worker killed while a program of a stage runs in the pipeline's workspace: the program runs in
// a process group of its own, so it outlives the worker. A real worker process (a child running
// the local workspace under tsx) starts a program that never ends and is SIGKILLed; the next
// acquisition of the workspace, or its removal by retention, kills that program. A program of a
// worker that is still alive is left alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { createLocalWorkspaceProvider } from '../../src/infra/workspaces/local-workspace-provider.js';
import { processesFolder } from '../../src/infra/workspaces/workspace-processes.js';

/** Runs in the "worker": acquires the pipeline's workspace and runs a program that never ends, printing its pid. */
const WORKER_SCRIPT = `
import { createLocalWorkspaceProvider } from ${JSON.stringify(resolve('src/infra/workspaces/local-workspace-provider.ts'))};
const [root, pipelineId] = process.argv.slice(2);
const provider = createLocalWorkspaceProvider({ root, repositoryAllow: ['*'] });
const workspace = await provider.acquire({ pipelineId, log: () => undefined, signal: new AbortController().signal });
await workspace.run('node', ['-e', 'console.log("hanging", process.pid); setInterval(() => {}, 1000)'], { timeoutMs: 3_600_000 });
`;

/** Starts the worker and resolves with it and the pid of the program it left running. */
async function workerRunningAProgram(script: string, root: string, pipelineId: string): Promise<{ worker: ChildProcess; program: number }> {
  const worker = spawn(process.execPath, ['--import', 'tsx', script, root, pipelineId], { stdio: ['ignore', 'pipe', 'inherit'] });
  // The program's output goes to the stage log, not the worker's stdout: its pid comes from /proc.
  const program = await new Promise<number>((done, fail) => {
    worker.once('exit', (code) => fail(new Error(`worker exited ${code}`)));
    const look = setInterval(() => {
      const found = worker.pid ? findProgram(worker.pid) : undefined;
      // The worker records the program's group right after the spawn returns, which can be after
      // the program shows in /proc: a kill before the record would leave nothing to reap (on a
      // loaded CI the retention case failed so).
      if (found && existsSync(join(processesFolder(join(root, pipelineId)), String(found)))) {
        clearInterval(look);
        done(found);
      }
    }, 100);
  });
  return { worker, program };
}

/** The pid of the worker's child that runs the hanging program (not tsx's esbuild), from /proc. */
function findProgram(workerPid: number): number | undefined {
  for (const task of readdirSync(`/proc/${workerPid}/task`)) {
    const children = readFileSync(`/proc/${workerPid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    const program = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('setInterval'));
    if (program) return Number(program);
  }
  return undefined;
}

/** True while `pid` runs (a zombie, killed and not yet reaped, does not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits for `pid` to stop running (a SIGKILL is delivered asynchronously); false when it still runs after 10 s. */
async function stops(pid: number): Promise<boolean> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (!running(pid)) return true;
    await delay(50);
  }
  return !running(pid);
}

async function kill(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  worker.kill('SIGKILL');
  await once(worker, 'exit');
}

describe('local workspace: programs a killed worker left running', () => {
  let dir: string;
  let root: string;
  let script: string;
  const survivors: number[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'workspace-orphans-'));
    root = join(dir, 'root');
    script = join(dir, 'worker.mts');
    writeFileSync(script, WORKER_SCRIPT);
  });
  afterEach(() => {
    for (const pid of survivors.splice(0)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('acquire: the program of a SIGKILLed worker is killed, the stage log says so; a live worker keeps its program', async () => {
    const pipelineId = randomUUID();
    const { worker, program } = await workerRunningAProgram(script, root, pipelineId);
    survivors.push(program);
    const live = await workerRunningAProgram(script, root, pipelineId);
    survivors.push(live.program);
    try {
      await kill(worker);
      expect(running(program), 'the program outlived its worker').to.equal(true);

      const lines: string[] = [];
      const provider = createLocalWorkspaceProvider({ root, repositoryAllow: ['*'] });
      await provider.acquire({ pipelineId, log: (line) => lines.push(line), signal: new AbortController().signal });

      expect(await stops(program), 'the orphaned program').to.equal(true);
      expect(lines.join('\n')).to.contain(`killed process group ${program}, left running by worker process ${worker.pid}`);
      expect(running(live.program), "the live worker's program").to.equal(true);
    } finally {
      await kill(live.worker);
    }
  });

  it('exclusive("processes") is an ordinary lock while a program runs: the records cannot collide with a lock name', async () => {
    const workspaceRoot = join(dir, 'ws');
    mkdirSync(workspaceRoot);
    const workspace = await createLocalWorkspace({ root: workspaceRoot });
    // The program writes its pid once it runs, which is after its group was recorded.
    const program = workspace.run('node', ['-e', "require('fs').writeFileSync('pid', String(process.pid)); setInterval(() => {}, 1000)"]);
    while (!existsSync(join(workspaceRoot, 'pid'))) await delay(20);
    const pid = Number(readFileSync(join(workspaceRoot, 'pid'), 'utf8'));
    try {
      expect(await workspace.exclusive('processes', async () => 'taken')).to.equal('taken');
    } finally {
      process.kill(-pid, 'SIGKILL');
      await program;
    }
  });

  it('a program that ended leaves no record behind: no <workspace>.locks folder beside a workspace that only ran programs', async () => {
    const workspaceRoot = join(dir, 'ws');
    mkdirSync(workspaceRoot);
    const workspace = await createLocalWorkspace({ root: workspaceRoot });

    const run = await workspace.run('node', ['-e', '0']);
    const started = await workspace.start('node', ['-e', '0']);
    await started.exited;
    await started.stop();

    expect(run.exitCode).to.equal(0);
    expect(existsSync(`${workspaceRoot}.locks`)).to.equal(false);
  });

  it('remove (retention): the program of a SIGKILLed worker is killed with its workspace', async () => {
    const pipelineId = randomUUID();
    const { worker, program } = await workerRunningAProgram(script, root, pipelineId);
    survivors.push(program);
    await kill(worker);
    expect(running(program), 'the program outlived its worker').to.equal(true);

    await createLocalWorkspaceProvider({ root, repositoryAllow: ['*'] }).remove(pipelineId);

    expect(await stops(program)).to.equal(true);
  });
});
