/**
 * Retry accounting lives in the journal: a resumed run neither grants a second conflict retry nor loses
 * a gate retry, and `repair()` works from nothing but what the journal says.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { resumeRun, startRun } from '../../src/run/engine.js';
import { EventBus } from '../../src/run/events.js';
import { LocalExecutor } from '../../src/run/executor.js';
import { runPaths } from '../../src/run/journal.js';
import { replay } from '../../src/run/state.js';
import type { RunEvent, RunOptions } from '../../src/run/types.js';
import { installStandInAgent, type StandInAgent } from '../helpers/agent.js';
import { makeAnalysis } from '../helpers/analysis.js';
import { testRunOptions } from '../helpers/run-options.js';
import { gitSync, initRepo, inProcessGitTests, makeTempDir } from '../helpers/repo.js';

const cleanups = inProcessGitTests();

function options(overrides: Partial<RunOptions> = {}): RunOptions {
  return testRunOptions({ ownership: 'warn', ...overrides });
}

interface Fixture {
  readonly root: string;
  readonly repo: string;
  readonly agent: StandInAgent;
  readonly executor: LocalExecutor;
  readonly mark: (name: string) => string;
}

function fixture(): Fixture {
  const tmp = makeTempDir();
  cleanups.push(tmp.cleanup);
  const repo = path.join(tmp.dir, 'repo');
  initRepo(repo);
  const agent = installStandInAgent(tmp.dir);
  const signals = path.join(tmp.dir, 'signals');
  mkdirSync(signals);
  return {
    root: tmp.dir,
    repo,
    agent,
    executor: new LocalExecutor(commandBackend(agent.command), 500),
    mark: (name) => path.join(signals, name),
  };
}

/**
 * Runs a and b (both writing shared.txt), b after a merged, so b conflicts; stops the run at b's conflict
 * retry. c (also on shared.txt, after a) waits for `c-go`, which only the resumed run gives.
 */
async function runUntilConflictRetry(f: Fixture, runId: string, gate: readonly string[] = []): Promise<void> {
  f.agent.setBehaviour({
    a: { write: { 'shared.txt': 'from a\n' } },
    b: { write: { 'shared.txt': 'from b\n' }, waitForFile: f.mark('a-merged') },
    c: { write: { 'shared.txt': 'from c\n' }, waitForFile: f.mark('c-go') },
  });
  const analysis = makeAnalysis([
    { id: 'a', files: ['a.txt'] },
    { id: 'b', files: ['b.txt'], validation: gate },
    // After a, so that its branch starts from a tip that already has a's shared.txt.
    { id: 'c', deps: ['a'], files: ['c.txt'] },
  ]);
  const controller = new AbortController();
  const bus = new EventBus();
  bus.subscribe((e) => {
    if (e.type === 'stream-merged' && e.streamId === 'a') writeFileSync(f.mark('a-merged'), '');
    if (e.type === 'stream-retry' && e.streamId === 'b') controller.abort();
  });
  const first = await startRun(
    f.repo,
    analysis,
    options(),
    { executor: f.executor, bus, signal: controller.signal },
    runId,
  );
  expect(first.state.status).toBe('interrupted');
  expect(first.state.streams['b']).toMatchObject({ conflictRetries: 1, gateRetries: 0, retries: 1 });
}

describe('retry state survives resume', () => {
  it('does not grant a second conflict retry after resume', async () => {
    const f = fixture();
    await runUntilConflictRetry(f, 'cr1');
    // On resume, b's conflict is handed back to its agent (rebuilt from the journal); c's change to
    // shared.txt merges while b resolves, so b's merge conflicts again. It already had its conflict
    // retry, so it fails instead of retrying.
    f.agent.setBehaviour({
      b: { write: { 'shared.txt': 'from b again\n' }, waitForFile: f.mark('c-merged') },
      c: { write: { 'shared.txt': 'from c\n' }, waitForFile: f.mark('c-go') },
    });
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.subscribe((e) => {
      events.push(e);
      if (e.type === 'stream-started' && e.streamId === 'b') writeFileSync(f.mark('c-go'), '');
      if (e.type === 'stream-merged' && e.streamId === 'c') writeFileSync(f.mark('c-merged'), '');
    });
    const second = await resumeRun(f.repo, 'cr1', { executor: f.executor, bus });
    expect(events.filter((e) => e.type === 'merge-conflict').map((e) => e.streamId)).toEqual(['b']);
    expect(events.some((e) => e.type === 'stream-retry')).toBe(false);
    expect(f.agent.prompts('b')[1]).toContain('resolve these conflicts, keep both intents');
    expect(events.find((e) => e.type === 'stream-started' && e.streamId === 'b')).toMatchObject({
      resolving: { paths: ['shared.txt'] },
    });
    expect(second.state.streams['b']).toMatchObject({
      status: 'failed',
      conflictRetries: 1,
      error: { code: 'merge-conflict' },
    });
    expect(second.state.mergeOrder).toEqual(['a', 'c']);
    expect(gitSync(f.repo, ['show', 'maestro/cr1:shared.txt'])).toBe('from c');
  });

  it('still grants the gate retry after a conflict retry and a resume', async () => {
    const f = fixture();
    // b's gate fails the first time it runs and passes after (a marker outside the repo).
    const once = f.mark('gate-failed-once');
    const gate = `if [ -f '${once}' ]; then exit 0; else touch '${once}'; echo 'Cannot find module x'; exit 1; fi`;
    await runUntilConflictRetry(f, 'cr2', [gate]);
    writeFileSync(f.mark('c-go'), '');
    f.agent.setBehaviour({ b: { write: { 'shared.txt': 'from b on top of a\n' } } });
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.subscribe((e) => {
      events.push(e);
      // The gate's retry continues b's branch; give it a change to commit.
      if (e.type === 'stream-retry')
        f.agent.setBehaviour({ b: { write: { 'shared.txt': 'from b, fixed\n' } } });
    });
    const second = await resumeRun(f.repo, 'cr2', { executor: f.executor, bus });
    const retries = events.filter((e) => e.type === 'stream-retry');
    expect(retries.map((e) => [e.streamId, e.cause])).toEqual([['b', 'gate']]);
    expect(second.state.status).toBe('completed');
    expect(second.state.streams['b']).toMatchObject({
      status: 'merged',
      conflictRetries: 1,
      gateRetries: 1,
      retries: 2,
    });
    expect(gitSync(f.repo, ['show', 'maestro/cr2:shared.txt'])).toBe('from b, fixed');
  });

  it('counts gate and conflict retries apart when replaying a journal', () => {
    const t = '2026-01-01T00:00:00.000Z';
    const state = replay([
      {
        type: 'run-started',
        time: t,
        runId: 'r',
        repo: '/r',
        planSource: 'plan.md',
        baseRef: 'HEAD',
        baseSha: 'b0',
        baseBranchRef: null,
        integrationBranch: 'maestro/r',
        streamIds: ['s'],
      },
      {
        type: 'stream-retry',
        time: t,
        streamId: 's',
        attempt: 2,
        cause: 'conflict',
        reason: 'c',
        context: '',
        fresh: true,
      },
      {
        type: 'stream-retry',
        time: t,
        streamId: 's',
        attempt: 3,
        cause: 'gate',
        reason: 'g',
        context: '',
        fresh: false,
      },
      {
        type: 'stream-retry',
        time: t,
        streamId: 's',
        attempt: 4,
        cause: 'gate',
        reason: 'g',
        context: '',
        fresh: false,
      },
    ]);
    expect(state?.streams['s']).toMatchObject({
      retries: 3,
      conflictRetries: 1,
      gateRetries: 2,
      startSha: null,
    });
  });
});

describe('repair() from a hand-written journal', () => {
  it('undoes a merge that was never validated and merges the stream again exactly once, without its agent', async () => {
    const f = fixture();
    const { repo } = f;
    const runId = 'hand';
    const paths = runPaths(repo, runId);
    const base = gitSync(repo, ['rev-parse', 'HEAD']);
    // What a crash between a merge and its gate leaves: the stream's commit, and the integration branch
    // already moved to a merge of it that no gate passed.
    gitSync(repo, ['branch', `maestro/${runId}`, base]);
    gitSync(repo, ['branch', `maestro/${runId}--s1`, base]);
    const wt = path.join(f.root, 'stream-wt');
    gitSync(repo, ['worktree', 'add', '-q', wt, `maestro/${runId}--s1`]);
    writeFileSync(path.join(wt, 'one.txt'), 'one\n');
    gitSync(wt, ['add', '-A']);
    gitSync(wt, ['commit', '-qm', 'maestro: s1']);
    const commit = gitSync(wt, ['rev-parse', 'HEAD']);
    gitSync(repo, ['worktree', 'remove', '--force', wt]);
    const mergeSha = gitSync(repo, [
      'commit-tree',
      `${commit}^{tree}`,
      '-p',
      base,
      '-p',
      commit,
      '-m',
      'maestro: merge s1 (Phase s1)',
    ]);
    gitSync(repo, ['update-ref', `refs/heads/maestro/${runId}`, mergeSha]);

    const analysis = makeAnalysis([{ id: 's1', files: ['one.txt'], validation: ['test -f one.txt'] }]);
    const t = '2026-01-01T00:00:00.000Z';
    const journal: RunEvent[] = [
      {
        type: 'run-started',
        time: t,
        runId,
        repo,
        planSource: 'plan.md',
        baseRef: 'HEAD',
        baseSha: base,
        baseBranchRef: null,
        integrationBranch: `maestro/${runId}`,
        streamIds: ['s1'],
      },
      {
        type: 'stream-started',
        time: t,
        streamId: 's1',
        attempt: 1,
        branch: `maestro/${runId}--s1`,
        startSha: base,
        worktree: paths.streamWorktree('s1'),
      },
      { type: 'stream-committed', time: t, streamId: 's1', sha: commit, changedFiles: ['one.txt'] },
      { type: 'stream-merged', time: t, streamId: 's1', mergeSha, streamSha: commit },
      { type: 'validation-started', time: t, streamId: 's1', commands: ['test -f one.txt'] },
    ];
    mkdirSync(path.join(paths.dir, 'streams'), { recursive: true });
    writeFileSync(paths.journal, journal.map((e) => `${JSON.stringify(e)}\n`).join(''));
    writeFileSync(paths.analysis, JSON.stringify(analysis));
    writeFileSync(paths.options, JSON.stringify(options()));

    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const result = await resumeRun(repo, runId, { executor: f.executor, bus });

    expect(events.find((e) => e.type === 'integration-reset')).toMatchObject({ sha: base });
    expect(f.agent.prompts('s1')).toHaveLength(0); // its commit stood: no agent ran again
    expect(result.state.status).toBe('completed');
    expect(result.state.streams['s1']).toMatchObject({ status: 'merged', commitSha: commit });
    expect(result.state.greenSha).toBe(gitSync(repo, ['rev-parse', `maestro/${runId}`]));
    const merges = gitSync(repo, ['log', '--merges', '--format=%s', `maestro/${runId}`]).split('\n');
    expect(merges).toEqual(['maestro: merge s1 (Phase s1)']);
    expect(gitSync(repo, ['show', `maestro/${runId}:one.txt`])).toBe('one');
  });
});
