// The flag source over unleash-client (src/infra/flags/unleash-flags.ts) and its snapshot, against
// the local stand-in of Unleash's client API (test/support/flag-server.ts) and temp FLAGS_FILEs:
// where the served set comes from, the first fetch, a change, an outage (last known flags keep
// serving, the snapshot says stale with the error), a server never reached (the bootstrap
// serves), a missing or invalid bootstrap file (a warning naming FLAGS_FILE, fallbacks serve).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createUnleashFlags, type FlagDefinition, type UnleashFlags } from '../../src/infra/flags/unleash-flags.js';
import type { FlagSourceSnapshot } from '../../src/services/flag-overview.ports.js';
import { captureLogger } from '../support/capture-logger.js';
import { simpleFlag, startFlagServer, type FlagServer } from '../support/flag-server.js';
import type { Loose } from '../support/http.js';

const REFRESH_MS = 100;
const PROBE = { pipelineId: '2b0c7a52-5b7e-4a43-a7d3-2f0d7a3c9e11' };

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const rollout = (name: string, percent: number): FlagDefinition =>
  ({
    name,
    enabled: true,
    description: 'a rollout',
    strategies: [
      {
        name: 'flexibleRollout',
        parameters: { rollout: String(percent), stickiness: 'pipelineId', groupId: name },
        constraints: [{ contextName: 'agentType', operator: 'IN', values: ['noop'], inverted: false }],
        variants: [{ name: 'fast', weight: 1000, stickiness: 'pipelineId', payload: { type: 'json', value: '{"secret":"x"}' } }],
      },
    ],
    variants: [],
  }) as FlagDefinition;

const flagNamed = (snapshot: FlagSourceSnapshot, name: string) => snapshot.flags.find((f) => f.name === name);

/** A port that refuses connections: nothing listens there once the probe server is closed. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('flag source (unleash-client) and its snapshot', function () {
  this.timeout(30_000);
  let dir: string;
  const open: UnleashFlags[] = [];
  const servers: FlagServer[] = [];
  let lines: Loose[];

  const make = (options: { url?: string; file?: string; data?: FlagDefinition[] }) => {
    lines = [];
    const flags = createUnleashFlags({
      url: options.url,
      appName: 'agentic-sdlc-test',
      environment: 'test',
      instanceId: 'unleash-flags-test',
      refreshIntervalMs: REFRESH_MS,
      bootstrapFile: options.file,
      bootstrapData: options.data,
      logger: captureLogger(lines),
    });
    open.push(flags);
    return flags;
  };
  const writeFlags = (name: string, content: string) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'unleash-flags-'));
  });
  afterEach(async () => {
    for (const flags of open.splice(0)) flags.close();
    for (const server of servers.splice(0)) await server.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bootstrap file alone: flags from FLAGS_FILE, undefined platform switches on their fallback, nothing fetched', async () => {
    const file = writeFlags(
      'one.json',
      JSON.stringify({ version: 2, features: [simpleFlag('agent.noop.kill', true), rollout('agent.noop.rollout', 40)] }),
    );
    const flags = make({ file });
    await flags.ready();

    const snap = flags.snapshot();
    expect(snap).to.include({
      mode: 'bootstrap',
      url: null,
      refreshIntervalMs: null,
      synchronized: false,
      lastFetchAt: null,
      stale: false,
    });
    expect(snap.bootstrap).to.deep.equal({ file, loaded: true, flags: 2, error: null });
    expect(flagNamed(snap, 'agent.noop.kill')).to.include({ enabled: true, source: 'bootstrap' });
    // Strategy parameters and constraint counts, variant names and weights; never constraint values or payloads.
    expect(flagNamed(snap, 'agent.noop.rollout')).to.deep.equal({
      name: 'agent.noop.rollout',
      enabled: true,
      description: 'a rollout',
      source: 'bootstrap',
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '40', stickiness: 'pipelineId', groupId: 'agent.noop.rollout' },
          constraints: 1,
          variants: [{ name: 'fast', weight: 1000 }],
        },
      ],
      variants: [],
    });
    expect(JSON.stringify(snap)).not.to.include('secret');
    expect(flagNamed(snap, 'platform.webhooks')).to.include({ enabled: true, source: 'fallback' });
    expect(flagNamed(snap, 'platform.auto-approval')).to.include({ enabled: true, source: 'fallback' });
    expect(flags.isEnabled('agent.noop.kill', {}, false)).to.equal(true);
    // unleash-client calls itself synchronized after any first set, a bootstrap's included; the snapshot does not.
    expect(flags.client.isSynchronized()).to.equal(true);
  });

  it('a missing FLAGS_FILE: ready anyway, a warning naming it, every flag on its fallback', async () => {
    const file = join(dir, 'absent.json');
    const flags = make({ file });
    await flags.ready();

    const snap = flags.snapshot();
    expect(snap.bootstrap).to.deep.equal({ file, loaded: false, flags: 0, error: 'no such file' });
    expect(snap.flags.map((f) => [f.name, f.source, f.enabled])).to.deep.equal([
      ['platform.webhooks', 'fallback', true],
      ['platform.auto-approval', 'fallback', true],
    ]);
    const warning = lines.find((l) => l.level === 'warn' && String(l.message).includes('FLAGS_FILE'));
    expect(warning?.message).to.include(file).and.include('no such file');
    expect(warning?.consequence).to.match(/fallback/);
    expect(flags.isEnabled('agent.noop.kill', {}, false)).to.equal(false);
  });

  it('an invalid FLAGS_FILE (not JSON, or not the client-features format) says what is wrong', async () => {
    const notJson = writeFlags('broken.json', '{"version": 2, "features": [');
    const wrongShape = writeFlags('shape.json', JSON.stringify({ version: 2, features: [{ name: 'x', enabled: 'yes' }] }));

    const first = make({ file: notJson });
    await first.ready();
    expect(first.snapshot().bootstrap.error).to.match(/^not JSON/);
    const second = make({ file: wrongShape });
    await second.ready();
    expect(second.snapshot().bootstrap.error).to.match(/^not Unleash's client-features format \(features\.0\.enabled/);
    expect(lines.some((l) => l.level === 'warn' && String(l.message).includes(wrongShape))).to.equal(true);
  });

  it('server: the first fetch replaces the bootstrap, a change arrives within the refresh, an outage keeps the last set (stale)', async () => {
    const server = await startFlagServer([rollout('agent.noop.rollout', 100)]);
    servers.push(server);
    const file = writeFlags('fallback.json', JSON.stringify({ version: 2, features: [simpleFlag('only.in.file', true)] }));
    const flags = make({ url: server.url, file });
    // The file may be read after the first fetch (a local server answers fast): then it changes nothing.
    await until('the first fetch and the file read', () => flags.snapshot().synchronized && flags.snapshot().bootstrap.file !== null);

    let snap = flags.snapshot();
    expect(snap).to.include({ mode: 'server', url: server.url, refreshIntervalMs: REFRESH_MS, stale: false, lastError: null });
    expect(snap.lastFetchAt).to.be.instanceOf(Date);
    expect(flagNamed(snap, 'agent.noop.rollout')).to.include({ source: 'server', enabled: true });
    // A fetch replaces the set whole: a flag only the file defines is gone.
    expect(flagNamed(snap, 'only.in.file')).to.equal(undefined);
    expect(snap.bootstrap).to.include({ loaded: true, flags: 1 });
    expect(flags.isEnabled('agent.noop.rollout', { ...PROBE, agentType: 'noop' }, false)).to.equal(true);

    server.set([{ ...rollout('agent.noop.rollout', 100), enabled: false }]);
    await until('the change', () => !flags.isEnabled('agent.noop.rollout', { ...PROBE, agentType: 'noop' }, true));
    expect(flagNamed(flags.snapshot(), 'agent.noop.rollout')).to.include({ enabled: false, source: 'server' });

    await server.close();
    servers.splice(0);
    await until('the outage is seen', () => flags.snapshot().stale);
    snap = flags.snapshot();
    expect(snap.lastError?.message).to.be.a('string').and.not.equal('');
    expect(snap.lastError?.at).to.be.instanceOf(Date);
    expect(snap.synchronized).to.equal(true);
    // The last known set keeps serving; the bootstrap does not come back.
    expect(flagNamed(snap, 'agent.noop.rollout')).to.include({ enabled: false, source: 'server' });
    expect(flagNamed(snap, 'only.in.file')).to.equal(undefined);
    expect(lines.filter((l) => l.level === 'warn' && String(l.message).includes('cannot be read'))).to.have.length(1);
  });

  it('a flag no source defines answers its fallback and no variant; once the server defines it, it is evaluated', async () => {
    const server = await startFlagServer([]);
    servers.push(server);
    const flags = make({ url: server.url });
    await until('the first fetch', () => flags.snapshot().synchronized);
    const ctx = { ...PROBE, agentType: 'noop' };

    expect(flags.isEnabled('agent.noop.rollout', ctx, false)).to.equal(false);
    expect(flags.isEnabled('agent.noop.rollout', ctx, true)).to.equal(true);
    expect(flags.variant('agent.noop.rollout', ctx)).to.equal(null);

    // The definition is looked up at each call: a flag the server adds is evaluated at the next refresh.
    server.set([rollout('agent.noop.rollout', 100)]);
    await until('the new flag', () => flags.variant('agent.noop.rollout', ctx) !== null);
    expect(flags.isEnabled('agent.noop.rollout', ctx, false)).to.equal(true);
    expect(flags.variant('agent.noop.rollout', ctx)).to.deep.equal({ name: 'fast', payload: { secret: 'x' } });
    // Its constraint still holds: another agent type is not in the rollout, whatever the fallback.
    expect(flags.isEnabled('agent.noop.rollout', { ...PROBE, agentType: 'other' }, true)).to.equal(false);
  });

  it('a server never reached: the bootstrap serves, the snapshot says stale with the error', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api`;
    const file = writeFlags('never.json', JSON.stringify({ version: 2, features: [simpleFlag('agent.noop.kill', true)] }));
    const flags = make({ url, file });
    await flags.ready();
    await until('the failed fetch', () => flags.snapshot().stale);

    const snap = flags.snapshot();
    expect(snap).to.include({ mode: 'server', synchronized: false, lastFetchAt: null, stale: true });
    expect(snap.lastError?.message).to.match(/ECONNREFUSED|fetch failed|connect/i);
    expect(flagNamed(snap, 'agent.noop.kill')).to.include({ enabled: true, source: 'bootstrap' });
    expect(flags.isEnabled('agent.noop.kill', {}, false)).to.equal(true);
  });

  it('a server never reached and no usable bootstrap: ready once the fetch failed, fallbacks serve', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api`;
    const flags = make({ url, file: join(dir, 'absent-too.json') });
    await flags.ready();

    expect(flags.snapshot().flags.every((f) => f.source === 'fallback')).to.equal(true);
    expect(flags.isEnabled('platform.webhooks', {}, true)).to.equal(true);
  });

  it('a server answering 503: the refresh counts as failed (stale), and the next good answer clears it', async () => {
    let status = 200;
    const body = JSON.stringify({ version: 2, features: [simpleFlag('agent.noop.kill', false)] });
    const http: Server = createServer((req, res) => {
      if (status !== 200) return void res.writeHead(status).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const flags = make({ url: `http://127.0.0.1:${port}/api`, data: [simpleFlag('agent.noop.kill', true)] });
      await until('the first fetch', () => flags.snapshot().synchronized);
      expect(flags.snapshot().bootstrap).to.include({ file: null, loaded: true });
      expect(flags.isEnabled('agent.noop.kill', {}, true)).to.equal(false);

      status = 503;
      await until('the 503 is seen', () => flags.snapshot().stale);
      expect(flags.snapshot().lastError?.message).to.include('503');
      status = 200;
      await until('the recovery', () => !flags.snapshot().stale);
      expect(flags.snapshot().lastError?.message).to.include('503');
    } finally {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it('a server answering 401 (a wrong token): stale with the error, and the client stops asking (its rule)', async () => {
    let requests = 0;
    const http: Server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(401).end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const flags = make({ url: `http://127.0.0.1:${port}/api`, data: [simpleFlag('agent.noop.kill', true)] });
      await until('the 401 is seen', () => flags.snapshot().stale);

      expect(flags.snapshot().lastError?.message).to.include('401');
      expect(flags.isEnabled('agent.noop.kill', {}, false), 'the bootstrap keeps serving').to.equal(true);
      await new Promise((resolve) => setTimeout(resolve, REFRESH_MS * 5));
      expect(requests, 'no refresh after a 401').to.equal(1);
    } finally {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it('a server URL with credentials is shown masked', async () => {
    const server = await startFlagServer([]);
    servers.push(server);
    const url = server.url.replace('http://', 'http://flags:hunter2secret@');
    const flags = make({ url, data: [] });
    await flags.ready();

    expect(flags.snapshot().url).to.equal(server.url.replace('http://', 'http://flags:••••@'));
    expect(JSON.stringify(flags.snapshot())).not.to.include('hunter2secret');
  });
});
