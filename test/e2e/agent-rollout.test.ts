// Gradual rollout and settings variants through the platform: a FLAGS_FILE puts 30 % of pipelines
// on a two-version test agent's next version, and splits another agent's pipelines 50/50 between
// two settings variants with JSON payloads. Real API, worker, Redis and Postgres: every pipeline's
// stages ran one version (sticky), the handler that ran is the one recorded, the share is within
// a few points of 30 %, the API shows the version and variant on stages and runs, the agent
// received its variant's payload as ctx.settings, and the worker's /metrics counts by variant.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { defineAgent } from '../../src/agents/define-agent.js';
import { BUILT_IN_AGENTS } from '../../src/agents/catalog.js';
import { jsonObjectSchema } from '../../src/domain/json.js';
import type { WorkerRuntime } from '../../src/composition/worker-runtime.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { createAgentSelection } from '../../src/services/agent-selection.js';
import { startHarness, type Harness } from '../support/harness.js';
import { startMetricsWorker } from '../support/metrics-worker.js';
import { request, type Loose } from '../support/http.js';
import { sampleValue } from '../support/promtool.js';

/** Reports which version's handler ran and the settings it was handed. */
const versionedAgent = defineAgent({
  type: 'versioned',
  version: '1.0.0',
  input: jsonObjectSchema,
  output: jsonObjectSchema,
  handler: async ({ settings }) => ({ ran: '1.0.0', settings }),
  next: { version: '1.1.0', handler: async ({ settings }) => ({ ran: '1.1.0', settings }) },
});

/** One version; its settings flag has two variants. */
const tunedAgent = defineAgent({
  type: 'tuned',
  version: '3.0.0',
  input: jsonObjectSchema,
  output: jsonObjectSchema,
  handler: async ({ settings }) => ({ settings }),
});

const PIPELINES = 1000;
const ROLLOUT_PERCENT = 30;
/** Percentage points: 1,000 pipelines at 30 % give a standard deviation of 1.45 points; 5 is beyond 3 of them. */
const TOLERANCE = 5;
const SUBMIT_IN_FLIGHT = 25;
const SETTINGS = { careful: { temperature: 0.1, reviewers: 2 }, quick: { temperature: 0.8, reviewers: 0 } };

const features = [
  {
    name: 'agent.versioned.rollout',
    enabled: true,
    strategies: [
      {
        name: 'flexibleRollout',
        parameters: { rollout: String(ROLLOUT_PERCENT), stickiness: 'default', groupId: 'agent.versioned.rollout' },
        constraints: [],
      },
    ],
    variants: [],
  },
  {
    name: 'agent.tuned.settings',
    enabled: true,
    strategies: [{ name: 'default', parameters: {}, constraints: [] }],
    variants: Object.entries(SETTINGS).map(([name, payload]) => ({
      name,
      weight: 500,
      weightType: 'variable',
      stickiness: 'default',
      payload: { type: 'json', value: JSON.stringify(payload) },
    })),
  },
];

/** Runs `task` over `items`, `limit` at a time. */
async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!);
      }
    }),
  );
  return results;
}

describe('agent rollout and settings variants (e2e)', function () {
  this.timeout(180_000);
  let h: Harness;
  let worker: WorkerRuntime;
  let workerUrl: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-rollout-'));
    const flagsFile = join(dir, 'flags.json');
    writeFileSync(flagsFile, JSON.stringify({ version: 2, features }));
    h = await startHarness({ agents: [...BUILT_IN_AGENTS, versionedAgent, tunedAgent], workers: 0, env: { FLAGS_FILE: flagsFile } });
    // A worker of its own with a metrics port, as in metrics.test.ts.
    worker = await startMetricsWorker(h, { serve: [versionedAgent, tunedAgent], concurrency: 50 });
    workerUrl = `http://127.0.0.1:${worker.metricsPort()}`;
  });
  after(async () => {
    await worker?.close();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Submits `count` two-stage pipelines (a, then b) of `agent` and waits until all have finished. */
  async function runPipelines(agent: string, count: number): Promise<string[]> {
    const ids = await inBatches(
      Array.from({ length: count }, (_, i) => i),
      SUBMIT_IN_FLIGHT,
      async (i) => {
        const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
          name: `${agent}-${i}`,
          stages: [
            { key: 'a', agent, input: {} },
            { key: 'b', agent, dependsOn: ['a'], input: {} },
          ],
        });
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        return res.body.id as string;
      },
    );
    const deadline = Date.now() + 150_000;
    for (;;) {
      const { rows } = await h.db.pool.query<{ open: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE status NOT IN ('succeeded', 'failed', 'cancelled'))::int AS open,
                count(*) FILTER (WHERE status <> 'succeeded')::int AS failed
         FROM pipelines WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      if (rows[0]!.open === 0) {
        expect(rows[0]!.failed, 'pipelines that did not succeed').to.equal(0);
        return ids;
      }
      if (Date.now() > deadline) throw new Error(`${rows[0]!.open} of ${count} pipelines still open`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it(`1,000 pipelines at a ${ROLLOUT_PERCENT} % rollout: each pipeline sticks to one version, the share holds, the API shows it`, async () => {
    // Act
    const ids = await runPipelines('versioned', PIPELINES);

    // Assert: per pipeline, both runs and both stages recorded one version, and the handler that
    // ran (its output) is the version recorded.
    const { rows } = await h.db.pool.query<{ pipeline_id: string; runs: number; versions: string[]; ran: string[]; variants: number }>(
      `SELECT r.pipeline_id, count(*)::int AS runs,
              array_agg(DISTINCT r.agent_version) AS versions,
              array_agg(DISTINCT s.output->>'ran') AS ran,
              count(r.variant)::int AS variants
       FROM stage_runs r JOIN stages s ON s.id = r.stage_id
       WHERE r.pipeline_id = ANY($1::uuid[]) GROUP BY r.pipeline_id`,
      [ids],
    );
    expect(rows).to.have.length(PIPELINES);
    for (const row of rows) {
      expect(row.runs, row.pipeline_id).to.equal(2);
      expect(row.versions, row.pipeline_id).to.have.length(1);
      expect(row.ran, row.pipeline_id).to.deep.equal(row.versions);
      expect(row.variants, 'no settings flag for this agent: no variant').to.equal(0);
    }
    const onNext = rows.filter((r) => r.versions[0] === '1.1.0');
    const share = (100 * onNext.length) / PIPELINES;
    process.stdout.write(
      `      figures: ${onNext.length} of ${PIPELINES} pipelines on 1.1.0 (${share} % against a ${ROLLOUT_PERCENT} % rollout)\n`,
    );
    expect(share).to.be.within(ROLLOUT_PERCENT - TOLERANCE, ROLLOUT_PERCENT + TOLERANCE);
    expect(rows.every((r) => r.versions[0] === '1.0.0' || r.versions[0] === '1.1.0')).to.equal(true);

    // Sticky across processes: the same flags evaluated here put each pipeline where the worker did.
    const selection = createAgentSelection({ flags: h.flags, logger: createLogger({ level: 'error', service: 'test', silent: true }) });
    for (const row of rows) {
      expect(selection.choose(versionedAgent, { pipelineId: row.pipeline_id }).version, row.pipeline_id).to.equal(row.versions[0]);
    }

    // The API: each stage shows the version its latest run used, and so does each run.
    for (const { pipeline_id: id, versions } of [onNext[0]!, rows.find((r) => r.versions[0] === '1.0.0')!]) {
      const pipeline = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}`);
      expect(pipeline.status).to.equal(200);
      expect((pipeline.body.stages as Loose[]).map((s) => [s.key, s.agentVersion, s.variant])).to.deep.equal([
        ['a', versions[0], null],
        ['b', versions[0], null],
      ]);
      const runs = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}/runs`);
      expect(runs.status).to.equal(200);
      expect((runs.body.items as Loose[]).map((r) => [r.stageKey, r.agentVersion, r.variant])).to.deep.equal([
        ['a', versions[0], null],
        ['b', versions[0], null],
      ]);
    }

    // The worker's metrics count each attempt under the version it ran (no settings flag: variant `none`).
    const metrics = await (await fetch(`${workerUrl}/metrics`)).text();
    const attempts = (version: string) =>
      sampleValue(metrics, 'agentic_stage_attempts_total', { agent: 'versioned', version, variant: 'none' });
    expect(attempts('1.1.0')).to.equal(2 * onNext.length);
    expect(attempts('1.0.0')).to.equal(2 * (PIPELINES - onNext.length));

    // GET /agents lists both versions and the flag that picks between them.
    const agents = await request(h.baseUrl, 'GET', '/api/v1/agents');
    expect((agents.body.items as Loose[]).find((a) => a.type === 'versioned')).to.include({
      version: '1.0.0',
      nextVersion: '1.1.0',
      rolloutFlag: 'agent.versioned.rollout',
    });
    expect((agents.body.items as Loose[]).find((a) => a.type === 'tuned')).to.include({ version: '3.0.0', nextVersion: null });
  });

  it('50/50 settings variants: the agent gets its variant payload as ctx.settings, the run records the variant, /metrics counts by variant', async () => {
    // Arrange
    const scrape = async () => (await fetch(`${workerUrl}/metrics`)).text();
    const before = await scrape();

    // Act
    const ids = await runPipelines('tuned', 200);

    // Assert: one variant per pipeline, recorded on both runs and stages, its payload handed over.
    const { rows } = await h.db.pool.query<{ pipeline_id: string; variants: string[]; settings: Loose[]; stage_variants: string[] }>(
      `SELECT r.pipeline_id, array_agg(DISTINCT r.variant) AS variants, array_agg(DISTINCT s.output->'settings') AS settings,
              array_agg(DISTINCT s.run_variant) AS stage_variants
       FROM stage_runs r JOIN stages s ON s.id = r.stage_id
       WHERE r.pipeline_id = ANY($1::uuid[]) GROUP BY r.pipeline_id`,
      [ids],
    );
    expect(rows).to.have.length(200);
    const count = { careful: 0, quick: 0 };
    for (const row of rows) {
      expect(row.variants, row.pipeline_id).to.have.length(1);
      const variant = row.variants[0] as keyof typeof SETTINGS;
      expect(Object.keys(SETTINGS), row.pipeline_id).to.include(variant);
      expect(row.settings, row.pipeline_id).to.deep.equal([SETTINGS[variant]]);
      expect(row.stage_variants, row.pipeline_id).to.deep.equal([variant]);
      count[variant]++;
    }
    // Both arms are used (200 pipelines at 50/50: each arm 100 ± 7 at one standard deviation).
    expect(count.careful).to.be.within(50, 150);
    expect(count.quick).to.be.within(50, 150);

    const runs = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${ids[0]}/runs`);
    const variant = rows.find((r) => r.pipeline_id === ids[0])!.variants[0];
    expect((runs.body.items as Loose[]).map((r) => [r.agentVersion, r.variant])).to.deep.equal([
      ['3.0.0', variant],
      ['3.0.0', variant],
    ]);

    // The worker's metrics count each attempt under its version and variant.
    const after = await scrape();
    for (const [name, n] of Object.entries(count)) {
      const labels = { agent: 'tuned', version: '3.0.0', variant: name };
      expect(
        sampleValue(after, 'agentic_stage_attempts_total', labels) - sampleValue(before, 'agentic_stage_attempts_total', labels),
      ).to.equal(2 * n);
      expect(
        sampleValue(after, 'agentic_stage_duration_seconds_count', { ...labels, status: 'succeeded' }) -
          sampleValue(before, 'agentic_stage_duration_seconds_count', { ...labels, status: 'succeeded' }),
      ).to.equal(2 * n);
    }
  });
});
