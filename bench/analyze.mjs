// Benchmark: `maestro analyze` on a generated 2,000-phase plan. Reports medians of repeated runs
// and ratios measured side by side in this run (the machines are noisy: never compare across runs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const dist = new URL('../dist/', import.meta.url);
const { parsePlan } = await import(new URL('plan/parse.js', dist).href);
const { analyzePlan } = await import(new URL('analyze/analyze.js', dist).href);
const { loadRoles } = await import(new URL('analyze/roles-loader.js', dist).href);
const { loadPrices } = await import(new URL('analyze/prices.js', dist).href);

/** A plan of `n` phases, each with three files and one or two dependencies on earlier phases. */
export function generatePlan(n) {
  const lines = ['# Generated plan', ''];
  for (let i = 1; i <= n; i++) {
    lines.push(`## Phase ${i}: Component ${i}`, '');
    const deps = [];
    if (i > 1) deps.push(`Phase ${i - 1}`);
    if (i > 10 && i % 3 === 0) deps.push(`Phase ${i - 10}`);
    if (deps.length > 0) lines.push(`Depends on: ${deps.join(', ')}`, '');
    lines.push(
      'Files:',
      `- \`src/c${i}/model.ts\``,
      `- \`src/c${i}/service.ts\``,
      `- \`test/c${i}.test.ts\``,
      '',
    );
    lines.push(`Build component ${i}.`, '');
  }
  return lines.join('\n');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Runs `fn` `times` times and returns the median wall time in ms. */
async function time(fn, times) {
  const samples = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

export async function benchAnalyze() {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-bench-'));
  try {
    const results = [];
    const roles = await loadRoles(null);
    const prices = await loadPrices();
    for (const n of [200, 2000]) {
      const file = join(dir, `plan-${n}.md`);
      writeFileSync(file, generatePlan(n));
      const text = readFileSync(file, 'utf8');
      const inProcess = await time(() => {
        const parsed = parsePlan(text, file);
        analyzePlan(parsed, { maxParallel: 10, split: false, repoFiles: null, repo: null, roles, prices });
      }, 7);
      const cli = await time(() => {
        const r = spawnSync(process.execPath, [new URL('cli.js', dist).pathname, 'analyze', file, '--json'], {
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        });
        if (r.status !== 0) throw new Error(`analyze exited ${r.status}: ${r.stderr}`);
      }, 5);
      const nodeStart = await time(() => spawnSync(process.execPath, ['-e', '0']), 5);
      results.push({ n, inProcess, cli, nodeStart });
    }
    console.log(
      'analyze (median ms)       phases  parse+analyze  CLI end-to-end  bare `node -e 0`  CLI / bare node',
    );
    for (const r of results) {
      console.log(
        `                           ${String(r.n).padStart(6)}  ${r.inProcess.toFixed(1).padStart(13)}  ${r.cli
          .toFixed(1)
          .padStart(
            14,
          )}  ${r.nodeStart.toFixed(1).padStart(16)}  ${(r.cli / r.nodeStart).toFixed(2).padStart(15)}`,
      );
    }
    const big = results.find((r) => r.n === 2000);
    console.log(
      `2,000-phase plan: parse+analyze ${big.inProcess.toFixed(0)} ms (target: well under 1,000 ms)`,
    );
    console.log(
      `scaling 200 → 2,000 phases: ×${(big.inProcess / results[0].inProcess).toFixed(1)} for ×10 phases`,
    );
    return big.inProcess < 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ok = await benchAnalyze();
  process.exitCode = ok ? 0 : 1;
}
