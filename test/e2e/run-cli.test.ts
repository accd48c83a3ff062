/**
 * End-to-end: the built CLI on real temp git repos with stand-in agents. Every test checks that the
 * user's uncommitted changes survive byte for byte.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  installStandInAgent,
  maxOverlap,
  type AgentBehaviour,
  type StandInAgent,
  type TimelineEntry,
} from '../helpers/agent.js';
import { commandRunArgs, runCli, startCli, waitUntil } from '../helpers/cli.js';
import { touchThenWaitSh } from '../helpers/handshake.js';
import { processesUnder } from '../helpers/procs.js';
import { planMarkdown, repoWithPlan, seedLikePhases, type PhaseSpec } from '../helpers/plan.js';
import { dirtyUserCheckout, gitSync, mergeCounts } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

interface Fixture {
  readonly repo: string;
  readonly plan: string;
  readonly agent: StandInAgent;
  readonly verify: () => void;
  /** Common `maestro run` arguments: the plan, the stand-in agent, --yes. */
  readonly runArgs: readonly string[];
}

function fixture(phases: readonly PhaseSpec[], behaviour: Record<string, AgentBehaviour> = {}): Fixture {
  const { dir, repo, plan } = repoWithPlan(cleanups, 'maestro-e2e-', planMarkdown('E2E plan', phases));
  const verify = dirtyUserCheckout(repo);
  const agent = installStandInAgent(dir, behaviour);
  cleanups.push(() => {
    // No stray processes: nothing may still run in the repository's worktrees.
    expect(processesUnder(repo)).toEqual([]);
    expect(processesUnder(process.env.XDG_CACHE_HOME ?? repo)).toEqual([]);
  });
  const runArgs = commandRunArgs(plan, repo, agent.command, { noLive: false });
  return { repo, plan, agent, verify, runArgs };
}

interface StatusJson {
  status: string;
  integrationBranch: string;
  mergeOrder: string[];
  streams: Record<
    string,
    { status: string; retries: number; error: { code: string; message: string } | null; warnings: string[] }
  >;
}

async function status(repo: string): Promise<StatusJson> {
  const r = await runCli(['status', '--json', '--repo', repo], repo);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** The stream id of a phase title, from the latest run's saved analysis. */
function idOf(repo: string, title: string): string {
  const runs = readdirSync(path.join(repo, '.maestro', 'runs')).sort();
  const analysis = JSON.parse(
    readFileSync(path.join(repo, '.maestro', 'runs', runs.at(-1) ?? '', 'analysis.json'), 'utf8'),
  ) as { streams: { id: string; title: string }[] };
  const stream = analysis.streams.find((s) => s.title === title);
  if (!stream) throw new Error(`no stream titled ${title}`);
  return stream.id;
}

function streamOf(repo: string, st: StatusJson, title: string) {
  const s = st.streams[idOf(repo, title)];
  if (!s) throw new Error(`no stream for ${title}`);
  return s;
}

/** The latest run's journal. */
function runEvents(repo: string): { type: string; streamId?: string | null }[] {
  const runs = readdirSync(path.join(repo, '.maestro', 'runs')).sort();
  return readFileSync(path.join(repo, '.maestro', 'runs', runs.at(-1) ?? '', 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; streamId?: string | null });
}

describe('maestro run (built CLI)', () => {
  it('runs a 7-phase seed-like plan: every stream merged in dependency order, parallel within --max-parallel', async () => {
    const f = fixture(seedLikePhases);
    // Handshake: 'Validation and security' and 'Job service' (both ready once the models merge) each
    // finish only after the other has started, so two agents did run at once.
    const started = (name: string) => path.join(f.agent.dir, `${name}-started`);
    f.agent.setBehaviour({
      'Validation and security': { touchOnStart: started('validation'), waitForFile: started('jobs') },
      'Job service': { touchOnStart: started('jobs'), waitForFile: started('validation') },
    });
    const r = await runCli([...f.runArgs, '--max-parallel', '2'], f.repo);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('Take the result: git switch main && git merge --ff-only maestro/');
    const st = await status(f.repo);
    expect(st.status).toBe('completed');
    const files = gitSync(f.repo, ['ls-tree', '-r', '--name-only', st.integrationBranch]).split('\n');
    for (const p of seedLikePhases) expect(files).toEqual(expect.arrayContaining([...p.files]));
    // Dependency order: each phase merged after the phases it depends on.
    const position = (title: string) => st.mergeOrder.indexOf(idOf(f.repo, title));
    seedLikePhases.forEach((p) => {
      for (const d of p.deps ?? [])
        expect(position(p.title)).toBeGreaterThan(position(seedLikePhases[d - 1]?.title ?? ''));
    });
    expect(Object.values(mergeCounts(f.repo, st.integrationBranch))).toEqual([1, 1, 1, 1, 1, 1, 1]);
    // Observed overlap, never above the limit.
    expect(maxOverlap(f.agent.timeline())).toBe(2);
    // The dependant's prompt opens with its own task and carries its dependencies' reports.
    const apiPrompt = f.agent.prompts(idOf(f.repo, 'REST API'))[0] ?? '';
    expect(apiPrompt.startsWith('# Your task: REST API')).toBe(true);
    expect(apiPrompt).toContain('REPORT from');
    const clean = await runCli(['clean', '--repo', f.repo], f.repo);
    expect(clean.code, clean.stderr).toBe(0);
    expect(gitSync(f.repo, ['worktree', 'list'])).not.toContain('.maestro');
    f.verify();
  });

  it('orders streams as dag, waves, sequential and hybrid promise', async () => {
    // A is slow and independent; B → C is a chain; D and E are independent and quick.
    const phases: PhaseSpec[] = [
      { title: 'Slow A', files: ['a.txt'] },
      { title: 'Chain B', files: ['b.txt'] },
      { title: 'Chain C', deps: [2], files: ['c.txt'] },
      { title: 'Free D', files: ['d.txt'] },
      { title: 'Free E', files: ['e.txt'] },
    ];
    const f = fixture(phases);
    const cDone = path.join(f.agent.dir, 'c-done');
    const startOf = (tl: TimelineEntry[], title: string) =>
      tl.find((e) => e.title === title && e.event === 'start')?.t ?? NaN;
    const endOf = (tl: TimelineEntry[], title: string) =>
      tl.find((e) => e.title === title && e.event === 'end')?.t ?? NaN;
    const timeline = async (mode: string, behaviour: Record<string, AgentBehaviour>) => {
      f.agent.setBehaviour(behaviour);
      const before = f.agent.timeline().length;
      const r = await runCli([...f.runArgs, '--schedule', mode], f.repo);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      return f.agent.timeline().slice(before);
    };
    // dag: A can only finish after C has, so C must not wait for the unrelated A.
    const dag = await timeline('dag', { 'Slow A': { waitForFile: cDone }, 'Chain C': { touchOnEnd: cDone } });
    expect(startOf(dag, 'Chain C')).toBeLessThan(endOf(dag, 'Slow A'));
    expect(maxOverlap(dag)).toBeGreaterThanOrEqual(2);
    // waves: C (wave 2) starts only after all of wave 1, including A, has ended. Handshake: A ends
    // only after B has, so C (ready once B merges) would start before A ends under dag.
    const bDone = path.join(f.agent.dir, 'b-done');
    const waves = await timeline('waves', {
      'Slow A': { waitForFile: bDone },
      'Chain B': { touchOnEnd: bDone },
    });
    expect(startOf(waves, 'Chain C')).toBeGreaterThan(endOf(waves, 'Slow A'));
    expect(startOf(waves, 'Chain C')).toBeGreaterThan(endOf(waves, 'Free E'));
    const sequential = await timeline('sequential', { '*': { sleepMs: 50 } });
    expect(maxOverlap(sequential)).toBe(1);
    // hybrid: the critical path runs beside at most one other stream. Handshake both ways: the chain's
    // head finishes only after another stream has started, and every other stream only after the head
    // has started, so two ran at once at some point.
    const otherStarted = path.join(f.agent.dir, 'other-started');
    const bStarted = path.join(f.agent.dir, 'b-started');
    const hybrid = await timeline('hybrid', {
      '*': { touchOnStart: otherStarted, waitForFile: bStarted },
      'Chain B': { touchOnStart: bStarted, waitForFile: otherStarted },
    });
    expect(maxOverlap(hybrid)).toBe(2);
    f.verify();
  });

  it('catches failures: out-of-scope edit, crash, non-zero exit, stall, huge output; skips dependants', async () => {
    const phases: PhaseSpec[] = [
      { title: 'Sneaky', files: ['mine.txt'] },
      { title: 'After sneaky', deps: [1], files: ['after.txt'] },
      { title: 'Crasher', files: ['crash.txt'] },
      { title: 'Exiter', files: ['exit.txt'] },
      { title: 'Hanger', files: ['hang.txt'] },
      { title: 'Chatty', files: ['chatty.txt'] },
    ];
    const f = fixture(phases, {
      Sneaky: { write: { 'mine.txt': 'ok\n', 'not-mine.txt': 'oops\n' } },
      Crasher: { crash: true },
      Exiter: { exit: 3 },
      Hanger: { hang: true },
      Chatty: { hugeOutputMiB: 16 },
    });
    const r = await runCli([...f.runArgs, '--stall-timeout', '0.03'], f.repo);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('not-mine.txt');
    const st = await status(f.repo);
    expect(st.status).toBe('failed');
    expect(streamOf(f.repo, st, 'Sneaky')).toMatchObject({
      status: 'failed',
      error: { code: 'out-of-scope' },
    });
    expect(streamOf(f.repo, st, 'Sneaky').error?.message).toContain('not-mine.txt');
    expect(streamOf(f.repo, st, 'Crasher')).toMatchObject({ status: 'failed', error: { code: 'crashed' } });
    expect(streamOf(f.repo, st, 'Exiter')).toMatchObject({
      status: 'failed',
      error: { code: 'exit-nonzero' },
    });
    expect(streamOf(f.repo, st, 'Hanger')).toMatchObject({ status: 'failed', error: { code: 'stalled' } });
    expect(streamOf(f.repo, st, 'Chatty').status).toBe('merged');
    const skipped = Object.entries(st.streams)
      .filter(([, s]) => s.status === 'skipped')
      .map(([id]) => id);
    expect(skipped).toEqual([idOf(f.repo, 'After sneaky')]);
    f.verify();
  });

  it('reverts a merge that fails validation, retries with the failure text, then skips dependants', async () => {
    const phases: PhaseSpec[] = [
      { title: 'Fixable', files: ['value.txt'], validation: ['grep -q good value.txt'] },
      {
        title: 'Broken',
        files: ['broken.txt'],
        validation: ['echo "broken is broken" >&2; grep -q good broken.txt'],
      },
      { title: 'After broken', deps: [2], files: ['after.txt'] },
    ];
    const f = fixture(phases, {
      Fixable: { write: { 'value.txt': 'bad\n' }, writeOnRetry: { 'value.txt': 'good\n' } },
      Broken: { write: { 'broken.txt': 'bad\n' } },
    });
    const r = await runCli([...f.runArgs, '--max-parallel', '1'], f.repo);
    expect(r.code).toBe(1);
    const st = await status(f.repo);
    expect(streamOf(f.repo, st, 'Fixable')).toMatchObject({ status: 'merged', retries: 1 });
    expect(f.agent.prompts(idOf(f.repo, 'Fixable'))[1]).toContain('grep -q good value.txt');
    expect(streamOf(f.repo, st, 'Broken')).toMatchObject({ status: 'failed', retries: 1 });
    expect(f.agent.prompts(idOf(f.repo, 'Broken'))[1]).toContain('broken is broken');
    expect(streamOf(f.repo, st, 'After broken').status).toBe('skipped');
    const files = gitSync(f.repo, ['ls-tree', '-r', '--name-only', st.integrationBranch]).split('\n');
    expect(files).not.toContain('broken.txt');
    f.verify();
  });

  it('waves: gates run once per wave; a wave that fails them is bisected, its innocent streams land', async () => {
    const phases: PhaseSpec[] = [
      { title: 'Alpha', files: ['a.txt'] },
      { title: 'Bravo', files: ['b.txt'] },
      { title: 'Charlie', deps: [1], files: ['c.txt'] },
      { title: 'Delta', deps: [1], files: ['d.txt'] },
    ];
    const f = fixture(phases, {
      Bravo: { write: { 'b.txt': 'bad\n' }, writeOnRetry: { 'b.txt': 'good\n' } },
    });
    const gateLog = path.join(path.dirname(f.plan), 'gates.log');
    const gate = `echo run >> '${gateLog}'; if grep -q bad b.txt 2>/dev/null; then echo "b.txt is bad" >&2; exit 1; fi`;
    // --skip-baseline: the gate log counts merge gates only.
    const r = await runCli(
      [...f.runArgs, '--schedule', 'waves', '--validate', gate, '--skip-baseline'],
      f.repo,
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const st = await status(f.repo);
    expect(Object.values(st.streams).map((s) => s.status)).toEqual(['merged', 'merged', 'merged', 'merged']);
    expect(streamOf(f.repo, st, 'Alpha').retries).toBe(0);
    expect(streamOf(f.repo, st, 'Bravo').retries).toBe(1);
    expect(f.agent.prompts(idOf(f.repo, 'Bravo'))[1]).toContain('b.txt is bad');
    // Alpha's agent ran once: the failed wave put its commit back and merged it again.
    expect(f.agent.prompts(idOf(f.repo, 'Alpha'))).toHaveLength(1);
    const [a, b, c, d] = ['Alpha', 'Bravo', 'Charlie', 'Delta'].map((t) => idOf(f.repo, t));
    const gates = runEvents(f.repo)
      .filter(
        (e) =>
          e.type === 'validation-started' || e.type === 'validation-passed' || e.type === 'validation-failed',
      )
      .map((e) => `${e.type.replace('validation-', '')} ${e.streamId ?? 'wave'}`);
    // Wave 1 together fails on Bravo's work; bisection gates one half (Alpha or Bravo) alone: Alpha
    // lands, Bravo is the culprit (gated alone, or found because Alpha alone passed); Bravo's retry is
    // gated; then wave 2, Charlie and Delta, behind one gate.
    expect(gates.slice(0, 2)).toEqual(['started wave', 'failed wave']);
    expect(gates).not.toContain(`failed ${a ?? ''}`);
    expect(gates.slice(-2)).toEqual(['started wave', 'passed wave']);
    const batches = runEvents(f.repo).filter((e) => e.type === 'batch-gated') as unknown as {
      landed: string[];
      culprits: string[];
      gateRuns: number;
    }[];
    expect(batches[0]).toMatchObject({ landed: [a], culprits: [b] });
    // The failing wave of 2: at most log2(2) + 1 gate runs, its first gate included.
    expect(batches[0]?.gateRuns).toBeLessThanOrEqual(3);
    // Each gate ran its command once: at most 5 runs for 4 streams (per-merge gates would have run 6).
    expect(readFileSync(gateLog, 'utf8').trim().split('\n').length).toBeLessThanOrEqual(5);
    expect(mergeCounts(f.repo, st.integrationBranch)).toEqual({
      [a ?? '']: 1,
      [b ?? '']: 1,
      [c ?? '']: 1,
      [d ?? '']: 1,
    });
    expect(gitSync(f.repo, ['show', `${st.integrationBranch}:b.txt`])).toBe('good');
    f.verify();
  });

  it('detects a merge conflict and reports its paths', async () => {
    const phases: PhaseSpec[] = [
      { title: 'Left', files: ['left.txt'] },
      { title: 'Right', files: ['right.txt'] },
    ];
    // Handshake: Right finishes only once the journal says Left merged, so Right is the one to conflict.
    const f = fixture(phases);
    f.agent.setBehaviour({
      Left: { write: { 'shared.txt': 'left\n' } },
      Right: {
        write: { 'shared.txt': 'right\n' },
        waitForEvent: { runsDir: path.join(f.repo, '.maestro', 'runs'), type: 'stream-merged' },
      },
    });
    const r = await runCli([...f.runArgs, '--ownership', 'warn'], f.repo);
    expect(r.stdout).toMatch(/merge conflict in shared\.txt/);
    expect(r.code, r.stderr).toBe(0); // resolved by the retry from the new tip
    const [left, right] = ['Left', 'Right'].map((t) => idOf(f.repo, t));
    expect(f.agent.prompts(right ?? '')[1]).toContain('shared.txt');
    expect(f.agent.prompts(left ?? '')).toHaveLength(1);
    expect(f.agent.prompts(right ?? '')).toHaveLength(2);
    const st = await status(f.repo);
    expect(st.mergeOrder).toEqual([left, right]);
    // Right's retry started from Left's merge and wrote its own content over it.
    expect(gitSync(f.repo, ['show', `${st.integrationBranch}:shared.txt`])).toBe('right');
    // One merge each, in the journal and on the branch.
    const merged = runEvents(f.repo)
      .filter((e) => e.type === 'stream-merged')
      .map((e) => e.streamId);
    expect(merged).toEqual([left, right]);
    expect(mergeCounts(f.repo, st.integrationBranch)).toEqual({ [left ?? '']: 1, [right ?? '']: 1 });
    f.verify();
  });

  it('Ctrl-C stops every agent, leaves a resumable run, and resume completes it', async () => {
    const phases: PhaseSpec[] = [
      { title: 'One', files: ['one.txt'] },
      { title: 'Two', files: ['two.txt'] },
      { title: 'Three', deps: [1], files: ['three.txt'] },
    ];
    const f = fixture(phases, { '*': { hang: true } });
    const cli = startCli(f.runArgs, f.repo);
    await cli.waitFor(/started \(attempt 1\)[\s\S]*started \(attempt 1\)/);
    cli.child.kill('SIGINT');
    const r = await cli.exited;
    expect(r.code, r.stderr + r.stdout).toBe(130);
    expect(processesUnder(f.repo)).toEqual([]);
    const st = await status(f.repo);
    expect(st.status).toBe('interrupted');
    expect(r.stdout).toContain('maestro resume');
    f.agent.setBehaviour({});
    const resumed = await runCli(['resume', '--repo', f.repo], f.repo);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const after = await status(f.repo);
    expect(after.status).toBe('completed');
    expect(Object.values(mergeCounts(f.repo, after.integrationBranch))).toEqual([1, 1, 1]);
    f.verify();
  });

  it('waves: Ctrl-C before a wave is validated undoes its merges (committed, not merged); resume lands them once', async () => {
    const phases: PhaseSpec[] = [
      { title: 'Quick', files: ['quick.txt'] },
      { title: 'Slow', files: ['slow.txt'] },
      { title: 'Later', deps: [1], files: ['later.txt'] },
    ];
    const f = fixture(phases, { Slow: { hang: true } });
    const cli = startCli([...f.runArgs, '--schedule', 'waves'], f.repo);
    await cli.waitFor(/merged \(/);
    cli.child.kill('SIGINT');
    const r = await cli.exited;
    expect(r.code, r.stderr + r.stdout).toBe(130);
    const st = await status(f.repo);
    expect(streamOf(f.repo, st, 'Quick').status).toBe('committed');
    expect(streamOf(f.repo, st, 'Slow').status).toBe('interrupted');
    expect(st.mergeOrder).toEqual([]);
    const base = gitSync(f.repo, ['rev-parse', 'main']);
    expect(gitSync(f.repo, ['rev-parse', st.integrationBranch])).toBe(base);
    f.agent.setBehaviour({});
    const resumed = await runCli(['resume', '--repo', f.repo], f.repo);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const after = await status(f.repo);
    expect(after.status).toBe('completed');
    expect(Object.values(mergeCounts(f.repo, after.integrationBranch))).toEqual([1, 1, 1]);
    // Quick's agent ran once: its commit was merged again on resume.
    expect(f.agent.prompts(idOf(f.repo, 'Quick'))).toHaveLength(1);
    f.verify();
  });

  it('survives kill -9 at several points: resume merges every stream exactly once', async () => {
    const phases: PhaseSpec[] = [
      { title: 'Base', files: ['base.txt'] },
      { title: 'Mid', deps: [1], files: ['mid.txt'], validation: ['test -f mid.txt'] },
      { title: 'Side', files: ['side.txt'] },
      { title: 'Top', deps: [2], files: ['top.txt'] },
    ];
    const f = fixture(phases, { Mid: { hang: true } });
    // 1: kill -9 while the Mid agent runs (Base is merged by then); its orphaned agent is cleaned up by resume.
    let cli = startCli(f.runArgs, f.repo);
    await waitUntil(() => f.agent.timeline().some((e) => e.title === 'Mid' && e.event === 'start'));
    cli.child.kill('SIGKILL');
    await cli.exited;
    // 2: resume, and kill -9 again right after the next merge is journaled.
    f.agent.setBehaviour({});
    cli = startCli(['resume', '--repo', f.repo, '--json'], f.repo);
    await cli.waitFor(/"type":"stream-merged"/);
    cli.child.kill('SIGKILL');
    await cli.exited;
    // 3: resume to the end.
    const r = await runCli(['resume', '--repo', f.repo], f.repo);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const st = await status(f.repo);
    expect(st.status).toBe('completed');
    const counts = mergeCounts(f.repo, st.integrationBranch);
    expect(Object.keys(counts).sort()).toEqual(Object.keys(st.streams).sort());
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
    f.verify();
  });

  it('kill -9 during a validation gate, then resume: the gate runs again and the merge happens once', async () => {
    const phases: PhaseSpec[] = [
      { title: 'Gated', files: ['gated.txt'] },
      { title: 'Next', deps: [1], files: ['next.txt'] },
    ];
    const f = fixture(phases);
    const marker = path.join(f.agent.dir, 'in-gate');
    const gateOpen = path.join(f.agent.dir, 'gate-open');
    // The gate blocks until the test opens it, after touching a marker (no sleeps needed to time the kill).
    const validate = touchThenWaitSh(marker, gateOpen);
    // --skip-baseline: the blocking gate is meant for the merge, not for the base commit.
    const cli = startCli([...f.runArgs, '--validate', validate, '--skip-baseline'], f.repo);
    await cli.waitFor(/validating/);
    cli.child.kill('SIGKILL');
    await cli.exited;
    writeFileSync(gateOpen, '');
    const r = await runCli(['resume', '--repo', f.repo], f.repo);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const st = await status(f.repo);
    expect(st.status).toBe('completed');
    expect(Object.values(mergeCounts(f.repo, st.integrationBranch))).toEqual([1, 1]);
    f.verify();
  });

  it('refuses a second run on the same repository, and abort + clean end the first', async () => {
    const f = fixture([{ title: 'Forever', files: ['f.txt'] }], { '*': { hang: true } });
    const first = startCli(f.runArgs, f.repo);
    await first.waitFor(/started \(attempt 1\)/);
    const second = await runCli(f.runArgs, f.repo);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another maestro run .* is active/);
    const abort = await runCli(['abort', '--repo', f.repo], f.repo);
    expect(abort.code, abort.stderr).toBe(0);
    await first.exited;
    expect(processesUnder(f.repo)).toEqual([]);
    expect((await status(f.repo)).status).toBe('aborted');
    const clean = await runCli(['clean', '--repo', f.repo], f.repo);
    expect(clean.stdout).toContain('cleaned');
    f.verify();
  });

  it('asks for --yes without a terminal, and --land fast-forwards an unmoved base branch', async () => {
    const f = fixture([{ title: 'Only', files: ['only.txt'] }]);
    const noYes = await runCli(
      f.runArgs.filter((a) => a !== '--yes'),
      f.repo,
    );
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('--yes');
    // The user has main checked out with changes: --land prints the command instead of touching it.
    const r = await runCli([...f.runArgs, '--land'], f.repo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /Not landed: main is checked out .* uncommitted changes; run: git switch main && git merge --ff-only maestro\//,
    );
    f.verify();
    // On a branch nobody has checked out, --land moves it.
    gitSync(f.repo, ['branch', 'release']);
    const landed = await runCli([...f.runArgs, '--land', '--base', 'release'], f.repo);
    expect(landed.code, landed.stderr).toBe(0);
    expect(landed.stdout).toContain('Landed: release fast-forwarded');
    expect(gitSync(f.repo, ['ls-tree', '--name-only', 'release'])).toContain('only.txt');
    f.verify();
  });
});
