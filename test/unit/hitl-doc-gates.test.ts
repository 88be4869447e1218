// docs/human-in-the-loop.md's walk-through prints the gate verdicts of the `validation` stage of
// `sdlc-simulated`: the output it shows has one verdict per default gate of `sim_validation`
// (src/domain/gates.ts), so a gate added to the defaults cannot go missing from the example.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { DEFAULT_GATES } from '../../src/domain/gates.js';

const DOC = new URL('../../docs/human-in-the-loop.md', import.meta.url);

describe('docs/human-in-the-loop.md: the walk-through’s gate verdicts (unit)', () => {
  it('the output shown after `.gates[] | {verdict, reason}` has a verdict for every default sim_validation gate, in order', () => {
    // Arrange
    const lines = readFileSync(DOC, 'utf8').split('\n');
    const command = lines.findIndex((l) => l.includes('select(.stageKey == "validation") | .gates[] | {verdict, reason}'));
    const shown: string[] = [];
    for (let i = command + 1; i < lines.length && lines[i]!.startsWith('# {'); i++) shown.push(lines[i]!);

    // Act
    const metrics = [...shown.join(' ').matchAll(/"reason":"(\w+) /g)].map((m) => m[1]);

    // Assert
    expect(command).to.be.greaterThan(-1);
    expect(metrics).to.deep.equal(DEFAULT_GATES.sim_validation!.map((g) => g.metric));
  });
});
