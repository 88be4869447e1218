// AgentWorkspace.run's output cap with a real program that prints more than the cap: the last
// `outputCapBytes` are kept exactly, and keeping them costs copies in proportion to the output,
// not output x cap (a test printing 50 MB held the worker's event loop for minutes).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { AgentWorkspace } from '../../src/agents/agent-workspace.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';

const MB = 1024 * 1024;

describe('local workspace: run keeps the end of a large output', () => {
  let root: string;
  let workspace: AgentWorkspace;
  let logged: number;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'workspace-output-cap-'));
    logged = 0;
    workspace = await createLocalWorkspace({ root, log: () => (logged += 1) });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('run: 8 MB of numbered lines under a 4 MB cap → the last 4 MB exactly, truncated, with Buffer copies under twice the output', async () => {
    // 8 MB of 64-byte lines "<7-digit number><56 x's>\n", written in one go so the pipe delivers many chunks.
    const script =
      "const n = 131072; const lines = []; for (let i = 0; i < n; i++) lines.push(String(i).padStart(7, '0') + 'x'.repeat(56)); process.stdout.write(lines.join('\\n') + '\\n');";
    const concat = Buffer.concat;
    let copiedBytes = 0;
    Buffer.concat = ((list: readonly Uint8Array[], totalLength?: number) => {
      const joined = concat(list, totalLength);
      copiedBytes += joined.length;
      return joined;
    }) as typeof Buffer.concat;
    let run;
    try {
      run = await workspace.run('node', ['-e', script], { outputCapBytes: 4 * MB });
    } finally {
      Buffer.concat = concat;
    }

    expect(run).to.include({ exitCode: 0, truncated: true });
    expect(Buffer.byteLength(run.output)).to.equal(4 * MB);
    const lines = run.output.split('\n');
    expect(lines.at(-1)).to.equal('');
    expect(lines.at(-2)).to.equal(`0131071${'x'.repeat(56)}`);
    expect(lines[0]).to.equal(`0065536${'x'.repeat(56)}`); // 4 MB = the last 65,536 lines of 64 bytes
    expect(logged).to.equal(131072 + 2); // every line, plus the command line and the exit line
    expect(copiedBytes).to.be.below(2 * 8 * MB);
  });
});
