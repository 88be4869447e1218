// Templates take only the input they declare: the inputSchema rules (an object naming its
// properties, no others), the details a bad input gets, and the shipped templates' own examples.
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { templateSchema } from '../../src/domain/template.js';
import { templateInputFields, templateInputProblems, templateInputSchemaSchema } from '../../src/domain/template-input.js';
import { loadTemplates } from '../../src/infra/templates/template.store.js';
import { createAgentCatalog } from '../../src/agents/catalog.js';

const smokeSchema = templateInputSchemaSchema.parse({
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    repository: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: { type: 'string' } } },
  },
});

describe('template input (unit)', () => {
  describe('the inputSchema of a template', () => {
    it('must refuse other properties: additionalProperties missing or true is refused, naming it', () => {
      for (const additionalProperties of [undefined, true]) {
        const result = templateInputSchemaSchema.safeParse({ type: 'object', additionalProperties, properties: {} });
        expect(result.success).to.equal(false);
        expect(result.error!.issues.map((i) => i.path.join('.'))).to.deep.equal(['additionalProperties']);
      }
    });

    it('must be an object schema, and may require only properties it names', () => {
      const notObject = templateInputSchemaSchema.safeParse({ type: 'array', additionalProperties: false, properties: {} });
      const unknownRequired = templateInputSchemaSchema.safeParse({
        type: 'object',
        additionalProperties: false,
        properties: { a: { type: 'string' } },
        required: ['a', 'b'],
      });
      expect(notObject.error!.issues.map((i) => i.path.join('.'))).to.deep.equal(['type']);
      expect(unknownRequired.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).to.deep.equal([
        'required.1: "b" is not a property',
      ]);
    });
  });

  describe('an input checked against it', () => {
    it('a valid input has no problems', () => {
      expect(templateInputProblems(smokeSchema, { name: 'x', repository: { url: '/srv/repo' } })).to.deep.equal([]);
    });

    it('a misspelt property, a missing required one and a nested unknown one are each named from input', () => {
      const problems = templateInputProblems(smokeSchema, { nmae: 'x', repository: { url: '/srv/repo', branch: 'main' } });
      expect(problems.map((p) => `${p.field}: ${p.message}`).sort()).to.deep.equal([
        'input.name: Invalid input: expected string, received undefined',
        'input.nmae: unknown property "nmae"',
        'input.repository.branch: unknown property "branch"',
      ]);
    });

    it('the fields for listings star the required ones', () => {
      expect(templateInputFields(smokeSchema)).to.deep.equal(['name*', 'repository']);
    });
  });

  describe('the shipped templates', () => {
    const files = readdirSync('templates').filter((f) => f.endsWith('.yaml'));

    it('each declares a strict inputSchema its inputExample passes', () => {
      expect(files.length).to.be.greaterThanOrEqual(4);
      for (const file of files) {
        const template = templateSchema.parse(parse(readFileSync(join('templates', file), 'utf8')));
        expect(template.inputSchema.additionalProperties, file).to.equal(false);
        expect(templateInputProblems(template.inputSchema, template.inputExample ?? {}), file).to.deep.equal([]);
        expect(templateInputProblems(template.inputSchema, { ...template.inputExample, projcet: 'x' }), file).to.have.length(1);
      }
    });

    it('loading refuses a template whose inputExample does not match its inputSchema, naming the file and field', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'template-input-'));
      try {
        await writeFile(
          join(dir, 'bad.yaml'),
          [
            'name: bad',
            'inputSchema: { type: object, additionalProperties: false, properties: { project: { type: string } } }',
            'inputExample: { project: 7 }',
            'stages: [{ key: a, agent: noop }]',
          ].join('\n'),
        );
        expect(() => loadTemplates(dir, createAgentCatalog())).to.throw(
          /bad\.yaml is invalid: inputExample\.project: Invalid input: expected string/,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
