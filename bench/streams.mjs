// What the run benchmarks share: the git identity, the seeded 60-stream DAG, its plan text, the
// stand-in agent, and a repository to run it in. `run-engine.mjs` and `queue.mjs` run the same case.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const cli = new URL('../dist/cli.js', import.meta.url).pathname;

export const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@maestro.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@maestro.invalid',
  NO_COLOR: '1',
};

/** A deterministic pseudo-random generator, so every run benchmarks the same DAG. */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A layered DAG of `n` streams: each depends on up to two streams of earlier layers. */
export function makeDag(n, unitSeconds) {
  const rand = rng(42);
  const nodes = [];
  for (let i = 1; i <= n; i++) {
    const deps = new Set();
    if (i > 10) {
      deps.add(1 + Math.floor(rand() * (i - 1)));
      if (rand() < 0.5) deps.add(1 + Math.floor(rand() * (i - 1)));
    }
    nodes.push({
      id: i,
      deps: [...deps].sort((a, b) => a - b),
      seconds: unitSeconds * (1 + Math.floor(rand() * 3)),
    });
  }
  return nodes;
}

export function planText(nodes) {
  const lines = ['# Benchmark plan', ''];
  for (const node of nodes) {
    lines.push(`## Phase ${node.id}: Unit ${node.id}`, '');
    lines.push(
      node.deps.length > 0
        ? `Depends on: ${node.deps.map((d) => `Phase ${d}`).join(', ')}`
        : 'Depends on: none',
      '',
    );
    lines.push('Files:', `- \`u${node.id}.txt\``, '');
  }
  return lines.join('\n');
}

export function makeRepo(dir) {
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env });
  writeFileSync(join(dir, 'README.md'), '# bench\n');
  execFileSync('git', ['add', '-A'], { cwd: dir, env });
  execFileSync('git', ['commit', '-qm', 'init'], { cwd: dir, env });
}

/**
 * Stand-in agent: sleeps its stream's duration (from `$BENCH_DURATIONS`), then writes its file. Shell
 * built-ins except `sleep`, so it costs what make's recipe costs (a shell and a `sleep`), and only
 * Maestro's own work differs.
 */
export const AGENT = `while read -r id d; do [ "$id" = "$MAESTRO_STREAM_ID" ] && break; d=0; done < "$BENCH_DURATIONS"
[ "\${d:-0}" = 0 ] || sleep "$d"
echo "$MAESTRO_STREAM_ID" > "\${MAESTRO_FILES%%
*}"
`;

/** Writes the plan, the stand-in agent and its durations (`s<id> <seconds>` lines) under `root`. */
export function writeCase(root, nodes, durationsByStream) {
  writeFileSync(join(root, 'plan.md'), planText(nodes));
  writeFileSync(join(root, 'agent.sh'), AGENT);
  writeFileSync(
    join(root, 'durations.txt'),
    Object.entries(durationsByStream)
      .map(([id, seconds]) => `${id} ${seconds}\n`)
      .join(''),
  );
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
