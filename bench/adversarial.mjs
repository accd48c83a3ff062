// Benchmark: parsing stays linear in the plan's size on adversarial input (one giant heading line,
// 100k path tokens, deep nesting, unclosed brackets). Each shape is parsed at size n and 4n, side by
// side; linear work grows ×4, quadratic ×16. Target: every shape grows less than ×8 for ×4 input.
import { performance } from 'node:perf_hooks';

const dist = new URL('../dist/', import.meta.url);
const { parsePlan } = await import(new URL('plan/parse.js', dist).href);

/** Adversarial plan shapes: name → plan text of roughly `n` units. */
export const adversarialShapes = {
  'giant heading line': (n) => `# Plan\n\n## Phase 1: ${'a'.repeat(n * 10)}\n\nFiles: \`a.ts\`\n`,
  'giant prose line': (n) => `# Plan\n\n## Phase 1: x\n\nsee ${'word '.repeat(n * 2)}\`a.ts\`\n`,
  // At 4n: 100k tokens, half backticked, half bare.
  '100k path tokens on one line': (n) =>
    `# Plan\n\n## Phase 1: x\n\n${Array.from({ length: n / 2 }, (_, i) => `\`f${i}.ts\` d/g${i}`).join(' ')}\n`,
  'deep nesting': (n) =>
    `# Plan\n\n## Phase 1: x\n\n${'> '.repeat(n)}${'- '.repeat(n)}x\n\n${Array.from({ length: n / 10 }, (_, i) => `${'  '.repeat(i % 40)}- item \`f${i}.ts\``).join('\n')}\n`,
  'unclosed brackets': (n) =>
    `# Plan\n\n## Phase 1: x\n\n${'['.repeat(n)} ${'](a'.repeat(n)} ${'`'.repeat(n)}\n`,
  'many phases and references': (n) =>
    `# Plan\n\n${Array.from({ length: n / 20 }, (_, i) => `## Phase ${i + 1}: P${i}\n\nDepends on: ${i > 0 ? `Phase ${i}` : 'none'}\nFiles: \`p${i}.ts\`\n`).join('\n')}`,
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeParse(text) {
  const samples = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    parsePlan(text, 'plan.md');
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

export async function benchAdversarial(n = 25_000) {
  console.log('parse, adversarial input (median ms)    size n    size 4n   growth (linear ≈ ×4)');
  let ok = true;
  for (const [name, make] of Object.entries(adversarialShapes)) {
    const small = timeParse(make(n));
    const large = timeParse(make(n * 4));
    // Below a few ms the timer's noise dominates; compare against a floor.
    const growth = large / Math.max(small, 2);
    ok &&= growth < 8;
    console.log(
      `  ${name.padEnd(36)} ${small.toFixed(1).padStart(8)} ${large.toFixed(1).padStart(10)}   ×${growth.toFixed(1)}`,
    );
  }
  console.log(
    `adversarial parsing: ${ok ? 'linear' : 'NOT linear'} (target: every shape below ×8 for ×4 input)`,
  );
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ok = await benchAdversarial();
  process.exitCode = ok ? 0 : 1;
}
