// The agent SDK's contract checks: input, output and output size, without I/O.
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent, type AgentRunContext } from '../../src/agents/define-agent.js';
import { UnrecoverableStageError } from '../../src/domain/errors.js';
import { jsonObjectSchema } from '../../src/domain/json.js';
import { testRunContext } from '../support/agent-context.js';

const context: AgentRunContext = testRunContext();

async function rejectionOf(promise: Promise<unknown>): Promise<UnrecoverableStageError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(UnrecoverableStageError);
    return error as UnrecoverableStageError;
  }
  throw new Error('expected a rejection');
}

describe('defineAgent', () => {
  const echo = defineAgent({
    type: 'echo',
    version: '1.0.0',
    input: jsonObjectSchema,
    output: jsonObjectSchema,
    handler: async ({ input }) => input,
  });

  it('execute with an output over 1 MB: fails unrecoverably with AGENT_OUTPUT_TOO_LARGE', async () => {
    const error = await rejectionOf(echo.execute({ blob: 'x'.repeat(1024 * 1024) }, context));
    expect(error.code).to.equal('AGENT_OUTPUT_TOO_LARGE');
  });

  it('execute with an input the schema rejects: fails unrecoverably with AGENT_INPUT_INVALID', async () => {
    const typed = defineAgent({
      type: 'typed',
      version: '1.0.0',
      input: z.object({ n: z.number() }),
      output: z.number(),
      handler: async ({ input }) => input.n,
    });
    const error = await rejectionOf(typed.execute({ n: 'one' }, context));
    expect(error.code).to.equal('AGENT_INPUT_INVALID');
  });

  it('execute with a valid input: returns the output the contract accepts', async () => {
    expect(await echo.execute({ a: 1 }, context)).to.deep.equal({ a: 1 });
  });

  it('a type that is not lower-case letters, digits, _ or -: throws at definition', () => {
    expect(() =>
      defineAgent({
        type: 'Bad Type',
        version: '1',
        input: jsonObjectSchema,
        output: jsonObjectSchema,
        handler: async ({ input }) => input,
      }),
    ).to.throw(/agent type/);
  });
});
