// Unit tests for the DAG checks (src/domain/dag.ts): pure functions, no I/O.
import { expect } from 'chai';
import { findCycles, findDagProblems, type DagNode } from '../../src/domain/dag.js';

const node = (key: string, ...dependsOn: string[]): DagNode => ({ key, dependsOn });

describe('findDagProblems', () => {
  it('duplicate stage key: reports duplicate_key at the second stage naming the first', () => {
    // Arrange
    const nodes = [node('a'), node('a')];

    // Act
    const problems = findDagProblems(nodes);

    // Assert
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ field: 'stages[1].key', code: 'duplicate_key' });
    expect(problems[0]!.message).to.contain('"a"').and.contain('stages[0]');
  });

  it('self-dependency: reports self_dependency at the dependsOn entry', () => {
    const nodes = [node('a'), node('b', 'b')];

    const problems = findDagProblems(nodes);

    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ field: 'stages[1].dependsOn[0]', code: 'self_dependency' });
    expect(problems[0]!.message).to.contain('"b"');
  });

  it('unknown dependency: reports unknown_dependency naming the missing stage', () => {
    const nodes = [node('a'), node('b', 'a', 'ghost')];

    const problems = findDagProblems(nodes);

    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ field: 'stages[1].dependsOn[1]', code: 'unknown_dependency' });
    expect(problems[0]!.message).to.contain('"ghost"');
  });

  it('duplicate dependency: reports duplicate_dependency at the second occurrence', () => {
    const nodes = [node('a'), node('b', 'a', 'a')];

    const problems = findDagProblems(nodes);

    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ field: 'stages[1].dependsOn[1]', code: 'duplicate_dependency' });
  });

  it('2-cycle: reports one cycle problem whose message names both stages', () => {
    const nodes = [node('a', 'b'), node('b', 'a')];

    const problems = findDagProblems(nodes);

    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ field: 'stages[0].dependsOn', code: 'cycle' });
    expect(problems[0]!.message).to.contain('a -> b -> a');
  });

  it('3-cycle: reports one cycle problem whose message walks the cycle back to its start', () => {
    const nodes = [node('a', 'b'), node('b', 'c'), node('c', 'a')];

    const problems = findDagProblems(nodes);

    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ field: 'stages[0].dependsOn', code: 'cycle' });
    expect(problems[0]!.message).to.contain('a -> b -> c -> a');
  });

  it('cycle behind an acyclic prefix: names only the stages in the cycle', () => {
    const nodes = [node('root'), node('x', 'root', 'z'), node('y', 'x'), node('z', 'y')];

    const problems = findDagProblems(nodes);

    expect(problems).to.have.length(1);
    expect(problems[0]!.code).to.equal('cycle');
    expect(problems[0]!.message).to.contain('x -> z -> y -> x');
    expect(problems[0]!.message).not.to.contain('root');
  });

  it('valid diamond: reports no problems', () => {
    const nodes = [node('a'), node('b', 'a'), node('c', 'a'), node('d', 'b', 'c')];

    const problems = findDagProblems(nodes);

    expect(problems).to.deep.equal([]);
  });

  it('500-stage chain: reports no problems', () => {
    const nodes = Array.from({ length: 500 }, (_, i) => (i === 0 ? node('s0') : node(`s${i}`, `s${i - 1}`)));

    const problems = findDagProblems(nodes);

    expect(problems).to.deep.equal([]);
  });

  it('500-stage chain listed leaf first: reports no problems', () => {
    const nodes = Array.from({ length: 500 }, (_, i) => (i === 499 ? node('s499') : node(`s${i}`, `s${i + 1}`)));

    const problems = findDagProblems(nodes);

    expect(problems).to.deep.equal([]);
  });

  it('empty graph: reports no problems', () => {
    expect(findDagProblems([])).to.deep.equal([]);
  });
});

describe('findCycles', () => {
  it('acyclic diamond: finds no cycles', () => {
    const nodes = [node('a'), node('b', 'a'), node('c', 'a'), node('d', 'b', 'c')];

    const cycles = findCycles(nodes);

    expect(cycles).to.deep.equal([]);
  });

  it('2-cycle: returns the two keys along the cycle', () => {
    const nodes = [node('a', 'b'), node('b', 'a')];

    const cycles = findCycles(nodes);

    expect(cycles).to.deep.equal([['a', 'b']]);
  });

  it('3-cycle: returns the three keys in dependency order', () => {
    const nodes = [node('a', 'b'), node('b', 'c'), node('c', 'a')];

    const cycles = findCycles(nodes);

    expect(cycles).to.deep.equal([['a', 'b', 'c']]);
  });

  it('two disjoint cycles: returns both', () => {
    const nodes = [node('a', 'b'), node('b', 'a'), node('c', 'd'), node('d', 'c')];

    const cycles = findCycles(nodes);

    expect(cycles).to.deep.equal([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('500-stage chain: finds no cycles', () => {
    const nodes = Array.from({ length: 500 }, (_, i) => (i === 0 ? node('s0') : node(`s${i}`, `s${i - 1}`)));

    const cycles = findCycles(nodes);

    expect(cycles).to.deep.equal([]);
  });
});
