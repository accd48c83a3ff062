import { describe, expect, it } from 'vitest';
import {
  createDag,
  criticalPath,
  remainingCriticalPath,
  simulateDynamic,
  simulateSequential,
  simulateWaves,
  startOrder,
  waves,
  type DagNode,
} from '../../src/graph/index.js';

const dag = (spec: Record<string, string[]>) =>
  createDag(Object.entries(spec).map(([id, dependsOn]): DagNode => ({ id, dependsOn })));
const minutes = (table: Record<string, number>) => (id: string) => table[id] ?? 0;

// a(3) ─┬─ c(4) ─ e(1)
// b(10) ┘   d(2)
const diamond = dag({ a: [], b: [], c: ['a', 'b'], d: [], e: ['c'] });
const durations = minutes({ a: 3, b: 10, c: 4, d: 2, e: 1 });

describe('criticalPath', () => {
  it('follows the heaviest chain', () => {
    expect(criticalPath(diamond, durations)).toEqual({ path: ['b', 'c', 'e'], length: 15 });
    expect(remainingCriticalPath(diamond, durations).get('a')).toBe(8);
  });

  it('breaks ties by document order and handles the empty graph', () => {
    expect(criticalPath(dag({ x: [], y: [] }), () => 5)).toEqual({ path: ['x'], length: 5 });
    expect(criticalPath(dag({}), () => 1)).toEqual({ path: [], length: 0 });
  });

  it('throws on a cycle or a negative weight (caller bugs)', () => {
    expect(() => criticalPath(dag({ a: ['b'], b: ['a'] }), () => 1)).toThrow(/acyclic/);
    expect(() => criticalPath(diamond, () => -1)).toThrow(/>= 0/);
  });
});

describe('waves', () => {
  it('groups by level, critical path first within a level', () => {
    expect(waves(diamond, 10, durations)).toEqual([['b', 'a', 'd'], ['c'], ['e']]);
  });

  it('splits overflowing levels into waves of at most maxParallel, preserving priority order', () => {
    const wide = dag({ root: [], a: ['root'], b: ['root'], c: ['root'], d: ['root'], e: ['root'], z: ['a'] });
    const w = waves(wide, 2, minutes({ root: 1, a: 1, b: 1, c: 5, d: 1, e: 1, z: 3 }));
    // a leads to z (1 + 3 = 4 remaining) so it comes right after c (5).
    expect(w).toEqual([['root'], ['c', 'a'], ['b', 'd'], ['e'], ['z']]);
    expect(Math.max(...w.map((x) => x.length))).toBeLessThanOrEqual(2);
  });

  it('rejects a non-positive maxParallel', () => {
    expect(() => waves(diamond, 0)).toThrow(/positive integer/);
  });
});

describe('simulators (hand-checked makespans)', () => {
  it('sequential is the sum', () => {
    expect(simulateSequential(diamond, durations)).toBe(20);
  });

  it('waves add each wave’s longest node', () => {
    // [b a d] = 10, [c] = 4, [e] = 1
    expect(simulateWaves(waves(diamond, 10, durations), durations)).toBe(15);
    // maxParallel 1 degenerates to sequential
    expect(simulateWaves(waves(diamond, 1, durations), durations)).toBe(20);
  });

  it('dynamic list scheduling with ample slots equals the critical path', () => {
    const s = simulateDynamic(diamond, durations, 10);
    expect(s.makespan).toBe(15);
    expect(s.runs.map((r) => [r.id, r.start, r.end])).toEqual([
      ['b', 0, 10],
      ['a', 0, 3],
      ['d', 0, 2],
      ['c', 10, 14],
      ['e', 14, 15],
    ]);
  });

  it('dynamic with 2 slots: b and a start, d takes a’s slot at 3', () => {
    const s = simulateDynamic(diamond, durations, 2);
    // b 0-10 (slot 0), a 0-3 (slot 1), d 3-5 (slot 1), c 10-14, e 14-15
    expect(s.makespan).toBe(15);
    expect(s.runs.find((r) => r.id === 'd')).toEqual({ id: 'd', start: 3, end: 5, slot: 1 });
  });

  it('dynamic beats waves when a level is uneven', () => {
    // a(1) → c(5); b(5) → d(1). Waves: max(1,5) + max(5,1) = 10. Dynamic: c starts at 1 → 6.
    const g = dag({ a: [], b: [], c: ['a'], d: ['b'] });
    const d = minutes({ a: 1, b: 5, c: 5, d: 1 });
    expect(simulateWaves(waves(g, 4, d), d)).toBe(10);
    expect(simulateDynamic(g, d, 4).makespan).toBe(6);
    expect(simulateDynamic(g, d, 1).makespan).toBe(12);
  });

  it('dynamic with one slot picks ready nodes by remaining critical path', () => {
    // Three independent chains; the one with the longest tail goes first.
    const g = dag({ p: [], q: [], r: [], q2: ['q'] });
    expect(startOrder(g, minutes({ p: 2, q: 1, r: 3, q2: 5 }), 1)).toEqual(['q', 'q2', 'r', 'p']);
  });

  it('zero-duration nodes release their dependents at once', () => {
    const g = dag({ a: [], b: ['a'], c: ['b'] });
    expect(simulateDynamic(g, minutes({ a: 0, b: 0, c: 2 }), 1).makespan).toBe(2);
  });
});

describe('startOrder', () => {
  it('starts critical-path work first, then document order', () => {
    expect(startOrder(diamond, durations)).toEqual(['b', 'a', 'd', 'c', 'e']);
    expect(startOrder(dag({ x: [], y: [], z: [] }), () => 1)).toEqual(['x', 'y', 'z']);
  });
});
