/**
 * Runs on several machines, end to end: a real redis-server on a loopback port, a bare repository as
 * the shared git remote, and `maestro worker` processes with separate work directories standing in for
 * separate machines, driven by the built CLI. The stand-in agent records where it ran (its cwd is
 * under its worker's work directory); ordering comes from files it waits for, not from sleeps.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { processesUnder } from '../helpers/procs.js';
import { installStandInAgent, type AgentBehaviour, type StandInAgent } from '../helpers/agent.js';
import { runCli, startCli, waitUntil, type CliProcess } from '../helpers/cli.js';
import { planMarkdown, repoWithPlan, type PhaseSpec } from '../helpers/plan.js';
import { startRedis, type TestRedis, type TestTls } from '../helpers/redis.js';
import { gitSync, makeTempDir } from '../helpers/repo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface QueueFixture {
  readonly root: string;
  readonly repo: string;
  readonly remote: string;
  readonly plan: string;
  readonly agent: StandInAgent;
  readonly redis: TestRedis;
  readonly runArgs: readonly string[];
  startWorker(name: string, extra?: readonly string[], env?: Record<string, string>): Promise<WorkerProcess>;
}

interface WorkerProcess {
  readonly name: string;
  readonly workDir: string;
  readonly cli: CliProcess;
}

/** `count` independent phases, one file each (a 24-stream plan merges 24 files). */
function independentPhases(count: number): PhaseSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    title: `Part ${String(i + 1)}`,
    files: [`src/part${String(i + 1)}.ts`],
  }));
}

async function queueFixture(
  phases: readonly PhaseSpec[],
  behaviour: Record<string, AgentBehaviour> = {},
  redisOptions: { password?: string; tls?: TestTls } = {},
): Promise<QueueFixture> {
  const {
    dir: root,
    repo,
    plan,
  } = repoWithPlan(cleanups, 'maestro-queue-', planMarkdown('Queue plan', phases));
  const remote = path.join(root, 'remote.git');
  gitSync(root, ['init', '--quiet', '--bare', remote]);
  gitSync(repo, ['remote', 'add', 'origin', remote]);
  const agent = installStandInAgent(root, behaviour);
  const redis = await startRedis(redisOptions);
  cleanups.push(() => redis.stop());
  const workers: WorkerProcess[] = [];
  cleanups.push(async () => {
    for (const w of workers) {
      if (w.cli.child.exitCode === null && w.cli.child.signalCode === null) w.cli.child.kill('SIGTERM');
      await w.cli.exited;
    }
    // No agent may outlive its worker, whatever happened to the worker.
    for (const w of workers) await waitUntil(() => processesUnder(w.workDir).length === 0, 15_000);
  });
  const fixture: QueueFixture = {
    root,
    repo,
    remote,
    plan,
    agent,
    redis,
    runArgs: [
      'run',
      plan,
      '--repo',
      repo,
      '--agent',
      'command',
      '--yes',
      '--redis',
      redis.url,
      '--remote',
      'origin',
    ],
    startWorker: async (name, extra = [], env = {}) => {
      const workDir = path.join(root, `work-${name}`);
      const cli = startCli(
        [
          'worker',
          '--redis',
          redis.url,
          '--agent',
          'command',
          '--agent-command',
          agent.command,
          '--work-dir',
          workDir,
          '--name',
          name,
          '--lock-seconds',
          '2',
          ...extra,
        ],
        root,
        env,
      );
      const worker = { name, workDir, cli };
      workers.push(worker);
      await cli.waitFor(new RegExp(`worker ${name}: command`));
      return worker;
    },
  };
  return fixture;
}

interface StatusJson {
  status: string;
  integrationBranch: string;
  mergeOrder: string[];
  streams: Record<
    string,
    { status: string; attempts: number; error: { code: string; message: string } | null }
  >;
}

async function status(repo: string): Promise<StatusJson> {
  const r = await runCli(['status', '--json', '--repo', repo], repo);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** Streams whose agent started under a worker's work directory. */
function streamsRunBy(agent: StandInAgent, worker: WorkerProcess): Set<string> {
  return new Set(
    agent
      .timeline()
      .filter((e) => e.event === 'start' && e.cwd.startsWith(worker.workDir + path.sep))
      .map((e) => e.stream),
  );
}

/** Each stream merged exactly once: one merge commit per stream on the integration branch, and its file there. */
function expectMergedOnce(repo: string, state: StatusJson, count: number): void {
  const subjects = gitSync(repo, ['log', '--merges', '--format=%s', state.integrationBranch]).split('\n');
  for (let i = 1; i <= count; i++) {
    const id = Object.keys(state.streams).find((s) => s === `s${String(i)}`) ?? `s${String(i)}`;
    expect(
      subjects.filter((s) => s.startsWith(`maestro: merge ${id} (`)),
      id,
    ).toHaveLength(1);
    expect(gitSync(repo, ['show', `${state.integrationBranch}:src/part${String(i)}.ts`])).toBe(`// ${id}`);
  }
  expect(new Set(state.mergeOrder).size).toBe(count);
  expect(state.mergeOrder).toHaveLength(count);
}

/** The run's journal (its only run). */
function journal(repo: string): { type: string; [key: string]: unknown }[] {
  const runs = path.join(repo, '.maestro', 'runs');
  return readFileSync(path.join(runs, readdirSync(runs)[0] ?? '', 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string });
}

/** The queue totals of the run's `state.json` (written from the state the journal folds into). */
function queueTotals(repo: string): { attempts: number; fetchMs: number; resultMs: number } | undefined {
  const runs = path.join(repo, '.maestro', 'runs');
  const state = JSON.parse(
    readFileSync(path.join(runs, readdirSync(runs)[0] ?? '', 'state.json'), 'utf8'),
  ) as { queue?: { attempts: number; fetchMs: number; resultMs: number } };
  return state.queue;
}

async function activeJobs(redis: TestRedis): Promise<number> {
  const queue = new Queue('attempts-command', { connection: { url: redis.url }, prefix: 'maestro' });
  try {
    return await queue.getActiveCount();
  } finally {
    await queue.close();
  }
}

describe('maestro worker and run --redis', () => {
  it('hands a merge conflict back to the agent on a worker: it resolves the committed markers and the resolution merges', async () => {
    const f = await queueFixture([
      { title: 'Left', files: ['src/part1.ts'] },
      { title: 'Right', files: ['src/part2.ts'] },
    ]);
    writeFileSync(path.join(f.repo, 'shared.txt'), 'one\ntwo\nthree\n');
    gitSync(f.repo, ['add', 'shared.txt']);
    gitSync(f.repo, ['commit', '--quiet', '-m', 'shared']);
    const leftMerged = path.join(f.root, 'left-merged');
    f.agent.setBehaviour({
      Left: { write: { 'src/part1.ts': '// s1', 'shared.txt': 'one\ntwo from left\nthree\n' } },
      Right: {
        write: { 'src/part2.ts': '// s2', 'shared.txt': 'one\ntwo from right\nthree\n' },
        waitForFile: leftMerged,
        onConflict: 'keep-both',
      },
    });
    await f.startWorker('w1', ['--concurrency', '2']);
    const run = startCli([...f.runArgs, '--max-parallel', '2', '--ownership', 'warn'], f.repo);
    // Right's agent ends once Left has merged (read from the journal), so Right's merge conflicts.
    const journal = (): string => {
      const runs = path.join(f.repo, '.maestro', 'runs');
      const [id] = existsSync(runs) ? readdirSync(runs) : [];
      const file = path.join(runs, id ?? '', 'events.jsonl');
      return id !== undefined && existsSync(file) ? readFileSync(file, 'utf8') : '';
    };
    await waitUntil(() => journal().includes('"type":"stream-merged","streamId":"s1"'), 120_000);
    writeFileSync(leftMerged, '');
    const done = await run.exited;
    expect(done.code, `${done.stdout}\n${done.stderr}`).toBe(0);
    expect(journal()).toContain('"type":"merge-conflict","streamId":"s2"');
    expect(f.agent.prompts('s2')).toHaveLength(2);
    expect(f.agent.prompts('s2')[1]).toContain('resolve these conflicts, keep both intents');
    const state = await status(f.repo);
    expect(state.status).toBe('completed');
    expect(gitSync(f.repo, ['show', `${state.integrationBranch}:shared.txt`])).toBe(
      'one\ntwo from right\ntwo from left\nthree',
    );
    // The worker resolved a checkout of the merge with its markers committed, on top of it.
    const log = gitSync(f.repo, ['log', '--format=%s', state.integrationBranch]);
    expect(log).toMatch(/maestro: conflicts of s2 with [0-9a-f]{12}, to resolve/);
  });

  it('runs a 24-stream plan on two workers: every file merged exactly once, both workers used, no secret written', async () => {
    const f = await queueFixture(independentPhases(24), { '*': { sleepMs: 150 } }, { password: 's3cret-pw' });
    const w1 = await f.startWorker('w1', ['--concurrency', '4']);
    const w2 = await f.startWorker('w2', ['--concurrency', '4']);
    const run = await runCli([...f.runArgs, '--max-parallel', '8'], f.repo);
    expect(run.code, run.stderr).toBe(0);
    const state = await status(f.repo);
    expect(state.status).toBe('completed');
    expectMergedOnce(f.repo, state, 24);
    expect(streamsRunBy(f.agent, w1).size).toBeGreaterThan(0);
    expect(streamsRunBy(f.agent, w2).size).toBeGreaterThan(0);
    // Each attempt ran once, on one worker.
    const starts = f.agent.timeline().filter((e) => e.event === 'start');
    expect(starts).toHaveLength(24);
    // The queue's costs are journaled per attempt, as each one ends, naming the worker that ran it.
    const costs = journal(f.repo).filter((e) => e.type === 'queue-attempt');
    expect(costs).toHaveLength(24);
    expect(new Set(costs.map((e) => e['streamId']))).toEqual(new Set(Object.keys(state.streams)));
    for (const e of costs) {
      expect(['w1', 'w2']).toContain(e['worker']);
      for (const key of ['publishMs', 'enqueueMs', 'fetchMs', 'pushMs', 'resultMs'])
        expect(e[key]).toBeGreaterThanOrEqual(0);
    }
    expect(queueTotals(f.repo)?.attempts).toBe(24);
    // The password is never written to the run directory.
    const runDir = path.join(
      f.repo,
      '.maestro',
      'runs',
      readdirSync(path.join(f.repo, '.maestro', 'runs'))[0] ?? '',
    );
    for (const file of ['options.json', 'events.jsonl', 'state.json'])
      expect(readFileSync(path.join(runDir, file), 'utf8')).not.toContain('s3cret-pw');
  });

  it('finishes the streams of a worker killed with SIGKILL on the other worker, leaving no process behind', async () => {
    const gate = path.join(makeTempDir('maestro-gate-').dir, 'go');
    cleanups.push(() => {
      writeFileSync(gate, '');
    });
    const f = await queueFixture(independentPhases(4), { '*': { waitForFile: gate } });
    const w1 = await f.startWorker('w1', ['--concurrency', '4']);
    const run = startCli(f.runArgs, f.repo);
    // Every stream is running on w1 before w2 exists.
    await waitUntil(() => streamsRunBy(f.agent, w1).size === 4);
    w1.cli.child.kill('SIGKILL');
    await w1.cli.exited;
    // Its reaper stops the agents it left running.
    await waitUntil(() => processesUnder(w1.workDir).length === 0, 15_000);
    const w2 = await f.startWorker('w2', ['--concurrency', '4']);
    writeFileSync(gate, '');
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(0);
    const state = await status(f.repo);
    expect(state.status).toBe('completed');
    expectMergedOnce(f.repo, state, 4);
    expect(streamsRunBy(f.agent, w2).size).toBe(4);
    expect(processesUnder(w1.workDir)).toEqual([]);
  });

  it('resumes after the coordinator is killed with SIGKILL: re-attaches to its jobs, merges nothing twice', async () => {
    const gate = path.join(makeTempDir('maestro-gate-').dir, 'go');
    cleanups.push(() => {
      writeFileSync(gate, '');
    });
    const phases = independentPhases(6);
    // s1 and s2 finish at once (merged before the crash); the others wait for the gate.
    const waiting = { waitForFile: gate };
    const f = await queueFixture(phases, { s3: waiting, s4: waiting, s5: waiting, s6: waiting });
    await f.startWorker('w1', ['--concurrency', '3']);
    await f.startWorker('w2', ['--concurrency', '3']);
    const run = startCli([...f.runArgs, '--json'], f.repo);
    await run.waitFor(/"type":"stream-merged","streamId":"s1"/);
    await run.waitFor(/"type":"stream-merged","streamId":"s2"/);
    await waitUntil(() => f.agent.timeline().filter((e) => e.event === 'start').length === 6);
    run.child.kill('SIGKILL');
    await run.exited;
    // The workers finish the attempts while no coordinator listens; their results wait in Redis.
    writeFileSync(gate, '');
    await waitUntil(() => f.agent.timeline().filter((e) => e.event === 'end').length === 6);
    const resumed = await runCli(['resume', '--repo', f.repo, '--json'], f.repo);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/re-attaches to job/);
    const state = await status(f.repo);
    expect(state.status).toBe('completed');
    expectMergedOnce(f.repo, state, 6);
    // No agent ran twice.
    expect(f.agent.timeline().filter((e) => e.event === 'start')).toHaveLength(6);
    // The queue's costs of the attempts taken before the crash live in the journal and count after
    // resume: one record per attempt, and the totals are rebuilt from them.
    const costs = journal(f.repo).filter((e) => e.type === 'queue-attempt');
    expect(costs.map((e) => e['streamId']).sort()).toEqual(['s1', 's2', 's3', 's4', 's5', 's6']);
    const totals = queueTotals(f.repo);
    expect(totals?.attempts).toBe(6);
    expect(totals?.fetchMs).toBe(costs.reduce((sum, e) => sum + Number(e['fetchMs']), 0));
  });

  it('maestro abort cancels the run: no job left running, no agent left on the workers', async () => {
    const f = await queueFixture(independentPhases(3), { '*': { hang: true } });
    const w1 = await f.startWorker('w1', ['--concurrency', '3']);
    const run = startCli(f.runArgs, f.repo);
    await waitUntil(() => streamsRunBy(f.agent, w1).size === 3);
    const aborted = await runCli(['abort', '--repo', f.repo], f.repo);
    expect(aborted.code, aborted.stderr).toBe(0);
    await run.exited;
    expect(await activeJobs(f.redis)).toBe(0);
    await waitUntil(() => processesUnder(w1.workDir).length === 0, 15_000);
    expect((await status(f.repo)).status).toBe('aborted');
  });

  it('a worker given SIGTERM hands its running job back and exits 0 within 15 s', async () => {
    const f = await queueFixture(independentPhases(1), { '*': { hang: true } });
    const w1 = await f.startWorker('w1');
    const run = startCli(f.runArgs, f.repo);
    await waitUntil(() => streamsRunBy(f.agent, w1).size === 1);
    const signalled = Date.now();
    w1.cli.child.kill('SIGTERM');
    const exit = await w1.cli.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(15_000);
    expect(exit.stderr).toMatch(/handed back to the queue/);
    expect(processesUnder(w1.workDir)).toEqual([]);
    // The job went back to the queue: another worker takes it (and, told to, finishes it).
    f.agent.setBehaviour({});
    const w2 = await f.startWorker('w2');
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(streamsRunBy(f.agent, w2).size).toBe(1);
  });

  it('pauses while Redis is down and carries on when it is back', async () => {
    const gate = path.join(makeTempDir('maestro-gate-').dir, 'go');
    cleanups.push(() => {
      writeFileSync(gate, '');
    });
    const f = await queueFixture(independentPhases(2), { '*': { waitForFile: gate } });
    const w1 = await f.startWorker('w1', ['--concurrency', '2', '--lock-seconds', '30']);
    const run = startCli(f.runArgs, f.repo);
    await waitUntil(() => streamsRunBy(f.agent, w1).size === 2);
    await f.redis.stop({ keepData: true });
    await run.waitFor(/Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
    writeFileSync(gate, '');
    await f.redis.start();
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/reachable again/);
    expect((await status(f.repo)).status).toBe('completed');
  });

  it('works over rediss:// (TLS, checked against the CA the machines trust) with a password', async () => {
    const certs = makeTempDir('maestro-tls-');
    cleanups.push(certs.cleanup);
    const tls = { cert: path.join(certs.dir, 'cert.pem'), key: path.join(certs.dir, 'key.pem') };
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        tls.key,
        '-out',
        tls.cert,
        '-days',
        '1',
      ].concat(['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']),
      { stdio: 'ignore' },
    );
    const f = await queueFixture(independentPhases(2), {}, { password: 'tls-pw', tls });
    expect(f.redis.url).toMatch(/^rediss:\/\/:tls-pw@/);
    const trust = { NODE_EXTRA_CA_CERTS: tls.cert };
    const w1 = await f.startWorker('w1', ['--concurrency', '2'], trust);
    const run = await runCli(f.runArgs, f.repo, trust);
    expect(run.code, run.stderr).toBe(0);
    expect((await status(f.repo)).status).toBe('completed');
    expect(streamsRunBy(f.agent, w1).size).toBe(2);
  });

  it("runs the worker's own --setup in each recycled worktree before the agent, with MAESTRO_PORT; a failing setup fails the stream without running the agent", async () => {
    const f = await queueFixture(independentPhases(4));
    writeFileSync(path.join(f.repo, '.gitignore'), '.deps/\n');
    gitSync(f.repo, ['add', '.gitignore']);
    gitSync(f.repo, ['commit', '--quiet', '-m', 'ignore .deps']);
    const setupLog = path.join(f.root, 'setup.log');
    const w1 = await f.startWorker(
      'w1',
      [
        '--concurrency',
        '2',
        '--setup',
        'mkdir -p .deps && echo "$MAESTRO_PORT" > .deps/port',
        '--setup',
        'echo "$MAESTRO_STREAM_ID $MAESTRO_PORT $MAESTRO_WORKTREE" >> "$SETUP_LOG"',
      ],
      { SETUP_LOG: setupLog },
    );
    const run = await runCli([...f.runArgs, '--max-parallel', '2'], f.repo);
    expect(run.code, run.stderr).toBe(0);
    const state = await status(f.repo);
    expect(state.status).toBe('completed');
    expectMergedOnce(f.repo, state, 4);
    // Setup ran in each worktree an agent ran in (under the worker's work directory), before it, with
    // that worktree's own port; recycled worktrees whose setup files did not change skip it.
    const setups = readFileSync(setupLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    const agentDirs = new Set(
      f.agent
        .timeline()
        .filter((e) => e.event === 'start')
        .map((e) => e.cwd),
    );
    expect(setups.length).toBeGreaterThanOrEqual(1);
    expect(setups.length).toBeLessThanOrEqual(2);
    expect(new Set(setups.map(([, , dir]) => dir))).toEqual(agentDirs);
    for (const [, port, dir] of setups) {
      expect(dir?.startsWith(w1.workDir + path.sep)).toBe(true);
      expect(readFileSync(path.join(dir ?? '', '.deps', 'port'), 'utf8').trim()).toBe(port);
    }
    expect(new Set(setups.map(([, port]) => port)).size).toBe(setups.length);
    // Ignored setup output is never committed.
    expect(gitSync(f.repo, ['ls-tree', '-r', '--name-only', state.integrationBranch])).not.toContain('.deps');

    // A worker whose setup fails: the stream fails with code setup, its agent never starts.
    const g = await queueFixture(independentPhases(1));
    await g.startWorker('w2', ['--setup', 'echo broken install >&2; exit 3']);
    const failed = await runCli(g.runArgs, g.repo);
    expect(failed.code).toBe(1);
    const s1 = (await status(g.repo)).streams['s1'];
    expect(s1?.error?.code).toBe('setup');
    expect(s1?.error?.message).toMatch(/exit 3|exited 3/);
    expect(s1?.error?.message).toMatch(/broken install/);
    expect(g.agent.timeline()).toEqual([]);
  });

  it('fails the attempt with remote-unreachable when a worker cannot reach the git remote', async () => {
    const f = await queueFixture(independentPhases(1));
    // This worker's git refuses local-path remotes: it cannot reach the shared repository.
    await f.startWorker('w1', [], {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'protocol.file.allow',
      GIT_CONFIG_VALUE_0: 'never',
    });
    const run = await runCli(f.runArgs, f.repo);
    expect(run.code).toBe(1);
    const state = await status(f.repo);
    expect(state.streams['s1']?.error?.code).toBe('remote-unreachable');
    expect(state.streams['s1']?.error?.message).toMatch(/fetch .* from /);
    expect(existsSync(f.remote)).toBe(true);
  });
});
