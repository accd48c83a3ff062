import { describe, expect, it } from 'vitest';
import {
  breakCycles,
  createDag,
  findCycles,
  formatCycle,
  reaches,
  topologicalOrder,
  withEdges,
  type DagNode,
} from '../../src/graph/index.js';

const dag = (spec: Record<string, string[]>) =>
  createDag(Object.entries(spec).map(([id, dependsOn]): DagNode => ({ id, dependsOn })));

describe('createDag', () => {
  it('dedupes edges and inverts them', () => {
    const g = dag({ a: [], b: ['a', 'a'], c: ['a', 'b'] });
    expect(g.deps).toEqual([[], [0], [0, 1]]);
    expect(g.dependents).toEqual([[1, 2], [2], []]);
  });

  it('throws on caller bugs: duplicate ids and unknown dependencies', () => {
    expect(() =>
      createDag([
        { id: 'a', dependsOn: [] },
        { id: 'a', dependsOn: [] },
      ]),
    ).toThrow(/duplicate/);
    expect(() => dag({ a: ['zz'] })).toThrow(/unknown node "zz"/);
  });
});

describe('findCycles', () => {
  it('finds none in a DAG', () => {
    expect(findCycles(dag({ a: [], b: ['a'], c: ['a', 'b'] }))).toEqual([]);
  });

  it('spells out a 2-node cycle in execution order', () => {
    const cycles = findCycles(dag({ '1': [], '2': ['3'], '3': ['2'] }));
    expect(cycles).toEqual([['2', '3']]);
    expect(formatCycle(cycles[0] ?? [], (id) => `Phase ${id}`)).toBe('Phase 2 → Phase 3 → Phase 2');
  });

  it('spells out a 3-node cycle starting at its earliest node', () => {
    // a waits for c, b waits for a, c waits for b: a → b → c → a in execution order.
    const cycles = findCycles(dag({ x: [], a: ['c', 'x'], b: ['a'], c: ['b'] }));
    expect(cycles).toEqual([['a', 'b', 'c']]);
    expect(formatCycle(cycles[0] ?? [])).toBe('a → b → c → a');
  });

  it('handles self-loops and reports separate cycles separately', () => {
    const cycles = findCycles(dag({ a: ['a'], b: [], c: ['d'], d: ['c'] }));
    expect(cycles).toEqual([['a'], ['c', 'd']]);
    expect(formatCycle(['a'])).toBe('a → a');
  });

  it('survives a 5,000-node chain closed into one cycle (no recursion)', () => {
    const spec: Record<string, string[]> = {};
    for (let i = 0; i < 5000; i++) spec[`n${i}`] = [i === 0 ? 'n4999' : `n${i - 1}`];
    const cycles = findCycles(dag(spec));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(5000);
    expect(cycles[0]?.[0]).toBe('n0');
  });
});

describe('breakCycles', () => {
  it('keeps only document-order edges inside cycles and leaves the rest', () => {
    const g = breakCycles(dag({ a: ['c'], b: ['a'], c: ['b'], d: ['c'], e: ['e'] }));
    expect(findCycles(g)).toEqual([]);
    expect(topologicalOrder(g)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(reaches(g, 'a', 'd')).toBe(true);
  });
});

describe('topologicalOrder / reaches / withEdges', () => {
  it('prefers document order among ready nodes and returns null on a cycle', () => {
    expect(topologicalOrder(dag({ a: ['c'], b: [], c: [] }))).toEqual(['b', 'c', 'a']);
    expect(topologicalOrder(dag({ a: ['b'], b: ['a'] }))).toBeNull();
  });

  it('answers transitive reachability and sees added edges', () => {
    const g = dag({ a: [], b: ['a'], c: ['b'], d: [] });
    expect(reaches(g, 'a', 'c')).toBe(true);
    expect(reaches(g, 'c', 'a')).toBe(false);
    expect(reaches(g, 'a', 'd')).toBe(false);
    expect(reaches(withEdges(g, [['c', 'd']]), 'a', 'd')).toBe(true);
  });
});
