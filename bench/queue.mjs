// Benchmark: runs on workers against a local run, side by side in one run, on this one machine.
// The same 60-stream DAG with stand-in agents of 2-6 s, run (a) locally at --max-parallel 12 and
// (b) with --redis on 3 local `maestro worker`s × --concurrency 4 (a real redis-server on a loopback
// port, a bare repository as the shared remote, a work directory per worker). The queue's own costs per
// attempt (publishing the start commit, enqueueing, the worker's fetch and push, taking the result) come
// from the run's journal (a `queue-attempt` event per attempt). Three runs of each, interleaved so a
// noisy stretch of the machine hits both alike; medians are compared. Target: (b) ≤ 1.3 × (a).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cli, env, makeDag, makeRepo, median, writeCase } from './streams.mjs';

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
      if (!ready.test(out)) return;
      // Ready: from now on its output is drained unread (matching a growing text would cost CPU the
      // run being measured competes for).
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.stdout.resume();
      child.stderr.resume();
      out = '';
      resolve(child);
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
  makeRepo(repo);
  writeCase(root, nodes, Object.fromEntries(nodes.map((n) => [`s${n.id}`, n.seconds])));
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

/** The queue's mean costs per attempt in a run, from its journal's `queue-attempt` events. */
function queueCosts(repo) {
  const runs = join(repo, '.maestro', 'runs');
  const [runId] = readdirSync(runs);
  const events = readFileSync(join(runs, runId, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'queue-attempt');
  const mean = (key) => events.reduce((sum, e) => sum + e[key], 0) / Math.max(1, events.length);
  const costs = {
    publish: mean('publishMs'),
    enqueue: mean('enqueueMs'),
    'worker fetch': mean('fetchMs'),
    'worker push': mean('pushMs'),
    result: mean('resultMs'),
  };
  return { attempts: events.length, costs, total: Object.values(costs).reduce((a, b) => a + b, 0) };
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
    const repeats = 3;

    const port = await freePort();
    const redisDir = join(dir, 'redis');
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
    const durations = join(dir, 'durations.txt');
    writeCase(dir, nodes, Object.fromEntries(nodes.map((n) => [`s${n.id}`, n.seconds])));
    const agent = `sh ${join(dir, 'agent.sh')}`;
    const benchEnv = { ...env, BENCH_DURATIONS: durations, XDG_CACHE_HOME: join(dir, 'cache') };
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
            agent,
            '--concurrency',
            String(concurrency),
            '--work-dir',
            join(dir, `work-${i}`),
            '--name',
            `w${i}`,
          ],
          { env: benchEnv },
          new RegExp(`worker w${i}: command`),
        ),
      );
    }

    const locals = [];
    const queued = [];
    for (let i = 0; i < repeats; i++) {
      const local = setUp(dir, nodes, `local-${i}`);
      locals.push(
        runMaestro(
          local.root,
          local.repo,
          ['--agent-command', agent, '--max-parallel', String(slots)],
          benchEnv,
        ),
      );
      const q = setUp(dir, nodes, `queue-${i}`);
      const remote = join(q.root, 'remote.git');
      execFileSync('git', ['init', '-q', '--bare', remote], { env });
      execFileSync('git', ['remote', 'add', 'origin', remote], { cwd: q.repo, env });
      const seconds = runMaestro(q.root, q.repo, ['--redis', url, '--max-parallel', String(slots)], benchEnv);
      queued.push({ seconds, ...queueCosts(q.repo) });
    }
    const localSeconds = median(locals);
    const queueSeconds = median(queued.map((r) => r.seconds));
    const ratio = queueSeconds / localSeconds;
    const range = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} s`;
    console.log(
      `runs on workers: the same 60 streams (agents of 2-6 s), ${workers} local workers × concurrency ${concurrency} against one local run, medians of ${repeats}`,
    );
    console.log(
      `  maestro run --max-parallel ${slots} (local)           ${localSeconds.toFixed(2).padStart(6)} s   1.00   (${range(locals)})`,
    );
    console.log(
      `  maestro run --redis, ${workers} workers × ${concurrency}             ${queueSeconds.toFixed(2).padStart(6)} s   ${ratio.toFixed(2)}   (${range(queued.map((r) => r.seconds))}; target ≤ 1.3)`,
    );
    const per = (key) => `${median(queued.map((r) => r.costs[key])).toFixed(0)} ms`;
    console.log(
      `    queue overhead per attempt (${queued[0].attempts} attempts), medians: ${Object.keys(
        queued[0].costs,
      )
        .map((key) => `${key} ${per(key)}`)
        .join(', ')}; in all ${median(queued.map((r) => r.total)).toFixed(0)} ms`,
    );
    return ratio <= 1.3;
  } finally {
    // Workers first (they hand back nothing: the runs are over), then Redis.
    for (const child of children.slice(1).reverse()) await stop(child);
    if (children[0] !== undefined) await stop(children[0]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = (await benchQueue()) ? 0 : 1;
}
