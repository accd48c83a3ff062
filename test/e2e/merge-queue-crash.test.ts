/**
 * kill -9 of `maestro run` while a batch's gate runs, then of `maestro resume` while that batch is
 * being bisected, then `maestro resume` again: every stream ends merged exactly once, and nothing
 * that did not pass its gate is on the integration branch. The order is set by handshakes: the gate
 * (a script of the test's) writes a marker file and then blocks until the test releases it; the test
 * SIGKILLs the CLI when the marker appears. The gate's orphan is reaped by the resume, or exits on
 * its release file, so no process outlives the test.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processesUnder } from '../../src/util/procs.js';
import { installStandInAgent } from '../helpers/agent.js';
import { commandRunArgs, runCli, startCli, waitUntil, type CliProcess } from '../helpers/cli.js';
import { waitForFileSh } from '../helpers/handshake.js';
import { planMarkdown, repoWithPlan } from '../helpers/plan.js';
import { gitSync, mergeCounts } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

interface StateJson {
  status: string;
  integrationBranch: string;
  greenSha: string;
  tipSha: string;
  streams: Record<string, { status: string; gateRetries: number; commitSha: string | null }>;
}

/** Kills the CLI with SIGKILL once `marker` exists, then lets the orphaned gate end (`release`). */
async function killAt(cli: CliProcess, marker: string, release: string): Promise<void> {
  await waitUntil(() => existsSync(marker), 240_000);
  cli.child.kill('SIGKILL');
  const r = await cli.exited;
  expect(r.signal, `${r.stdout}\n${r.stderr}`).toBe('SIGKILL');
  writeFileSync(release, '');
}

describe('merge queue: kill -9 during a batch gate and during a bisection, then resume', () => {
  it('merges every stream exactly once and leaves nothing unvalidated on the branch', async () => {
    // Phase 1 (First) lands alone; the six others wait for its gate, so they form one batch.
    const titles = ['First', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7'];
    const files = titles.map((t) => `${t.toLowerCase()}.txt`);
    const {
      dir: root,
      repo,
      plan,
    } = repoWithPlan(
      cleanups,
      'maestro-mq-crash-',
      planMarkdown(
        'Crash plan',
        titles.map((title, i) => ({ title, files: [files[i] ?? ''] })),
      ),
    );
    const cache = path.join(root, 'cache');
    const env = { XDG_CACHE_HOME: cache };
    cleanups.push(() => {
      expect(processesUnder(repo)).toEqual([]);
      expect(processesUnder(cache)).toEqual([]);
    });
    const mark = (name: string) => path.join(root, name);
    const agent = installStandInAgent(root, {
      '*': { waitForFile: mark('first-gate') },
      First: { waitForFile: root },
      // The culprit: its first attempt breaks the gate, its retry (with the gate's output) fixes it.
      P4: {
        waitForFile: mark('first-gate'),
        write: { 'p4.txt': 'BAD\n' },
        writeOnRetry: { 'p4.txt': 'good\n' },
      },
    });
    const journals = `'${repo}'/.maestro/runs/*/events.jsonl`;
    // Gate runs, in order: 1 First's (holds until all 7 have committed, passes); 2 the batch of six
    // (blocks: killed); after the resume, 3 the batch again (fails on BAD), 4 the bisection's first
    // half (blocks: killed); after the second resume, gates decide on the files alone.
    const gate = path.join(root, 'gate.sh');
    writeFileSync(
      gate,
      [
        `D='${root}'`,
        'echo "$(ls *.txt | tr "\\n" " ")" >> "$D/gates.log"',
        'if [ ! -f "$D/first-gate" ]; then',
        '  touch "$D/first-gate"',
        `  while [ "$(cat ${journals} | grep -c '"type":"stream-committed"')" -lt 7 ]; do sleep 0.05; done`,
        'fi',
        'if [ "$(ls *.txt | wc -l)" -gt 2 ] && [ ! -f "$D/batch-gate" ]; then',
        '  ls *.txt > "$D/batch-gate"',
        `  ${waitForFileSh(mark('release-1'))}; exit 3`,
        'fi',
        'if [ -f "$D/failed-once" ] && [ ! -f "$D/bisect-gate" ]; then',
        '  ls *.txt > "$D/bisect-gate"',
        `  ${waitForFileSh(mark('release-2'))}; exit 3`,
        'fi',
        'if grep -l BAD *.txt; then touch "$D/failed-once"; echo "BAD found" >&2; exit 1; fi',
        'exit 0',
        '',
      ].join('\n'),
    );
    const args = [
      ...commandRunArgs(plan, repo, agent.command),
      '--validate',
      `sh '${gate}'`,
      // The gate's handshakes count merge gates: none for the base commit.
      '--skip-baseline',
      '--max-parallel',
      '10',
      // One gate at a time, so the six queue up behind First's gate as one batch (pipelined gates would
      // start gating the first of them beside it).
      '--gate-lanes',
      '1',
    ];

    // 1. Killed while the batch of six is gated.
    await killAt(startCli(args, repo, env), mark('batch-gate'), mark('release-1'));
    expect(readFileSync(mark('batch-gate'), 'utf8').trim().split('\n')).toHaveLength(7);

    // 2. Resumed: the batch merges again and fails; killed during its bisection.
    await killAt(
      startCli(['resume', '--repo', repo, '--no-live'], repo, env),
      mark('bisect-gate'),
      mark('release-2'),
    );
    const half = readFileSync(mark('bisect-gate'), 'utf8').trim().split('\n');
    expect(half.length).toBeGreaterThan(1); // First's file and some of the batch
    expect(half.length).toBeLessThan(7); // not all of it: a half

    // 3. Resumed again: it completes.
    const last = await runCli(['resume', '--repo', repo, '--no-live'], repo, env);
    expect(last.code, `${last.stdout}\n${last.stderr}`).toBe(0);

    const runDir = path.join(
      repo,
      '.maestro',
      'runs',
      readdirSync(path.join(repo, '.maestro', 'runs'))[0] ?? '',
    );
    const state = JSON.parse(readFileSync(path.join(runDir, 'state.json'), 'utf8')) as StateJson;
    expect(state.status).toBe('completed');
    for (const [id, st] of Object.entries(state.streams)) expect(st.status, id).toBe('merged');
    // The culprit was found by the bisection that ran to the end, and fixed by its one retry.
    expect(state.streams['s4']?.gateRetries).toBe(1);
    // Every stream merged exactly once on the integration branch's own (first-parent) history.
    expect(mergeCounts(repo, state.integrationBranch, { firstParent: true })).toEqual({
      s1: 1,
      s2: 1,
      s3: 1,
      s4: 1,
      s5: 1,
      s6: 1,
      s7: 1,
    });
    // Nothing unvalidated: the branch ends on the last commit that passed its gate, and that tree
    // holds every stream's file, none of them bad.
    expect(gitSync(repo, ['rev-parse', state.integrationBranch])).toBe(state.greenSha);
    expect(state.tipSha).toBe(state.greenSha);
    const tree = gitSync(repo, ['ls-tree', '-r', '--name-only', state.integrationBranch]).split('\n');
    for (const f of files) expect(tree).toContain(f);
    expect(gitSync(repo, ['show', `${state.integrationBranch}:p4.txt`])).toBe('good');
    // Each crash's unvalidated merges were undone on resume.
    const journal = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8');
    expect(journal.match(/"type":"run-resumed"/g)).toHaveLength(2);
    expect(journal.match(/resume: undo an unvalidated merge/g)).toHaveLength(2);
    // The innocent streams' agents ran once; the culprit's twice (its retry).
    for (const id of ['s1', 's2', 's3', 's5', 's6', 's7']) expect(agent.prompts(id), id).toHaveLength(1);
    expect(agent.prompts('s4')).toHaveLength(2);
  }, 600_000);
});
