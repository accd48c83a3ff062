/**
 * Scores the parser on the hand-labelled real plans, with the same alignment and normalisation as
 * shared/plans/score.mjs, and fails below the acceptance bar (90% exact phase counts, F1 0.9).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/parse.js';
import { sharedPlansDir } from '../helpers/shared.js';

interface TruthPhase {
  readonly id: string;
  readonly title: string;
  readonly files: readonly string[];
  readonly dependsOn: readonly string[];
}
interface TruthEntry {
  readonly file: string;
  readonly phases: readonly TruthPhase[];
}

const norm = (s: string): string =>
  s
    .toLowerCase()
    .replace(/^(phase|step|stage|milestone|task|part)\s*[\w.]*\s*[:.\-—–]\s*/i, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
const words = (s: string): Set<string> => new Set(norm(s).split(' ').filter(Boolean));
const sim = (a: string, b: string): number => {
  const A = words(a);
  const B = words(b);
  const common = [...A].filter((w) => B.has(w)).length;
  return common / Math.max(1, new Set([...A, ...B]).size);
};
const normPath = (p: string): string => p.replace(/^`|`$/g, '').replace(/^\.\//, '').trim();

interface Counts {
  tp: number;
  fp: number;
  fn: number;
}
const f1 = (c: Counts): number =>
  c.tp === 0 ? (c.fp + c.fn === 0 ? 1 : 0) : (2 * c.tp) / (2 * c.tp + c.fp + c.fn);

const plansDir = sharedPlansDir();

describe.skipIf(plansDir === null)('real plans corpus', () => {
  it('meets the acceptance bar on the labelled plans', () => {
    const dir = plansDir ?? '';
    const truth = JSON.parse(readFileSync(join(dir, 'GROUND_TRUTH.json'), 'utf8')) as TruthEntry[];
    let exact = 0;
    const dep: Counts = { tp: 0, fp: 0, fn: 0 };
    const fil: Counts = { tp: 0, fp: 0, fn: 0 };
    const misses: string[] = [];
    for (const t of truth) {
      const { plan } = parsePlan(readFileSync(join(dir, t.file), 'utf8'), t.file);
      const pred = plan.phases;
      const sameCount = pred.length === t.phases.length;
      if (sameCount) exact++;
      else misses.push(`${t.file}: ${pred.length} phases, truth ${t.phases.length}`);
      const map = new Map<string, string>();
      const used = new Set<number>();
      t.phases.forEach((g, i) => {
        let best = -1;
        let bestScore = 0;
        if (sameCount) best = i;
        else
          pred.forEach((p, j) => {
            const s = sim(g.title, p.title);
            if (!used.has(j) && s > bestScore) {
              bestScore = s;
              best = j;
            }
          });
        const match = pred[best];
        if (match && (sameCount || bestScore >= 0.34)) {
          map.set(g.id, match.id);
          used.add(best);
        }
      });
      const inv = new Map([...map].map(([a, b]) => [b, a]));
      const gEdges = new Set(t.phases.flatMap((g) => g.dependsOn.map((d) => `${d}>${g.id}`)));
      const pEdges = new Set(
        pred.flatMap((p) =>
          p.dependsOn.map((d) => `${inv.get(d) ?? '?' + d}>${inv.get(p.id) ?? '?' + p.id}`),
        ),
      );
      for (const e of pEdges)
        if (gEdges.has(e)) dep.tp++;
        else {
          dep.fp++;
          misses.push(`${t.file}: extra edge ${e}`);
        }
      for (const e of gEdges)
        if (!pEdges.has(e)) {
          dep.fn++;
          misses.push(`${t.file}: missing edge ${e}`);
        }
      const gFiles = new Set(t.phases.flatMap((g) => g.files.map((f) => `${g.id}|${normPath(f)}`)));
      const pFiles = new Set(
        pred.flatMap((p) => p.files.map((f) => `${inv.get(p.id) ?? '?'}|${normPath(f.path)}`)),
      );
      for (const e of pFiles)
        if (gFiles.has(e)) fil.tp++;
        else {
          fil.fp++;
          misses.push(`${t.file}: extra file ${e}`);
        }
      for (const e of gFiles)
        if (!pFiles.has(e)) {
          fil.fn++;
          misses.push(`${t.file}: missing file ${e}`);
        }
    }
    const phaseExact = exact / truth.length;
    console.log(
      `plans ${truth.length}: phase count exact ${(100 * phaseExact).toFixed(0)}%, dependency F1 ${f1(dep).toFixed(2)}, file F1 ${f1(fil).toFixed(2)}\n` +
        misses.join('\n'),
    );
    expect(phaseExact).toBeGreaterThanOrEqual(0.9);
    expect(f1(dep)).toBeGreaterThanOrEqual(0.9);
    expect(f1(fil)).toBeGreaterThanOrEqual(0.9);
  });
});
