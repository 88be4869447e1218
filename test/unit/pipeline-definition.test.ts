// Unit tests for pipeline definition validation (src/domain/pipeline-definition.ts) against
// the built-in agent catalog: pure, no I/O.
import { expect } from 'chai';
import { createAgentCatalog } from '../../src/agents/catalog.js';
import { ValidationError, type ErrorDetail } from '../../src/domain/errors.js';
import { MAX_INPUT_BYTES, validatePipelineDefinition } from '../../src/domain/pipeline-definition.js';

const catalog = createAgentCatalog();

/** Runs the validator expecting a ValidationError and returns it. */
function rejectionOf(raw: unknown): ValidationError {
  try {
    validatePipelineDefinition(raw, catalog);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return error as ValidationError;
  }
  expect.fail('expected the definition to be rejected');
}

function detailFor(error: ValidationError, field: string): ErrorDetail {
  const detail = error.details.find((d) => d.field === field);
  expect(detail, `no detail for ${field} in ${JSON.stringify(error.details)}`).to.not.equal(undefined);
  return detail!;
}

/** A JSON object whose serialization is a bit over `bytes`. */
function bigObject(bytes: number): { blob: string } {
  return { blob: 'x'.repeat(bytes) };
}

describe('validatePipelineDefinition', () => {
  describe('rejections', () => {
    it('cycle: rejects with a cycle detail at the first stage naming the stages', () => {
      // Arrange
      const raw = {
        name: 'cyclic',
        stages: [
          { key: 'a', agent: 'noop', dependsOn: ['c'] },
          { key: 'b', agent: 'noop', dependsOn: ['a'] },
          { key: 'c', agent: 'noop', dependsOn: ['b'] },
        ],
      };

      // Act
      const error = rejectionOf(raw);

      // Assert
      expect(error.code).to.equal('VALIDATION_FAILED');
      expect(error.status).to.equal(400);
      const detail = detailFor(error, 'stages[0].dependsOn');
      expect(detail.code).to.equal('cycle');
      expect(detail.message).to.contain('a -> c -> b -> a');
    });

    it('self-dependency: rejects naming stages[1].dependsOn[0]', () => {
      const raw = {
        name: 'self',
        stages: [
          { key: 'a', agent: 'noop' },
          { key: 'b', agent: 'noop', dependsOn: ['b'] },
        ],
      };

      const error = rejectionOf(raw);

      expect(detailFor(error, 'stages[1].dependsOn[0]').code).to.equal('self_dependency');
    });

    it('unknown dependency: rejects naming stages[1].dependsOn[0] and the missing key', () => {
      const raw = {
        name: 'unknown-dep',
        stages: [
          { key: 'a', agent: 'noop' },
          { key: 'b', agent: 'noop', dependsOn: ['zzz'] },
        ],
      };

      const error = rejectionOf(raw);

      const detail = detailFor(error, 'stages[1].dependsOn[0]');
      expect(detail.code).to.equal('unknown_dependency');
      expect(detail.message).to.contain('zzz');
    });

    it('duplicate key: rejects naming stages[1].key', () => {
      const raw = {
        name: 'dup',
        stages: [
          { key: 'a', agent: 'noop' },
          { key: 'a', agent: 'noop' },
        ],
      };

      const error = rejectionOf(raw);

      expect(detailFor(error, 'stages[1].key').code).to.equal('duplicate_key');
    });

    it('unknown agent type: rejects naming stages[0].agent and listing the known agents', () => {
      const raw = { name: 'agentless', stages: [{ key: 'a', agent: 'wizard' }] };

      const error = rejectionOf(raw);

      const detail = detailFor(error, 'stages[0].agent');
      expect(detail.code).to.equal('unknown_agent');
      expect(detail.message)
        .to.contain('wizard')
        .and.match(/known: .*\bnoop, requirements, .*\bsim_validation, sleep\b/);
    });

    it('501 stages: rejects naming stages', () => {
      const raw = {
        name: 'huge',
        stages: Array.from({ length: 501 }, (_, i) => ({ key: `s${i}`, agent: 'noop' })),
      };

      const error = rejectionOf(raw);

      const detail = detailFor(error, 'stages');
      expect(detail.code).to.equal('too_big');
      expect(detail.message).to.contain('500');
    });

    it('500 stages: accepts the definition', () => {
      const raw = {
        name: 'max',
        stages: Array.from({ length: 500 }, (_, i) => ({ key: `s${i}`, agent: 'noop', dependsOn: i === 0 ? [] : [`s${i - 1}`] })),
      };

      const definition = validatePipelineDefinition(raw, catalog);

      expect(definition.stages).to.have.length(500);
    });

    it('empty stages: rejects naming stages', () => {
      const error = rejectionOf({ name: 'empty', stages: [] });

      expect(detailFor(error, 'stages').code).to.equal('too_small');
    });

    it('stage input over 256 KB: rejects naming stages[0].input', () => {
      const raw = { name: 'fat-stage', stages: [{ key: 'a', agent: 'noop', input: bigObject(MAX_INPUT_BYTES) }] };

      const error = rejectionOf(raw);

      const detail = detailFor(error, 'stages[0].input');
      expect(detail.code).to.equal('too_big');
      expect(detail.message).to.contain('256 KB');
    });

    it('stage input just under 256 KB: accepts the definition', () => {
      const raw = { name: 'fit-stage', stages: [{ key: 'a', agent: 'noop', input: bigObject(MAX_INPUT_BYTES - 100) }] };

      const definition = validatePipelineDefinition(raw, catalog);

      expect(definition.stages[0]!.input).to.deep.equal(raw.stages[0]!.input);
    });

    it('pipeline input over 256 KB: rejects naming input', () => {
      const raw = { name: 'fat-pipeline', input: bigObject(MAX_INPUT_BYTES), stages: [{ key: 'a', agent: 'noop' }] };

      const error = rejectionOf(raw);

      expect(detailFor(error, 'input').code).to.equal('too_big');
    });

    it('unknown property on a stage (strict): rejects naming stages[0].colour', () => {
      const raw = { name: 'strict', stages: [{ key: 'a', agent: 'noop', colour: 'red' }] };

      const error = rejectionOf(raw);

      const detail = detailFor(error, 'stages[0].colour');
      expect(detail.code).to.equal('unrecognized_keys');
      expect(detail.message).to.contain('colour');
    });

    it('unknown top-level property (strict): rejects naming owner', () => {
      const raw = { name: 'strict', stages: [{ key: 'a', agent: 'noop' }], owner: 'me' };

      const error = rejectionOf(raw);

      const detail = detailFor(error, 'owner');
      expect(detail.code).to.equal('unrecognized_keys');
      expect(detail.message).to.contain('owner');
    });

    it('bad key pattern: rejects naming stages[0].key', () => {
      const raw = { name: 'bad-key', stages: [{ key: '1st stage', agent: 'noop' }] };

      const error = rejectionOf(raw);

      expect(detailFor(error, 'stages[0].key').code).to.equal('invalid_format');
    });

    it('retry attempts of 0: rejects naming stages[0].retry.attempts', () => {
      const raw = { name: 'no-retry', stages: [{ key: 'a', agent: 'noop', retry: { attempts: 0 } }] };

      const error = rejectionOf(raw);

      expect(detailFor(error, 'stages[0].retry.attempts').code).to.equal('too_small');
    });

    it('sleep agent with a negative ms: rejects naming stages[0].input.ms', () => {
      const raw = { name: 'bad-sleep', stages: [{ key: 'nap', agent: 'sleep', input: { ms: -1 } }] };

      const error = rejectionOf(raw);

      expect(detailFor(error, 'stages[0].input.ms').code).to.equal('too_small');
    });

    it('sleep agent without ms: rejects naming stages[0].input.ms', () => {
      const raw = { name: 'no-sleep', stages: [{ key: 'nap', agent: 'sleep', input: {} }] };

      const error = rejectionOf(raw);

      expect(detailFor(error, 'stages[0].input.ms').code).to.equal('invalid_type');
    });

    it('missing name: rejects naming name', () => {
      const error = rejectionOf({ stages: [{ key: 'a', agent: 'noop' }] });

      expect(detailFor(error, 'name').code).to.equal('invalid_type');
    });

    it('several problems at once: reports each of them', () => {
      const raw = {
        name: 'many',
        stages: [
          { key: 'a', agent: 'wizard' },
          { key: 'b', agent: 'noop', dependsOn: ['nope'] },
        ],
      };

      const error = rejectionOf(raw);

      expect(error.details.map((d) => d.field)).to.have.members(['stages[0].agent', 'stages[1].dependsOn[0]']);
    });
  });

  describe('defaults', () => {
    it('minimal stage: applies retry, backoff, continueOnFailure, dependsOn and input defaults', () => {
      // Arrange
      const raw = { name: '  minimal  ', stages: [{ key: 'a', agent: 'noop' }] };

      // Act
      const definition = validatePipelineDefinition(raw, catalog);

      // Assert
      expect(definition.name).to.equal('minimal');
      expect(definition.input).to.deep.equal({});
      expect(definition.stages[0]).to.deep.equal({
        key: 'a',
        agent: 'noop',
        dependsOn: [],
        input: {},
        retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.5 } },
        continueOnFailure: false,
      });
    });

    it('partial retry: fills the missing retry and backoff fields', () => {
      const raw = { name: 'partial', stages: [{ key: 'a', agent: 'noop', retry: { backoff: { type: 'fixed' } } }] };

      const definition = validatePipelineDefinition(raw, catalog);

      expect(definition.stages[0]!.retry).to.deep.equal({ attempts: 3, backoff: { type: 'fixed', delayMs: 1000, jitter: 0.5 } });
    });
  });
});
