// Benchmark: the run engine's schedule and overhead, measured side by side in one run.
//  1. Makespan of `maestro run` (dag and waves) on a 60-stream plan at N = 10 with stand-in agents
//     of fixed durations (2-6 s; a stress row at 1-3 s), against the lower bound
//     max(critical path, total work / N) and `make -jN` running `sleep`s over the same DAG.
//  2. The merge queue: 30- and 60-stream plans with agents of 1-4 s and a 2 s gate at N = 10, against
//     the chain bound (the longest chain of agent + gate), with per-merge gating one gate at a time
//     (--max-batch 1 --gate-lanes 1), batches behind one gate (--gate-lanes 1), batches with pipelined
//     gates (the default, the target row), and those with --speculate; and the 60-stream ungated plan
//     of 1-4 s agents against max(critical path, work / N), beside make -jN.
//  3. Maestro's per-stream overhead (worktree, agent spawn, commit, ownership check, merge, journal)
//     with agents that do nothing, against raw `git worktree add` + commit + `git merge` on the same
//     repo, as the marginal cost of a stream (fixed start-up costs cancel out).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AGENT, cli, env, makeDag, makeRepo, median, rng, writeCase } from './streams.mjs';

/** A layered DAG of `n` streams like `makeDag`, with agent durations drawn from `lo`..`hi` seconds. */
function makeDagRange(n, lo, hi) {
  const rand = rng(7);
  return makeDag(n, 1).map((node) => ({ ...node, seconds: lo + Math.floor(rand() * (hi - lo + 1)) }));
}

/** The longest chain of agent + gate: with one gate run per dependency link, no schedule beats it. */
function chainBound(nodes, gateSeconds) {
  const finish = new Map();
  for (const node of nodes)
    finish.set(node.id, node.seconds + gateSeconds + Math.max(0, ...node.deps.map((d) => finish.get(d))));
  return Math.max(...finish.values());
}

function lowerBound(nodes, slots) {
  const finish = new Map();
  for (const node of nodes)
    finish.set(node.id, node.seconds + Math.max(0, ...node.deps.map((d) => finish.get(d))));
  const critical = Math.max(...finish.values());
  const total = nodes.reduce((a, n) => a + n.seconds, 0);
  return { critical, total, bound: Math.max(critical, total / slots) };
}

function timeMaestro(dir, nodes, schedule, slots, durationsByStream, extraArgs = []) {
  const root = mkdtempSync(join(dir, `${schedule}-`));
  const repo = join(root, 'repo');
  makeRepo(repo);
  writeCase(root, nodes, durationsByStream);
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      join(root, 'plan.md'),
      '--repo',
      repo,
      '--agent',
      'command',
      '--agent-command',
      `sh ${join(root, 'agent.sh')}`,
      '--max-parallel',
      String(slots),
      '--schedule',
      schedule,
      '--yes',
      ...extraArgs,
    ],
    { env: { ...env, BENCH_DURATIONS: join(root, 'durations.txt') }, encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const t1 = Date.now();
  if (r.status !== 0)
    throw new Error(`maestro run (${schedule}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  // The journal's first and last events: what the process spent before its first stream could start
  // (Node, module loading, analysis, set-up) and after its last merge (report, clean-up, exit).
  const runs = join(repo, '.maestro', 'runs');
  const [runId] = readdirSync(runs);
  const lines = readFileSync(join(runs, runId, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const events = lines.map((l) => JSON.parse(l));
  const first = Date.parse(events[0].time);
  const last = Date.parse(events.at(-1).time);
  const gateRuns = events.filter((e) => e.type === 'validation-started').length;
  // A baseline gate on the base commit (when the run has one) is part of the bound.
  const baseline = events.some(
    (e) => /baseline/.test(e.type) || (e.type === 'validation-started' && e.baseline === true),
  );
  const spec = events.filter((e) => e.type === 'stream-retry' && e.cause === 'speculation');
  const wastedS = spec.reduce((a, e) => a + (e.wasted?.agentMs ?? 0), 0) / 1000;
  return {
    seconds: (t1 - t0) / 1000,
    startup: (first - t0) / 1000,
    shutdown: (t1 - last) / 1000,
    gateRuns,
    baseline,
    wastedS,
  };
}

function timeMake(dir, nodes, slots) {
  const mk = [`all: ${nodes.map((n) => `u${n.id}`).join(' ')}`, ''];
  for (const n of nodes)
    mk.push(`u${n.id}: ${n.deps.map((d) => `u${d}`).join(' ')}`, `\tsleep ${n.seconds} && touch $@`, '');
  const root = mkdtempSync(join(dir, 'make-'));
  writeFileSync(join(root, 'Makefile'), mk.join('\n'));
  const t0 = performance.now();
  execFileSync('make', ['-s', `-j${slots}`], { cwd: root });
  return (performance.now() - t0) / 1000;
}

/** Raw git for the same per-stream work Maestro does: worktree, commit, merge into an integration branch. */
function timeRawGit(dir, streams) {
  const repo = join(dir, 'raw');
  makeRepo(repo);
  const integ = join(dir, 'raw-integ');
  writeFileSync(join(dir, 'raw-agent.sh'), AGENT);
  writeFileSync(join(dir, 'raw-durations.txt'), '');
  const t0 = performance.now();
  execFileSync('git', ['worktree', 'add', '-q', '-b', 'integ', integ, 'main'], { cwd: repo, env });
  for (let i = 1; i <= streams; i++) {
    const wt = join(dir, `raw-wt-${i}`);
    execFileSync('git', ['worktree', 'add', '-q', '-b', `s${i}`, wt, 'integ'], { cwd: repo, env });
    // The same stand-in agent process Maestro would start, so only Maestro's own machinery differs.
    execFileSync('sh', [join(dir, 'raw-agent.sh')], {
      cwd: wt,
      env: {
        ...env,
        MAESTRO_STREAM_ID: `s${i}`,
        MAESTRO_FILES: `u${i}.txt`,
        BENCH_DURATIONS: join(dir, 'raw-durations.txt'),
      },
    });
    execFileSync('git', ['add', '-A'], { cwd: wt, env });
    execFileSync('git', ['commit', '-qm', `s${i}`], { cwd: wt, env });
    execFileSync('git', ['merge', '-q', '--no-ff', '-m', `merge s${i}`, `s${i}`], { cwd: integ, env });
    execFileSync('git', ['worktree', 'remove', '--force', wt], { cwd: repo, env });
  }
  return (performance.now() - t0) / 1000;
}

const fmt = (x) => x.toFixed(2).padStart(6);

/**
 * Runs the engine benchmarks; true when the targets are met. `cases` picks some of them (`engine`,
 * `ungated`, `gated30`, `gated60`, `overhead`; `BENCH_RUN_CASES=ungated,gated30` from the shell), for
 * measuring one change without the whole run; `npm run bench` runs them all.
 */
export async function benchRun(cases = process.env.BENCH_RUN_CASES?.split(',') ?? null) {
  const runs = (name) => cases === null || cases.includes(name);
  const dir = mkdtempSync(join(tmpdir(), 'maestro-bench-run-'));
  try {
    const slots = 10;
    const repeats = 3;
    const ratio = (x, bound) => (x / bound).toFixed(2);
    const range = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} s`;

    let engineOk = true;
    if (runs('engine')) {
      // The target case: stand-in agents of 2-6 s. Real agents run for minutes; what Maestro adds is
      // fixed (start-up, and git work per stream), so the shorter the agents, the larger its share.
      const nodes = makeDag(60, 2);
      const durations = Object.fromEntries(nodes.map((n) => [`s${n.id}`, n.seconds]));
      const lb = lowerBound(nodes, slots);
      // Interleaved, so a noisy stretch of the machine hits both alike; medians are compared.
      const dags = [];
      const makes = [];
      for (let i = 0; i < repeats; i++) {
        dags.push(timeMaestro(dir, nodes, 'dag', slots, durations));
        makes.push(timeMake(dir, nodes, slots));
      }
      const make = median(makes);
      const waves = timeMaestro(dir, nodes, 'waves', slots, durations);
      const dag = median(dags.map((r) => r.seconds));
      console.log(
        `run engine: 60 streams, N = ${slots}, stand-in agents of 2-6 s (total work ${lb.total} s, critical path ${lb.critical} s)`,
      );
      console.log(`  lower bound max(critical path, work/N)    ${fmt(lb.bound)} s   1.00`);
      console.log(
        `  make -j${slots} (sleep per stream), median     ${fmt(make)} s   ${ratio(make, lb.bound)}   (${range(makes)})`,
      );
      console.log(
        `  maestro run --schedule dag, median of ${repeats}   ${fmt(dag)} s   ${ratio(dag, lb.bound)}   (${range(dags.map((r) => r.seconds))}; target ≤ 1.05)`,
      );
      console.log(`    of which start-up to the first event   ${fmt(median(dags.map((r) => r.startup)))} s`);
      console.log(`    and last event to exit                 ${fmt(median(dags.map((r) => r.shutdown)))} s`);
      console.log(
        `  maestro run --schedule waves              ${fmt(waves.seconds)} s   ${ratio(waves.seconds, lb.bound)}`,
      );

      // Stress: the same DAG with agents of 1-3 s, where Maestro's fixed costs weigh twice as much.
      const short = makeDag(60, 1);
      const shortLb = lowerBound(short, slots);
      const stress = timeMaestro(
        dir,
        short,
        'dag',
        slots,
        Object.fromEntries(short.map((n) => [`s${n.id}`, n.seconds])),
      );
      console.log(
        `  stress, agents of 1-3 s: dag ${stress.seconds.toFixed(2)} s against a bound of ${shortLb.bound.toFixed(2)} s   ${ratio(stress.seconds, shortLb.bound)}   (no target)`,
      );
      engineOk = dag / lb.bound <= 1.05;
    }
    let ungatedOk = true;
    if (runs('ungated')) {
      // The 60-stream ungated plan with agents of 1-4 s, against max(critical path, work / N), beside make.
      const mixed = makeDagRange(60, 1, 4);
      const mixedLb = lowerBound(mixed, slots);
      const mixedDur = Object.fromEntries(mixed.map((n) => [`s${n.id}`, n.seconds]));
      const mixedRuns = [];
      const mixedMakes = [];
      for (let i = 0; i < repeats; i++) {
        mixedRuns.push(timeMaestro(dir, mixed, 'dag', slots, mixedDur).seconds);
        mixedMakes.push(timeMake(dir, mixed, slots));
      }
      const mixedDag = median(mixedRuns);
      console.log(
        `run engine: 60 streams, N = ${slots}, agents of 1-4 s, no gate (total work ${mixedLb.total} s, critical path ${mixedLb.critical} s)`,
      );
      console.log(`  lower bound max(critical path, work/N)    ${fmt(mixedLb.bound)} s   1.00`);
      console.log(
        `  make -j${slots}, median of ${repeats}                  ${fmt(median(mixedMakes))} s   ${ratio(median(mixedMakes), mixedLb.bound)}   (${range(mixedMakes)})`,
      );
      console.log(
        `  maestro run --schedule dag, median of ${repeats}   ${fmt(mixedDag)} s   ${ratio(mixedDag, mixedLb.bound)}   (${range(mixedRuns)}; target ≤ 1.10)`,
      );
      ungatedOk = mixedDag / mixedLb.bound <= 1.1;
    }

    // Gated: a 2 s gate after the merges, against the chain bound. Per-merge gating (--max-batch 1)
    // serialises every gate; batches validate every stream that finished meanwhile in one gate run.
    const gateSeconds = 2;
    const gateArgs = ['--validate', `sleep ${gateSeconds}`];
    let gatedOk = true;
    for (const n of [30, 60]) {
      if (!runs(`gated${String(n)}`)) continue;
      const plan = makeDagRange(n, 1, 4);
      const dur = Object.fromEntries(plan.map((node) => [`s${node.id}`, node.seconds]));
      const chain = chainBound(plan, gateSeconds);
      // The old way: one gate at a time, one merge per gate.
      const perMerge = timeMaestro(dir, plan, 'dag', slots, dur, [
        ...gateArgs,
        '--max-batch',
        '1',
        '--gate-lanes',
        '1',
      ]);
      // Batches behind one gate at a time (before gates were pipelined), for comparison.
      const oneLane = timeMaestro(dir, plan, 'dag', slots, dur, [...gateArgs, '--gate-lanes', '1']);
      const batchedRuns = [];
      for (let i = 0; i < (n === 30 ? repeats : 1); i++)
        batchedRuns.push(timeMaestro(dir, plan, 'dag', slots, dur, gateArgs));
      const batched = batchedRuns.sort((a, b) => a.seconds - b.seconds)[Math.floor(batchedRuns.length / 2)];
      const speculated = timeMaestro(dir, plan, 'dag', slots, dur, [...gateArgs, '--speculate']);
      const bound = chain + (batched.baseline ? gateSeconds : 0);
      console.log(
        `merge queue: ${n} streams, N = ${slots}, agents of 1-4 s, gate \`sleep ${gateSeconds}\` (chain of agent + gate ${chain} s${batched.baseline ? ', + baseline gate' : ''})`,
      );
      console.log(`  chain bound                               ${fmt(bound)} s   1.00`);
      console.log(
        `  per-merge gating, one gate at a time      ${fmt(perMerge.seconds)} s   ${ratio(perMerge.seconds, bound)}   (${perMerge.gateRuns} gate runs; --max-batch 1 --gate-lanes 1)`,
      );
      console.log(
        `  batched, one gate at a time               ${fmt(oneLane.seconds)} s   ${ratio(oneLane.seconds, bound)}   (${oneLane.gateRuns} gate runs; --gate-lanes 1)`,
      );
      console.log(
        `  batched${n === 30 ? `, median of ${repeats}          ` : '                          '}       ${fmt(batched.seconds)} s   ${ratio(batched.seconds, bound)}   (${batched.gateRuns} gate runs${n === 30 ? `; ${range(batchedRuns.map((r) => r.seconds))}; target ≤ 1.25` : ''})`,
      );
      console.log(
        `  batched + --speculate                     ${fmt(speculated.seconds)} s   ${ratio(speculated.seconds, bound)}   (${speculated.gateRuns} gate runs; ${speculated.wastedS.toFixed(1)} s of agent time wasted)`,
      );
      if (n === 30) gatedOk = batched.seconds / bound <= 1.25;
    }

    // Per-stream overhead: the marginal cost of a stream, (time for 30 streams − time for 10) / 20,
    // one at a time with agents that do nothing, so fixed costs (Node, analysis) cancel out on both sides.
    let overheadOk = true;
    if (runs('overhead')) {
      const few = 10;
      const many = 30;
      const zeroPlan = (n) => makeDag(n, 0).map((node) => ({ ...node, deps: [], seconds: 0 }));
      const zeroDur = (n) => Object.fromEntries(zeroPlan(n).map((node) => [`s${node.id}`, 0]));
      const raw = [];
      const ours = [];
      for (let i = 0; i < repeats; i++) {
        const sub = mkdtempSync(join(dir, `overhead-${i}-`));
        const rawFew = timeRawGit(mkdtempSync(join(sub, 'a-')), few);
        const rawMany = timeRawGit(mkdtempSync(join(sub, 'b-')), many);
        raw.push((rawMany - rawFew) / (many - few));
        const oursFew = timeMaestro(sub, zeroPlan(few), 'sequential', 1, zeroDur(few)).seconds;
        const oursMany = timeMaestro(sub, zeroPlan(many), 'sequential', 1, zeroDur(many)).seconds;
        ours.push((oursMany - oursFew) / (many - few));
      }
      const rawMs = median(raw) * 1000;
      const oursMs = median(ours) * 1000;
      console.log(
        `per-stream overhead, streams one at a time: (${many} streams − ${few}) / ${many - few}, median of ${repeats}`,
      );
      console.log(`  raw git (worktree, agent, commit, merge)   ${rawMs.toFixed(0).padStart(4)} ms   1.00`);
      console.log(
        `  maestro run --schedule sequential        ${oursMs.toFixed(0).padStart(4)} ms   ${(oursMs / rawMs).toFixed(2)}   (target ≤ 1.5)`,
      );
      overheadOk = oursMs / rawMs <= 1.5;
    }
    return engineOk && overheadOk && ungatedOk && gatedOk;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
