import { describe, expect, it } from 'vitest';
import { buildRunReport } from '../../src/report/build.js';
import { fixCoverage, keyWords, mentionsId } from '../../src/report/fixes.js';
import type { StreamReport } from '../../src/report/types.js';
import { analysis, at, completionReports, events } from './fixture.js';

const report = buildRunReport({ events, analysis, completionReports });

function streamById(id: string): StreamReport {
  const found = report.streams.find((s) => s.id === id);
  if (found === undefined) throw new Error(`no stream ${id}`);
  return found;
}

describe('buildRunReport', () => {
  it('summarises the run', () => {
    expect(report).toMatchObject({
      runId: 'run-1',
      planTitle: 'Shop backend',
      status: 'failed',
      integrationBranch: 'maestro/run-1',
      startedAt: at(0),
      endedAt: at(41.3),
    });
    expect(report.streams.map((s) => [s.id, s.status])).toEqual([
      ['s1', 'merged'],
      ['s2', 'merged'],
      ['s3', 'merged'],
      ['s4', 'merged'],
      ['s5', 'failed'],
      ['s6', 'merged'],
      ['s7', 'skipped'],
    ]);
    expect(report.totals.counts).toMatchObject({ merged: 5, failed: 1, skipped: 1 });
    expect(report.totals.makespanMs).toBe(41.3 * 60_000);
    expect(report.totals.retries).toBe(1);
    expect(report.totals.ownershipViolations).toBe(1);
  });

  it('reports owned and changed files and ownership violations', () => {
    const s5 = streamById('s5');
    expect(s5.ownedFiles).toEqual(['src/pipeline/run.ts']);
    expect(s5.changedFiles).toEqual(['src/pipeline/run.ts', 'src/api/routes.ts']);
    expect(s5.ownershipViolations).toEqual([{ paths: ['src/api/routes.ts'], mode: 'fail' }]);
    expect(s5.error).toEqual({
      code: 'out-of-scope',
      message: 'changed files it does not own: src/api/routes.ts',
    });
  });

  it('checks each critical fix against the completion report', () => {
    expect(streamById('s1').criticalFixes).toEqual([
      { id: 'C1', text: 'Use parameterised queries for every database access', coverage: 'mentioned' },
    ]);
    expect(streamById('s2').criticalFixes[0]?.coverage).toBe('covered');
    expect(streamById('s3').criticalFixes[0]?.coverage).toBe('not-mentioned');
    expect(streamById('s5').criticalFixes[0]?.coverage).toBe('no-report');
    // Fixes, not stream/fix pairs: C1 is given to s1 and s6 and counts once.
    expect(streamById('s6').criticalFixes.map((f) => f.id)).toEqual(['C1']);
    expect(report.totals.criticalFixes).toEqual({ total: 4, addressed: 2 });
  });

  it('records validation results, retries and usage summed over attempts', () => {
    const s4 = streamById('s4');
    expect(s4.attempts).toBe(2);
    expect(s4.retries).toBe(1);
    expect(s4.retryReasons).toEqual(['validation failed: npm test']);
    expect(s4.validations.map((v) => [v.passed, v.commands, v.exitCode])).toEqual([
      [false, ['npm test'], 1],
      [true, ['npm test'], 0],
    ]);
    expect(s4.usage).toEqual({
      inputTokens: 160_000,
      outputTokens: 35_000,
      cacheReadTokens: 200,
      cacheWriteTokens: 100,
      costUsd: 0.7,
    });
    expect(s4.agentMs).toBeCloseTo(13.9 * 60_000);
  });

  it('builds timeline segments and milestone times', () => {
    const s4 = streamById('s4');
    expect(s4.segments.map((s) => [s.kind, s.start, s.end, s.attempt])).toEqual([
      ['waiting', at(0), at(17), 1],
      ['running', at(17), at(27), 1],
      ['validating', at(27), at(28), 1],
      ['waiting', at(28), at(28.1), 2],
      ['running', at(28.1), at(32), 2],
      ['validating', at(32), at(33), 2],
      ['merged', at(33), at(33), 2],
    ]);
    expect(s4.timing).toEqual({
      queuedAt: at(0),
      startedAt: at(17),
      agentDoneAt: at(32),
      validatingAt: at(32),
      mergedAt: at(32.3),
      failedAt: null,
      skippedAt: null,
      endedAt: at(33),
    });
    expect(s4.wallMs).toBe(16 * 60_000);
    expect(streamById('s5').segments.at(-1)).toMatchObject({ kind: 'failed', start: at(41.2) });
    expect(streamById('s7').segments.map((s) => s.kind)).toEqual(['waiting', 'skipped']);
  });

  it('aggregates per wave and compares with the estimate', () => {
    expect(report.waves.map((w) => [w.wave, w.streamIds])).toEqual([
      [1, ['s1']],
      [2, ['s2']],
      [3, ['s3', 's4']],
      [4, ['s5', 's6']],
      [5, ['s7']],
    ]);
    const wave3 = report.waves[2];
    expect(wave3?.startedAt).toBe(at(17));
    expect(wave3?.endedAt).toBe(at(33));
    expect(wave3?.estimatedMinutes).toBe(12);
    expect(wave3?.usage.costUsd).toBeCloseTo(0.86);
    expect(report.estimate).toMatchObject({
      estimatedCostUsd: 2.28,
      estimatedMinutes: { dynamic: 41 },
      actualMinutes: 41.3,
    });
    expect(report.estimate?.actualCostUsd).toBeCloseTo(2.0);
  });

  it('lists explicit and implicit dependency edges and completion report links', () => {
    expect(report.edges).toContainEqual({ from: 's4', to: 's6', implicit: false });
    expect(report.edges).toContainEqual({ from: 's3', to: 's7', implicit: true });
    expect(streamById('s1').completionReport).toBe('streams/s1/MIGRATION_COMPLETE.md');
    expect(streamById('s5').completionReport).toBeNull();
  });

  it('works from the journal alone, and from an empty journal', () => {
    const bare = buildRunReport({ events, analysis: null });
    expect(bare.streams).toHaveLength(7);
    expect(bare.streams[0]).toMatchObject({ id: 's1', title: 's1', role: 'unknown', status: 'merged' });
    expect(bare.estimate).toBeNull();
    const empty = buildRunReport({ events: [], analysis });
    expect(empty.streams.every((s) => s.status === 'pending' && s.segments.length === 0)).toBe(true);
  });

  it('attributes a run-wide gate to the streams merged since the previous one', () => {
    const waveEvents = events.filter((e) => !e.type.startsWith('validation-'));
    const gate = [
      { type: 'validation-started', streamId: null, commands: ['npm run lint'], time: at(23.5) },
      { type: 'validation-passed', streamId: null, sha: 'm3', time: at(24) },
    ] as const;
    const withGate = [
      ...waveEvents.filter((e) => e.time <= at(23.5)),
      ...gate,
      ...waveEvents.filter((e) => e.time > at(23.5)),
    ];
    const r = buildRunReport({ events: withGate, analysis });
    const s3 = r.streams.find((s) => s.id === 's3');
    expect(s3?.validations).toEqual([
      { time: at(24), passed: true, commands: ['npm run lint'], exitCode: 0, output: '', shared: true },
    ]);
    expect(s3?.timing.endedAt).toBe(at(24));
    expect(r.streams.find((s) => s.id === 's5')?.validations).toEqual([]);
  });
});

describe('critical fix coverage', () => {
  it('matches ids as whole tokens', () => {
    expect(mentionsId('Fixed C1.', 'C1')).toBe(true);
    expect(mentionsId('see c1', 'C1')).toBe(true);
    expect(mentionsId('C12 done', 'C1')).toBe(false);
    expect(mentionsId('ABC1', 'C1')).toBe(false);
    expect(mentionsId('FIX-3 handled', 'FIX-3')).toBe(true);
  });

  it('falls back to key words', () => {
    expect(keyWords('Never store money as floating point')).toEqual(['store', 'money', 'floating', 'point']);
    expect(
      fixCoverage('money is stored in cents, no floating point', {
        id: 'X',
        text: 'Store money as floating point',
      }),
    ).toBe('covered');
    expect(fixCoverage('nothing relevant', { id: 'X', text: 'Store money as floating point' })).toBe(
      'not-mentioned',
    );
    expect(fixCoverage(null, { id: 'X', text: 'anything' })).toBe('no-report');
  });
});
