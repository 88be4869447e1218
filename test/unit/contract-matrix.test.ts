// The compatibility matrix: every built-in agent (the configured ones included), and the test-only agents with a
// contract history, run on envelopes of contract N, N-1 and N-2 (where the agent accepts them),
// every version it registers; N+1 and anything older than its oldest accepted version (N-3 at
// most) are refused with CONTRACT_VERSION_UNSUPPORTED, naming both versions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createAgentCatalog } from '../../src/agents/catalog.js';
import { configuredAgents } from '../../src/composition/configured-agents.js';
import type { Agent, AgentWorkspace } from '../../src/agents/define-agent.js';
import { executeEnvelope } from '../../src/agents/envelope-execution.js';
import { UnrecoverableStageError } from '../../src/domain/errors.js';
import type { JsonObject } from '../../src/domain/json.js';
import type { StageEnvelope } from '../../src/domain/stage-envelope.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { testRunContext } from '../support/agent-context.js';
import { greetAgentV3, greetAgentV4 } from '../support/contract-agents.js';

/**
 * A valid input per agent type and contract version it accepts. An agent added to the catalog
 * (or an upcaster added to one) needs its sample here: the first test names what is missing.
 */
const SAMPLES: Record<string, Record<number, JsonObject>> = {
  noop: { 1: { hello: 'world' } },
  sleep: { 1: { ms: 0 } },
  fail: { 1: { failAttempts: 0 } },
  requirements: {
    1: {
      requirements: 'Build an HTTP service that answers GET /health with 200 and {"status":"ok"} as JSON.',
      acceptanceCriteria: ['GET /health answers 200 with {"status":"ok"}'],
      confidence: 95,
    },
  },
  sim_scaffold: { 1: {} },
  sim_validation: { 1: {} },
  sim_e2e_test: { 1: {} },
  sim_integration: { 1: {} },
  sim_deployment: { 1: {} },
  scaffold: { 1: { template: 'ts-http-service', name: 'matrix-service', requirements: 'A service that answers GET /health.' } },
  validation: { 1: {} },
  e2e_test: { 1: {} },
  integration: { 1: {} },
  deployment: { 1: { healthPath: '/health' } },
  command: { 1: { command: 'node', args: ['--version'] } },
  http: { 1: { url: 'https://api.example.com/health' } },
  llm: { 1: { prompt: 'Say hello.' } },
  greet: {
    1: { name: 'Ada Lovelace' },
    2: { firstName: 'Ada', lastName: 'Lovelace' },
    3: { person: { first: 'Ada', last: 'Lovelace' }, language: 'en' },
    4: { person: { first: 'Ada', last: 'Lovelace' }, language: 'en', formal: true },
  },
};

/** What the test-only agents answer for each envelope version (older ones upcast first). */
const EXPECTED: Record<string, Record<number, JsonObject>> = {
  'greet@3': { 1: { greeting: 'Hello Ada Lovelace' }, 2: { greeting: 'Hello Ada Lovelace' }, 3: { greeting: 'Hello Ada Lovelace' } },
  'greet@4': { 2: { greeting: 'Hello Ada Lovelace' }, 3: { greeting: 'Hello Ada Lovelace' }, 4: { greeting: 'Good day Ada Lovelace' } },
};

// The agents that do real work (git, npm, processes, the network) are run with their handler
// replaced by their own input check: the matrix proves the envelope reaches them upcast and valid;
// what they do with it is each one's own suite (test/integration/*-agent.test.ts).
const configured = configuredAgents({
  LLM_BASE_URL: 'http://127.0.0.1:9/v1',
  LLM_MODEL: 'matrix',
  LLM_API_KEY: '',
  LLM_TIMEOUT_MS: 1000,
  RELEASES_ROOT: join(tmpdir(), 'contract-matrix-releases'),
  DEPLOY_HOOK_URL: '',
  DEPLOY_HOOK_TOKEN: '',
  GITHUB_TOKEN: '',
  GITHUB_API_URL: 'https://api.github.com',
  COMMAND_ALLOWED_PROGRAMS: ['node'],
  COMMAND_ENV_ALLOW_LIST: [],
  HTTP_AGENT_ALLOWED_HOSTS: ['api.example.com'],
}).map((agent): Agent => ({
  ...agent,
  execute: async (input) => {
    const checked = agent.validateInput(input);
    if (!checked.ok) throw new Error(`${agent.type}: ${JSON.stringify(checked.problems)}`);
    return { accepted: input };
  },
}));
const builtIn = [...createAgentCatalog().values(), ...configured];
const matrix: Agent[] = [...builtIn, greetAgentV3, greetAgentV4];

const envelope = (contractVersion: number, input: JsonObject): StageEnvelope => ({
  contractVersion,
  pipelineId: '11111111-1111-4111-8111-111111111111',
  stageId: '22222222-2222-4222-8222-222222222222',
  stageKey: 'matrix',
  runId: '33333333-3333-4333-8333-333333333333',
  attempt: 1,
  traceparent: null,
  correlationId: 'req-matrix',
  input,
  upstream: {},
});

describe('contract compatibility matrix: every agent against envelopes of N, N-1 and N-2', () => {
  let root: string;
  let workspace: AgentWorkspace;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'contract-matrix-'));
    workspace = await createLocalWorkspace({ root });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('every agent of the built-in catalog has a sample input for each contract version it accepts', () => {
    const missing = matrix.flatMap((agent) => {
      const [min, max] = agent.contract.accepts;
      return Array.from({ length: max - min + 1 }, (_, i) => min + i)
        .filter((v) => !SAMPLES[agent.type]?.[v])
        .map((v) => `${agent.type} v${v}`);
    });
    expect(missing, 'add these to SAMPLES').to.deep.equal([]);
    expect(builtIn.length).to.be.greaterThan(0);
  });

  for (const agent of matrix) {
    const { version: n, accepts } = agent.contract;
    const versions = [agent.version, ...(agent.nextVersion ? [agent.nextVersion] : [])];
    describe(`${agent.type} ${agent.version} (contract v${n}, accepts v${accepts[0]}–v${accepts[1]})`, () => {
      for (const v of [n, n - 1, n - 2].filter((k) => k >= accepts[0])) {
        it(`runs an envelope of contract v${v}${v === n ? ' (N)' : ` (N-${n - v})`} on ${versions.join(' and ')}`, async () => {
          for (const version of versions) {
            const output = await executeEnvelope(agent, envelope(v, SAMPLES[agent.type]![v]!), testRunContext({ workspace }), {
              version,
            });
            expect(output, `${agent.type} ${version}`).to.not.equal(undefined);
            const expected = EXPECTED[`${agent.type}@${n}`]?.[v];
            if (expected) expect(output).to.deep.equal(expected);
          }
        });
      }

      const refused = [n + 1, n - 3, accepts[0] - 1].filter((k, i, all) => k >= 1 && all.indexOf(k) === i);
      for (const v of refused) {
        it(`refuses an envelope of contract v${v} at once, naming v${v} and v${n}`, async () => {
          const sample = SAMPLES[agent.type]?.[n] ?? {};
          let ran = false;
          // The same agent, noting whether its handler was reached.
          const spy: Agent = {
            ...agent,
            execute: (...args) => {
              ran = true;
              return agent.execute(...args);
            },
          };
          const error = await executeEnvelope(spy, envelope(v, sample), testRunContext({ workspace })).then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).to.be.instanceOf(UnrecoverableStageError);
          const refusal = error as UnrecoverableStageError;
          expect(refusal.code).to.equal('CONTRACT_VERSION_UNSUPPORTED');
          expect(refusal.retryable).to.equal(false);
          expect(refusal.message).to.contain(`envelope contract v${v},`).and.to.contain(`agent ${agent.type} speaks v${n}`);
          expect(ran, 'the handler must not start').to.equal(false);
        });
      }
    });
  }

  it('words a refusal with both versions and the upcast range', async () => {
    const error = await executeEnvelope(greetAgentV4, envelope(1, SAMPLES.greet![1]!), testRunContext()).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('envelope contract v1, agent greet speaks v4 and upcasts v2–v3');
    const newer = await executeEnvelope(createAgentCatalog().get('noop')!, envelope(2, {}), testRunContext()).catch((e: unknown) => e);
    expect((newer as Error).message).to.equal('envelope contract v2, agent noop speaks v1 and upcasts none');
  });
});
