// GET /api/v1/flags through the harness: with a FLAGS_FILE (bootstrap mode) the flags, each
// agent's four flags and the platform switches with their effective value and origin; with the
// stand-in of Unleash's client API (server mode) a change reaching the answer within the refresh
// and an outage shown as stale with the last known flags. Access: operator and admin; 401 without
// a credential, 403 for the other roles. Every answer is checked against the contract by request().
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FlagDefinition } from '../../src/infra/flags/unleash-flags.js';
import { simpleFlag, startFlagServer, type FlagServer } from '../support/flag-server.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ANONYMOUS, bearer, expectError, request, type Loose } from '../support/http.js';

const FLAGS = '/api/v1/flags';

const rollout = (name: string, percent: number, variants: { name: string; weight: number; payload?: unknown }[] = []): FlagDefinition =>
  ({
    name,
    enabled: true,
    description: `${name} at ${percent} %`,
    strategies: [
      {
        name: 'flexibleRollout',
        parameters: { rollout: String(percent), stickiness: 'pipelineId', groupId: name },
        constraints: [],
        variants: variants.map((v) => ({
          stickiness: 'pipelineId',
          ...v,
          payload: v.payload === undefined ? undefined : { type: 'json', value: JSON.stringify(v.payload) },
        })),
      },
    ],
    variants: [],
  }) as FlagDefinition;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const agentOf = (body: Loose, type: string): Loose => body.agents.find((a: Loose) => a.type === type);
const roleOf = (agent: Loose, role: string): Loose => agent.flags.find((f: Loose) => f.role === role);
const switchOf = (body: Loose, name: string): Loose => body.platformSwitches.find((s: Loose) => s.name === name);

describe('GET /api/v1/flags', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flags-endpoint-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('with a FLAGS_FILE (no server)', () => {
    let h: Harness;
    let file: string;

    before(async () => {
      file = join(dir, 'flags.json');
      writeFileSync(
        file,
        JSON.stringify({
          version: 2,
          features: [
            simpleFlag('agent.noop.kill', true),
            rollout('agent.noop.rollout', 25),
            rollout('agent.noop.settings', 100, [
              { name: 'fast', weight: 500, payload: { depth: 1 } },
              { name: 'thorough', weight: 500, payload: { depth: 3 } },
            ]),
            simpleFlag('platform.webhooks', false),
          ],
        }),
      );
      h = await startHarness({ workers: 0, env: { FLAGS_FILE: file } });
    });
    after(async () => h?.close());

    it('shows the source, every flag with its origin, each agent’s flags and the platform switches', async () => {
      const res = await request(h.baseUrl, 'GET', FLAGS);

      expect(res.status).to.equal(200);
      const { source, flags } = res.body;
      expect(source).to.deep.include({
        mode: 'bootstrap',
        url: null,
        synchronized: false,
        lastFetchAt: null,
        lastError: null,
        stale: false,
      });
      expect(source.bootstrap).to.deep.equal({ file, loaded: true, flags: 4, error: null });
      expect(flags.map((f: Loose) => [f.name, f.source])).to.deep.equal([
        ['agent.noop.kill', 'bootstrap'],
        ['agent.noop.rollout', 'bootstrap'],
        ['agent.noop.settings', 'bootstrap'],
        ['platform.webhooks', 'bootstrap'],
        ['platform.auto-approval', 'fallback'],
      ]);
      expect(JSON.stringify(res.body), 'variant payloads are not shown').not.to.include('depth');

      const noop = agentOf(res.body, 'noop');
      expect(noop).to.include({ switchedOff: true });
      expect(roleOf(noop, 'kill')).to.include({
        name: 'agent.noop.kill',
        defined: true,
        enabled: true,
        source: 'bootstrap',
        rolloutPercent: null,
      });
      expect(roleOf(noop, 'rollout')).to.include({ defined: true, enabled: true, rolloutPercent: 25 });
      expect(roleOf(noop, 'settings').variants).to.deep.equal([
        { name: 'fast', weight: 500 },
        { name: 'thorough', weight: 500 },
      ]);
      expect(roleOf(noop, 'shadow')).to.include({ defined: false, enabled: false, source: null, rolloutPercent: 0 });

      // Every agent type of the catalogue is listed, with its four flags.
      const sleep = agentOf(res.body, 'sleep');
      expect(sleep.switchedOff).to.equal(false);
      expect(sleep.flags.map((f: Loose) => [f.role, f.name, f.defined])).to.deep.equal([
        ['rollout', 'agent.sleep.rollout', false],
        ['settings', 'agent.sleep.settings', false],
        ['kill', 'agent.sleep.kill', false],
        ['shadow', 'agent.sleep.shadow', false],
      ]);
      expect(res.body.agents.map((a: Loose) => a.type)).to.deep.equal([...h.catalog.keys()]);

      expect(switchOf(res.body, 'platform.webhooks')).to.deep.equal({
        name: 'platform.webhooks',
        fallback: true,
        defined: true,
        source: 'bootstrap',
        on: false,
      });
      expect(switchOf(res.body, 'platform.auto-approval')).to.deep.equal({
        name: 'platform.auto-approval',
        fallback: true,
        defined: false,
        source: 'fallback',
        on: true,
      });
    });

    it('operators may read it; viewers, submitters and approvers get 403; no credential gets 401', async () => {
      const operator = await h.createKey('flags-operator', ['operator']);
      expect((await request(h.baseUrl, 'GET', FLAGS, undefined, bearer(operator.key))).status).to.equal(200);
      for (const role of ['viewer', 'submitter', 'approver']) {
        const other = await h.createKey(`flags-${role}`, [role]);
        expectError(await request(h.baseUrl, 'GET', FLAGS, undefined, bearer(other.key)), 403, 'FORBIDDEN');
      }
      expectError(await request(h.baseUrl, 'GET', FLAGS, undefined, ANONYMOUS), 401, 'AUTHENTICATION_REQUIRED');
    });
  });

  describe('a FLAGS_FILE that is missing', () => {
    let h: Harness;
    after(async () => h?.close());

    it('says why in source.bootstrap.error, and the platform switches serve their fallbacks', async () => {
      const missing = join(dir, 'nowhere.json');
      h = await startHarness({ workers: 0, env: { FLAGS_FILE: missing } });

      const res = await request(h.baseUrl, 'GET', FLAGS);

      expect(res.status).to.equal(200);
      expect(res.body.source.bootstrap).to.deep.equal({ file: missing, loaded: false, flags: 0, error: 'no such file' });
      expect(res.body.platformSwitches.map((s: Loose) => [s.name, s.source, s.on])).to.deep.equal([
        ['platform.webhooks', 'fallback', true],
        ['platform.auto-approval', 'fallback', true],
      ]);
      expect(agentOf(res.body, 'noop').switchedOff).to.equal(false);
    });
  });

  describe('with an Unleash server (the stand-in)', () => {
    let h: Harness;
    let server: FlagServer;

    before(async () => {
      server = await startFlagServer([rollout('agent.noop.rollout', 10)]);
      h = await startHarness({
        workers: 0,
        env: { UNLEASH_URL: server.url, UNLEASH_REFRESH_MS: '500', FLAGS_FILE: join(dir, 'none.json') },
      });
    });
    after(async () => {
      await h?.close();
      await server?.close();
    });

    it('follows the server: synchronized, a change within the refresh, then an outage shown stale with the last known flags', async () => {
      await until('the first fetch', async () => (await request(h.baseUrl, 'GET', FLAGS)).body.source.synchronized === true);
      let res = await request(h.baseUrl, 'GET', FLAGS);
      expect(res.body.source).to.deep.include({ mode: 'server', url: server.url, refreshIntervalMs: 500, stale: false });
      expect(res.body.source.lastFetchAt).to.be.a('string');
      expect(roleOf(agentOf(res.body, 'noop'), 'rollout')).to.include({ source: 'server', rolloutPercent: 10 });

      server.set([rollout('agent.noop.rollout', 60), simpleFlag('agent.noop.kill', true)]);
      await until(
        'the change is served',
        async () => roleOf(agentOf((await request(h.baseUrl, 'GET', FLAGS)).body, 'noop'), 'rollout').rolloutPercent === 60,
      );
      res = await request(h.baseUrl, 'GET', FLAGS);
      expect(agentOf(res.body, 'noop').switchedOff).to.equal(true);

      await server.close();
      await until('the outage is seen', async () => (await request(h.baseUrl, 'GET', FLAGS)).body.source.stale === true);
      res = await request(h.baseUrl, 'GET', FLAGS);
      expect(res.body.source.lastError.message).to.be.a('string').and.not.equal('');
      expect(res.body.source.lastError.at).to.be.a('string');
      const noop = agentOf(res.body, 'noop');
      expect(noop.switchedOff, 'the last known kill switch still holds').to.equal(true);
      expect(roleOf(noop, 'rollout')).to.include({ source: 'server', rolloutPercent: 60 });
    });
  });
});
