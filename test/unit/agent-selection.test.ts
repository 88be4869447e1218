// The choice of an agent's version and settings (src/services/agent-selection.ts) over the real
// unleash-client, fed flag definitions in Unleash's own format: a rollout sends its share of
// pipelines to `next` within a few points and keeps each pipeline where it is (sticky, and
// monotonic when the share grows), settings variants split by weight and hand over their JSON
// payload, and a misconfigured flag falls back with one warning. The 1,000 pipeline ids come from
// a seeded generator: as spread as random ones, but the same on every run, so no run can fail by
// chance.
import { expect } from 'chai';
import { createAgentSelection, type AgentChoice, type SelectableAgent } from '../../src/services/agent-selection.js';
import { createUnleashFlags, type FlagDefinition, type UnleashFlags } from '../../src/infra/flags/unleash-flags.js';
import { captureLogger } from '../support/capture-logger.js';
import type { Loose } from '../support/http.js';

const AGENT: SelectableAgent = { type: 'gen', version: '1.0.0', nextVersion: '2.0.0' };
const PIPELINES = 1000;
/** Allowed distance, in percentage points, between a share asked for and the share seen. */
const TOLERANCE = 4;

/** mulberry32: a small seeded PRNG, so the "random" ids are the same on every run. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` pipeline ids shaped like the platform's (UUID v4). */
function pipelineIds(count: number, seed = 13): string[] {
  const random = seededRandom(seed);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  return Array.from({ length: count }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`);
}

const base = { enabled: true, type: 'release', project: 'default', stale: false, impressionData: false };

/** A gradual rollout at `percent`, sticky per pipeline; the groupId stays the flag's name as the share changes. */
function rolloutFlag(agentType: string, percent: number): FlagDefinition {
  const name = `agent.${agentType}.rollout`;
  return {
    ...base,
    name,
    strategies: [
      { name: 'flexibleRollout', parameters: { rollout: String(percent), stickiness: 'default', groupId: name }, constraints: [] },
    ],
    variants: [],
  } as FlagDefinition;
}

interface VariantSpec {
  name: string;
  weight: number;
  payload?: { type: string; value: string };
}

/** A settings flag on for everyone, whose variants (weights out of 1000) split the pipelines. */
function settingsFlag(agentType: string, variants: VariantSpec[]): FlagDefinition {
  return {
    ...base,
    name: `agent.${agentType}.settings`,
    strategies: [{ name: 'default', parameters: {}, constraints: [] }],
    variants: variants.map((v) => ({ stickiness: 'default', weightType: 'variable', ...v })),
  } as FlagDefinition;
}

const json = (value: unknown) => ({ type: 'json', value: JSON.stringify(value) });

describe('agent selection: rollout and settings variants over unleash-client', () => {
  const opened: UnleashFlags[] = [];
  let logs: Loose[];

  async function selectionWith(features: FlagDefinition[]) {
    logs = [];
    const logger = captureLogger(logs);
    const flags = createUnleashFlags({
      appName: 'agent-selection-test',
      environment: 'test',
      instanceId: `unit-${opened.length}`,
      refreshIntervalMs: 0,
      bootstrapData: features,
      logger,
    });
    opened.push(flags);
    await flags.ready();
    return createAgentSelection({ flags, logger });
  }

  after(() => {
    for (const flags of opened) flags.close();
  });

  const ids = pipelineIds(PIPELINES);
  const chooseAll = (selection: { choose(a: SelectableAgent, c: { pipelineId: string }): AgentChoice }, agent = AGENT) =>
    new Map(ids.map((pipelineId) => [pipelineId, selection.choose(agent, { pipelineId })]));
  const shareOf = (choices: Map<string, AgentChoice>, test: (c: AgentChoice) => boolean) =>
    (100 * [...choices.values()].filter(test).length) / choices.size;

  it('sends 0, 25, 50 and 100 % of 1,000 pipelines to the next version, each share within 4 points', async () => {
    for (const percent of [0, 25, 50, 100]) {
      const selection = await selectionWith([rolloutFlag('gen', percent)]);
      const share = shareOf(chooseAll(selection), (c) => c.version === '2.0.0');
      expect(share, `rollout ${percent} %`).to.be.within(percent - TOLERANCE, percent + TOLERANCE);
      if (percent === 0 || percent === 100) expect(share).to.equal(percent);
    }
  });

  it('is sticky: a pipeline gets the same version on every evaluation and in every process', async () => {
    const first = await selectionWith([rolloutFlag('gen', 30)]);
    const otherProcess = await selectionWith([rolloutFlag('gen', 30)]);
    const once = chooseAll(first);
    const again = chooseAll(first);
    const elsewhere = chooseAll(otherProcess);
    for (const id of ids) {
      expect(again.get(id)!.version, id).to.equal(once.get(id)!.version);
      expect(elsewhere.get(id)!.version, id).to.equal(once.get(id)!.version);
    }
    // Both versions are in play, so the agreement above says something.
    expect(new Set([...once.values()].map((c) => c.version))).to.have.keys('1.0.0', '2.0.0');
  });

  it('is monotonic: raising the percentage keeps every pipeline already on the next version there', async () => {
    const atShare = async (percent: number) => {
      const choices = chooseAll(await selectionWith([rolloutFlag('gen', percent)]));
      return new Set(ids.filter((id) => choices.get(id)!.version === '2.0.0'));
    };
    const at10 = await atShare(10);
    const at25 = await atShare(25);
    const at50 = await atShare(50);
    expect(at10.size).to.be.above(0);
    for (const id of at10) expect(at25.has(id), id).to.equal(true);
    for (const id of at25) expect(at50.has(id), id).to.equal(true);
    expect(at50.size).to.be.above(at25.size);
  });

  it('runs the incumbent when the rollout is on but the agent has no next version, and warns once', async () => {
    const selection = await selectionWith([rolloutFlag('solo', 100)]);
    const solo: SelectableAgent = { type: 'solo', version: '1.0.0', nextVersion: undefined };
    for (const id of ids.slice(0, 50)) expect(selection.choose(solo, { pipelineId: id }).version).to.equal('1.0.0');
    const warnings = logs.filter((l) => l.level === 'warn');
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include({ flag: 'agent.solo.rollout', agentType: 'solo' });
  });

  it('runs the incumbent with no variant and empty settings when neither flag is defined or on', async () => {
    const off = { ...rolloutFlag('gen', 100), enabled: false } as FlagDefinition;
    // An empty bootstrap never reports ready; an unrelated flag stands for "not defined".
    const unrelated = rolloutFlag('other', 100);
    for (const features of [[unrelated], [off, { ...settingsFlag('gen', []), enabled: false } as FlagDefinition]]) {
      const selection = await selectionWith(features);
      expect(selection.choose(AGENT, { pipelineId: ids[0]! })).to.deep.equal({ version: '1.0.0', variant: null, settings: {} });
    }
  });

  it('splits pipelines between settings variants by weight (within 4 points), sticky, with their payload as settings', async () => {
    const variants = [
      { name: 'cautious', weight: 300, payload: json({ temperature: 0.2 }) },
      { name: 'bold', weight: 700, payload: json({ temperature: 0.9, retries: 2 }) },
    ];
    const selection = await selectionWith([settingsFlag('gen', variants)]);
    const choices = chooseAll(selection);
    expect(shareOf(choices, (c) => c.variant === 'cautious')).to.be.within(30 - TOLERANCE, 30 + TOLERANCE);
    expect(shareOf(choices, (c) => c.variant === 'bold')).to.be.within(70 - TOLERANCE, 70 + TOLERANCE);
    const again = chooseAll(await selectionWith([settingsFlag('gen', variants)]));
    for (const [id, choice] of choices) {
      expect(again.get(id)!.variant, id).to.equal(choice.variant);
      expect(choice.settings).to.deep.equal(choice.variant === 'cautious' ? { temperature: 0.2 } : { temperature: 0.9, retries: 2 });
      // The settings flag does not move the version.
      expect(choice.version).to.equal('1.0.0');
    }
  });

  it("honours variants set on the strategy (how Unleash 8's UI stores them) the same way", async () => {
    const flag = {
      ...base,
      name: 'agent.gen.settings',
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '100', stickiness: 'default', groupId: 'agent.gen.settings' },
          constraints: [],
          variants: [
            { name: 'a', weight: 500, weightType: 'variable', stickiness: 'default', payload: json({ arm: 'a' }) },
            { name: 'b', weight: 500, weightType: 'variable', stickiness: 'default', payload: json({ arm: 'b' }) },
          ],
        },
      ],
      variants: [],
    } as unknown as FlagDefinition;
    const choices = chooseAll(await selectionWith([flag]));
    expect(shareOf(choices, (c) => c.variant === 'a')).to.be.within(50 - TOLERANCE, 50 + TOLERANCE);
    for (const choice of choices.values()) expect(choice.settings).to.deep.equal({ arm: choice.variant });
  });

  it('chooses the version and the variant independently: every combination occurs', async () => {
    const selection = await selectionWith([
      rolloutFlag('gen', 50),
      settingsFlag('gen', [
        { name: 'a', weight: 500, payload: json({ arm: 'a' }) },
        { name: 'b', weight: 500, payload: json({ arm: 'b' }) },
      ]),
    ]);
    const combos = new Set([...chooseAll(selection).values()].map((c) => `${c.version}/${c.variant}`));
    expect(combos).to.have.keys('1.0.0/a', '1.0.0/b', '2.0.0/a', '2.0.0/b');
  });

  it('hands over {} for a payload that is not a JSON object, warning once per variant; a variant without payload is a plain arm', async () => {
    const selection = await selectionWith([
      settingsFlag('gen', [
        { name: 'list', weight: 400, payload: json([1, 2]) },
        { name: 'text', weight: 300, payload: { type: 'string', value: 'fast' } },
        { name: 'control', weight: 300 },
      ]),
    ]);
    const choices = chooseAll(selection);
    const seen = new Set([...choices.values()].map((c) => c.variant));
    expect(seen).to.have.keys('list', 'text', 'control');
    for (const choice of choices.values()) expect(choice.settings).to.deep.equal({});
    const warnings = logs.filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.variant).sort()).to.deep.equal(['list', 'text']);
  });

  it('cuts a variant name to 64 characters (it is a metric label and a column)', async () => {
    const long = 'v'.repeat(100);
    const selection = await selectionWith([settingsFlag('gen', [{ name: long, weight: 1000, payload: json({ x: 1 }) }])]);
    expect(selection.choose(AGENT, { pipelineId: ids[0]! })).to.deep.equal({
      version: '1.0.0',
      variant: 'v'.repeat(64),
      settings: { x: 1 },
    });
  });
});
