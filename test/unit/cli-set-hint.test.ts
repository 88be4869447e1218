// `sdlc submit --set key=value` sends a string, as docs/cli.md says; a template field that wants a
// number, a boolean or a list refuses it. The API's refusal is printed as always, and then one
// hint line naming the JSON form (`--set key:=value`) for each field so set.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runCliCaptured } from '../support/cli-captured.js';

const REFUSAL = {
  error: {
    code: 'VALIDATION_FAILED',
    message: 'The input does not match the inputSchema of template "sdlc-simulated".',
    requestId: 'r-1',
    details: [
      { field: 'input.acceptanceCriteria', message: 'Invalid input: expected array, received string' },
      { field: 'input.confidence', message: 'Invalid input: expected number, received string' },
    ],
    category: 'validation',
    retryable: false,
    hint: 'Fix the request as `details` describe; sending it unchanged gets the same answer.',
  },
};

describe('sdlc submit --set: the hint for a JSON field (unit)', () => {
  let server: Server;
  let url: string;

  before(async () => {
    server = createServer((req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(REFUSAL)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function submit(args: string[]): Promise<{ code: number; err: string }> {
    const { code, err } = await runCliCaptured([
      'submit',
      '--template',
      'sdlc-simulated',
      ...args,
      '--server',
      url,
      '--key',
      'sdlc_stubstubstub',
    ]);
    return { code, err };
  }

  it('a number and a list given with key=value: the refusal, then a hint per field with its := form; exit 1', async () => {
    const { code, err } = await submit([
      '--set',
      'requirements=Add a /health endpoint.',
      '--set',
      'confidence=92',
      '--set',
      'acceptanceCriteria=["a"]',
    ]);

    expect(code).to.equal(1);
    expect(err).to.include('input.confidence: Invalid input: expected number, received string');
    expect(err).to.include("hint: --set confidence=… sends a string; send JSON with --set 'confidence:=92'");
    expect(err).to.include(`hint: --set acceptanceCriteria=… sends a string; send JSON with --set 'acceptanceCriteria:=["a"]'`);
    expect(err, 'no hint for a field that was not set').not.to.include('hint: --set requirements');
  });

  it('fields given as JSON already (key:=value), or through --input: no hint', async () => {
    const { err } = await submit(['--set', 'confidence:=92', '--input', '{"acceptanceCriteria":"a"}']);

    expect(err).to.include('VALIDATION_FAILED');
    expect(err).not.to.include('hint:');
  });
});
