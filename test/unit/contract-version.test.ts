// Contract declarations and upcasting (domain/contract-version.ts), outputs handed downstream
// (agents/envelope-execution.ts) and the agent job's two accepted shapes (job-payloads.ts).
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { upcastEnvelope } from '../../src/agents/envelope-execution.js';
import { defineContract } from '../../src/domain/contract-version.js';
import { UnrecoverableStageError } from '../../src/domain/errors.js';
import type { JsonObject } from '../../src/domain/json.js';
import { completeEnvelope } from '../../src/domain/stage-envelope.js';
import { stageJobSchema } from '../../src/infra/queue/job-payloads.js';
import { gradeAgent, greetAgentV3, scoreAgentV2 } from '../support/contract-agents.js';

const ids = { pipelineId: '11111111-1111-4111-8111-111111111111', stageId: '22222222-2222-4222-8222-222222222222', stageKey: 'a' };
const refusal = (fn: () => unknown): UnrecoverableStageError => {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(UnrecoverableStageError);
    return error as UnrecoverableStageError;
  }
  throw new Error('expected a refusal');
};

describe('agent contract versions', () => {
  it('defaults to contract v1 accepting only v1', () => {
    const contract = defineContract('plain');
    expect([contract.version, contract.accepts, contract.acceptsOutputs]).to.deep.equal([1, [1, 1], [1, 1]]);
    expect(contract.upcastInput({ a: 1 }, 1)).to.deep.equal({ a: 1 });
  });

  it('chains upcasters from the envelope version up to its own', () => {
    const contract = defineContract('chain', {
      version: 5,
      upcasters: {
        3: (i) => ({ ...i, steps: [...(i.steps as string[]), '3→4'] }),
        4: (i) => ({ ...i, steps: [...(i.steps as string[]), '4→5'] }),
      },
    });
    expect(contract.accepts).to.deep.equal([3, 5]);
    expect(contract.upcastInput({ steps: [] }, 3)).to.deep.equal({ steps: ['3→4', '4→5'] });
    expect(contract.upcastInput({ steps: [] }, 4)).to.deep.equal({ steps: ['4→5'] });
    expect(contract.upcastInput({ steps: [] }, 5)).to.deep.equal({ steps: [] });
  });

  it('accepts N-1 only when it has just the one upcaster, and says so', () => {
    const contract = defineContract('one', { version: 2, upcasters: { 1: (i) => i } });
    expect(contract.accepts).to.deep.equal([1, 2]);
    expect(refusal(() => contract.upcastInput({}, 3)).message).to.equal('envelope contract v3, agent one speaks v2 and upcasts v1');
  });

  it('refuses at definition an upcaster further back than N-2, one at N or above, and a gap', () => {
    const id = (i: JsonObject) => i;
    expect(() => defineContract('far', { version: 4, upcasters: { 1: id, 2: id, 3: id } })).to.throw(/v1 is out of range.*v2–v3/);
    expect(() => defineContract('ahead', { version: 2, upcasters: { 2: id } })).to.throw(/out of range/);
    expect(() => defineContract('gap', { version: 3, upcasters: { 1: id } })).to.throw(/consecutive/);
    expect(() => defineContract('zero', { version: 0 })).to.throw(/positive integer/);
    expect(() =>
      defineAgent({
        type: 'bad',
        version: '1.0.0',
        input: z.object({}),
        output: z.object({}),
        contract: { version: 1.5 },
        handler: async () => ({}),
      }),
    ).to.throw(/positive integer/);
  });

  it('upcasts an upstream output by its producer’s output upcasters, and passes an unknown producer’s as stored', () => {
    const producers = new Map([[scoreAgentV2.type, scoreAgentV2]]);
    const envelope = {
      contractVersion: 1,
      input: {},
      upstream: {
        score: { agent: 'score', contractVersion: 1, output: { score: 87 } },
        current: { agent: 'score', contractVersion: 2, output: { score: { value: 50, outOf: 100 } } },
        foreign: { agent: 'elsewhere', contractVersion: 7, output: { anything: true } },
        failed: { agent: 'score', contractVersion: 1, output: null },
      },
    };
    const { dependencies } = upcastEnvelope(gradeAgent, envelope, producers);
    expect(dependencies).to.deep.equal({
      score: { score: { value: 87, outOf: 100 } },
      current: { score: { value: 50, outOf: 100 } },
      foreign: { anything: true },
      failed: null,
    });
  });

  it('refuses an upstream output its producer cannot upcast, naming the stage and both versions', () => {
    const producers = new Map([[greetAgentV3.type, greetAgentV3]]);
    const envelope = {
      contractVersion: 1,
      input: {},
      upstream: { hello: { agent: 'greet', contractVersion: 2, output: { greeting: 'hi' } } },
    };
    const error = refusal(() => upcastEnvelope(gradeAgent, envelope, producers));
    expect(error.code).to.equal('CONTRACT_VERSION_UNSUPPORTED');
    expect(error.message).to.equal('upstream "hello" output contract v2, agent greet speaks v3 and upcasts none');
  });
});

describe('stage envelope', () => {
  it('completes the job header from the claim; the recorded contract version wins over the header’s copy', () => {
    const envelope = completeEnvelope(
      { ...ids, contractVersion: 3, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', correlationId: 'req-1' },
      { ...ids, runId: 'r', attempt: 2, contractVersion: 2, input: { a: 1 }, upstream: {} },
    );
    expect(envelope).to.deep.equal({
      ...ids,
      contractVersion: 2,
      runId: 'r',
      attempt: 2,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      correlationId: 'req-1',
      input: { a: 1 },
      upstream: {},
    });
    expect(completeEnvelope({}, { ...ids, runId: 'r', attempt: 1, input: {}, upstream: {} }).contractVersion).to.equal(1);
  });

  it('reads agent jobs of both shapes: v1 (before envelopes) and v2 (the header)', () => {
    const v1 = stageJobSchema.parse({ v: 1, ...ids, requestId: 'req-1' });
    expect(v1).to.deep.include({ ...ids, requestId: 'req-1', correlationId: 'req-1', contractVersion: undefined });
    const v2 = stageJobSchema.parse({ v: 2, ...ids, contractVersion: 4, correlationId: 'req-2' });
    expect(v2).to.deep.include({ ...ids, contractVersion: 4, requestId: 'req-2' });
    expect(stageJobSchema.safeParse({ v: 2, ...ids }).success, 'v2 without its contract version').to.equal(false);
    expect(stageJobSchema.safeParse({ v: 2, ...ids, contractVersion: 1, traceparent: 'nope' }).success).to.equal(false);
    expect(stageJobSchema.safeParse({ v: 3, ...ids, contractVersion: 1 }).success).to.equal(false);
  });
});
