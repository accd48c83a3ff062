import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { startRun, resumeRun } from '../../src/run/engine.js';
import { EventBus } from '../../src/run/events.js';
import { LocalExecutor } from '../../src/run/executor.js';
import { readJournal } from '../../src/run/journal.js';
import { replay } from '../../src/run/state.js';
import type { RunEvent, RunOptions } from '../../src/run/types.js';
import { makeAnalysis } from '../helpers/analysis.js';
import { touchThenWaitSh } from '../helpers/handshake.js';
import { testRunOptions } from '../helpers/run-options.js';
import { installStandInAgent, maxOverlap, type AgentBehaviour } from '../helpers/agent.js';
import { dirtyUserCheckout, gitSync, initRepo, inProcessGitTests, makeTempDir } from '../helpers/repo.js';

const cleanups = inProcessGitTests();

function options(overrides: Partial<RunOptions> = {}): RunOptions {
  return testRunOptions(overrides);
}

function setup(behaviour: Record<string, AgentBehaviour> = {}) {
  const tmp = makeTempDir();
  cleanups.push(tmp.cleanup);
  const repo = path.join(tmp.dir, 'repo');
  initRepo(repo);
  const verify = dirtyUserCheckout(repo);
  const agent = installStandInAgent(tmp.dir, behaviour);
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  const hooks = { executor: new LocalExecutor(commandBackend(agent.command), 500), bus };
  return { repo, agent, events, hooks, verify };
}

describe('run engine', () => {
  it('runs a diamond DAG, merges in dependency order with every file on the integration branch', async () => {
    const { repo, agent, hooks, verify, events } = setup();
    const analysis = makeAnalysis([
      { id: 's1', files: ['db/migration.sql'], role: 'migration' },
      { id: 's2', deps: ['s1'], files: ['app/models.py'], role: 'models' },
      { id: 's3', deps: ['s1'], files: ['tests/test_models.py'], role: 'testing' },
      { id: 's4', deps: ['s2', 's3'], files: ['app/api.py'], role: 'api' },
    ]);
    const result = await startRun(repo, analysis, options(), hooks, 'r1');
    expect(result.state.status).toBe('completed');
    expect(result.state.mergeOrder[0]).toBe('s1');
    expect(result.state.mergeOrder[3]).toBe('s4');
    const files = gitSync(repo, ['ls-tree', '-r', '--name-only', 'maestro/r1']).split('\n');
    expect(files).toEqual(
      expect.arrayContaining(['db/migration.sql', 'app/models.py', 'tests/test_models.py', 'app/api.py']),
    );
    // Merges move only the branch; by the end the integration worktree's files have caught up.
    expect(gitSync(result.paths.integrationWorktree, ['status', '--porcelain'])).toBe('');
    expect(existsSync(path.join(result.paths.integrationWorktree, 'app/api.py'))).toBe(true);
    // The dependant saw its dependencies' reports.
    const s4Prompt = agent.prompts('s4')[0] ?? '';
    expect(s4Prompt).toContain('REPORT from s2');
    expect(s4Prompt.indexOf('# Your task')).toBe(0);
    expect(existsSync(path.join(result.paths.streamDir('s2'), 'MODELS_COMPLETE.md'))).toBe(true);
    // Journal replays to the same state.
    const replayed = replay(await readJournal(result.paths.journal));
    expect(replayed?.mergeOrder).toEqual(result.state.mergeOrder);
    expect(JSON.parse(readFileSync(result.paths.state, 'utf8'))).toMatchObject({ status: 'completed' });
    expect(events.filter((e) => e.type === 'stream-merged')).toHaveLength(4);
    verify();
  });

  it('never exceeds maxParallel and really overlaps', async () => {
    const { repo, agent, hooks, verify } = setup({ '*': { sleepMs: 300 } });
    const analysis = makeAnalysis(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, files: [`${id}.txt`] })));
    const result = await startRun(repo, analysis, options({ maxParallel: 2 }), hooks, 'r2');
    expect(result.state.status).toBe('completed');
    expect(maxOverlap(agent.timeline())).toBe(2);
    verify();
  });

  it('resumes an interrupted run without redoing merged streams', async () => {
    const tmpSetup = setup();
    const { repo, agent, hooks } = tmpSetup;
    const gate = path.join(agent.dir, 'go');
    agent.setBehaviour({ s2: { waitForFile: gate } });
    const analysis = makeAnalysis([
      { id: 's1', files: ['one.txt'] },
      { id: 's2', deps: ['s1'], files: ['two.txt'] },
    ]);
    const controller = new AbortController();
    hooks.bus.subscribe((e) => {
      if (e.type === 'stream-started' && e.streamId === 's2') controller.abort();
    });
    const first = await startRun(repo, analysis, options(), { ...hooks, signal: controller.signal }, 'r3');
    expect(first.state.status).toBe('interrupted');
    expect(first.state.streams['s1']?.status).toBe('merged');
    expect(first.state.streams['s2']?.status).toBe('interrupted');
    agent.setBehaviour({});
    const second = await resumeRun(repo, 'r3', { executor: hooks.executor, bus: new EventBus() });
    expect(second.state.status).toBe('completed');
    expect(agent.timeline().filter((e) => e.stream === 's1' && e.event === 'start')).toHaveLength(1);
    const merges = gitSync(repo, ['log', '--merges', '--format=%s', 'maestro/r3']).split('\n');
    expect(merges.sort()).toEqual(['maestro: merge s1 (Phase s1)', 'maestro: merge s2 (Phase s2)']);
    tmpSetup.verify();
  });
});

describe('run engine failures', () => {
  it('fails an out-of-scope edit (listing the paths) and skips its dependants; warn mode only warns', async () => {
    const { repo, hooks, verify } = setup({
      s1: { write: { 'mine.txt': 'ok\n', 'theirs.txt': 'sneaky\n' } },
    });
    const analysis = makeAnalysis([
      { id: 's1', files: ['mine.txt'] },
      { id: 's2', deps: ['s1'], files: ['two.txt'] },
      { id: 's3', files: ['three.txt'] },
    ]);
    const failed = await startRun(repo, analysis, options(), hooks, 'own1');
    expect(failed.state.status).toBe('failed');
    expect(failed.state.streams['s1']?.error).toMatchObject({
      code: 'out-of-scope',
      message: expect.stringContaining('theirs.txt') as string,
    });
    expect(failed.state.streams['s2']?.status).toBe('skipped');
    expect(failed.state.streams['s3']?.status).toBe('merged');
    const warned = await startRun(repo, analysis, options({ ownership: 'warn' }), hooks, 'own2');
    expect(warned.state.status).toBe('completed');
    expect(warned.state.streams['s1']?.warnings.join()).toContain('theirs.txt');
    verify();
  });

  it('undoes a merge that fails validation, retries with the failure in the prompt, then fails and skips dependants', async () => {
    const { repo, agent, hooks, verify } = setup({
      s1: { write: { 'value.txt': 'bad\n' }, writeOnRetry: { 'value.txt': 'good\n' } },
      s2: { write: { 'other.txt': 'bad\n' } },
    });
    const analysis = makeAnalysis([
      { id: 's1', files: ['value.txt'], validation: ['grep -q good value.txt'] },
      { id: 's2', files: ['other.txt'], validation: ['echo "other is broken" >&2; grep -q good other.txt'] },
      { id: 's3', deps: ['s2'], files: ['three.txt'] },
    ]);
    const result = await startRun(repo, analysis, options({ maxParallel: 1 }), hooks, 'val');
    expect(result.state.streams['s1']).toMatchObject({ status: 'merged', retries: 1 });
    expect(agent.prompts('s1')[1]).toContain('grep -q good value.txt');
    expect(result.state.streams['s2']).toMatchObject({ status: 'failed', retries: 1 });
    expect(agent.prompts('s2')[1]).toContain('other is broken');
    expect(result.state.streams['s3']?.status).toBe('skipped');
    const files = gitSync(repo, ['ls-tree', '-r', '--name-only', 'maestro/val']).split('\n');
    expect(files).toContain('value.txt');
    expect(files).not.toContain('other.txt');
    expect(gitSync(repo, ['show', 'maestro/val:value.txt'])).toBe('good');
    verify();
  });

  it('ends crash, non-zero exit, hang and huge output each in a clear stream state', async () => {
    const { repo, hooks, verify } = setup({
      crash: { crash: true },
      exit: { exit: 3 },
      hang: { hang: true },
      huge: { hugeOutputMiB: 20 },
    });
    const analysis = makeAnalysis(
      ['crash', 'exit', 'hang', 'huge'].map((id) => ({ id, files: [`${id}.txt`] })),
    );
    const result = await startRun(repo, analysis, options({ stallMs: 1500 }), hooks, 'bad');
    const s = result.state.streams;
    expect(s['crash']).toMatchObject({ status: 'failed', error: { code: 'crashed' } });
    expect(s['exit']).toMatchObject({ status: 'failed', error: { code: 'exit-nonzero' } });
    expect(s['hang']).toMatchObject({ status: 'failed', error: { code: 'stalled' } });
    expect(s['huge']?.status).toBe('merged');
    verify();
  });

  it('starts streams from the last validated commit, so work a gate rejects never comes back', async () => {
    const { repo, agent, hooks, verify } = setup();
    const signals = path.dirname(repo);
    const mark = (name: string) => path.join(signals, name);
    // a merges, then its gate blocks until b has run, then fails; f fails while the gate runs, freeing
    // the slot that b starts in — while the integration tip still holds a's unvalidated merge.
    agent.setBehaviour({
      a: { write: { 'a.txt': 'bad\n' } },
      f: { waitForFile: mark('gate-started'), exit: 1 },
      b: { touchOnEnd: mark('b-done') },
    });
    const gate = `${touchThenWaitSh(mark('gate-started'), mark('b-done'))}; grep -q good a.txt`;
    const analysis = makeAnalysis([
      { id: 'a', files: ['a.txt'], validation: [gate] },
      { id: 'f', files: ['f.txt'] },
      { id: 'b', files: ['b.txt'] },
    ]);
    const result = await startRun(repo, analysis, options({ maxParallel: 2, retries: 0 }), hooks, 'green');
    expect(result.state.streams['a']?.status).toBe('failed');
    expect(result.state.streams['f']?.status).toBe('failed');
    expect(result.state.streams['b']?.status).toBe('merged');
    const files = gitSync(repo, ['ls-tree', '-r', '--name-only', 'maestro/green']).split('\n');
    expect(files).toContain('b.txt');
    expect(files).not.toContain('a.txt');
    verify();
  });

  it('reports a merge conflict with its paths and hands it back to the agent', async () => {
    const { repo, agent, hooks, events, verify } = setup({
      a: { write: { 'shared.txt': 'from a\n' }, sleepMs: 50 },
      b: { write: { 'shared.txt': 'from b\n' }, sleepMs: 400 },
    });
    const analysis = makeAnalysis([
      { id: 'a', files: ['a.txt'] },
      { id: 'b', files: ['b.txt'] },
    ]);
    const result = await startRun(repo, analysis, options({ ownership: 'warn' }), hooks, 'conf');
    const conflict = events.find((e) => e.type === 'merge-conflict');
    expect(conflict).toMatchObject({ streamId: 'b', paths: ['shared.txt'] });
    expect(agent.prompts('b')[1]).toContain('shared.txt');
    expect(result.state.streams['b']?.status).toBe('merged');
    verify();
  });
});
