/**
 * Fuzz: random Markdown (a seeded generator, so a failure reproduces) through the parser and the
 * analyser must never throw. Adversarial shapes (a 1 MB heading line, 100k path tokens, deep nesting)
 * parse too; how fast they parse is measured by `npm run bench` (bench/adversarial.mjs), not here.
 */
import { describe, expect, it } from 'vitest';
import { analyzePlan } from '../../src/analyze/analyze.js';
import { loadBuiltinPrices } from '../../src/analyze/prices.js';
import { loadRoles } from '../../src/analyze/roles-loader.js';
import { parsePlan } from '../../src/plan/parse.js';
import { seededRandom } from '../helpers/random.js';
// @ts-expect-error -- a plain ESM module shared with the benchmark (no types)
import { adversarialShapes } from '../../bench/adversarial.mjs';

const pieces = [
  '# ',
  '## Phase ',
  '### Step ',
  '- [ ] ',
  '- ',
  '* ',
  '1. ',
  '> ',
  '| ',
  ' | ',
  '|---|---|',
  '```',
  '~~~',
  '```maestro\n',
  '---\n',
  'Files: ',
  'Depends on: ',
  'Phase ',
  'Critical: ',
  'Validation:',
  'Role: ',
  '`src/a.ts`',
  '`../x`',
  '`/etc/passwd`',
  '`.git/config`',
  '`.`',
  '*.ts',
  'src/**',
  'see ',
  'e.g. ',
  '→',
  '->',
  '[',
  ']',
  '(',
  ')',
  '](',
  '**',
  '__',
  '_',
  '`',
  '\\',
  '\t',
  '  ',
  '\n',
  '\n\n',
  ':',
  ';',
  '1',
  '2',
  '9.9',
  'x',
  'é',
  '\u0000',
  '\u202e',
  '🙂',
  '<!-- ',
  ' -->',
  '<div>',
  '&amp;',
  'maxParallel: 0',
];

/** Lines of random pieces; about one in five is a phase heading, so most documents have phases. */
function randomMarkdown(next: () => number): string {
  const lines: string[] = [];
  const count = Math.floor(next() * 40);
  for (let l = 0; l < count; l++) {
    let line = next() < 0.2 ? `## Phase ${String(Math.floor(next() * 9))}: ` : '';
    const words = Math.floor(next() * 12);
    for (let i = 0; i < words; i++) line += pieces[Math.floor(next() * pieces.length)] ?? '';
    lines.push(line);
  }
  return lines.join('\n');
}

describe('parser fuzz', () => {
  it('never throws on random Markdown (500 seeded documents)', async () => {
    const roles = (await loadRoles(null)).roles;
    const prices = await loadBuiltinPrices();
    let phases = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const text = randomMarkdown(seededRandom(seed));
      const run = () => {
        const parsed = parsePlan(text, 'plan.md');
        const analysis = analyzePlan(parsed, { repo: null, repoFiles: null, roles, prices });
        phases += parsed.plan.phases.length;
        for (const d of analysis.diagnostics) expect(typeof d.message).toBe('string');
      };
      expect(run, `seed ${String(seed)}`).not.toThrow();
    }
    // The generator does produce plans with phases, so the analyser is exercised too.
    expect(phases).toBeGreaterThan(100);
  });

  it('parses every adversarial shape, including a 1 MB heading line', () => {
    const shapes = adversarialShapes as Record<string, (n: number) => string>;
    for (const [name, make] of Object.entries(shapes)) {
      const text = make(100_000);
      const parsed = parsePlan(text, 'plan.md');
      expect(parsed.plan.phases.length, name).toBeGreaterThan(0);
    }
    const heading = parsePlan(
      `# Plan\n\n## Phase 1: ${'a'.repeat(1_000_000)}\n\nFiles: \`a.ts\`\n`,
      'plan.md',
    );
    expect(heading.plan.phases[0]?.files.map((f) => f.path)).toEqual(['a.ts']);
  });
});
