// Every fenced block of README.md run exactly as printed (issue 15), against a platform this test
// starts with the README's own `npm start`, in development, from a folder of its own: the sh blocks
// of each `##` section share one shell session (a block's variables carry over to the next, as in
// one terminal) under `set -euo pipefail`; a JSON block marked as output is compared with what the
// block above printed; a pipeline definition is submitted and must succeed; the "Scaling out" lines
// run as processes of their own, side by side, until their ready line, then get Ctrl-C. A block
// that is not run says why in a marker comment; a block with neither fails, so no example can drift.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../support/chaos/free-port.js';
import { deleteKeys } from '../support/harness.js';
import { request, setDefaultKey, waitForPipeline } from '../support/http.js';
import { diffShownOutput, readFencedBlocks, type Block } from '../support/readme-blocks.js';
import { dropSchema, schemaUrl } from '../support/test-database.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** What the checkout lends the reader's folder: enough for npm, npx sdlc, the entries and their relative defaults. */
const LINKED = [
  'package.json',
  'node_modules',
  'src',
  'bin',
  'templates',
  'examples',
  'policies',
  'flags',
  'prisma',
  'prisma.config.ts',
  'tsconfig.json',
];

/** The Quick start's command that this test runs as the platform every other block talks to. */
const START = 'npm start';

/** How long one sh block may run before it counts as hung and is killed. */
const SHELL_BLOCK_BOUND_MS = 240_000;
/** A line that says an entry is up: all-in-one, API only, worker. */
const READY = /agentic-sdlc is up|api listening|worker process ready/;

const BLOCKS = readFencedBlocks(README);
const where = (b: Block) => `README.md:${b.line} (${b.section}, \`\`\`${b.lang})`;

/**
 * What some blocks must print besides running cleanly: the README's claims that a zero exit does
 * not prove (curl prints an error body and exits 0). Each names a command found in exactly one block.
 */
const PRINTS: Array<{ command: string; output: RegExp }> = [
  { command: 'curl -s $API/whoami', output: /"roles":\["admin"\]/ },
  { command: 'curl -s $API/pipelines | jq -r .error.code', output: /^AUTHENTICATION_REQUIRED$/m },
  { command: '-d \'{"template":"smoke","input":{"project":"demo"}}\'', output: /^\{"status":"succeeded","submitter":"dev-admin"/m },
  { command: '{"key":"nap","agent":"sleep"', output: /"status":"cancelled".*"STAGE_CANCELLED"[\s\S]*"PIPELINE_FINISHED"/ },
  { command: 'Idempotency-Key: deploy-', output: /Idempotent-Replayed: true/i },
  { command: 'cursor=$CURSOR', output: /"nextCursor":null/ },
  { command: '/decisions/$DEC/approve', output: /"status":"approved","resolvedBy":"reviewer"/ },
  { command: '$API/audit', output: /"action":"decision.approved"/ },
  { command: 'npx sdlc submit examples/diamond.yaml --wait', output: /diamond-example +succeeded/ },
  { command: 'keys create --name ci-bot', output: /The key is shown once/ },
  { command: 'npx sdlc answer "$Q"', output: /exit 3[\s\S]*answered +\(2 answer\(s\)\)[\s\S]*exit 3[\s\S]* approved /m },
  { command: 'npx sdlc health', output: /^workers online: /m },
];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  output: () => string;
  /** The exit code, or the signal that ended the process. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `bash -c <command>` in its own process group (a terminal's foreground job), in `cwd`. */
function startCommand(command: string, cwd: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, output: () => output, exited };
}

/** Signals the whole group, as Ctrl-C does to a terminal's foreground job. */
function signalGroup(running: Running, signal: NodeJS.Signals): void {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  try {
    process.kill(-running.child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Resolves with 'ready' once the output matches, or 'exited' when the process ends first. */
async function readyOrExit(running: Running, ready: RegExp, timeoutMs: number): Promise<'ready' | 'exited'> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ready.test(running.output())) return 'ready';
    const gone = await Promise.race([running.exited.then(() => true), new Promise((r) => setTimeout(r, 100)).then(() => false)]);
    if (gone) return ready.test(running.output()) ? 'ready' : 'exited';
    if (Date.now() > deadline) throw new Error(`no ${ready} within ${timeoutMs} ms in:\n${running.output()}`);
  }
}

describe('README examples, run as printed (e2e, npm start, bash, npx sdlc)', function () {
  // A platform boots on a fresh schema (migrations, every agent's worker) before the first block.
  this.timeout(180_000);

  let dir: string;
  let port: number;
  let base: string;
  let env: NodeJS.ProcessEnv;
  let platform: Running | undefined;
  const prefix = `{readme-${randomBytes(4).toString('hex')}}`;
  // A database of its own, as a newcomer's: the blocks name keys (reviewer, alice, ci-bot) and
  // count pipelines, which other tests of the run's shared schema would collide with.
  const schema = `readme_${process.pid}_${randomBytes(3).toString('hex')}`;
  const started: Running[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'readme-examples-'));
    // The reader's folder: the checkout's files by symlink, and its own .agentic-sdlc/ (the admin
    // key, workspaces), so the developer's own key file in the checkout is never touched.
    for (const name of LINKED) await symlink(join(ROOT, name), join(dir, name));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { ...process.env };
    // A newcomer's defaults: nothing of the developer's or of an outer npm reaches the reader's
    // shell (no other API or key, no npm config naming the checkout as the project, no log
    // settings), and the rate limits the test run turns off are on again, as they would be.
    for (const name of Object.keys(env)) if (/^(npm_|RATE_LIMIT_)/i.test(name)) delete env[name];
    for (const name of [
      'SDLC_API_URL',
      'API_URL',
      'SDLC_API_KEY',
      'DEV_ADMIN_KEY_FILE',
      'WORKSPACE_ROOT',
      'RELEASES_ROOT',
      'INIT_CWD',
      'LOG_LEVEL',
      'LOG_FORMAT',
      'HOST',
    ])
      delete env[name];
    Object.assign(env, {
      NODE_ENV: 'development',
      PORT: String(port),
      DATABASE_URL: schemaUrl(schema),
      QUEUE_PREFIX: prefix,
      // npm start opens no worker port; `npm run worker` lines get their own below.
      WORKER_METRICS_PORT: '0',
      // The pre-scripts (prisma generate, the dashboard build) rewrite src/generated and
      // dashboard/dist in the shared checkout, which other test processes are loading; the run
      // built both already. npm still runs each named script itself.
      npm_config_ignore_scripts: 'true',
      npm_config_update_notifier: 'false',
      CHECKPOINT_DISABLE: '1',
      // watch and --wait read the pipeline 4× a second instead of once: the same lines, sooner.
      SDLC_POLL_MS: '250',
    });
    const quickStart = BLOCKS.find((b) => b.section === 'Quick start');
    if (!quickStart?.text.includes(START)) throw new Error(`the Quick start no longer shows \`${START}\``);
    platform = startCommand(START, dir, env);
    started.push(platform);
    if ((await readyOrExit(platform, /Try it \(copy the next line into a shell\):\n.*\n/, 150_000)) !== 'ready')
      throw new Error(`${START} exited before it was up:\n${platform.output()}`);
    setDefaultKey(base, (await readFile(join(dir, '.agentic-sdlc', 'admin-key'), 'utf8')).trim());
  });

  after(async function () {
    this.timeout(60_000);
    for (const running of started.reverse()) signalGroup(running, 'SIGINT');
    await Promise.all(
      started.map(async (running) => {
        const timer = setTimeout(() => signalGroup(running, 'SIGKILL'), 40_000);
        await running.exited;
        clearTimeout(timer);
      }),
    );
    setDefaultKey(base, undefined);
    await deleteKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
    await dropSchema(schema);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every fenced block is run, compared with what its command printed, or marked not run with a reason', () => {
    const unmarked = BLOCKS.filter((b) => b.kind === 'unmarked');
    expect(
      unmarked.map((b) => `${where(b)}${b.marker ? ` <!-- readme-examples: ${b.marker} -->` : ''}`),
      'neither run nor excluded',
    ).to.deep.equal([]);
    for (const [i, block] of BLOCKS.entries()) {
      if (block.kind === 'output') expect(BLOCKS[i - 1]?.kind, `${where(block)} follows no sh block`).to.equal('shell');
    }
    // A parser that found nothing would pass the rest: the README has many examples.
    expect(BLOCKS.filter((b) => b.kind === 'shell').length).to.be.at.least(10);
    expect(BLOCKS.filter((b) => b.kind === 'excluded').length, 'few exclusions').to.be.at.most(3);
    for (const { command } of PRINTS) {
      const holding = BLOCKS.filter((b) => b.kind === 'shell' && b.text.includes(command));
      expect(holding.map(where), `blocks with ${command}`).to.have.length(1);
    }
  });

  it(`${START} (Quick start): the ready line gives the API, the admin key file in the reader's folder and the addresses; a plain Try it line follows`, () => {
    const output = platform!.output();
    const up = output.split('\n').find((l) => l.includes('agentic-sdlc is up'));
    expect(up, output).to.be.a('string');
    expect(up).to.include(`api=${base}/api/v1`);
    expect(up).to.include(`adminKeyFile=${join(dir, '.agentic-sdlc', 'admin-key')}`);
    for (const field of ['bullBoard=', 'health=', 'metrics=']) expect(up).to.include(field);
    const tryIt = output.split('Try it (copy the next line into a shell):\n')[1]!.split('\n')[0]!;
    expect(tryIt).to.match(/^curl -s -X POST .*Authorization: Bearer \$\(cat .*admin-key\).*"template":"smoke"/);
  });

  const sections = [...new Set(BLOCKS.map((b) => b.section))];
  for (const section of sections) {
    const blocks = BLOCKS.filter((b) => b.section === section);
    const shell = blocks.filter((b) => b.kind === 'shell');
    if (shell.length > 0) {
      it(`"${section}": its ${shell.length} sh block(s) run in order in one shell session and print what the README shows`, async function () {
        // Each block is bounded on its own (below); the section's blocks together get twice that.
        this.timeout(2 * SHELL_BLOCK_BOUND_MS);
        const state = join(dir, `.session-${sections.indexOf(section)}.sh`);
        let previous: Ran | undefined;
        for (const block of blocks) {
          if (block.kind === 'shell') previous = await runShellBlock(block, state);
          else if (block.kind === 'output') expectShownOutput(block, previous!);
        }
      });
    }
    for (const block of blocks.filter((b) => b.kind === 'processes')) {
      it(`"${section}": each line of ${where(block)} runs as its own process; two workers share the machine; Ctrl-C stops each cleanly`, async function () {
        this.timeout(150_000);
        await runProcesses(block);
      });
    }
    for (const block of blocks.filter((b) => b.kind === 'pipeline')) {
      it(`"${section}": the definition at ${where(block)}, submitted as printed, is accepted and succeeds`, async () => {
        const definition = parseYaml(block.text) as Record<string, unknown>;
        const created = await request(base, 'POST', '/api/v1/pipelines', definition);
        expect(created.status, JSON.stringify(created.body)).to.equal(202);
        const done = await waitForPipeline(base, created.body.id, 60_000);
        expect(done.status, JSON.stringify(done.stages)).to.equal('succeeded');
      });
    }
  }

  /**
   * Runs one block with bash under `set -euo pipefail`, after the variables and functions the
   * section's earlier blocks left (kept in `state`), and saves its own for the next block.
   */
  async function runShellBlock(block: Block, state: string): Promise<Ran> {
    const script = [
      '__readme_known=$(compgen -v)',
      `if [ -f '${state}' ]; then source '${state}'; fi`,
      'set -euo pipefail',
      block.text,
      'set +euo pipefail',
      // Only the names this block or the earlier ones made: the environment and bash's own stay out.
      `__readme_new=$(comm -13 <(printf '%s\\n' "$__readme_known" | sort) <(compgen -v | sort) | grep -Ev '^(__readme_.*|BASH_.*|FUNCNAME|PIPESTATUS|_|COPROC.*|OPTARG|REPLY|MAPFILE)$')`,
      `{ if [ -n "$__readme_new" ]; then declare -p $__readme_new; fi; declare -f; } > '${state}'`,
      '',
    ].join('\n');
    const file = join(dir, `.block-${block.line}.sh`);
    await writeFile(file, script);
    const child = spawn('bash', [file], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // A hung command (a wait loop that never ends) fails with what it printed, not the suite's
    // timeout. The bound is for a hang, not for speed: "The CLI" block starts npx sdlc 14 times
    // (75 s on a quiet CI, past 120 s with the machine's two cores shared).
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), SHELL_BLOCK_BOUND_MS);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    const ran = { code, stdout, stderr };
    const how = code === null ? `killed after ${SHELL_BLOCK_BOUND_MS / 1000} s` : `exit ${code}`;
    expect(code, `${where(block)} failed (${how}):\n${block.text}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`).to.equal(0);
    for (const { command, output } of PRINTS.filter((p) => block.text.includes(p.command))) {
      expect(stdout, `${where(block)}: the output of the block with ${command}\n--- stderr\n${stderr}`).to.match(output);
    }
    return ran;
  }

  /** A JSON block shown as the output of the block above: equal to what it printed, "…" matching any text. */
  function expectShownOutput(block: Block, ran: Ran): void {
    const shown = JSON.parse(block.text) as unknown;
    const actual = JSON.parse(ran.stdout) as unknown;
    expect(diffShownOutput(shown, actual), `${where(block)} against what the block above printed:\n${ran.stdout}`).to.deep.equal([]);
  }

  /**
   * Each line as a terminal of its own would run it: a one-shot must exit 0, a server must print
   * its ready line (and keeps running beside the next lines). Then Ctrl-C each server.
   */
  async function runProcesses(block: Block): Promise<void> {
    const metricsPort = await freePort();
    // Its own API port beside the platform; every worker is given the same metrics port, as two
    // workers on one machine get the default one.
    const processEnv = { ...env, PORT: String(await freePort()), WORKER_METRICS_PORT: String(metricsPort) };
    const lines = block.text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const servers: Array<{ line: string; running: Running }> = [];
    for (const line of lines) {
      const running = startCommand(line, dir, processEnv);
      started.push(running);
      const outcome = await readyOrExit(running, READY, 90_000);
      if (outcome === 'exited') expect((await running.exited).code, `${line}:\n${running.output()}`).to.equal(0);
      else servers.push({ line, running });
    }

    const workers = servers.filter((s) => s.line.includes('npm run worker'));
    expect(workers.length, 'the example runs two workers on one machine').to.be.at.least(2);
    const urls = workers.map((w) => /worker process ready .*metrics=(http:\/\/127\.0\.0\.1:(\d+)\/metrics)/.exec(w.running.output()));
    for (const [i, url] of urls.entries()) expect(url, workers[i]!.running.output()).to.not.equal(null);
    const ports = urls.map((u) => Number(u![2]));
    expect(new Set(ports).size, `each worker its own metrics port: ${ports.join(', ')}`).to.equal(ports.length);
    for (const p of ports) expect(p).to.be.within(metricsPort, metricsPort + 9);
    for (const url of urls) expect((await fetch(url![1]!)).status, url![1]).to.equal(200);
    const all = servers.map((s) => s.running.output()).join('\n');
    expect(all).to.not.include('EADDRINUSE');
    const api = servers.find((s) => s.line.includes('npm run api'));
    expect(api, 'the API line').to.not.equal(undefined);
    expect((await fetch(`http://127.0.0.1:${processEnv.PORT}/health`)).status).to.equal(200);

    for (const { line, running } of servers.reverse()) {
      signalGroup(running, 'SIGINT');
      const { code, signal } = await running.exited;
      // After a Ctrl-C npm waits for its script, then ends itself with the same signal, even when
      // the script stopped cleanly: the process's own last line says how it ended.
      expect(code === 0 || signal === 'SIGINT', `${line}: exit ${code}, signal ${signal}\n${running.output()}`).to.equal(true);
      expect(running.output().trim().split('\n').at(-1), `${line}\n${running.output()}`).to.match(
        / info {2}process stopped exitCode=0 shutdownMs=\d+$/,
      );
    }
  }
});
