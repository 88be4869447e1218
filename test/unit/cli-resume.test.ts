// `sdlc resume <id>` against a stub API: it prints the stages the resume queued again as the API's
// `resumedStages` names them, not the stages that read `queued` in the pipeline it answers. An
// operator review saw `queued: after2` printed for a resume that had queued `after`: a fast stage
// had finished, and released its dependant, before the pipeline was read.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runCliCaptured } from '../support/cli-captured.js';
import { PIPELINE_ID, pipelineBody } from '../support/pipeline-body.js';

/** The resume's answer: `after` (the stage the pause held) already succeeded, its dependant `after2` queued. */
function resumedAfterFastStage(resumedStages: string[]) {
  const stage = (key: string, id: string, overrides: Record<string, unknown>) =>
    pipelineBody({ stage: { key, id, jobId: `${id}-resume-0a1b2c3d`, ...overrides } }).stages[0];
  const after = stage('after', '0d7e5b8e-1f51-4c3b-9a0e-2c9f1d0b7a11', {
    status: 'succeeded',
    finishedAt: '2026-12-07T13:20:36.001Z',
    durationMs: 3,
    output: {},
  });
  const after2 = stage('after2', '5b0c4a51-7a7e-4b55-8d1e-6f2b3c4d5e62', {
    dependsOn: ['after'],
    status: 'queued',
    attempts: 0,
    startedAt: null,
  });
  return { ...pipelineBody({ pipeline: { name: 'fast-resume', stages: [after, after2] } }), resumedStages };
}

/** Runs `sdlc resume` against a stub answering `body` to the resume; answers the run and the request it saw. */
async function resume(body: unknown, ...args: string[]) {
  const seen: { method?: string; url?: string } = {};
  const server: Server = createServer((req: IncomingMessage, res) => {
    seen.method = req.method;
    seen.url = req.url;
    req.resume();
    res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const run = await runCliCaptured(['resume', PIPELINE_ID, '--server', url, '--key', 'sdlc_stubstubstubstub', ...args]);
    return { ...run, seen };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('sdlc resume: the stages it queued (unit)', () => {
  it('the resumed stage finished before the answer was read: prints the stage the resume queued, not its dependant now queued', async () => {
    // Arrange
    const answer = resumedAfterFastStage(['after']);

    // Act
    const { code, out, seen } = await resume(answer);

    // Assert
    expect(seen).to.deep.equal({ method: 'POST', url: `/api/v1/pipelines/${PIPELINE_ID}/resume` });
    expect(code).to.equal(0);
    expect(out.trim()).to.equal(`resumed: ${PIPELINE_ID}  fast-resume  running  queued: after`);
    expect(out).not.to.include('after2');
  });

  it('a resume of a pipeline that was not paused (resumedStages []): no queued list, whatever the stages read', async () => {
    const { code, out } = await resume(resumedAfterFastStage([]));

    expect(code).to.equal(0);
    expect(out.trim()).to.equal(`resumed: ${PIPELINE_ID}  fast-resume  running`);
  });
});
