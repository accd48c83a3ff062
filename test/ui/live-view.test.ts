/** The live view's pure parts: the model folded from events, the frame layout, the output choice. */
import { describe, expect, it } from 'vitest';
import type { Usage } from '../../src/agents/types.js';
import type { RunEventInput } from '../../src/run/types.js';
import {
  applyLiveEvent,
  createLiveModel,
  fitWidth,
  formatLogLine,
  headerText,
  layoutFrame,
  type LiveModel,
} from '../../src/ui/live-view.js';
import { chooseOutput } from '../../src/ui/output-mode.js';
import { rowsTaken, visibleLength } from '../../src/ui/renderer.js';

const t0 = Date.parse('2026-11-28T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();

function usage(tokens: number, costUsd: number): Usage {
  return {
    inputTokens: tokens,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd,
    costSource: 'reported',
  };
}

const streams = [
  { id: 'migration', title: 'Database migration', role: 'migration' },
  { id: 'models', title: 'Models and schemas', role: 'backend' },
  { id: 'api', title: 'REST API', role: 'backend' },
  { id: 'tests', title: 'Tests', role: 'test-engineer' },
];

function feed(model: LiveModel, events: readonly [number, RunEventInput][]): string[] {
  const lines: string[] = [];
  for (const [s, e] of events)
    for (const l of applyLiveEvent(model, { ...e, time: at(s) })) lines.push(l.text);
  return lines;
}

const started = (streamId: string): RunEventInput => ({
  type: 'stream-started',
  streamId,
  attempt: 1,
  branch: `maestro/r--${streamId}`,
  startSha: 'a'.repeat(40),
  worktree: `/w/${streamId}`,
});

/** A run three of whose four streams have started, one merged, one failed. */
function midRun(): { model: LiveModel; log: string[] } {
  const model = createLiveModel(streams, 3);
  const log = feed(model, [
    [
      0,
      {
        type: 'run-started',
        runId: 'r1',
        repo: '/repo',
        planSource: 'plan.md',
        baseRef: 'HEAD',
        baseSha: 'b'.repeat(40),
        baseBranchRef: 'refs/heads/main',
        integrationBranch: 'maestro/r1',
        streamIds: streams.map((s) => s.id),
      },
    ],
    [0, { type: 'wave-started', wave: 0, streamIds: ['migration', 'tests'] }],
    [0, started('migration')],
    [0, started('tests')],
    [1, { type: 'agent-output', streamId: 'tests', text: 'thinking about fixtures' }],
    [2, { type: 'agent-activity', streamId: 'migration', kind: 'edit', text: 'db/0007_jobs.sql' }],
    [3, { type: 'agent-live-usage', streamId: 'migration', usage: usage(12_300, 0.41) }],
    [4, { type: 'agent-activity', streamId: 'tests', kind: 'command', text: 'pytest -q tests/test_jobs.py' }],
    [
      10,
      {
        type: 'agent-finished',
        streamId: 'migration',
        ok: true,
        code: 'ok',
        message: '',
        durationMs: 10_000,
      },
    ],
    [10, { type: 'agent-usage', streamId: 'migration', usage: usage(15_000, 0.5) }],
    [
      11,
      {
        type: 'stream-committed',
        streamId: 'migration',
        sha: 'c'.repeat(40),
        changedFiles: ['db/0007_jobs.sql'],
      },
    ],
    [
      11,
      { type: 'stream-merged', streamId: 'migration', mergeSha: 'd'.repeat(40), streamSha: 'c'.repeat(40) },
    ],
    [12, { type: 'validation-passed', streamId: 'migration', sha: 'd'.repeat(40) }],
    [12, { type: 'wave-started', wave: 1, streamIds: ['models'] }],
    [12, started('models')],
    [13, { type: 'agent-live-usage', streamId: 'models', usage: usage(2000, 0.07) }],
    [14, started('api')],
    [15, { type: 'stream-failed', streamId: 'api', code: 'exit-nonzero', message: 'agent exited 1\nmore' }],
  ]);
  return { model, log };
}

describe('live model', () => {
  it('counts merged, running and failed streams, the wave and the cost so far', () => {
    const { model } = midRun();
    expect(headerText(model, t0 + 75_000)).toBe(
      'wave 2/3 · 1/4 merged · 2 running · 1 failed · $0.57 · 1m15s',
    );
  });

  it('prints finished streams once, with their outcome', () => {
    const { log } = midRun();
    expect(log.filter((l) => l.startsWith('✓'))).toEqual([
      '✓ migration  merged  10s  1 file  15.0k tok $0.50  Database migration',
    ]);
    expect(log.filter((l) => l.startsWith('✗'))).toEqual([
      '✗ api  failed [exit-nonzero] agent exited 1  0s  REST API',
    ]);
    expect(log).toContain('wave 2: models');
  });

  it('shows each active stream’s latest activity, falling back to its title', () => {
    const { model } = midRun();
    const frame = layoutFrame(model, { columns: 120, rows: 30, color: false, now: t0 + 20_000 });
    expect(frame).toHaveLength(3);
    expect(frame[0]).toMatch(/^maestro r1 wave 2\/3 · 1\/4 merged · 2 running/);
    const models = frame.find((l) => l.includes('models')) ?? '';
    const tests = frame.find((l) => l.includes('tests')) ?? '';
    expect(models).toMatch(/models\s+backend\s+8s\s+2\.0k tok \$0\.07\s+Models and schemas$/);
    expect(tests).toMatch(/tests\s+test-engineer\s+20s\s+\$ pytest -q tests\/test_jobs\.py$/);
  });

  it('keeps every line narrower than the terminal, cutting the activity first', () => {
    const { model } = midRun();
    for (const columns of [20, 40, 61, 80]) {
      const frame = layoutFrame(model, { columns, rows: 30, color: true, now: t0 + 20_000 });
      for (const line of frame) expect(visibleLength(line)).toBeLessThanOrEqual(columns - 1);
    }
    const narrow = layoutFrame(model, { columns: 50, rows: 30, color: false, now: t0 + 20_000 });
    const tests = narrow.find((l) => l.includes('tests')) ?? '';
    expect(tests).toMatch(/tests\s+test-engineer\s+20s\s+\$ pytest.*…$/);
    expect(tests.length).toBe(49);
  });

  it('keeps lines with wide characters (a Japanese title, emoji) inside the terminal too', () => {
    const model = createLiveModel(
      [{ id: 'db', title: 'データベース移行 🚀 とテスト', role: 'migration' }],
      1,
    );
    feed(model, [[0, started('db')]]);
    for (const columns of [20, 33, 40, 80]) {
      const frame = layoutFrame(model, { columns, rows: 10, color: false, now: t0 + 5_000 });
      for (const line of frame) expect(visibleLength(line)).toBeLessThanOrEqual(columns - 1);
    }
    const wide = layoutFrame(model, { columns: 80, rows: 10, color: false, now: t0 + 5_000 });
    expect(wide.some((l) => l.endsWith('データベース移行 🚀 とテスト'))).toBe(true);
  });

  it('keeps the window on screen: at most rows - 1 lines, the last saying how many more', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({
      id: `s${String(i)}`,
      title: `T${String(i)}`,
      role: 'r',
    }));
    const model = createLiveModel(many);
    feed(
      model,
      many.map((s) => [0, started(s.id)] as [number, RunEventInput]),
    );
    const frame = layoutFrame(model, { columns: 80, rows: 6, color: false, now: t0 });
    expect(frame).toHaveLength(5);
    expect(frame.at(-1)).toBe('  … 9 more active');
  });

  it('colours only when asked', () => {
    const { model } = midRun();
    const plain = layoutFrame(model, { columns: 80, rows: 10, color: false, now: t0 });
    expect(plain.join('\n')).not.toContain('\u001b[');
    const coloured = layoutFrame(model, { columns: 80, rows: 10, color: true, now: t0 });
    expect(coloured.join('\n')).toContain('\u001b[');
    expect(formatLogLine({ text: 'x', tone: 'ok' }, false)).toBe('x');
    expect(formatLogLine({ text: 'x', tone: 'ok' }, true)).toBe('\u001b[32mx\u001b[0m');
  });

  it('moves a stream back to running when a failed gate retries it', () => {
    const model = createLiveModel(streams.slice(0, 1));
    const log = feed(model, [
      [0, started('migration')],
      [
        1,
        { type: 'stream-merged', streamId: 'migration', mergeSha: 'd'.repeat(40), streamSha: 'c'.repeat(40) },
      ],
      [2, { type: 'validation-failed', streamId: 'migration', command: 'npm test', exitCode: 1, output: '' }],
      [
        2,
        {
          type: 'stream-retry',
          streamId: 'migration',
          attempt: 2,
          cause: 'gate',
          reason: 'validation `npm test` failed',
          context: '',
        },
      ],
    ]);
    expect(log).toContain('↻ migration  retrying (attempt 2): validation `npm test` failed');
    expect(headerText(model, t0)).toBe('0/1 merged · 1 running');
  });

  it('with pipelined gates, a batch that passes finishes its own streams, not the batch behind it', () => {
    const model = createLiveModel(streams.slice(0, 2));
    const merged = (streamId: string): RunEventInput => ({
      type: 'stream-merged',
      streamId,
      mergeSha: 'd'.repeat(40),
      streamSha: 'c'.repeat(40),
    });
    const log = feed(model, [
      [0, started('migration')],
      [0, started('models')],
      [1, merged('migration')],
      [1, { type: 'validation-started', streamId: null, streamIds: ['migration'], commands: ['npm test'] }],
      [2, merged('models')],
      [
        2,
        {
          type: 'validation-started',
          streamId: null,
          streamIds: ['models'],
          commands: ['npm test'],
          lane: 1,
        },
      ],
      [3, { type: 'validation-passed', streamId: null, streamIds: ['migration'], sha: 'd'.repeat(40) }],
    ]);
    expect(log.filter((l) => l.startsWith('✓'))).toEqual([expect.stringContaining('migration')]);
    expect(model.streams.get('models')?.activity).toBe('validating: npm test');
  });
});

describe('fitWidth and the renderer’s measures', () => {
  it('cuts with an ellipsis and measures without escapes', () => {
    expect(fitWidth('abcdef', 4)).toBe('abc…');
    expect(fitWidth('abc', 4)).toBe('abc');
    expect(visibleLength('\u001b[32mabc\u001b[0m')).toBe(3);
  });

  it('counts terminal columns: wide characters and emoji take two', () => {
    expect(visibleLength('日本語')).toBe(6);
    expect(visibleLength('🚀 go')).toBe(5);
    expect(fitWidth('データベース移行', 7)).toBe('データ…');
    expect(visibleLength(fitWidth('データベース移行', 7))).toBeLessThanOrEqual(7);
    expect(fitWidth('🚀🚀🚀', 4)).toBe('🚀…');
    expect(fitWidth('日本', 4)).toBe('日本');
    expect(rowsTaken(0, 80)).toBe(1);
    expect(rowsTaken(81, 80)).toBe(2);
  });
});

describe('chooseOutput', () => {
  const base = { json: false, noColorFlag: false, noLiveFlag: false, isTTY: true, env: {} };
  it('uses the live view on a terminal, plain lines elsewhere, JSON with --json', () => {
    expect(chooseOutput(base)).toEqual({ kind: 'live', color: true });
    expect(chooseOutput({ ...base, isTTY: false })).toEqual({ kind: 'plain' });
    expect(chooseOutput({ ...base, env: { CI: 'true' } })).toEqual({ kind: 'plain' });
    expect(chooseOutput({ ...base, env: { TERM: 'dumb' } })).toEqual({ kind: 'plain' });
    expect(chooseOutput({ ...base, noLiveFlag: true })).toEqual({ kind: 'plain' });
    expect(chooseOutput({ ...base, json: true })).toEqual({ kind: 'json' });
  });
  it('degrades to plain lines for NO_COLOR and --no-color (an empty NO_COLOR does not count)', () => {
    expect(chooseOutput({ ...base, env: { NO_COLOR: '1' } })).toEqual({ kind: 'plain' });
    expect(chooseOutput({ ...base, env: { NO_COLOR: '' } })).toEqual({ kind: 'live', color: true });
    expect(chooseOutput({ ...base, noColorFlag: true })).toEqual({ kind: 'plain' });
  });
});
