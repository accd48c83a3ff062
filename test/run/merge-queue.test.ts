/**
 * The merge queue on real repositories: batches validated by one gate run, bisection of a failing
 * batch, innocent streams landing without their agents running again. The gate is the test's own
 * shell command: it decides pass or fail from the files on the tip, and the first gate run holds
 * until every other stream has committed (read from the run's journal), so the batch is formed by a
 * handshake, not by timing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { startRun } from '../../src/run/engine.js';
import { EventBus } from '../../src/run/events.js';
import { LocalExecutor } from '../../src/run/executor.js';
import { writeMarkdownReport } from '../../src/report/load.js';
import { runPaths } from '../../src/run/journal.js';
import type { RunEvent, RunOptions } from '../../src/run/types.js';
import { installStandInAgent, maxOverlap, type StandInAgent } from '../helpers/agent.js';
import { makeAnalysis } from '../helpers/analysis.js';
import { testRunOptions } from '../helpers/run-options.js';
import { gitSync, inProcessGitTests, initRepo, makeTempDir, mergeCounts } from '../helpers/repo.js';

const cleanups = inProcessGitTests();

function options(overrides: Partial<RunOptions> = {}): RunOptions {
  return testRunOptions(overrides);
}

/** A repository whose streams queue up behind `first`'s gate, one of them (`culprit`) writing BAD. */
interface CulpritRig {
  readonly dir: string;
  readonly repo: string;
  readonly agent: StandInAgent;
  /**
   * The gate's first command: its first run opens the others' handshake and holds until `committed`
   * streams have committed (read from the run's journal); later runs go straight on.
   */
  readonly holdFirstGate: (committed: number) => string;
}

function culpritRig(runId: string, culprit: string): CulpritRig {
  const tmp = makeTempDir();
  cleanups.push(tmp.cleanup);
  const repo = path.join(tmp.dir, 'repo');
  initRepo(repo);
  const journal = runPaths(repo, runId).journal;
  const firstGate = path.join(tmp.dir, 'first-gate');
  const agent = installStandInAgent(tmp.dir, {
    // Every stream but `first` waits until the first gate runs, so they queue up behind it.
    '*': { waitForFile: firstGate },
    first: { waitForFile: tmp.dir }, // exists: no wait
    [culprit]: { waitForFile: firstGate, write: { [`${culprit}.txt`]: 'BAD\n' } },
  });
  const holdFirstGate = (committed: number) =>
    `if [ ! -f '${firstGate}' ]; then touch '${firstGate}'; while [ "$(grep -c '"type":"stream-committed"' '${journal}')" -lt ${String(committed)} ]; do sleep 0.05; done; fi`;
  return { dir: tmp.dir, repo, agent, holdFirstGate };
}

describe('merge queue', () => {
  it('batches a 30-stream plan behind one gate and bisects out the one culprit', async () => {
    const runId = 'mq1';
    const culprit = 's5';
    const { dir, repo, agent, holdFirstGate } = culpritRig(runId, culprit);
    const gateLog = path.join(dir, 'gates.log');
    const independent = Array.from({ length: 27 }, (_, i) => `s${String(i + 1)}`);
    // The first gate run opens the others' handshake and holds until all 28 streams have committed
    // (each one's agent has ended and freed its slot: with 10 slots this only ends if slots are
    // freed when agents end). Every run fails when a file on the tip says BAD.
    const gate = [
      `echo run >> '${gateLog}'`,
      holdFirstGate(28),
      `if grep -l BAD *.txt 2>/dev/null; then echo "BAD found" >&2; exit 1; fi`,
    ].join('; ');
    const analysis = makeAnalysis(
      [
        { id: 'first', files: ['first.txt'] },
        ...independent.map((id) => ({ id, files: [`${id}.txt`] })),
        { id: 'after-culprit', deps: [culprit], files: ['after-culprit.txt'] },
        { id: 'after-s1', deps: ['s1'], files: ['after-s1.txt'] },
      ],
      { validation: [gate] },
    );
    const events: RunEvent[] = [];
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    const hooks = { executor: new LocalExecutor(commandBackend(agent.command), 500), bus };
    // One gate lane: the batch forms behind the one gate (pipelined lanes: test/run/gate-pipeline.test.ts).
    const result = await startRun(repo, analysis, options({ gateLanes: 1 }), hooks, runId);
    const st = result.state;

    expect(st.status).toBe('failed');
    expect(st.streams[culprit]?.status).toBe('failed');
    expect(st.streams[culprit]?.error?.code).toBe('validation-failed');
    expect(st.streams['after-culprit']?.status).toBe('skipped');
    for (const id of ['first', ...independent.filter((id) => id !== culprit), 'after-s1'])
      expect(st.streams[id]?.status, id).toBe('merged');
    // The culprit's work is not on the integration branch; everything else landed once.
    const files = gitSync(repo, ['ls-tree', '-r', '--name-only', st.integrationBranch]).split('\n');
    expect(files).not.toContain('s5.txt');
    expect(files).toContain('s27.txt');
    const counts = mergeCounts(repo, st.integrationBranch);
    expect(counts[culprit]).toBeUndefined();
    for (const id of ['first', ...independent.filter((id) => id !== culprit), 'after-s1'])
      expect(counts[id], id).toBe(1);
    // Innocent streams landed without their agents running again; the culprit was retried once with
    // the gate's output in its prompt, then failed.
    expect(agent.prompts('s1')).toHaveLength(1);
    expect(agent.prompts('s27')).toHaveLength(1);
    expect(agent.prompts(culprit)).toHaveLength(2);
    expect(agent.prompts(culprit)[1]).toContain('BAD found');
    // Slots limit running agents only.
    expect(maxOverlap(agent.timeline())).toBeLessThanOrEqual(10);

    // The batch of 27 was gated once, then searched: the gate's output names s5.txt, which only the
    // culprit changed, so the other 26 were gated (and landed) together next: 2 gate runs. Every
    // failing batch took at most log2(batch) + 1 gate runs.
    const batches = st.batches ?? [];
    const big = batches.find((b) => b.streamIds.length === 27);
    expect(big, JSON.stringify(batches)).toBeDefined();
    expect(big?.culprits).toEqual([culprit]);
    expect(big?.landed).toHaveLength(26);
    expect(big?.gateRuns).toBe(2);
    for (const b of batches) {
      const bound = b.culprits.length === 0 ? 1 : Math.log2(b.streamIds.length) + 1;
      expect(b.gateRuns, JSON.stringify(b)).toBeLessThanOrEqual(bound);
    }
    // The --json events say it too, and the gate log agrees with the journal.
    const gated = events.filter(
      (e): e is Extract<RunEvent, { type: 'batch-gated' }> => e.type === 'batch-gated',
    );
    expect(gated.reduce((n, e) => n + e.gateRuns, 0)).toBe(
      readFileSync(gateLog, 'utf8').trim().split('\n').length,
    );
    // The report says it too.
    const report = readFileSync(await writeMarkdownReport(result.paths.dir, { analysis }), 'utf8');
    expect(report).toContain('## Merge queue');
    expect(report).toMatch(/\| 27 +\| \d+ +\| 26 +\| s5/);
    // 30 streams, far fewer gate runs than per-merge gating's 30 (plus the retry's).
    expect(readFileSync(gateLog, 'utf8').trim().split('\n').length).toBeLessThan(14);
  });

  it('bisects a batch whose gate output names no file: innocent streams land, within ceil(log2 batch) + 2 gate runs', async () => {
    const runId = 'mq3';
    const culprit = 't6';
    const { repo, agent, holdFirstGate } = culpritRig(runId, culprit);
    const ids = Array.from({ length: 8 }, (_, i) => `t${String(i + 1)}`);
    // As above, but the failing gate says nothing a stream could be matched by: a plain bisection.
    const gate = [holdFirstGate(9), `if grep -q BAD *.txt 2>/dev/null; then exit 1; fi`].join('; ');
    const analysis = makeAnalysis(
      [{ id: 'first', files: ['first.txt'] }, ...ids.map((id) => ({ id, files: [`${id}.txt`] }))],
      { validation: [gate] },
    );
    const hooks = { executor: new LocalExecutor(commandBackend(agent.command), 500), bus: new EventBus() };
    const result = await startRun(repo, analysis, options({ retries: 0, gateLanes: 1 }), hooks, runId);
    const st = result.state;
    expect(st.streams[culprit]?.status).toBe('failed');
    for (const id of ['first', ...ids.filter((id) => id !== culprit)])
      expect(st.streams[id]?.status, id).toBe('merged');
    const batch = (st.batches ?? []).find((b) => b.streamIds.length === 8);
    expect(batch?.culprits).toEqual([culprit]);
    expect(batch?.landed).toHaveLength(7);
    // The lower bound for a search that lands only validated trees: 1 + log2(8) + 1 in the worst case.
    expect(batch?.gateRuns).toBeLessThanOrEqual(Math.ceil(Math.log2(8)) + 2);
    expect(mergeCounts(repo, st.integrationBranch)[culprit]).toBeUndefined();
    for (const id of ids.filter((id) => id !== culprit)) expect(agent.prompts(id), id).toHaveLength(1);
  });

  it('--speculate: a dependant starts from a batch under test, and is discarded and redone when it fails', async () => {
    const tmp = makeTempDir();
    cleanups.push(tmp.cleanup);
    const repo = path.join(tmp.dir, 'repo');
    initRepo(repo);
    const runId = 'mq2';
    const journal = runPaths(repo, runId).journal;
    const once = path.join(tmp.dir, 'first-gate-ran');
    const agent = installStandInAgent(tmp.dir, {
      a: { write: { 'a.txt': 'bad\n' }, writeOnRetry: { 'a.txt': 'good\n' } },
    });
    // The first gate run holds until b has started from a's unvalidated tip, then fails on a's work.
    const gate = [
      `if [ ! -f '${once}' ]; then touch '${once}'; while ! grep -q '"type":"stream-started","streamId":"b"' '${journal}'; do sleep 0.05; done; fi`,
      `if grep -q bad a.txt; then echo "a.txt is bad" >&2; exit 1; fi`,
    ].join('; ');
    const analysis = makeAnalysis(
      [
        { id: 'a', files: ['a.txt'] },
        { id: 'b', deps: ['a'], files: ['b.txt'] },
      ],
      { validation: [gate] },
    );
    const hooks = { executor: new LocalExecutor(commandBackend(agent.command), 500), bus: new EventBus() };
    const result = await startRun(repo, analysis, options({ speculate: true }), hooks, runId);
    const st = result.state;
    expect(st.status).toBe('completed');
    // b's first attempt started from a's merge while a's gate ran: not a validated commit.
    const events = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    const starts = events.filter(
      (e): e is Extract<RunEvent, { type: 'stream-started' }> =>
        e.type === 'stream-started' && e.streamId === 'b',
    );
    expect(starts).toHaveLength(2);
    expect(starts[0]?.startSha).not.toBe(st.baseSha);
    // Its work was discarded and redone once a's retry had landed; the waste is counted.
    expect(agent.prompts('b')).toHaveLength(2);
    expect(st.speculation?.discarded).toBe(1);
    expect(st.speculation?.agentMs).toBeGreaterThan(0);
    expect(readFileSync(await writeMarkdownReport(result.paths.dir, { analysis }), 'utf8')).toMatch(
      /Speculation \(--speculate\) discarded 1 attempt: [\d.]+ s of agent time/,
    );
    expect(gitSync(repo, ['show', `${st.integrationBranch}:a.txt`])).toBe('good');
    expect(mergeCounts(repo, st.integrationBranch)).toEqual({ a: 1, b: 1 });
    // b's landed commit is built on a's validated work, not on the rejected tip.
    const bCommit = st.streams.b?.commitSha ?? '';
    expect(gitSync(repo, ['show', `${bCommit}:a.txt`])).toBe('good');
  });
});
