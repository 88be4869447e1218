// The first hour on one machine, with real processes: two workers side by side (the second takes
// the next metrics port and says so), a worker flag typo answered in one line, Ctrl-C saying what
// it waits for, a second Ctrl-C stopping at once, a final "process stopped" line, and `npm start`
// (src/main.ts) in development: readable log lines, a try-it line that works when pasted into a
// shell, and one /metrics with the API's, the stages' and the process metrics.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startHarness, type Harness } from '../support/harness.js';
import { request, setDefaultKey, waitForPipeline, waitUntil } from '../support/http.js';
import { spawnWorker, startEntry, waitForOutput, type WorkerProcess } from '../support/processes.js';
import { freePort } from '../support/chaos/free-port.js';
import { REPEATED_SIGINT_MS } from '../../src/lifecycle/process.js';
import { SLOW_REQUEST_MS } from '../../src/http/middleware/request-id.js';

const run = promisify(execFile);

/** The JSON log lines of a process's output (test profile: LOG_FORMAT=json). */
function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function waitForLine(worker: WorkerProcess, message: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const line = jsonLines(worker.output()).find((l) => l.message === message);
    if (line) return line;
    if (worker.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no "${message}" line in:\n${worker.output()}`);
}

describe('the first hour (e2e, real processes)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await h.close();
  });

  it('two workers on one machine: the second takes the next free metrics port, each ready line names its /metrics, both answer', async () => {
    const port = await freePort();
    const env = { WORKER_METRICS_PORT: String(port), LOG_LEVEL: 'info' };
    const first = spawnWorker(h.config, ['--agents', 'noop', '--no-conductor'], env);
    const second = spawnWorker(h.config, ['--agents', 'noop', '--no-conductor'], env);
    try {
      const ready = await Promise.all([waitForLine(first, 'worker process ready'), waitForLine(second, 'worker process ready')]);
      const urls = ready.map((l) => l.metrics as string).sort();
      expect(urls[0]).to.equal(`http://127.0.0.1:${port}/metrics`);
      const other = Number(new URL(urls[1]!).port);
      expect(other)
        .to.be.above(port)
        .and.at.most(port + 9);
      for (const url of urls) {
        const res = await fetch(url);
        expect(res.status, url).to.equal(200);
        expect(await res.text()).to.include('agentic_stage_attempts_total');
      }
      const fellBack = jsonLines(first.output() + second.output()).find(
        (l) => l.message === 'worker metrics port in use: took the next free one',
      );
      expect(fellBack).to.include({ wanted: port, port: other });
      expect(first.output() + second.output()).not.to.include('EADDRINUSE');
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('a worker flag typo: exit 2 with one line naming the option and the one meant, no stack', async () => {
    const worker = spawnWorker(h.config, ['--agnts', 'validation']);
    const [code] = (await once(worker.child, 'exit')) as [number | null];
    expect(code, worker.output()).to.equal(2);
    expect(worker.output().trim()).to.equal(
      'npm run worker: unknown option --agnts (did you mean --agents?); npm run worker -- --help lists the options',
    );
  });

  it('Ctrl-C mid-stage says what the worker waits for and how long, lets the stage finish, and ends with "process stopped"', async () => {
    const worker = spawnWorker(h.config, ['--agents', 'sleep'], { SHUTDOWN_GRACE_MS: '20000', LOG_LEVEL: 'info' });
    try {
      await waitForLine(worker, 'worker process ready');
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'ctrl-c-once',
        stages: [{ key: 'nap', agent: 'sleep', input: { ms: 1500 }, retry: { attempts: 1 } }],
      });
      await waitUntil(h.baseUrl, created.body.id, (p) => p.stages[0].status === 'running', 60_000);

      worker.child.kill('SIGINT');
      const [code] = (await once(worker.child, 'exit')) as [number | null];

      expect(code, worker.output()).to.equal(0);
      const lines = jsonLines(worker.output());
      expect(lines.map((l) => l.message)).to.include(
        'SIGINT received: shutting down; waiting up to 20 s for 1 running stage (Ctrl-C again to stop now)',
      );
      expect(lines.at(-1)).to.include({ message: 'process stopped', exitCode: 0 });
      const runs = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${created.body.id}/runs`)).body.items;
      expect(runs.map((r: { status: string }) => r.status)).to.deep.equal(['succeeded']);
    } finally {
      await worker.stop('SIGKILL');
    }
  });

  it('a second Ctrl-C stops at once, exit 130, saying so, without waiting for the running stage or the grace period', async () => {
    const worker = spawnWorker(h.config, ['--agents', 'sleep'], { SHUTDOWN_GRACE_MS: '600000', LOG_LEVEL: 'info' });
    try {
      await waitForLine(worker, 'worker process ready');
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'ctrl-c-twice',
        stages: [{ key: 'nap', agent: 'sleep', input: { ms: 600_000 }, retry: { attempts: 1 } }],
      });
      await waitUntil(h.baseUrl, created.body.id, (p) => p.stages[0].status === 'running', 60_000);

      worker.child.kill('SIGINT');
      await waitForLine(worker, 'SIGINT received: shutting down; waiting up to 600 s for 1 running stage (Ctrl-C again to stop now)');
      // A repeat within REPEATED_SIGINT_MS is the same press passed on by npm or tsx: ignored.
      worker.child.kill('SIGINT');
      await waitForLine(worker, 'SIGINT repeated within 1 s: taken as the same Ctrl-C (npm passes it on too); Ctrl-C again to stop now');
      await new Promise((resolve) => setTimeout(resolve, REPEATED_SIGINT_MS));
      worker.child.kill('SIGINT');
      const [code] = (await once(worker.child, 'exit')) as [number | null];

      // A 600 s stage under a 600 s grace: only the forced stop ends the process within the test's timeout.
      expect(code, worker.output()).to.equal(130);
      const messages = jsonLines(worker.output()).map((l) => l.message);
      expect(messages).to.include(
        'SIGINT received again: stopping now without waiting; interrupted stages run again elsewhere once their lock lapses',
      );
      expect(jsonLines(worker.output()).at(-1)).to.include({ message: 'process stopped', exitCode: 130 });
      const stage = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${created.body.id}`)).body.stages[0];
      expect(stage.status, 'left running for the lock to lapse').to.equal('running');
      await request(h.baseUrl, 'POST', `/api/v1/pipelines/${created.body.id}/cancel`);
    } finally {
      await worker.stop('SIGKILL');
    }
  });

  describe('npm start in development (src/main.ts)', function () {
    // A whole platform boots (migrations, every agent's worker) before the first assertion.
    this.timeout(180_000);
    let dir: string;
    before(async () => {
      // A folder with a space and a quote, like a checkout under "My Projects": the pasted line must still work.
      dir = await mkdtemp(join(tmpdir(), "first hour's-"));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('readable lines, a plain try-it line that works pasted into bash, one /metrics with the stage metrics, and a final stopped line', async () => {
      const port = await freePort();
      const keyFile = join(dir, 'admin-key');
      const started = startEntry('src/main.ts', {
        NODE_ENV: 'development',
        DATABASE_URL: process.env.TEST_DATABASE_URL!,
        DEV_ADMIN_KEY_FILE: keyFile,
        PORT: String(port),
        HOST: '127.0.0.1',
        WORKSPACE_ROOT: join(dir, 'workspaces'),
        LOG_LEVEL: 'info',
      });
      try {
        await waitForOutput(started, /Try it \(copy the next line into a shell\):\n.*\n/);
        const output = started.output();
        // One line per event: time, level, message, key=value (no JSON in development).
        expect(output).to.match(/^\d\d:\d\d:\d\d\.\d{3} info {2}agentic-sdlc is up api=http:\/\/127\.0\.0\.1:\d+\/api\/v1 /m);
        expect(output).to.match(/^\d\d:\d\d:\d\d\.\d{3} info {2}worker process ready .*metrics="the API's \/metrics"/m);
        const tryIt = output.split('Try it (copy the next line into a shell):\n')[1]!.split('\n')[0]!;
        expect(tryIt).to.match(/^curl -s -X POST /);

        const { stdout } = await run('bash', ['-c', tryIt]);
        const submitted = JSON.parse(stdout) as { id: string; template: string };
        expect(submitted.template).to.equal('smoke');
        const key = (await readFile(keyFile, 'utf8')).trim();
        const base = `http://127.0.0.1:${port}`;
        const headers = { authorization: `Bearer ${key}` };
        setDefaultKey(base, key);
        expect((await waitForPipeline(base, submitted.id, 60_000)).status).to.equal('succeeded');

        const metrics = await (await fetch(`${base}/metrics`, { headers })).text();
        expect(metrics).to.match(/^agentic_stage_attempts_total\{agent="noop"/m);
        expect(metrics).to.match(/^agentic_pipelines_finished_total\{status="succeeded"\} \d/m);
        // Counted once, by the workers' registry, for the API's submissions too (one family in the merged scrape).
        expect(metrics.match(/^# TYPE agentic_pipelines_started_total /gm), 'pipelines started once').to.have.length(1);
        expect(metrics).to.match(/^agentic_pipelines_started_total [1-9]/m);
        expect(metrics).to.include('http_request_duration_seconds_bucket');
        expect(metrics.match(/^# TYPE process_cpu_user_seconds_total /gm), 'process metrics once').to.have.length(1);
        // Successful requests are logged at `http`, below the info level shown here; only a slow one
        // reaches info (a busy machine makes some), so each request line at info must be a slow one.
        const requestLines = started.output().split('\n');
        for (const line of requestLines.filter((l) => l.includes('request completed')))
          expect(Number(/ durationMs=([\d.]+)/.exec(line)?.[1]), line).to.be.at.least(SLOW_REQUEST_MS);

        started.kill('SIGINT');
        expect(await started.exited, started.output()).to.equal(0);
        const last = started.output().trim().split('\n').at(-1)!;
        expect(last).to.match(/^\d\d:\d\d:\d\d\.\d{3} info {2}process stopped exitCode=0 shutdownMs=\d+$/);
        expect(started.output()).to.include('SIGINT received: shutting down; waiting up to 30 s for');
      } finally {
        await started.stop();
      }
    });
  });
});
