// Test-only agents with a contract history, for the compatibility matrix: `greet` at contract v3
// (upcasts v1 and v2) and its successor `greet_v4` (upcasts v2 and v3), and `score`, whose
// output changed shape at v2 (an output upcaster), read by `grade` as a dependency.
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import type { JsonObject, JsonValue } from '../../src/domain/json.js';

// The history of greet's input, one upcaster per step.
// v1 { name: "Ada Lovelace" } → v2 { firstName, lastName } → v3 { person: { first, last }, language }
// → v4 { person, language, formal }.
const v1ToV2 = (input: JsonObject): JsonObject => {
  const [firstName = '', ...rest] = String(input.name ?? '').split(' ');
  return { firstName, lastName: rest.join(' ') };
};
const v2ToV3 = (input: JsonObject): JsonObject => ({
  person: { first: String(input.firstName ?? ''), last: String(input.lastName ?? '') },
  language: 'en',
});
const v3ToV4 = (input: JsonObject): JsonObject => ({ ...input, formal: false });

const person = z.object({ first: z.string(), last: z.string() }).strict();
const greeting = z.object({ greeting: z.string() }).strict();

export const greetAgentV3 = defineAgent({
  type: 'greet',
  version: '3.0.0',
  description: 'Greets a person (contract v3; upcasts v1 and v2).',
  input: z.object({ person, language: z.enum(['en', 'fr']) }).strict(),
  output: greeting,
  contract: { version: 3, upcasters: { 1: v1ToV2, 2: v2ToV3 } },
  handler: async ({ input }) => ({
    greeting: `${input.language === 'fr' ? 'Bonjour' : 'Hello'} ${input.person.first} ${input.person.last}`,
  }),
});

export const greetAgentV4 = defineAgent({
  type: 'greet',
  version: '4.0.0',
  description: 'Greets a person (contract v4; upcasts v2 and v3).',
  input: z.object({ person, language: z.enum(['en', 'fr']), formal: z.boolean() }).strict(),
  output: greeting,
  contract: { version: 4, upcasters: { 2: (input) => v2ToV3(input), 3: v3ToV4 } },
  handler: async ({ input }) => ({
    greeting: `${input.formal ? 'Good day' : 'Hello'} ${input.person.first} ${input.person.last}`,
  }),
});

/** `score`'s output: v1 `{ score: 87 }`, v2 `{ score: { value: 87, outOf: 100 } }`. */
export const scoreAgentV2 = defineAgent({
  type: 'score',
  version: '2.0.0',
  description: 'Scores something (output contract v2; upcasts v1 outputs).',
  input: z.object({ value: z.number() }).strict(),
  output: z.object({ score: z.object({ value: z.number(), outOf: z.number() }) }),
  contract: {
    version: 2,
    upcasters: { 1: (input) => input },
    outputUpcasters: {
      1: (output: JsonValue): JsonValue => {
        const score = output !== null && typeof output === 'object' && !Array.isArray(output) ? output.score : null;
        return { score: { value: typeof score === 'number' ? score : 0, outOf: 100 } };
      },
    },
  },
  handler: async ({ input }) => ({ score: { value: input.value, outOf: 100 } }),
});

/** Reads `score`'s output (as v2) from its dependency `score`. */
export const gradeAgent = defineAgent({
  type: 'grade',
  version: '1.0.0',
  description: "Grades from the upstream stage `score`'s output.",
  input: z.object({}).strict(),
  output: z.object({ grade: z.string() }),
  handler: async ({ dependencies }) => {
    const parsed = z.object({ score: z.object({ value: z.number(), outOf: z.number() }) }).parse(dependencies.score);
    return { grade: parsed.score.value / parsed.score.outOf >= 0.8 ? 'A' : 'B' };
  },
});
