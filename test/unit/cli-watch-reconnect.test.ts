// `watch` / `submit --wait` (src/cli/watch.ts) against an API that restarts: once the pipeline has
// been read, refused connections and 502/503/504 are waited out (SDLC_WATCH_RECONNECT_MS, 60 s by
// default) and the watch goes on to the pipeline's end; the first read, or an outage longer than
// that, still fails at once with the error (exit 4 for an unreachable API).
import { expect } from 'chai';
import type { ApiClient } from '../../src/cli/api-client.js';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import type { Output } from '../../src/cli/output.js';
import { watchPipeline } from '../../src/cli/watch.js';
import { PIPELINE_ID, pipelineBody } from '../support/pipeline-body.js';

const ID = PIPELINE_ID;

/** The watched pipeline as GET /pipelines/:id answers it: its one `sleep` stage running, or done. */
function pipeline(status: 'running' | 'succeeded') {
  const done = status === 'succeeded';
  const finishedAt = done ? '2026-12-07T13:21:00.401Z' : null;
  const durationMs = done ? 25000 : null;
  return pipelineBody({
    pipeline: { name: 'watch-me', status, finishedAt, durationMs },
    stage: {
      key: 'nap',
      agent: 'sleep',
      input: { ms: 25000 },
      queue: 'agent.sleep',
      status,
      progress: done ? 100 : 0,
      output: done ? { sleptMs: 25000 } : null,
      finishedAt,
      durationMs,
    },
  });
}

const REFUSED = () =>
  new CliError('cannot reach the API at http://127.0.0.1:3811: ECONNREFUSED (set --server, SDLC_API_URL or PORT)', EXIT.unreachable, true);

/** A client that answers each GET with the next of `answers` (an error is thrown). */
function scriptedClient(answers: (ReturnType<typeof pipeline> | CliError)[]): ApiClient & { calls: number } {
  const client = {
    baseUrl: 'http://127.0.0.1:3811',
    calls: 0,
    request: (async (_method: string, _path: string, schema: { parse(v: unknown): unknown }) => {
      const next = answers[Math.min(client.calls++, answers.length - 1)]!;
      if (next instanceof CliError) throw next;
      return { data: schema.parse(next), raw: next };
    }) as ApiClient['request'],
  };
  return client;
}

function recorder(): Output & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (t) => out_.push(t), err: (t) => err_.push(t), json: () => undefined, control: () => undefined };
}

const OPTIONS = { untilHuman: false, redraw: false, quiet: false, intervalMs: 5 };

describe('CLI watch: an API restart (unit)', () => {
  it('refused twice and a 503 after the first read: waits them out, says so on stderr, ends with the pipeline, exit 0', async () => {
    // Arrange
    const unavailable = new CliError('DEPENDENCY_UNAVAILABLE: shutting down', EXIT.failed, true);
    const client = scriptedClient([pipeline('running'), REFUSED(), REFUSED(), unavailable, pipeline('succeeded')]);
    const output = recorder();

    // Act
    const result = await watchPipeline(client, ID, { ...OPTIONS, reconnectMs: 5_000 }, output);

    // Assert
    expect(result.code).to.equal(EXIT.ok);
    expect(client.calls).to.equal(5);
    expect(output.err_[0]).to.match(/^cannot reach the API at .*ECONNREFUSED.*; trying again for up to 5 s$/);
    expect(output.err_.at(-1)).to.match(/the API answers again$/);
    expect(output.out_.join('\n')).to.include('pipeline watch-me  succeeded');
  });

  it('the first read refused: fails at once with exit 4 (a wrong server is not waited for)', async () => {
    const client = scriptedClient([REFUSED(), pipeline('succeeded')]);

    const error = await watchPipeline(client, ID, { ...OPTIONS, reconnectMs: 5_000 }, recorder()).catch((e: unknown) => e);

    expect(error).to.be.instanceOf(CliError);
    expect((error as CliError).exitCode).to.equal(EXIT.unreachable);
    expect(client.calls).to.equal(1);
  });

  it('unreachable for longer than reconnectMs: gives up with the error, exit 4', async () => {
    const client = scriptedClient([pipeline('running'), REFUSED()]);

    const error = await watchPipeline(client, ID, { ...OPTIONS, reconnectMs: 50 }, recorder()).catch((e: unknown) => e);

    expect((error as CliError).exitCode).to.equal(EXIT.unreachable);
    expect(client.calls).to.be.greaterThan(2);
  });

  it('an answer that is not transient (404 after the first read) still ends the watch at once', async () => {
    const notFound = new CliError('PIPELINE_NOT_FOUND: No pipeline', EXIT.failed);
    const client = scriptedClient([pipeline('running'), notFound]);

    const error = await watchPipeline(client, ID, { ...OPTIONS, reconnectMs: 5_000 }, recorder()).catch((e: unknown) => e);

    expect(error).to.equal(notFound);
    expect(client.calls).to.equal(2);
  });
});
