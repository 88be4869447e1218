// `sdlc health` against a stub API: with no conductor online it still reports `ok` (exit 0, as
// /health/detailed does) but warns that nothing advances; with one online it prints no warning.
// Paused and switched-off agent types (intended, never `degraded`) are named, as their stages wait.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runCliCaptured } from '../support/cli-captured.js';

/** A /health/detailed answer, every component ok, with these workers online. */
function detailedHealth(workers: Record<string, number>) {
  return {
    status: 'ok',
    version: '0.1.0',
    uptimeSeconds: 12,
    components: [
      { name: 'postgres', ok: true, latencyMs: 1.2 },
      { name: 'redis', ok: true, latencyMs: 0.8 },
    ],
    queues: {},
    workers,
    breakers: {},
    memory: { rss: 1 },
  };
}

/** Runs `sdlc health` against a stub answering `body`; answers the exit code and stdout. */
async function health(body: unknown): Promise<{ code: number; stdout: string }> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { code, all } = await runCliCaptured(['health', '--server', url, '--key', 'sdlc_stubstubstubstub']);
    return { code, stdout: all };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('sdlc health: the conductor (unit)', () => {
  it('no conductor online: still ok and exit 0, with a warning that pipelines do not advance', async () => {
    // Act
    const { code, stdout } = await health(detailedHealth({ conductor: 0, noop: 1 }));

    // Assert
    expect(code).to.equal(0);
    expect(stdout).to.include('workers online: conductor=0 noop=1');
    expect(stdout).to.match(/^warning: no conductor online: pipelines do not advance/m);
  });

  it('a conductor online: no warning', async () => {
    const { code, stdout } = await health(detailedHealth({ conductor: 1, noop: 1 }));

    expect(code).to.equal(0);
    expect(stdout).not.to.include('warning');
    expect(stdout).not.to.include('paused agents');
    expect(stdout).not.to.include('switched off');
  });
});

describe('sdlc health: agent types whose stages wait (unit)', () => {
  it('a paused agent type (by the API, or outside the platform) and a switched-off one: still ok, each named on a line of its own', async () => {
    // Arrange
    const body = {
      ...detailedHealth({ conductor: 1, sleep: 1, noop: 1, fail: 1 }),
      pausedAgents: [
        { agent: 'sleep', since: '2026-12-07T21:22:52.000Z', by: 'ops-alice', reason: 'vendor maintenance' },
        { agent: 'noop', since: null, by: null, reason: null },
      ],
      flags: { agentsSwitchedOff: [{ agent: 'fail', flag: 'agent.fail.kill' }], platform: {} },
    };

    // Act
    const { code, stdout } = await health(body);

    // Assert
    expect(code).to.equal(0);
    expect(stdout).to.match(
      /^paused agents \(their stages wait\): sleep \(since 2026-12-07T21:22:52.000Z by ops-alice: vendor maintenance\), noop \(no record: paused outside the platform\)$/m,
    );
    expect(stdout).to.match(/^switched off \(their stages wait\): fail \(agent.fail.kill\)$/m);
  });
});
