import { beforeAll, describe, expect, it } from 'vitest';
import { analyzePlan, type AnalyzeOptions } from '../../src/analyze/analyze.js';
import type { Analysis } from '../../src/analyze/types.js';
import type { Phase } from '../../src/plan/types.js';
import { seededRandom } from '../helpers/random.js';
import { builtins, parsed, phase } from './fixtures.js';

/** 2,000 phases in shuffled document order (so edges point both ways), sharing files from a pool. */
function randomPlan(n: number, seed: number): Phase[] {
  const rand = seededRandom(seed);
  const pick = (k: number) => Math.floor(rand() * k);
  const rank = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = pick(i + 1);
    [rank[i], rank[j]] = [rank[j] ?? 0, rank[i] ?? 0];
  }
  const dirs = ['app/models', 'app/api', 'app/services', 'tests', 'app/workers', 'docs'];
  return rank.map((r, doc) => {
    // Dependencies only on lower ranks keep the plan acyclic whatever the document order.
    const deps = new Set<string>();
    if (r > 0) for (let k = pick(4); k > 0; k--) deps.add(String(rank.indexOf(pick(r)) + 1));
    const files = Array.from(
      { length: 1 + pick(3) },
      () => `${dirs[pick(dirs.length)] ?? ''}/f${pick(400)}.py`,
    );
    return phase(String(doc + 1), { line: doc * 10 + 1, dependsOn: [...deps], files: [...new Set(files)] });
  });
}

/** Bitset transitive closure: `reach[v]` has bit u set when v (transitively) waits for u. */
function closure(a: Analysis): (earlier: string, later: string) => boolean {
  const index = new Map(a.streams.map((s, i) => [s.id, i]));
  const words = Math.ceil(a.streams.length / 32);
  const reach = a.streams.map(() => new Uint32Array(words));
  const done = new Set<number>();
  for (const id of a.startOrder) {
    const v = index.get(id) ?? -1;
    const s = a.streams[v];
    const row = reach[v];
    if (!s || !row) throw new Error('bad start order');
    for (const dep of [...s.dependsOn, ...s.implicitDependsOn]) {
      const d = index.get(dep) ?? -1;
      if (!done.has(d)) throw new Error(`${id} started before its dependency ${dep}`);
      row[d >> 5] = (row[d >> 5] ?? 0) | (1 << (d & 31));
      const depRow = reach[d] ?? new Uint32Array(words);
      for (let w = 0; w < words; w++) row[w] = (row[w] ?? 0) | (depRow[w] ?? 0);
    }
    done.add(v);
  }
  return (earlier, later) => {
    const e = index.get(earlier) ?? -1;
    return (((reach[index.get(later) ?? -1]?.[e >> 5] ?? 0) >>> (e & 31)) & 1) === 1;
  };
}

describe('a 2,000-phase random plan', () => {
  let options: AnalyzeOptions;
  let analysis: Analysis;
  const maxParallel = 7;

  beforeAll(async () => {
    const { roles, prices } = await builtins();
    options = { repoFiles: null, repo: null, roles, prices, maxParallel };
    analysis = analyzePlan(parsed(randomPlan(2000, 42)), options);
  });

  it('makes one stream per phase with no errors', () => {
    expect(analysis.streams).toHaveLength(2000);
    expect(analysis.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(new Set(analysis.streams.map((s) => s.role)).size).toBeGreaterThan(3);
  });

  it('puts every stream in exactly one wave of at most maxParallel, after all its dependencies', () => {
    const waveOf = new Map<string, number>();
    analysis.waves.forEach((wave, w) => {
      expect(wave.length).toBeLessThanOrEqual(maxParallel);
      for (const id of wave) {
        expect(waveOf.has(id)).toBe(false);
        waveOf.set(id, w);
      }
    });
    expect(waveOf.size).toBe(2000);
    for (const s of analysis.streams) {
      for (const d of [...s.dependsOn, ...s.implicitDependsOn]) {
        expect(waveOf.get(d) ?? Infinity).toBeLessThan(waveOf.get(s.id) ?? -1);
      }
    }
  });

  it('orders every pair of streams that share a file, with implicit edges pointing down the document', () => {
    expect(analysis.conflicts.length).toBeGreaterThan(100);
    const waitsFor = closure(analysis); // also checks startOrder is a topological order
    const position = new Map(analysis.streams.map((s, i) => [s.id, i]));
    for (const c of analysis.conflicts) {
      for (let i = 0; i < c.streams.length; i++) {
        for (let j = i + 1; j < c.streams.length; j++) {
          const a = c.streams[i] ?? '';
          const b = c.streams[j] ?? '';
          expect(waitsFor(a, b) || waitsFor(b, a), `${c.path}: ${a} / ${b}`).toBe(true);
        }
      }
    }
    for (const s of analysis.streams) {
      for (const d of s.implicitDependsOn) {
        expect(position.get(d) ?? Infinity).toBeLessThan(position.get(s.id) ?? -1);
        expect(s.dependsOn).not.toContain(d);
      }
    }
  });

  it('finds the true critical path and consistent estimates', () => {
    const minutes = new Map(analysis.streams.map((s) => [s.id, s.estimate.minutes]));
    const byId = new Map(analysis.streams.map((s) => [s.id, s]));
    // Independent longest-path computation in start order (a topological order).
    const longest = new Map<string, number>();
    for (const id of analysis.startOrder) {
      const s = byId.get(id);
      if (!s) throw new Error(id);
      const before = Math.max(0, ...[...s.dependsOn, ...s.implicitDependsOn].map((d) => longest.get(d) ?? 0));
      longest.set(id, before + (minutes.get(id) ?? 0));
    }
    const best = Math.max(...longest.values());
    const path = analysis.criticalPath;
    const pathMinutes = path.reduce((sum, id) => sum + (minutes.get(id) ?? 0), 0);
    expect(pathMinutes).toBe(best);
    for (let i = 1; i < path.length; i++) {
      const s = byId.get(path[i] ?? '');
      expect([...(s?.dependsOn ?? []), ...(s?.implicitDependsOn ?? [])]).toContain(path[i - 1]);
    }
    const { sequential, waves, dynamic } = analysis.estimate.minutes;
    expect(sequential).toBe([...minutes.values()].reduce((a, b) => a + b, 0));
    expect(dynamic).toBeGreaterThanOrEqual(Math.max(best, sequential / maxParallel));
    expect(dynamic).toBeLessThanOrEqual(waves);
    expect(waves).toBeLessThanOrEqual(sequential);
  });

  it('is deterministic', () => {
    const again = analyzePlan(parsed(randomPlan(2000, 42)), options);
    expect(again.startOrder).toEqual(analysis.startOrder);
    expect(again.waves).toEqual(analysis.waves);
  });
});
