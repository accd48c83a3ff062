import { describe, expect, it } from 'vitest';
import { dependantsOf, streamsToStart, type SchedulerInput } from '../../src/run/scheduler.js';
import { outOfScopePaths } from '../../src/run/ownership.js';
import { replay } from '../../src/run/state.js';
import type { StreamStatus } from '../../src/run/types.js';

// a → b → c (critical path), d and e independent.
const streams = [
  { id: 'a', deps: [] },
  { id: 'b', deps: ['a'] },
  { id: 'c', deps: ['b'] },
  { id: 'd', deps: [] },
  { id: 'e', deps: [] },
];

function input(
  mode: SchedulerInput['mode'],
  status: Record<string, StreamStatus>,
  maxParallel = 10,
): SchedulerInput {
  return {
    mode,
    maxParallel,
    streams,
    status: new Map(streams.map((s) => [s.id, status[s.id] ?? 'pending'])),
    waves: [['a', 'd', 'e'], ['b'], ['c']],
    criticalPath: new Set(['a', 'b', 'c']),
  };
}

describe('scheduler', () => {
  it('dag starts every ready stream, in priority order, within maxParallel', () => {
    expect(streamsToStart(input('dag', {}))).toEqual(['a', 'd', 'e']);
    expect(streamsToStart(input('dag', {}, 2))).toEqual(['a', 'd']);
    expect(streamsToStart(input('dag', { a: 'merged', d: 'running' }, 2))).toEqual(['b']);
  });

  it('waves waits for the whole wave before the next', () => {
    expect(streamsToStart(input('waves', { a: 'merged', d: 'running', e: 'merged' }))).toEqual([]);
    expect(streamsToStart(input('waves', { a: 'merged', d: 'failed', e: 'merged' }))).toEqual(['b']);
  });

  it('sequential runs one at a time', () => {
    expect(streamsToStart(input('sequential', {}))).toEqual(['a']);
    expect(streamsToStart(input('sequential', { a: 'committed' }))).toEqual([]);
  });

  it('hybrid runs the critical path beside one other stream at a time', () => {
    expect(streamsToStart(input('hybrid', {}))).toEqual(['a', 'd']);
    expect(streamsToStart(input('hybrid', { a: 'merged', d: 'running' }))).toEqual(['b']);
    expect(streamsToStart(input('hybrid', { a: 'running', d: 'merged' }))).toEqual(['e']);
  });

  it('finds transitive dependants', () => {
    expect(dependantsOf(streams, 'a').sort()).toEqual(['b', 'c']);
  });
});

describe('ownership', () => {
  it('accepts owned paths, globs and directories; lists the rest', () => {
    expect(
      outOfScopePaths(
        ['src/a.ts', 'src/x/y.ts', 'lib/q.ts', 'docs/z.md', 'other.txt'],
        ['src/a.ts', 'src/x', 'lib/**/*.ts', './docs/'],
      ),
    ).toEqual(['other.txt']);
  });
});

describe('state replay', () => {
  it('folds events into stream states and undoes a reverted merge on retry', () => {
    const t = '2026-01-01T00:00:00.000Z';
    const state = replay([
      {
        type: 'run-started',
        time: t,
        runId: 'r',
        repo: '/r',
        planSource: 'p',
        baseRef: 'HEAD',
        baseSha: 'b0',
        baseBranchRef: null,
        integrationBranch: 'maestro/r',
        streamIds: ['s1'],
      },
      {
        type: 'stream-started',
        time: t,
        streamId: 's1',
        attempt: 1,
        branch: 'x',
        startSha: 'b0',
        worktree: '/w',
      },
      { type: 'stream-committed', time: t, streamId: 's1', sha: 'c1', changedFiles: ['f'] },
      { type: 'stream-merged', time: t, streamId: 's1', mergeSha: 'm1', streamSha: 'c1' },
      { type: 'integration-reset', time: t, sha: 'b0', reason: 'validation' },
      {
        type: 'stream-retry',
        time: t,
        streamId: 's1',
        attempt: 2,
        cause: 'gate',
        reason: 'validation',
        context: 'boom',
        fresh: false,
      },
    ]);
    expect(state?.streams['s1']).toMatchObject({
      status: 'running',
      retries: 1,
      retryContext: 'boom',
      mergeSha: null,
    });
    expect(state?.mergeOrder).toEqual([]);
  });
});
