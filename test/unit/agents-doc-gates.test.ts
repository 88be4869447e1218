// docs/agents.md's section on the real `validation` agent states the gates a validation stage gets
// by default: the sentence must list every default gate of `validation` (src/domain/gates.ts). It
// once said the defaults did not read `testsFailed`, while they did.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { DEFAULT_GATES } from '../../src/domain/gates.js';

const DOC = new URL('../../docs/agents.md', import.meta.url);

describe('docs/agents.md: the validation agent’s default gates (unit)', () => {
  it('the section of the validation agent lists every default gate of validation, and none as not read', () => {
    // Arrange
    const text = readFileSync(DOC, 'utf8');
    const start = text.indexOf('## The `validation` agent');
    const section = text.slice(start, text.indexOf('\n## ', start + 1)).replace(/\s+/g, ' ');

    // Act
    const stated = /The default gates of a `validation` stage \(`src\/domain\/gates\.ts`\) are ([^:]+):/.exec(section)?.[1] ?? '';
    const listed = [...stated.matchAll(/`(\w+) (==|>=|<=|>|<|!=) ([\w.]+)`/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);

    // Assert
    expect(start).to.be.greaterThan(-1);
    expect(listed).to.deep.equal(DEFAULT_GATES.validation!.map((g) => `${g.metric} ${g.operator} ${String(g.threshold)}`));
    expect(section).to.not.match(/default gates do not read/);
  });
});
