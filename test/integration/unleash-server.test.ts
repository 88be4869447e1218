// The platform against a real Unleash server (npm unleash-server 8.2.0, test/support/unleash-server.ts):
// one server for the whole file, on its own database, started in a child process (installed on
// first use: about a minute; the start migrates its schema: 15–40 s). Flags are created and
// changed through its admin API, and the platform's flag source (unleash-client) follows them
// within its refresh interval: a new flag, a rollout percentage, a disable, strategy variants.
// The bootstrap-file path uses the server's own export (GET /api/client/features) as FLAGS_FILE,
// alone and with a server that never answers. Through the harness, the kill switch
// `agent.noop.kill` holds a noop stage queued and, released, lets the pipeline succeed. Last, the
// server is stopped: the last known flags keep serving and GET /api/v1/flags says stale.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createUnleashFlags, type UnleashFlags } from '../../src/infra/flags/unleash-flags.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';
import { startUnleashServer, UNLEASH_SERVER_ENVIRONMENT, type UnleashServer } from '../support/unleash-server.js';

const REFRESH_MS = 500;
const PIPELINES = 1000;

const pipelineIds = Array.from({ length: PIPELINES }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('a real Unleash server (unleash-server 8.2.0)', function () {
  this.timeout(120_000);
  let unleash: UnleashServer;
  let dir: string;
  const clients: UnleashFlags[] = [];
  const logger = createLogger({ level: 'error', service: 'test', silent: !process.env.TEST_LOGS });

  const flagsFrom = (options: { url?: string; file?: string }) => {
    const flags = createUnleashFlags({
      url: options.url,
      appName: 'agentic-sdlc-test',
      environment: UNLEASH_SERVER_ENVIRONMENT,
      instanceId: `unleash-server-test-${clients.length}`,
      refreshIntervalMs: REFRESH_MS,
      bootstrapFile: options.file,
      bootstrapData: options.file ? undefined : [],
      logger,
    });
    clients.push(flags);
    return flags;
  };
  const onShare = (flags: UnleashFlags, name: string) =>
    pipelineIds.filter((pipelineId) => flags.isEnabled(name, { pipelineId, agentType: 'noop' }, false)).length / PIPELINES;

  before(async function () {
    // The first run installs the fixture (npm ci) before the start.
    this.timeout(15 * 60_000);
    dir = mkdtempSync(join(tmpdir(), 'unleash-server-'));
    unleash = await startUnleashServer();
  });
  after(async function () {
    this.timeout(60_000);
    for (const flags of clients.splice(0)) flags.close();
    await unleash?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a flag created through the admin API reaches the client within its refresh, and so do a rollout change, a disable and variants', async () => {
    const flags = flagsFrom({ url: unleash.apiUrl });
    await flags.ready();
    await until('the first fetch', () => flags.snapshot().synchronized);
    expect(flags.isEnabled('agent.noop.rollout', { pipelineId: pipelineIds[0] }, false)).to.equal(false);

    await unleash.createFeature('agent.noop.rollout', 'the next noop version');
    const strategyId = await unleash.addRollout('agent.noop.rollout', { rollout: 100 });
    await unleash.setEnabled('agent.noop.rollout', true);
    await until('the new flag is served', () => onShare(flags, 'agent.noop.rollout') === 1);
    const served = flags.snapshot().flags.find((f) => f.name === 'agent.noop.rollout');
    expect(served).to.deep.include({ enabled: true, source: 'server', description: 'the next noop version' });
    expect(served?.strategies[0]).to.deep.include({ name: 'flexibleRollout', constraints: 0 });
    expect(served?.strategies[0]?.parameters).to.include({ rollout: '100', stickiness: 'pipelineId' });

    // 30 %: within a few points over 1,000 pipelines, and the same pipelines every time (sticky).
    await unleash.updateRollout('agent.noop.rollout', strategyId, { rollout: 30 });
    await until('the 30 % rollout is served', () => onShare(flags, 'agent.noop.rollout') < 0.5);
    const share = onShare(flags, 'agent.noop.rollout');
    expect(share).to.be.within(0.27, 0.33);
    const firstPick = pipelineIds.filter((pipelineId) => flags.isEnabled('agent.noop.rollout', { pipelineId }, false));
    expect(pipelineIds.filter((pipelineId) => flags.isEnabled('agent.noop.rollout', { pipelineId }, false))).to.deep.equal(firstPick);

    await unleash.setEnabled('agent.noop.rollout', false);
    await until('the disable is served', () => onShare(flags, 'agent.noop.rollout') === 0);
    expect(flags.snapshot().flags.find((f) => f.name === 'agent.noop.rollout')?.enabled).to.equal(false);

    // Unleash 8 keeps A/B variants on the strategy (environment variants are refused).
    await unleash.createFeature('agent.noop.settings');
    await unleash.addRollout('agent.noop.settings', {
      rollout: 100,
      variants: [
        { name: 'fast', weight: 500, payload: { depth: 1 } },
        { name: 'thorough', weight: 500, payload: { depth: 3 } },
      ],
    });
    await unleash.setEnabled('agent.noop.settings', true);
    await until('the variants are served', () => flags.variant('agent.noop.settings', { pipelineId: pipelineIds[0] }) !== null);
    const names = new Map<string, number>();
    for (const pipelineId of pipelineIds) {
      const variant = flags.variant('agent.noop.settings', { pipelineId })!;
      names.set(variant.name, (names.get(variant.name) ?? 0) + 1);
      expect(variant.payload).to.deep.equal({ depth: variant.name === 'fast' ? 1 : 3 });
    }
    expect(names.get('fast')! / PIPELINES).to.be.within(0.45, 0.55);
    expect(flags.variant('agent.noop.settings', { pipelineId: pipelineIds[7] })).to.deep.equal(
      flags.variant('agent.noop.settings', { pipelineId: pipelineIds[7] }),
    );
  });

  it('the bootstrap-file path: the server’s own export as FLAGS_FILE serves without a server, and while a server never answers', async () => {
    await unleash.createFeature('agent.noop.shadow');
    await unleash.addRollout('agent.noop.shadow', { rollout: 100 });
    await unleash.setEnabled('agent.noop.shadow', true);
    let exported: Loose = {};
    await until('the export holds the flag', async () => {
      exported = (await (await fetch(`${unleash.apiUrl}/client/features`)).json()) as Loose;
      return (exported.features as Loose[]).some((f) => f.name === 'agent.noop.shadow' && f.enabled === true);
    });
    const file = join(dir, 'flags.json');
    writeFileSync(file, JSON.stringify(exported));

    const alone = flagsFrom({ file });
    await alone.ready();
    expect(alone.snapshot()).to.deep.include({ mode: 'bootstrap', synchronized: false, stale: false });
    expect(alone.snapshot().bootstrap).to.include({ file, loaded: true, error: null });
    expect(onShare(alone, 'agent.noop.shadow')).to.equal(1);
    expect(alone.snapshot().flags.find((f) => f.name === 'agent.noop.shadow')?.source).to.equal('bootstrap');

    const unreachable = flagsFrom({ url: `http://127.0.0.1:${await closedPort()}/api`, file });
    await unreachable.ready();
    await until('the failed fetch is seen', () => unreachable.snapshot().stale);
    expect(unreachable.snapshot()).to.deep.include({ mode: 'server', synchronized: false, lastFetchAt: null });
    expect(unreachable.snapshot().lastError?.message).to.match(/ECONNREFUSED|connect|fetch failed/i);
    expect(onShare(unreachable, 'agent.noop.shadow')).to.equal(1);
  });

  describe('the platform through the harness, UNLEASH_URL at the server', () => {
    let h: Harness;

    before(async () => {
      await unleash.createFeature('agent.noop.kill', 'hold noop stages');
      await unleash.addSwitch('agent.noop.kill');
      await unleash.setEnabled('agent.noop.kill', true);
      h = await startHarness({
        env: {
          UNLEASH_URL: unleash.apiUrl,
          UNLEASH_REFRESH_MS: String(REFRESH_MS),
          UNLEASH_ENVIRONMENT: UNLEASH_SERVER_ENVIRONMENT,
          FLAGS_FILE: join(dir, 'no-bootstrap.json'),
        },
      });
      await until('the kill switch is read', () => h.flags.isEnabled('agent.noop.kill', { agentType: 'noop' }, false));
    });
    after(async () => h?.close());

    it('the kill switch agent.noop.kill holds a noop stage queued; turned off in Unleash, the pipeline succeeds', async () => {
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'unleash-kill',
        stages: [{ key: 'n', agent: 'noop' }],
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      const id = created.body.id as string;

      const held = await waitUntil(h.baseUrl, id, (p) => (p.stages as Loose[])[0]?.waiting !== undefined);
      expect(held.status).to.equal('running');
      expect((held.stages as Loose[])[0]).to.deep.include({
        status: 'queued',
        attempts: 0,
        waiting: { reason: 'agent_switched_off', flag: 'agent.noop.kill' },
      });
      const flagsView = await request(h.baseUrl, 'GET', '/api/v1/flags');
      expect((flagsView.body.agents as Loose[]).find((a) => a.type === 'noop')).to.include({ switchedOff: true });

      await unleash.setEnabled('agent.noop.kill', false);
      const done = await waitForPipeline(h.baseUrl, id, 60_000);
      expect(done.status).to.equal('succeeded');
      expect((done.stages as Loose[])[0]).to.include({ status: 'succeeded', attempts: 1 });
    });

    it('outage: the server stopped, the last known flags keep serving and GET /api/v1/flags says stale with the error', async () => {
      await unleash.setEnabled('agent.noop.kill', true);
      await until('the kill switch is on again', () => h.flags.isEnabled('agent.noop.kill', { agentType: 'noop' }, false));
      const before = (await request(h.baseUrl, 'GET', '/api/v1/flags')).body;
      expect(before.source).to.deep.include({ mode: 'server', synchronized: true, stale: false });

      await unleash.stop();
      await until('the outage is seen', () => h.flags.snapshot().stale);

      const res = await request(h.baseUrl, 'GET', '/api/v1/flags');
      expect(res.status).to.equal(200);
      expect(res.body.source.stale).to.equal(true);
      expect(res.body.source.lastError.message).to.match(/ECONNREFUSED|connect|fetch failed/i);
      expect(res.body.flags).to.deep.equal(before.flags);
      expect((res.body.agents as Loose[]).find((a) => a.type === 'noop')).to.include({ switchedOff: true });
      expect(h.flags.isEnabled('agent.noop.kill', { agentType: 'noop' }, false)).to.equal(true);
      expect(onShare(h.flags, 'agent.noop.shadow')).to.equal(1);
    });
  });
});
