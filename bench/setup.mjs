// Benchmark: worktrees that run. A real npm project (one registry dependency, `npm ci` from a shared
// cache) measured two ways, side by side in one run:
// (a) time to a ready worktree (checked out on a stream branch, `.worktreeinclude` copied, set up),
//     fresh (a new worktree and a full `npm ci`) against recycled (a slot a finished stream left,
//     moved to a new start commit with the same lockfile: no setup runs), median of 5 each.
//     Target: recycled ≤ 0.25 × fresh.
// (b) a 12-stream plan at --max-parallel 3 through the CLI with the detected `npm ci`: how many times
//     setup ran, from the run's journal. Target: ≤ max-parallel + 2 = 5.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url);
const cli = new URL('cli.js', dist).pathname;
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@maestro.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@maestro.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null',
  NO_COLOR: '1',
  // One npm cache for every install, kept between runs like a developer's.
  npm_config_cache: join(tmpdir(), 'maestro-bench-npm-cache'),
  npm_config_prefer_offline: 'true',
};

const sh = (cwd, cmd, args) =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function makeProject(repo) {
  sh(tmpdir(), 'git', ['init', '--quiet', '--initial-branch=main', repo]);
  writeFileSync(
    join(repo, 'package.json'),
    JSON.stringify(
      {
        name: 'bench-app',
        version: '1.0.0',
        private: true,
        scripts: { test: 'node -e "require(\'is-number\')"' },
        dependencies: { 'is-number': '7.0.0' },
      },
      null,
      2,
    ),
  );
  writeFileSync(join(repo, '.gitignore'), 'node_modules/\n.env\n');
  writeFileSync(join(repo, '.worktreeinclude'), '.env\n');
  writeFileSync(join(repo, '.env'), 'KEY=1\n');
  sh(repo, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline']);
  sh(repo, 'git', ['add', '-A']);
  sh(repo, 'git', ['commit', '--quiet', '-m', 'initial']);
  // A second commit with the same lockfile: what a recycled slot moves to.
  writeFileSync(join(repo, 'README.md'), '# next\n');
  sh(repo, 'git', ['add', '-A']);
  sh(repo, 'git', ['commit', '--quiet', '-m', 'next']);
}

async function readyTimes(repo, root) {
  const { WorktreeSlots } = await import(new URL('run/slots.js', dist).href);
  const { ensureSetup } = await import(new URL('run/setup.js', dist).href);
  const { listIncludedFiles } = await import(new URL('run/worktree-include.js', dist).href);
  const spec = {
    commands: ['npm ci --prefer-offline --no-audit --no-fund'],
    source: 'detected',
    detectedFrom: ['package-lock.json'],
    tools: ['npm'],
    teardown: [],
  };
  const included = await listIncludedFiles(repo);
  const [first, second] = sh(repo, 'git', ['rev-list', '--reverse', 'HEAD']).trim().split('\n');
  let branch = 0;
  const ready = async (slots, slotRoot, sha) => {
    const started = performance.now();
    const slot = await slots.acquire(slotRoot);
    await slots.prepare(repo, slot, `bench-${String(++branch)}`, sha, 0);
    const r = await ensureSetup(spec, {
      root: repo,
      worktree: slot.dir,
      streamId: 'bench',
      port: 0,
      logFile: join(root, 'setup.log'),
      timeoutMs: 300_000,
      included,
    });
    if (!r.ok) throw new Error(`setup failed: ${r.output}`);
    const ms = performance.now() - started;
    await slots.release(slotRoot, slot);
    return { ms, ran: r.ran };
  };
  const fresh = [];
  const recycled = [];
  const pool = new WorktreeSlots();
  const poolRoot = join(root, 'pool');
  await ready(pool, poolRoot, first); // the slot's first stream: checked out and set up once
  for (let i = 0; i < 5; i++) {
    const f = await ready(
      new WorktreeSlots(),
      join(root, `fresh-${String(i)}`),
      i % 2 === 0 ? second : first,
    );
    if (!f.ran) throw new Error('a fresh worktree skipped its setup');
    fresh.push(f.ms);
    const r = await ready(pool, poolRoot, i % 2 === 0 ? second : first);
    if (r.ran) throw new Error('a recycled worktree ran its setup again with an unchanged lockfile');
    recycled.push(r.ms);
  }
  return { fresh: median(fresh), recycled: median(recycled) };
}

function twelveStreams(root, repo) {
  const plan = join(root, 'plan.md');
  const lines = ['# Twelve', ''];
  for (let i = 1; i <= 12; i++)
    lines.push(
      `## Phase ${i}: Unit ${i}`,
      '',
      'Depends on: none',
      '',
      'Files:',
      `- \`src/u${i}.js\` (create)`,
      '',
    );
  writeFileSync(plan, lines.join('\n'));
  const agent = join(root, 'agent.sh');
  writeFileSync(agent, 'mkdir -p src && echo "module.exports = 1;" > "${MAESTRO_FILES%%\n*}"\n');
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      plan,
      '--repo',
      repo,
      '--agent',
      'command',
      '--agent-command',
      `sh ${agent}`,
      '--yes',
      '--max-parallel',
      '3',
      '--validate',
      'npm test',
    ],
    { env, encoding: 'utf8' },
  );
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`run failed:\n${r.stdout}\n${r.stderr}`);
  const runs = join(repo, '.maestro', 'runs');
  const id = readdirSync(runs).sort().at(-1);
  const events = readFileSync(join(runs, id, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const setups = events.filter((e) => e.type === 'setup-finished');
  return { seconds, runs: setups.length, setupMs: setups.reduce((a, e) => a + e.durationMs, 0) };
}

export async function benchSetup() {
  const root = mkdtempSync(join(tmpdir(), 'maestro-bench-setup-'));
  const cache = mkdtempSync(join(tmpdir(), 'maestro-bench-xdg-'));
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = cache;
  env.XDG_CACHE_HOME = cache;
  try {
    const repo = join(root, 'repo');
    makeProject(repo);
    const t = await readyTimes(repo, root);
    const ratio = t.recycled / t.fresh;
    const run = twelveStreams(root, repo);
    console.log('worktrees that run: an npm project (is-number, npm ci from a warm cache), median of 5');
    console.log(
      `  ready worktree, fresh (checkout + npm ci)          ${(t.fresh / 1000).toFixed(2).padStart(6)} s   1.00`,
    );
    console.log(
      `  ready worktree, recycled (same lockfile, no setup) ${(t.recycled / 1000).toFixed(2).padStart(6)} s   ${ratio.toFixed(2)}   (target ≤ 0.25)`,
    );
    console.log(
      `  12 streams at --max-parallel 3: setup ran ${run.runs} times (${(run.setupMs / 1000).toFixed(1)} s of setup; run ${run.seconds.toFixed(1)} s)   (target ≤ 5)`,
    );
    return ratio <= 0.25 && run.runs <= 5;
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    rmSync(root, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = (await benchSetup()) ? 0 : 1;
}
