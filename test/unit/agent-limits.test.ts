// Unit tests for the throttling settings per agent type (src/domain/agent-limits.ts) and their
// variable, AGENT_LIMITS: the shape, the refusals naming the field, and what a worker is built with.
import { expect } from 'chai';
import { agentLimitsSchema, throttleFor, unknownLimitedTypes } from '../../src/domain/agent-limits.js';
import { parseConfig } from '../../src/config.js';
import { ConfigError } from '../../src/config/config-error.js';

const configWith = (value: string) => parseConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://u@127.0.0.1/db', AGENT_LIMITS: value });

function problemsOf(value: string): string[] {
  try {
    configWith(value);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`AGENT_LIMITS=${value} was accepted`);
}

describe('agent limits (domain and AGENT_LIMITS)', () => {
  describe('throttleFor', () => {
    const limits = agentLimitsSchema.parse({
      http: { concurrency: 4, rate: { max: 10, durationMs: 1000 } },
      llm: { rate: { max: 60, durationMs: 60_000 } },
    });

    it('a type with both: its concurrency and its limiter', () => {
      expect(throttleFor(limits, 'http', 10)).to.deep.equal({ concurrency: 4, rate: { max: 10, duration: 1000 } });
    });

    it('a type with a rate only: the process concurrency and its limiter', () => {
      expect(throttleFor(limits, 'llm', 8)).to.deep.equal({ concurrency: 8, rate: { max: 60, duration: 60_000 } });
    });

    it('a type without limits: the process concurrency and no limiter', () => {
      expect(throttleFor(limits, 'noop', 10)).to.deep.equal({ concurrency: 10, rate: null });
    });

    it('a type named like an Object property is not limited by it', () => {
      expect(throttleFor(limits, 'constructor', 3)).to.deep.equal({ concurrency: 3, rate: null });
    });
  });

  describe('unknownLimitedTypes', () => {
    it('names the types the catalog does not know, in the order given', () => {
      const limits = agentLimitsSchema.parse({ htp: { concurrency: 1 }, http: { concurrency: 1 }, lmm: { concurrency: 2 } });
      expect(unknownLimitedTypes(limits, ['http', 'llm', 'noop'])).to.deep.equal(['htp', 'lmm']);
    });

    it('none unknown, or no limits: empty', () => {
      expect(unknownLimitedTypes({}, ['http'])).to.deep.equal([]);
      expect(unknownLimitedTypes(agentLimitsSchema.parse({ http: {} }), new Set(['http']))).to.deep.equal([]);
    });
  });

  describe('AGENT_LIMITS', () => {
    it('unset: no limits', () => {
      expect(parseConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://u@127.0.0.1/db' }).AGENT_LIMITS).to.deep.equal({});
    });

    it('parses the documented example', () => {
      expect(configWith('{"http":{"concurrency":4,"rate":{"max":10,"durationMs":1000}}}').AGENT_LIMITS).to.deep.equal({
        http: { concurrency: 4, rate: { max: 10, durationMs: 1000 } },
      });
    });

    it('not JSON: refused with an example', () => {
      expect(problemsOf('http=4')).to.deep.equal([
        `AGENT_LIMITS: must be a JSON object, e.g. {"http":{"concurrency":4,"rate":{"max":10,"durationMs":1000}}}`,
      ]);
    });

    it('a bad or misspelt field: refused naming its path', () => {
      expect(problemsOf('{"http":{"rate":{"max":0,"durationMs":1000}}}')[0]).to.match(/^AGENT_LIMITS\.http\.rate\.max: /);
      expect(problemsOf('{"http":{"concurency":3}}')[0]).to.match(/^AGENT_LIMITS\.http: .*concurency/);
      expect(problemsOf('{"http":{"rate":{"max":5,"durationMs":1000,"per":"s"}}}')[0]).to.match(/^AGENT_LIMITS\.http\.rate: .*per/);
      expect(problemsOf('{"http":{"concurrency":1.5}}')[0]).to.match(/^AGENT_LIMITS\.http\.concurrency: /);
      expect(problemsOf('{"http":{"rate":{"max":5,"durationMs":86400001}}}')[0]).to.match(/^AGENT_LIMITS\.http\.rate\.durationMs: /);
    });

    it('an array or a number: refused', () => {
      expect(problemsOf('[]')[0]).to.match(/^AGENT_LIMITS: /);
      expect(problemsOf('4')[0]).to.match(/^AGENT_LIMITS: /);
    });
  });
});
