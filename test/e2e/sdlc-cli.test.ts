// The `sdlc` CLI as a real process (bin/sdlc.js under tsx) against a running API: each command,
// its exit codes (0 done, 1 failed, 2 usage, 3 waiting for a person, 4 unreachable or not
// authenticated), --json parsed, --help, an unknown command, where the server and the key come
// from, and a clarification answered through piped stdin.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { startHarness, type Harness } from '../support/harness.js';
import { waitUntil, type Loose } from '../support/http.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Asks two questions at once on its first run; then returns the answers it was given. */
const askTwoAgent = defineAgent({
  type: 'ask_two',
  version: '1.0.0',
  input: z
    .object({ clarifications: z.array(z.object({ answers: z.array(z.object({ answer: z.string() }).loose()) }).loose()).optional() })
    .loose(),
  output: z.object({ answers: z.array(z.string()) }),
  handler: async ({ input, requestClarification }) => {
    const rounds = input.clarifications ?? [];
    if (rounds.length === 0) requestClarification(['Which region?', 'Which instance size?']);
    return { answers: rounds[0]!.answers.map((a) => a.answer) };
  },
});

/** A port nothing listens on: taken from the OS, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const deployPipeline = (name: string) => ({ name, stages: [{ key: 'deploy', agent: 'sim_deployment' }] });

describe('sdlc CLI (e2e)', function () {
  this.timeout(60_000);
  let h: Harness;
  let manager: { key: string; id: string };
  let dir: string;

  /** Runs `node bin/sdlc.js …` with the harness API and admin key unless `env` says otherwise. */
  const cliEnv = (env: Record<string, string | undefined>): Record<string, string> => {
    const base: Record<string, string | undefined> = {
      ...process.env,
      API_URL: undefined,
      PORT: undefined,
      SDLC_API_URL: h.baseUrl,
      SDLC_API_KEY: h.adminKey,
      DEV_ADMIN_KEY_FILE: join(dir, 'no-such-key-file'),
      SDLC_POLL_MS: '200',
    };
    return Object.fromEntries(Object.entries({ ...base, ...env }).filter((e): e is [string, string] => e[1] !== undefined));
  };
  /**
   * Runs the CLI on a pseudo-terminal (util-linux `script`), so stdin and stdout are TTYs; each
   * `[pattern, reply]` types the reply (or calls it) once the output (stdout and stderr together) matches.
   */
  const sdlcOnTerminal = (
    args: string[],
    replies: Array<[RegExp, string | (() => void)]> = [],
  ): Promise<{ code: number | null; output: string }> => {
    const command = ['node', 'bin/sdlc.js', ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: cliEnv({ TERM: 'xterm' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const pending = [...replies];
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      while (pending.length > 0 && pending[0]![0].test(output)) {
        const reply = pending.shift()![1];
        if (typeof reply === 'string') child.stdin.write(reply);
        else reply();
      }
    });
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
  };
  const sdlc = (
    args: string[],
    { env = {}, stdin = '' }: { env?: Record<string, string | undefined>; stdin?: string } = {},
  ): Promise<Ran> => {
    const child = spawn(process.execPath, ['bin/sdlc.js', ...args], { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(stdin);
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  };
  const json = (ran: Ran): Loose => {
    expect(ran.code, ran.stderr).to.be.oneOf([0, 1, 3]);
    return JSON.parse(ran.stdout) as Loose;
  };
  const definitionFile = (name: string, definition: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, typeof definition === 'string' ? definition : JSON.stringify(definition));
    return file;
  };
  const pendingDecision = async (pipelineId: string): Promise<string> => {
    const listed = json(await sdlc(['decisions', '--pipeline', pipelineId, '--status', 'pending', '--json']));
    expect(listed.items).to.have.length(1);
    return listed.items[0].id as string;
  };

  before(async () => {
    h = await startHarness({ agents: [askTwoAgent] });
    manager = await h.createKey('cli-manager', ['approver', 'engineering_manager']);
    dir = mkdtempSync(join(tmpdir(), 'sdlc-cli-'));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('usage', () => {
    it('--help at the top lists the commands and the exit codes, exit 0; every command has its own --help', async () => {
      const [top, submit, keys] = await Promise.all([sdlc(['--help']), sdlc(['submit', '--help']), sdlc(['keys', 'create', '--help'])]);

      expect(top.code).to.equal(0);
      for (const command of [
        'submit',
        'status',
        'watch',
        'list',
        'cancel',
        'pause',
        'resume',
        'decisions',
        'approve',
        'reject',
        'questions',
        'answer',
      ])
        expect(top.stdout).to.match(new RegExp(`^  ${command}\\b`, 'm'));
      for (const command of ['dlq', 'replay', 'keys', 'health', 'templates', 'agents', 'whoami', 'config'])
        expect(top.stdout).to.match(new RegExp(`^  ${command}\\b`, 'm'));
      expect(top.stdout).to.include('3 waiting for a person');
      expect(submit.code).to.equal(0);
      expect(submit.stdout).to.include('Usage: sdlc submit [options] [file]');
      expect(submit.stdout).to.include('--until-human');
      expect(submit.stdout).to.include('--server <url>');
      expect(keys.code).to.equal(0);
      expect(keys.stdout).to.include('--role <role>');
    });

    it('an unknown command, an unknown option or a missing argument: one line and the usage hint on stderr, exit 2, no stack', async () => {
      const [command, option, missing, badValue] = await Promise.all([
        sdlc(['frobnicate']),
        sdlc(['list', '--bogus']),
        sdlc(['reject', 'DEC-2026-00001']),
        sdlc(['list', '--limit', '500']),
      ]);

      expect(command).to.deep.include({ code: 2, stdout: '' });
      expect(command.stderr).to.equal("error: unknown command 'frobnicate'\n(sdlc --help for usage)\n");
      expect(option.code).to.equal(2);
      expect(option.stderr).to.equal("error: unknown option '--bogus'\n(sdlc --help for usage)\n");
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.include("error: required option '--comment <text>' not specified");
      expect(badValue.code).to.equal(2);
      expect(badValue.stderr).to.include("'--limit <n>' argument '500' is invalid");
      for (const ran of [command, option, missing, badValue]) expect(ran.stderr).not.to.match(/\n\s+at /);
    });

    it('a reader that closes the pipe early (`sdlc --help | head -1`, `sdlc watch … | head`): exit 0, nothing on stderr, no EPIPE stack', async () => {
      // Arrange: a pipeline that runs for a minute, so `watch` would follow it for that long.
      const sleeper = await fetch(`${h.baseUrl}/api/v1/pipelines`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'epipe', stages: [{ key: 'nap', agent: 'sleep', input: { ms: 60_000 } }] }),
      });
      const id = ((await sleeper.json()) as Loose).id as string;
      /** Runs the CLI with stdout's read end closed before it writes: its first write gets EPIPE. */
      const closedReader = (args: string[]): Promise<Ran> => {
        const child = spawn(process.execPath, ['bin/sdlc.js', ...args], { env: cliEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.destroy();
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: '', stderr })));
      };

      // Act
      const [help, watch] = await Promise.all([closedReader(['--help']), closedReader(['watch', id])]);
      await fetch(`${h.baseUrl}/api/v1/pipelines/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${h.adminKey}` } });

      // Assert: before, an unhandled 'error' event (write EPIPE) and its stack, exit 1; watch the same.
      expect(help).to.deep.equal({ code: 0, stdout: '', stderr: '' });
      expect(watch).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    });
  });

  describe('server and key', () => {
    it('PORT alone finds a local API; the development key file is read when no key is given', async () => {
      const keyFile = join(dir, 'admin-key');
      writeFileSync(keyFile, `${h.adminKey}\n`);
      const port = new URL(h.baseUrl).port;

      const me = await sdlc(['whoami'], {
        env: { SDLC_API_URL: undefined, PORT: port, SDLC_API_KEY: undefined, DEV_ADMIN_KEY_FILE: keyFile },
      });

      expect(me.code, me.stderr).to.equal(0);
      expect(me.stdout.trim()).to.match(/^admin\S* {2}\(user, via api_key\) {2}roles: admin$/);
    });

    it('--server and --key win over the environment; whoami --json is the API document', async () => {
      const me = json(
        await sdlc(['whoami', '--json', '--server', h.baseUrl, '--key', manager.key], { env: { SDLC_API_URL: 'http://127.0.0.1:1' } }),
      );

      expect(me).to.deep.include({ id: manager.id, via: 'api_key', roles: ['approver', 'engineering_manager'] });
    });

    it('exit 4 without a key, with a refused key, or with no server; exit 1 with the API error for a role that is not enough', async () => {
      const viewer = await h.createKey('cli-viewer', ['viewer']);

      const closed = await closedPort();
      const [keyless, wrong, nobody, forbidden] = await Promise.all([
        sdlc(['list'], { env: { SDLC_API_KEY: '' } }),
        sdlc(['list'], { env: { SDLC_API_KEY: 'sdlc_not-a-real-key' } }),
        sdlc(['list'], { env: { SDLC_API_URL: `http://127.0.0.1:${closed}` } }),
        sdlc(['dlq'], { env: { SDLC_API_KEY: viewer.key } }),
      ]);

      expect(keyless.code).to.equal(4);
      expect(keyless.stderr).to.include('no API key: pass --key, set SDLC_API_KEY');
      expect(wrong.code).to.equal(4);
      expect(wrong.stderr).to.match(/^error: not authenticated \(key from SDLC_API_KEY\): [A-Z_]+: /);
      expect(nobody.code).to.equal(4);
      expect(nobody.stderr).to.include(`cannot reach the API at http://127.0.0.1:${closed}: ECONNREFUSED`);
      expect(forbidden.code).to.equal(1);
      expect(forbidden.stderr).to.match(/^error: FORBIDDEN: /);
    });
  });

  describe('pipelines', () => {
    it('submit <file.yaml> --wait: one line per change, the final table, exit 0; status and status --json agree', async () => {
      const file = definitionFile(
        'two.yaml',
        'name: cli-two\nstages:\n  - key: first\n    agent: noop\n  - key: second\n    agent: noop\n    dependsOn: [first]\n',
      );

      const ran = await sdlc(['submit', file, '--wait']);
      const id = /^submitted ([0-9a-f-]{36}) {2}cli-two$/m.exec(ran.stdout)?.[1];
      const status = await sdlc(['status', id!]);
      const document = json(await sdlc(['status', id!, '--json']));

      expect(ran.code, ran.stderr).to.equal(0);
      expect(ran.stdout).to.match(/^\d\d:\d\d:\d\d {2}second {2}succeeded$/m);
      expect(ran.stdout).to.match(/^\d\d:\d\d:\d\d {2}pipeline cli-two {2}succeeded$/m);
      expect(status.code).to.equal(0);
      expect(status.stdout).to.match(new RegExp(`^${id} {2}cli-two {2}succeeded`, 'm'));
      expect(status.stdout).to.match(/^STAGE +AGENT +STATUS +ATTEMPTS +DURATION +NOTE$/m);
      expect(status.stdout).to.match(/^second +noop +succeeded +1 +/m);
      expect(document).to.include({ id, name: 'cli-two', status: 'succeeded' });
      expect(document.stages.map((s: Loose) => s.key)).to.deep.equal(['first', 'second']);
    });

    it('submit --template with --set and --input, --wait --json: the final pipeline as one JSON document, exit 0', async () => {
      const ran = await sdlc([
        'submit',
        '--template',
        'smoke',
        '--input',
        '{"project":"p1"}',
        '--set',
        'project=cli-demo',
        '--wait',
        '--json',
      ]);
      const pipeline = json(ran);

      expect(ran.code, ran.stderr).to.equal(0);
      expect(pipeline).to.include({ template: 'smoke', status: 'succeeded' });
      expect(pipeline.input).to.deep.equal({ project: 'cli-demo' });
      expect(pipeline.stages).to.have.length(5);
    });

    it('a failing pipeline: submit --wait exits 1, and so does status', async () => {
      const file = definitionFile('fails.json', {
        name: 'cli-fails',
        stages: [{ key: 'boom', agent: 'fail', input: { message: 'no luck' }, retry: { attempts: 1 } }],
      });

      const ran = await sdlc(['submit', file, '--wait']);
      const id = /^submitted (\S+)/m.exec(ran.stdout)![1]!;
      const status = await sdlc(['status', id]);

      expect(ran.code).to.equal(1);
      expect(ran.stdout).to.match(/boom {2}failed {2}AGENT_ERROR: no luck$/m);
      expect(status.code).to.equal(1);
      expect(status.stdout).to.match(/^boom +fail +failed +1 +\S+ +\S* *AGENT_ERROR: no luck$/m);
    });

    it('list: a table with the filters passed on; --json parses; no match says so; a bad file or two sources are usage errors', async () => {
      const [listed, pageRan, none, missingFile, both] = await Promise.all([
        sdlc(['list', '--name', 'cli-two', '--status', 'succeeded']),
        sdlc(['list', '--name', 'cli-two', '--limit', '1', '--json']),
        sdlc(['list', '--name', 'no-such-pipeline-anywhere']),
        sdlc(['submit', join(dir, 'missing.yaml')]),
        sdlc(['submit', join(dir, 'two.yaml'), '--template', 'smoke']),
      ]);
      const page = json(pageRan);

      expect(listed.code).to.equal(0);
      expect(listed.stdout).to.match(/^ID +STATUS +PRIORITY +CREATED +SUBMITTER +NAME$/m);
      expect(listed.stdout).to.match(/^[0-9a-f-]{36} {2}succeeded {2}normal +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}admin\S* +cli-two$/m);
      expect(page.items).to.have.length(1);
      expect(page.items[0]).to.include({ name: 'cli-two' });
      expect(none).to.deep.include({ code: 0, stdout: 'no pipelines match\n' });
      expect(missingFile.code).to.equal(2);
      expect(missingFile.stderr).to.include('submit: cannot read');
      expect(both.code).to.equal(2);
      expect(both.stderr).to.include('give a definition file or --template <name> (one of the two)');
    });

    it('submit --priority --deadline; list --priority; priority <id> <level>; a bad level or deadline is a usage error', async () => {
      const file = definitionFile('prio.json', { name: 'cli-prio', stages: [{ key: 'nap', agent: 'sleep', input: { ms: 20_000 } }] });
      const submitted = json(await sdlc(['submit', file, '--priority', 'high', '--deadline', '1h', '--json']));
      // Listed before the change below: run together, the list could see it low already.
      const listed = await sdlc(['list', '--name', 'cli-prio', '--priority', 'high']);
      const [changed, badLevel, badDeadline] = await Promise.all([
        sdlc(['priority', submitted.id, 'low']),
        sdlc(['submit', file, '--priority', 'asap']),
        sdlc(['submit', file, '--deadline', 'tomorrow']),
      ]);
      const status = await sdlc(['status', submitted.id]);
      await sdlc(['cancel', submitted.id]);

      expect(submitted.priority).to.equal('high');
      expect(new Date(submitted.deadlineAt).getTime()).to.be.greaterThan(Date.now());
      expect(listed.stdout).to.include(submitted.id);
      expect(changed.code, changed.stderr).to.equal(0);
      expect(changed.stdout).to.include(`priority low: ${submitted.id}  cli-prio`);
      expect(status.stdout).to.match(/\(.*, low, deadline \d{4}-/);
      expect(badLevel.code).to.equal(2);
      expect(badLevel.stderr).to.include('urgent, high, normal, low');
      expect(badDeadline.code).to.equal(2);
    });

    it('cancel stops a running pipeline: cancel exits 0, then watch exits 1 (cancelled)', async () => {
      const file = definitionFile('slow.json', { name: 'cli-slow', stages: [{ key: 'nap', agent: 'sleep', input: { ms: 20_000 } }] });
      const submitted = json(await sdlc(['submit', file, '--json']));

      const cancelled = await sdlc(['cancel', submitted.id]);
      const watched = await sdlc(['watch', submitted.id]);

      expect(cancelled.code, cancelled.stderr).to.equal(0);
      expect(cancelled.stdout).to.include(`cancel requested: ${submitted.id}  cli-slow`);
      expect(watched.code).to.equal(1);
      expect(watched.stdout).to.match(/pipeline cli-slow {2}cancelled$/m);
    });
  });

  describe('hostile strings from the server', () => {
    it('a name with LF and ESC stored before the API refused them: list and status print it escaped on its own line; --json as stored', async () => {
      // Arrange: the API refuses such names now (400), so an older row is written straight in Postgres.
      const tag = `cli-hostile-${Date.now()}`;
      const hostile = `${tag}\n13:00:00.000 error FAKE-LOG-LINE\u001b[31mRED\u009b2J`;
      const submitted = json(
        await sdlc(['submit', definitionFile('hostile.json', { name: tag, stages: [{ key: 'a', agent: 'noop' }] }), '--json']),
      );
      await h.db.pool.query('UPDATE pipelines SET name = $2 WHERE id = $1', [submitted.id, hostile]);

      // Act
      const [listed, status, asJson] = await Promise.all([
        sdlc(['list', '--name', tag]),
        sdlc(['status', submitted.id]),
        sdlc(['status', submitted.id, '--json']),
      ]);

      // Assert
      const shown = `${tag}\\n13:00:00.000 error FAKE-LOG-LINE\\x1b[31mRED\\x9b2J`;
      for (const ran of [listed, status]) {
        expect(['\u001b', '\u009b', '\r'].filter((c) => ran.stdout.includes(c))).to.deep.equal([]);
        expect(ran.stdout).to.not.match(/^13:00:00/m);
        expect(ran.stdout).to.include(shown);
      }
      expect(listed.stdout.trimEnd().split('\n')).to.have.length(2);
      expect(status.stdout.split('\n')[0]).to.include(`${submitted.id}  ${shown}`);
      expect(json(asJson).name).to.equal(hostile);
    });
  });

  describe('what waits for a person', () => {
    it('a decision: --wait --until-human exits 3 naming the command; status exits 3; approve with a manager key, watch exits 0', async () => {
      const file = definitionFile('deploy.json', deployPipeline('cli-deploy'));

      const waiting = await sdlc(['submit', file, '--wait', '--until-human']);
      const id = /^submitted (\S+)/m.exec(waiting.stdout)![1]!;
      const decision = await pendingDecision(id);
      const status = await sdlc(['status', id]);
      const decisions = await sdlc(['decisions', '--status', 'pending']);
      const watching = sdlc(['watch', id]);
      const approved = await sdlc(['approve', decision, '--comment', 'go'], { env: { SDLC_API_KEY: manager.key } });
      const watched = await watching;

      expect(waiting.code, waiting.stderr).to.equal(3);
      expect(waiting.stdout).to.include(`decision ${decision} (cost_impacting, stage deploy): sdlc approve ${decision}`);
      expect(status.code).to.equal(3);
      expect(status.stdout).to.match(
        new RegExp(`^deploy +sim_deployment +waiting +\\d+ +\\S+ +waits for ${decision} \\(cost_impacting\\)$`, 'm'),
      );
      expect(decisions.stdout).to.match(/^ID +STATUS +CATEGORY +STAGE +DUE +PIPELINE$/m);
      expect(decisions.stdout).to.match(new RegExp(`^${decision} +pending +cost_impacting +deploy +.* ${id}$`, 'm'));
      expect(approved.code, approved.stderr).to.equal(0);
      expect(approved.stdout.trim()).to.equal(`${decision}  approved  (stage deploy of pipeline ${id})`);
      expect(watched.code, watched.stdout + watched.stderr).to.equal(0);
      expect(watched.stdout).to.match(/pipeline cli-deploy {2}succeeded$/m);
    });

    it('reject --comment fails the stage: watch exits 1; a decision already answered is the API error, exit 1', async () => {
      const submitted = json(await sdlc(['submit', definitionFile('deploy2.json', deployPipeline('cli-reject')), '--json']));
      await waitUntil(h.baseUrl, submitted.id, (p) => p.decisions.length === 1);
      const decision = await pendingDecision(submitted.id);

      const rejected = json(await sdlc(['reject', decision, '--comment', 'not now', '--json'], { env: { SDLC_API_KEY: manager.key } }));
      const watched = await sdlc(['watch', submitted.id, '--json']);
      const again = await sdlc(['approve', decision], { env: { SDLC_API_KEY: manager.key } });

      expect(rejected).to.include({ id: decision, status: 'rejected', comment: 'not now' });
      expect(watched.code).to.equal(1);
      expect(JSON.parse(watched.stdout)).to.include({ id: submitted.id, status: 'failed' });
      expect(watched.stderr).to.match(/pipeline cli-reject {2}failed$/m);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.match(/^error: [A-Z_]+: /);
    });

    it('questions lists both questions; answer reads one answer per line from piped stdin and the pipeline succeeds with them', async () => {
      const submitted = json(
        await sdlc(['submit', definitionFile('ask.json', { name: 'cli-ask', stages: [{ key: 'ask', agent: 'ask_two' }] }), '--json']),
      );
      await waitUntil(h.baseUrl, submitted.id, (p) => p.clarifications.some((c: Loose) => c.status === 'open'));

      const listed = await sdlc(['questions', '--pipeline', submitted.id]);
      const [clarification] = json(await sdlc(['questions', '--pipeline', submitted.id, '--json'])).items as Loose[];
      const short = await sdlc(['answer', clarification!.id], { stdin: 'eu-west-1\n' });
      let drawnWaiting!: () => void;
      const waitingShown = new Promise<void>((resolve) => (drawnWaiting = resolve));
      const watching = sdlcOnTerminal(['watch', submitted.id], [[/waiting for a person:/, () => drawnWaiting()]]);
      await waitingShown;
      const answered = await sdlc(['answer', clarification!.id], { stdin: 'eu-west-1\nlarge\n' });
      const finished = json(await sdlc(['watch', submitted.id, '--json']));
      const live = await watching;
      const none = await sdlc(['questions', '--pipeline', submitted.id]);

      expect(listed.code).to.equal(0);
      expect(listed.stdout).to.include(`${clarification!.id}  open  pipeline ${submitted.id}  stage ask`);
      expect(listed.stdout).to.match(/^ {2}\S+: Which region\?$/m);
      expect(listed.stdout).to.match(/^ {2}\S+: Which instance size\?$/m);
      expect(short.code).to.equal(2);
      expect(short.stderr).to.include('stdin gave 1 answer line(s) for 2 question(s)');
      expect(answered.code, answered.stderr).to.equal(0);
      expect(answered.stdout.trim()).to.equal(`${clarification!.id}  answered  (2 answer(s))`);
      expect(finished.status).to.equal('succeeded');
      expect(finished.stages[0].output).to.deep.equal({ answers: ['eu-west-1', 'large'] });
      expect(none.stdout).to.equal('no open clarifications\n');
      // On a terminal, watch redraws the view in place (cursor up, clear) until the pipeline ends.
      expect(live.code, live.output).to.equal(0);
      expect(live.output).to.match(new RegExp(String.raw`\u001b\[\d+F\u001b\[J`));
      expect(live.output).to.include('waiting for a person:');
      expect(live.output).to.match(/cli-ask {2}succeeded/);
    });

    it('on a terminal, answer asks each question in turn and sends the typed answers', async () => {
      const submitted = json(
        await sdlc([
          'submit',
          definitionFile('ask-tty.json', { name: 'cli-ask-tty', stages: [{ key: 'ask', agent: 'ask_two' }] }),
          '--json',
        ]),
      );
      const pipeline = await waitUntil(h.baseUrl, submitted.id, (p) => p.clarifications.some((c: Loose) => c.status === 'open'));
      const clarificationId = pipeline.clarifications[0].id as string;

      const typed = await sdlcOnTerminal(
        ['answer', clarificationId],
        [
          [/\(1\/2\) Which region\?/, 'us-east-2\r'],
          [/\(2\/2\) Which instance size\?/, 'small\r'],
        ],
      );
      const finished = json(await sdlc(['watch', submitted.id, '--json']));

      expect(typed.code, typed.output).to.equal(0);
      expect(typed.output).to.include(`${clarificationId}  answered  (2 answer(s))`);
      expect(finished.stages[0].output).to.deep.equal({ answers: ['us-east-2', 'small'] });
    });
  });

  describe('catalogue and operations', () => {
    it('templates and agents print tables (not raw JSON); --json is the API document', async () => {
      const [templates, agents, agentsRan] = await Promise.all([sdlc(['templates']), sdlc(['agents']), sdlc(['agents', '--json'])]);
      const agentsJson = json(agentsRan);

      expect(templates.code).to.equal(0);
      expect(templates.stdout).to.match(/^TEMPLATE +STAGES +INPUT +INPUT EXAMPLE +DESCRIPTION$/m);
      expect(templates.stdout).to.match(
        /^smoke +scaffold,validation,e2e_test,integration,deployment +project +\{"project":"hello-world"\} +/m,
      );
      expect(templates.stdout).to.match(/^repo-checks +validation +repository\* +/m);
      expect(agents.stdout).to.match(/^AGENT +VERSION +WORKERS +PAUSED +DESCRIPTION$/m);
      expect(agents.stdout).to.match(/^ask_two +1\.0\.0 +1 +- +/m);
      expect(agentsJson.items.map((a: Loose) => a.type)).to.include.members(['noop', 'sim_deployment', 'ask_two']);
    });

    it('health prints the components, workers and breakers; --json parses; dlq with nothing failed says 0', async () => {
      const [health, healthRan, dlq] = await Promise.all([sdlc(['health']), sdlc(['health', '--json']), sdlc(['dlq', '--agent', 'noop'])]);
      const document = json(healthRan);

      expect(health.code, health.stderr).to.equal(0);
      expect(health.stdout).to.match(/^ok {2}version \d+\.\d+\.\d+ {2}up \d+ s$/m);
      expect(health.stdout).to.match(/^postgres +[\d.]+ ms {2}ok$/m);
      expect(health.stdout).to.match(/^workers online: .*\bask_two=1\b/m);
      expect(document.status).to.equal('ok');
      expect(dlq).to.deep.include({ code: 0, stdout: '0 failed job(s)\n' });
    });
  });
});
