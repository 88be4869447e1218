// The CLI's operator commands against a running API: `dlq` lists a failed stage's job with its
// group, `replay <job-id>` reopens it and the pipeline succeeds, `replay --agent` reports what it
// matched, and `health` prints the components, the workers online and the breakers. The CLI
// sends SDLC_API_KEY (an operator's key here) as Bearer; who acts is that key's identity (`--as`
// is refused, exit 2), and without a key it says how to get one (exit 4).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';

const run = promisify(execFile);

describe('CLI operator commands (e2e)', function () {
  this.timeout(60_000);
  let h: Harness;
  let operator: { key: string; id: string };

  const cliWith = async (env: Record<string, string>, ...args: string[]) => {
    // No development key file: the key comes from SDLC_API_KEY or not at all.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { ...process.env, API_URL: h.baseUrl, DEV_ADMIN_KEY_FILE: '/nonexistent/agentic-sdlc/admin-key', SDLC_API_KEY: '', ...env },
    });
    return stdout;
  };
  const cli = (...args: string[]) => cliWith({ SDLC_API_KEY: operator.key }, ...args);
  const failure = (promise: Promise<string>) =>
    promise.then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );

  before(async () => {
    h = await startHarness();
    operator = await h.createKey('cli-operator', ['operator']);
  });
  after(async () => {
    await h?.close();
  });

  it('dlq lists the failed job with its group; replay <job-id> reopens it and the pipeline succeeds', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'cli-dlq',
      stages: [{ key: 'flaky', agent: 'fail', input: { message: 'flaky for now', failAttempts: 1 }, retry: { attempts: 1 } }],
    });
    expect(created.status).to.equal(202);
    const failed = await waitForPipeline(h.baseUrl, created.body.id);
    expect(failed.status).to.equal('failed');
    const jobId = failed.stages[0].id as string;

    const listing = await cli('dlq', '--pipeline', created.body.id);
    expect(listing).to.match(/^1 failed job\(s\)$/m);
    expect(listing).to.match(/^GROUP +COUNT +AGENT +ERROR$/m);
    expect(listing).to.match(/^[0-9a-f]{16} +1 {2}fail +AGENT_ERROR: flaky for now$/m);
    expect(listing).to.match(/^JOB +AGENT +STAGE +PIPELINE +REPLAY +ERROR$/m);
    expect(listing).to.match(new RegExp(`^${jobId} +fail +flaky +${created.body.id} +replayable +AGENT_ERROR: flaky for now$`, 'm'));

    const replayed = await cli('replay', jobId);
    expect(replayed.trim()).to.equal(`${jobId}  reopened  pipeline ${created.body.id}  stage flaky`);
    expect((await waitForPipeline(h.baseUrl, created.body.id)).status).to.equal('succeeded');
    expect(await cli('dlq', '--pipeline', created.body.id)).to.match(/^0 failed job\(s\)$/m);
    // The replay is the operator key's, through the API.
    const audit = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${created.body.id}/audit`);
    const replays = audit.body.items.filter((e: Loose) => e.type === 'dlq.replayed');
    expect(replays.map((e: Loose) => e.actor)).to.deep.equal([operator.id]);
    const trail = await request(h.baseUrl, 'GET', `/api/v1/audit?action=dlq.replayed&pipelineId=${created.body.id}`);
    expect(trail.body.items.map((e: Loose) => [e.identity.id, e.data.via])).to.deep.equal([[operator.id, 'api']]);
  });

  it("refuses --as (the actor is the key's identity), and without a key names SDLC_API_KEY", async () => {
    const as = await failure(cli('replay', '--agent', 'fail', '--as', 'ops@example.com'));
    expect(as.code).to.equal(2);
    expect(as.stderr).to.include('--as is not accepted');
    const keyless = await failure(cliWith({}, 'dlq'));
    expect(keyless.code).to.equal(4);
    expect(keyless.stderr).to.include('no API key: pass --key, set SDLC_API_KEY');
  });

  it("a key without the operator role gets the API's 403 FORBIDDEN", async () => {
    const viewer = await h.createKey('cli-viewer', ['viewer']);
    const refused = await failure(cliWith({ SDLC_API_KEY: viewer.key }, 'dlq'));
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/^error: FORBIDDEN: /);
  });

  it('replay --agent reports what it matched; replay without a target prints its usage and exits 2', async () => {
    expect((await cli('replay', '--agent', 'sleep')).trim()).to.equal('matched 0, replayed 0, skipped 0');
    const usage = await failure(cli('replay'));
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include('replay: give one of <job-id>, --fingerprint F or --agent A');
  });

  it('dlq pages with --limit and the --cursor it prints; replay --fingerprint --limit says when the limit left newer jobs failed', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'cli-dlq-paged',
        stages: [{ key: 'flaky', agent: 'fail', input: { message: 'paged failure', failAttempts: 1 }, retry: { attempts: 1 } }],
      });
      expect((await waitForPipeline(h.baseUrl, created.body.id)).status).to.equal('failed');
      ids.push(created.body.id);
    }
    const fingerprint = (await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${ids[0]}`)).body.items[0].fingerprint as string;

    const first = await cli('dlq', '--fingerprint', fingerprint, '--limit', '2');
    expect(first).to.match(/^3 failed job\(s\)$/m);
    const cursor = /^more: sdlc dlq --cursor (\S+) \(with the same filters\)$/m.exec(first)?.[1];
    expect(cursor, first).to.be.a('string');
    const second = await cli('dlq', '--fingerprint', fingerprint, '--limit', '2', '--cursor', cursor!);
    const jobsOf = (out: string) => out.split('\n').filter((line) => / fail +flaky /.test(line)).length;
    expect([jobsOf(first), jobsOf(second)]).to.deep.equal([2, 1]);
    expect(second).not.to.match(/^more: /m);

    const replayed = await cli('replay', '--fingerprint', fingerprint, '--limit', '2');
    expect(replayed).to.match(/^matched 2, replayed 2, skipped 0$/m);
    expect(replayed).to.include(`limit 2 reached: newer failed jobs may match too; see sdlc dlq --fingerprint ${fingerprint}`);
    expect(await cli('dlq', '--fingerprint', fingerprint)).to.match(/^1 failed job\(s\)$/m);
    const rest = await cli('replay', '--fingerprint', fingerprint);
    expect(rest).to.match(/^matched 1, replayed 1, skipped 0$/m);
    expect(rest).not.to.include('limit');
    for (const id of ids) expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('succeeded');
  });

  it('discard <job-id> removes a failed job from the DLQ, its stage staying failed; a second discard is exit 1 with DLQ_JOB_NOT_FOUND', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'cli-dlq-discard',
      stages: [{ key: 'flaky', agent: 'fail', input: { message: 'discard me', failAttempts: 1 }, retry: { attempts: 1 } }],
    });
    const failed = await waitForPipeline(h.baseUrl, created.body.id);
    expect(failed.status).to.equal('failed');
    const jobId = failed.stages[0].id as string;

    const discarded = await cli('discard', jobId);

    expect(discarded.trim()).to.equal(`discarded ${jobId}: its stage stays failed`);
    expect(await cli('dlq', '--pipeline', created.body.id)).to.match(/^0 failed job\(s\)$/m);
    expect((await waitForPipeline(h.baseUrl, created.body.id)).stages[0].status).to.equal('failed');
    const trail = await request(h.baseUrl, 'GET', `/api/v1/audit?action=dlq.deleted&pipelineId=${created.body.id}`);
    expect(trail.body.items.map((e: Loose) => [e.identity.id, e.targetId])).to.deep.equal([[operator.id, jobId]]);
    const again = await failure(cli('discard', jobId));
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/^error: DLQ_JOB_NOT_FOUND: /);
  });

  it('health prints each component, the workers online per agent type, the workspace disk and the breakers', async () => {
    const out = await cli('health');
    expect(out).to.match(/^ok {2}version \d+\.\d+\.\d+ {2}up \d+ s$/m);
    for (const name of ['postgres', 'redis']) expect(out).to.match(new RegExp(`^${name} +[\\d.]+ ms {2}ok$`, 'm'));
    expect(out).to.match(/^workers online: .*\bconductor=1\b.*\bfail=1\b/m);
    expect(out).to.match(/^workspace disk: [\d.]+ GB free of [\d.]+ GB \(\d+%\) {2}ok {2}\//m);
    expect(out).to.match(/^breakers: /m);
  });
});
