/**
 * Pipelined gates (`--gate-lanes`): a batch that commits while another batch's gate runs is merged on
 * top of it and gated at once in a second lane; batches still land in order, and when the one ahead
 * fails, the gate behind it is called off and its streams are merged and gated again without their
 * agents. Order is decided by handshakes between the agents and the gates (files), never by sleeps;
 * each wait is bounded so that a regression fails the test instead of hanging it.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { startRun } from '../../src/run/engine.js';
import { EventBus } from '../../src/run/events.js';
import { LocalExecutor } from '../../src/run/executor.js';
import type { RunEvent } from '../../src/run/types.js';
import { installStandInAgent } from '../helpers/agent.js';
import { makeAnalysis } from '../helpers/analysis.js';
import { testRunOptions } from '../helpers/run-options.js';
import { gitSync, inProcessGitTests, initRepo, makeTempDir, mergeCounts } from '../helpers/repo.js';

const cleanups = inProcessGitTests();

/** A shell loop that waits (at most 30 s) for `file`. */
const waitFor = (file: string): string =>
  `i=0; while [ ! -f '${file}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`;

/**
 * Streams a and b (independent). a's agent ends at once; b's agent ends only once a's gate runs, so b
 * commits while a's batch is under test. a's gate (its tip has a.txt, not b.txt) holds until b's gate
 * has started: that only happens if the two gates run side by side.
 */
async function pipelineRun(runId: string, aWrites: string, bGateTail: string) {
  const tmp = makeTempDir();
  cleanups.push(tmp.cleanup);
  const repo = path.join(tmp.dir, 'repo');
  initRepo(repo);
  const aGate = path.join(tmp.dir, 'a-gate-started');
  const bGate = path.join(tmp.dir, 'b-gate-started');
  const agent = installStandInAgent(tmp.dir, {
    a: { write: { 'a.txt': aWrites }, writeOnRetry: { 'a.txt': 'good\n' } },
    b: { write: { 'b.txt': 'b\n' }, waitForFile: aGate },
  });
  const gate = [
    `if [ -f b.txt ]; then touch '${bGate}'; ${bGateTail}; fi`,
    `touch '${aGate}'; ${waitFor(bGate)}`,
    `if grep -q BAD a.txt; then echo "a.txt is BAD" >&2; exit 1; fi`,
  ].join('\n');
  const analysis = makeAnalysis(
    [
      { id: 'a', files: ['a.txt'] },
      { id: 'b', files: ['b.txt'] },
    ],
    { validation: [gate] },
  );
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  const hooks = { executor: new LocalExecutor(commandBackend(agent.command), 500), bus };
  const result = await startRun(repo, analysis, testRunOptions({ gateLanes: 2 }), hooks, runId);
  return { repo, agent, events, state: result.state };
}

function ofType<T extends RunEvent['type']>(events: readonly RunEvent[], type: T) {
  return events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}

describe('pipelined gates', () => {
  it('gates a batch that commits while another is under test at once, in a second lane (each a checkout of its own tip), and lands both in order', async () => {
    const { repo, events, state } = await pipelineRun('gp1', 'a\n', 'exit 0');
    expect(state.status).toBe('completed');
    const started = ofType(events, 'validation-started');
    expect(started.map((e) => [e.streamIds, e.lane])).toEqual([
      [['a'], undefined],
      [['b'], 1],
    ]);
    // b's gate passed first, but a's batch was ahead of it: a lands first, then b, each at its own tip.
    const passed = ofType(events, 'validation-passed');
    expect(passed.map((e) => e.streamIds)).toEqual([['a'], ['b']]);
    const tips = ofType(events, 'stream-merged').map((e) => e.mergeSha);
    expect(passed.map((e) => e.sha)).toEqual(tips);
    expect(state.greenSha).toBe(tips[1]);
    expect(gitSync(repo, ['ls-tree', '-r', '--name-only', state.integrationBranch]).split('\n')).toEqual(
      expect.arrayContaining(['a.txt', 'b.txt']),
    );
  });

  it('calls off the gate behind a failing batch, and merges and gates its streams again without their agents', async () => {
    // b's gate on top of a's BAD work holds until it is called off (at most 30 s, then it fails).
    const { repo, agent, events, state } = await pipelineRun(
      'gp2',
      'BAD\n',
      `if grep -q BAD a.txt; then ${waitFor('/nonexistent')}; exit 3; fi; exit 0`,
    );
    expect(state.status).toBe('completed');
    const note = ofType(events, 'note').find((e) => e.message.includes('called off'));
    expect(note?.message).toContain('gate of b called off: the batch ahead of it (a) failed');
    // b's called-off gate reported nothing: no result of it was journaled.
    const failed = ofType(events, 'validation-failed');
    expect(failed.map((e) => [e.streamIds, e.exitCode])).toEqual([[['a'], 1]]);
    // b was merged again (no agent run), a retried with the gate's output, and both landed once.
    expect(agent.prompts('b')).toHaveLength(1);
    expect(agent.prompts('a')).toHaveLength(2);
    expect(agent.prompts('a')[1]).toContain('a.txt is BAD');
    expect(ofType(events, 'stream-merged').filter((e) => e.streamId === 'b')).toHaveLength(2);
    expect(state.streams.b).toMatchObject({ status: 'merged' });
    expect(gitSync(repo, ['show', `${state.integrationBranch}:a.txt`])).toBe('good');
    expect(mergeCounts(repo, state.integrationBranch, { firstParent: true })).toEqual({ a: 1, b: 1 });
  });
});
