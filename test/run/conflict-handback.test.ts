/**
 * A merge conflict goes back to the agent that made it: the last green commit is merged into the
 * stream's branch in its worktree, leaving the markers, and the agent (the stand-in, through the
 * `command` backend) is continued with a focused prompt naming the paths and both sides. Its resolved
 * merge is then checked, merged and gated like any commit; markers left in a file fail the stream.
 * Order is decided by handshakes: b's agent waits for a's merge (a file the test writes on the event).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { startRun } from '../../src/run/engine.js';
import { EventBus } from '../../src/run/events.js';
import { LocalExecutor } from '../../src/run/executor.js';
import type { RunEvent, RunOptions } from '../../src/run/types.js';
import { installStandInAgent, type AgentBehaviour } from '../helpers/agent.js';
import { makeAnalysis } from '../helpers/analysis.js';
import { testRunOptions } from '../helpers/run-options.js';
import { gitSync, initRepo, inProcessGitTests, makeTempDir } from '../helpers/repo.js';

const cleanups = inProcessGitTests();

function options(overrides: Partial<RunOptions> = {}): RunOptions {
  return testRunOptions({ maxParallel: 4, ...overrides });
}

interface ConflictRunOptions {
  /** The plan's gate commands. */
  readonly gate?: readonly string[];
  /** Whether a and b each also write a file of their own (a.txt, b.txt); default true. */
  readonly ownFiles?: boolean;
  readonly run?: Partial<RunOptions>;
}

/** a and b both change the second line of shared.txt; b's agent ends only once a has merged. */
async function conflictRun(runId: string, b: AgentBehaviour, opts: ConflictRunOptions = {}) {
  const own = opts.ownFiles ?? true;
  const tmp = makeTempDir();
  cleanups.push(tmp.cleanup);
  const repo = path.join(tmp.dir, 'repo');
  initRepo(repo, { 'shared.txt': 'one\ntwo\nthree\n' });
  const aMerged = path.join(tmp.dir, 'a-merged');
  const agent = installStandInAgent(tmp.dir, {
    a: { write: { 'shared.txt': 'one\ntwo from a\nthree\n', ...(own ? { 'a.txt': 'a\n' } : {}) } },
    b: {
      write: { 'shared.txt': 'one\ntwo from b\nthree\n', ...(own ? { 'b.txt': 'b\n' } : {}) },
      waitForFile: aMerged,
      ...b,
    },
  });
  const analysis = makeAnalysis(
    [
      { id: 'a', files: ['shared.txt', ...(own ? ['a.txt'] : [])] },
      { id: 'b', files: ['shared.txt', ...(own ? ['b.txt'] : [])] },
    ],
    { validation: opts.gate ?? [] },
  );
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.subscribe((e) => {
    events.push(e);
    if (e.type === 'stream-merged' && e.streamId === 'a') writeFileSync(aMerged, '');
  });
  const hooks = { executor: new LocalExecutor(commandBackend(agent.command), 500), bus };
  const result = await startRun(repo, analysis, options(opts.run), hooks, runId);
  return { repo, agent, events, result };
}

describe('conflict hand-back (command backend)', () => {
  it('merges the green tip into the stream branch, the agent resolves the markers keeping both sides, and it lands', async () => {
    // The gate rejects a tip with a conflict marker.
    const gate = `! grep -q '^<<<<<<<' shared.txt`;
    const { repo, agent, events, result } = await conflictRun(
      'hb1',
      { onConflict: 'keep-both' },
      { gate: [gate] },
    );
    const st = result.state;
    expect(st.status).toBe('completed');
    expect(events.find((e) => e.type === 'merge-conflict')).toMatchObject({
      streamId: 'b',
      paths: ['shared.txt'],
    });
    // The agent was continued with a focused prompt: the path, both sides, and what to do.
    const prompts = agent.prompts('b');
    expect(prompts).toHaveLength(2);
    expect(prompts[1]).toContain('resolve these conflicts, keep both intents');
    expect(prompts[1]).toContain('`shared.txt` (also changed by a)');
    expect(prompts[1]).toContain('+two from b');
    expect(prompts[1]).toContain('+two from a');
    // The attempt started from the green commit it merged in, and said what it resolves.
    const starts = events.filter(
      (e): e is Extract<RunEvent, { type: 'stream-started' }> =>
        e.type === 'stream-started' && e.streamId === 'b',
    );
    expect(starts).toHaveLength(2);
    expect(starts[0]?.resolving).toBeUndefined();
    expect(starts[1]?.resolving).toEqual({ onto: starts[1]?.startSha, paths: ['shared.txt'] });
    // b's commit is the resolved merge of the green commit into its own earlier commit.
    const bCommit = st.streams['b']?.commitSha ?? '';
    const parents = gitSync(repo, ['rev-list', '--parents', '-n', '1', bCommit]).split(' ').slice(1);
    expect(parents).toHaveLength(2);
    expect(parents[1]).toBe(starts[1]?.startSha);
    // Its own changes are counted from that commit: only its files, so ownership holds.
    expect([...(st.streams['b']?.changedFiles ?? [])].sort()).toEqual(['b.txt', 'shared.txt']);
    expect(st.streams['b']).toMatchObject({ status: 'merged', conflictRetries: 1, resolveConflict: false });
    // Both intents are on the integration branch, merged once each, with no marker.
    expect(gitSync(repo, ['show', `${st.integrationBranch}:shared.txt`])).toBe(
      'one\ntwo from b\ntwo from a\nthree',
    );
    const merges = gitSync(repo, ['log', '--merges', '--first-parent', '--format=%s', st.integrationBranch]);
    expect(merges.split('\n').filter((l) => l.startsWith('maestro: merge b '))).toHaveLength(1);
    expect(merges.split('\n').filter((l) => l.startsWith('maestro: merge a '))).toHaveLength(1);
  });

  it('in waves mode too, where merges wait for the wave gate: the conflict goes back to the agent and lands', async () => {
    const gate = `! grep -q '^<<<<<<<' shared.txt`;
    const { repo, agent, result } = await conflictRun(
      'hbw',
      { onConflict: 'keep-both' },
      { gate: [gate], run: { schedule: 'waves' } },
    );
    expect(result.state.status).toBe('completed');
    // Not handed back against the last green commit (a's merge was not gated yet): after the wave gate.
    const events = readFileSync(result.paths.journal, 'utf8');
    expect(events).toContain("b conflicts with this wave's merges (in shared.txt)");
    expect(agent.prompts('b')).toHaveLength(2);
    expect(agent.prompts('b')[1]).toContain('resolve these conflicts, keep both intents');
    expect(gitSync(repo, ['show', `${result.state.integrationBranch}:shared.txt`])).toBe(
      'one\ntwo from b\ntwo from a\nthree',
    );
  });

  it('fails the stream when the agent leaves conflict markers, and keeps its work off the branch', async () => {
    const { repo, agent, result } = await conflictRun('hb2', { onConflict: 'leave' });
    const st = result.state;
    expect(st.status).toBe('failed');
    expect(agent.prompts('b')).toHaveLength(2);
    expect(st.streams['b']).toMatchObject({ status: 'failed', error: { code: 'conflict-markers' } });
    expect(st.streams['b']?.error?.message).toContain('shared.txt');
    expect(st.streams['a']?.status).toBe('merged');
    expect(gitSync(repo, ['show', `${st.integrationBranch}:shared.txt`])).toBe('one\ntwo from a\nthree');
    expect(gitSync(repo, ['ls-tree', '-r', '--name-only', st.integrationBranch])).not.toContain('b.txt');
  });

  it('fails the stream on its conflict without handing it back when --retries is 0', async () => {
    const { agent, result } = await conflictRun(
      'hb3',
      { onConflict: 'keep-both' },
      { ownFiles: false, run: { retries: 0 } },
    );
    expect(agent.prompts('b')).toHaveLength(1);
    expect(result.state.streams['b']).toMatchObject({
      status: 'failed',
      error: { code: 'merge-conflict' },
    });
  });
});
