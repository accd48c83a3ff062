// Benchmark: runs on workers against a local run, side by side in one run, on this one machine.
// The same 60-stream DAG with stand-in agents of 2-6 s, run (a) locally at --max-parallel 12 and
// (b) with --redis on 3 local `maestro worker`s × --concurrency 4 (a real redis-server on a loopback
// port, a bare repository as the shared remote, a work directory per worker). The queue's own costs per
// attempt (publishing the start commit, enqueueing, the worker's fetch and push, taking the result) come
// from the run's journal, where the coordinator notes them at the end. Target: (b) ≤ 1.3 × (a).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@maestro.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@maestro.invalid',
  NO_COLOR: '1',
};

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The run-engine benchmark's layered DAG (same seed, same shape). */
function makeDag(n, unitSeconds) {
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

function planText(nodes) {
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

const AGENT = `while read -r id d; do [ "$id" = "$MAESTRO_STREAM_ID" ] && break; d=0; done < "$BENCH_DURATIONS"
[ "\${d:-0}" = 0 ] || sleep "$d"
echo "$MAESTRO_STREAM_ID" > "\${MAESTRO_FILES%%
*}"
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a child and resolves once its output matches `ready`. */
function startUntil(command, args, options, ready) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk.toString('utf8');
      if (ready.test(out)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${command} exited ${code} before it was ready:\n${out}`)));
  });
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

function setUp(dir, nodes, name) {
  const root = mkdtempSync(join(dir, `${name}-`));
  const repo = join(root, 'repo');
  execFileSync('git', ['init', '-q', '-b', 'main', repo], { env });
  writeFileSync(join(repo, 'README.md'), '# bench\n');
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-qm', 'init'], { cwd: repo, env });
  writeFileSync(join(root, 'plan.md'), planText(nodes));
  writeFileSync(join(root, 'agent.sh'), AGENT);
  writeFileSync(join(root, 'durations.txt'), nodes.map((n) => `s${n.id} ${n.seconds}\n`).join(''));
  return { root, repo };
}

function runMaestro(root, repo, extra, benchEnv) {
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [cli, 'run', join(root, 'plan.md'), '--repo', repo, '--agent', 'command', '--yes', ...extra],
    { env: benchEnv, encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const seconds = (Date.now() - t0) / 1000;
  if (r.status !== 0)
    throw new Error(`maestro run ${extra.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return seconds;
}

/** The coordinator's end-of-run note on the queue's costs per attempt. */
function overheadNote(repo) {
  const runs = join(repo, '.maestro', 'runs');
  const [runId] = readdirSync(runs);
  const notes = readFileSync(join(runs, runId, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'note' && e.message.startsWith('queue overhead'));
  return notes.at(-1)?.message ?? 'queue overhead: not reported';
}

/** Runs the queue benchmark; true when the target is met. */
export async function benchQueue() {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-bench-queue-'));
  const children = [];
  try {
    const nodes = makeDag(60, 2);
    const workers = 3;
    const concurrency = 4;
    const slots = workers * concurrency;

    const local = setUp(dir, nodes, 'local');
    const localEnv = {
      ...env,
      BENCH_DURATIONS: join(local.root, 'durations.txt'),
      XDG_CACHE_HOME: join(local.root, 'cache'),
    };
    const localSeconds = runMaestro(
      local.root,
      local.repo,
      ['--agent-command', `sh ${join(local.root, 'agent.sh')}`, '--max-parallel', String(slots)],
      localEnv,
    );

    const q = setUp(dir, nodes, 'queue');
    const remote = join(q.root, 'remote.git');
    execFileSync('git', ['init', '-q', '--bare', remote], { env });
    execFileSync('git', ['remote', 'add', 'origin', remote], { cwd: q.repo, env });
    const port = await freePort();
    const redisDir = join(q.root, 'redis');
    mkdirSync(redisDir);
    children.push(
      await startUntil(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          redisDir,
        ],
        {},
        /Ready to accept connections/,
      ),
    );
    const url = `redis://127.0.0.1:${port}`;
    const queueEnv = {
      ...env,
      BENCH_DURATIONS: join(q.root, 'durations.txt'),
      XDG_CACHE_HOME: join(q.root, 'cache'),
    };
    for (let i = 1; i <= workers; i++) {
      children.push(
        await startUntil(
          process.execPath,
          [
            cli,
            'worker',
            '--redis',
            url,
            '--agent',
            'command',
            '--agent-command',
            `sh ${join(q.root, 'agent.sh')}`,
            '--concurrency',
            String(concurrency),
            '--work-dir',
            join(q.root, `work-${i}`),
            '--name',
            `w${i}`,
          ],
          { env: queueEnv },
          new RegExp(`worker w${i}: command`),
        ),
      );
    }
    const queueSeconds = runMaestro(
      q.root,
      q.repo,
      ['--redis', url, '--max-parallel', String(slots)],
      queueEnv,
    );
    const ratio = queueSeconds / localSeconds;
    console.log(
      `runs on workers: the same 60 streams (agents of 2-6 s), ${workers} local workers × concurrency ${concurrency} against one local run`,
    );
    console.log(
      `  maestro run --max-parallel ${slots} (local)           ${localSeconds.toFixed(2).padStart(6)} s   1.00`,
    );
    console.log(
      `  maestro run --redis, ${workers} workers × ${concurrency}             ${queueSeconds.toFixed(2).padStart(6)} s   ${ratio.toFixed(2)}   (target ≤ 1.3)`,
    );
    console.log(`    ${overheadNote(q.repo)}`);
    return ratio <= 1.3;
  } finally {
    // Workers first (they hand back nothing: the run is over), then Redis.
    for (const child of children.slice(1).reverse()) await stop(child);
    if (children[0] !== undefined) await stop(children[0]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = (await benchQueue()) ? 0 : 1;
}
