import { beforeAll, describe, expect, it } from 'vitest';
import { analyzePlan, escapesRepo, type AnalyzeOptions } from '../../src/analyze/analyze.js';
import { builtins, file, parsed, phase } from './fixtures.js';

let base: AnalyzeOptions;
beforeAll(async () => {
  const { roles, prices } = await builtins();
  base = { repoFiles: null, repo: null, roles, prices };
});

describe('streams and dependencies', () => {
  it('makes one branch-safe stream per phase and maps phase dependencies to stream ids', () => {
    const a = analyzePlan(
      parsed([
        phase('1'),
        phase('2.1', { line: 20, dependsOn: ['1'] }),
        phase('A', { line: 30, dependsOn: ['1', '2.1'] }),
      ]),
      base,
    );
    expect(a.streams.map((s) => [s.id, s.phaseId, s.dependsOn])).toEqual([
      ['s1', '1', []],
      ['s2', '2.1', ['s1']],
      ['s3', 'A', ['s1', 's2']],
    ]);
    expect(a.waves).toEqual([['s1'], ['s2'], ['s3']]);
    expect(a.criticalPath).toEqual(['s1', 's2', 's3']);
    expect(a.startOrder).toEqual(['s1', 's2', 's3']);
    expect(a.diagnostics).toEqual([]);
    expect(a.maxParallel).toBe(10);
  });

  it('reports unknown dependencies once, unless the parser already did', () => {
    const p = [phase('1'), phase('2', { dependsOn: ['9'] })];
    const a = analyzePlan(parsed(p), base);
    expect(a.diagnostics).toEqual([
      expect.objectContaining({ code: 'unknown-dependency', line: 20, severity: 'error' }),
    ]);
    expect(a.diagnostics[0]?.message).toBe(
      'plan.md:20: phase "Phase 2" depends on unknown phase "9"; use one of: 1, 2',
    );
    expect(a.streams[1]?.dependsOn).toEqual([]);
    const fromParser = { severity: 'error' as const, code: 'unknown-dependency', message: 'x', line: 22 };
    expect(analyzePlan(parsed(p, {}, [fromParser]), base).diagnostics).toEqual([fromParser]);
  });

  it('reports a cycle in the plan’s terms and still schedules every stream', () => {
    const a = analyzePlan(
      parsed([
        phase('1'),
        phase('2', { line: 42, dependsOn: ['1', '3'] }),
        phase('3', { line: 50, dependsOn: ['2'] }),
        phase('4', { line: 60, dependsOn: ['4'] }),
      ]),
      base,
    );
    const cycles = a.diagnostics.filter((d) => d.code === 'cycle');
    expect(cycles.map((d) => d.message)).toEqual([
      'plan.md:42: phases form a cycle: Phase 2 → Phase 3 → Phase 2; remove one of these dependencies',
      'plan.md:60: phases form a cycle: Phase 4 → Phase 4; remove the dependency on itself',
    ]);
    expect(cycles.map((d) => [d.severity, d.line, d.file])).toEqual([
      ['error', 42, 'plan.md'],
      ['error', 60, 'plan.md'],
    ]);
    // The plan's edges are kept as stated; the schedule drops the ones that close cycles.
    expect(a.streams[1]?.dependsOn).toEqual(['s1', 's3']);
    expect(a.waves.flat().sort()).toEqual(['s1', 's2', 's3', 's4']);
    expect(a.startOrder.indexOf('s2')).toBeLessThan(a.startOrder.indexOf('s3'));
  });

  it('splits waves at maxParallel, from options first, then the plan', () => {
    const wide = [phase('1'), ...['2', '3', '4', '5', '6'].map((id) => phase(id, { dependsOn: ['1'] }))];
    expect(analyzePlan(parsed(wide), { ...base, maxParallel: 2 }).waves).toEqual([
      ['s1'],
      ['s2', 's3'],
      ['s4', 's5'],
      ['s6'],
    ]);
    expect(
      analyzePlan(parsed(wide, { settings: { maxParallel: 3 } }), base).waves.map((w) => w.length),
    ).toEqual([1, 3, 2]);
  });
});

describe('paths', () => {
  it('rejects paths outside the repository with their line', () => {
    const a = analyzePlan(
      parsed([
        phase('1', { files: [file('../other/x.ts', 12), file('/etc/passwd', 13), file('src/ok.ts', 14)] }),
      ]),
      base,
    );
    expect(a.diagnostics.map((d) => [d.code, d.line, d.severity])).toEqual([
      ['path-escapes-repo', 12, 'error'],
      ['path-escapes-repo', 13, 'error'],
    ]);
    expect(a.diagnostics[0]?.message).toBe(
      'plan.md:12: "../other/x.ts" is outside the repository; plan paths must be relative to the repository root',
    );
    expect(a.streams[0]?.files.map((f) => f.path)).toEqual(['src/ok.ts']);
  });

  it('knows which paths escape', () => {
    expect(escapesRepo('src/../lib/x.ts')).toBeNull();
    expect(escapesRepo('src/../../x.ts')).toBe('outside the repository');
    expect(escapesRepo('..')).toBe('outside the repository');
    expect(escapesRepo('C:\\work\\x.ts')).toBe('an absolute path');
    expect(escapesRepo('~/x.ts')).toBe('an absolute path');
  });

  it('expands globs and directories against the repository and warns about empty globs', () => {
    const repoFiles = [
      'app/models/user.py',
      'app/models/post.py',
      'app/api/users.py',
      'app/.hidden/x.py',
      'README.md',
    ];
    const a = analyzePlan(
      parsed([phase('1', { files: ['app/models/*.py', 'app/api/', 'app/.hidden', 'docs/*.md', 'NEW.md'] })]),
      { ...base, repoFiles, repo: '/repo' },
    );
    expect(a.streams[0]?.expandedFiles).toEqual([
      'NEW.md',
      'app/.hidden/x.py',
      'app/api/users.py',
      'app/models/post.py',
      'app/models/user.py',
    ]);
    expect(a.diagnostics.map((d) => [d.code, d.severity])).toEqual([['glob-matches-nothing', 'warning']]);
    expect(a.diagnostics[0]?.message).toContain('"docs/*.md" matches no file');
  });

  it('does not warn about a glob that matches a file the plan lists (it exists once that phase ran)', () => {
    const a = analyzePlan(
      parsed([
        phase('1', { files: ['src/models/user.ts'] }),
        phase('2', {
          files: ['test/users/user.test.ts', 'test/users/*.test.ts', 'src/models/*.ts', 'docs/*.md'],
        }),
      ]),
      { ...base, repoFiles: ['README.md'], repo: '/repo' },
    );
    expect(a.diagnostics.map((d) => d.message)).toEqual([
      expect.stringContaining('"docs/*.md" matches no file'),
    ]);
  });

  it('does not warn about globs without a repository', () => {
    const a = analyzePlan(parsed([phase('1', { files: ['src/**/*.ts'] })]), base);
    expect(a.diagnostics).toEqual([]);
    expect(a.streams[0]?.expandedFiles).toEqual([]);
  });
});

describe('conflicts', () => {
  it('serialises streams that share a file in document order, as a chain', () => {
    const a = analyzePlan(
      parsed([
        phase('1', { files: ['src/shared.ts', 'src/a.ts'] }),
        phase('2', { files: ['src/shared.ts'] }),
        phase('3', { files: ['src/shared.ts', 'src/a.ts'] }),
      ]),
      base,
    );
    expect(a.conflicts).toEqual([
      { path: 'src/a.ts', streams: ['s1', 's3'], resolution: 'serialised' },
      { path: 'src/shared.ts', streams: ['s1', 's2', 's3'], resolution: 'serialised' },
    ]);
    // s3 ← s1 first (from src/a.ts), then s2 ← s1 and s3 ← s2 for src/shared.ts.
    expect(a.streams.map((s) => s.implicitDependsOn)).toEqual([[], ['s1'], ['s1', 's2']]);
    expect(a.waves).toEqual([['s1'], ['s2'], ['s3']]);
  });

  it('adds no edge when a path already orders the streams, either way', () => {
    const a = analyzePlan(
      parsed([
        phase('1', { files: ['x.ts'], dependsOn: ['3'] }),
        phase('2', { files: ['y.ts'] }),
        phase('3', { files: ['x.ts'] }),
        phase('4', { files: ['y.ts'], dependsOn: ['5'] }),
        phase('5', { dependsOn: ['2'] }),
      ]),
      base,
    );
    expect(a.conflicts.map((c) => c.path)).toEqual(['x.ts', 'y.ts']);
    expect(a.streams.every((s) => s.implicitDependsOn.length === 0)).toBe(true);
  });

  it('finds a glob of one stream covering another stream’s new file', () => {
    const a = analyzePlan(
      parsed([phase('1', { files: ['src/models/*.py'] }), phase('2', { files: ['src/models/new.py'] })]),
      {
        ...base,
        repoFiles: ['src/models/user.py'],
      },
    );
    expect(a.conflicts).toEqual([
      { path: 'src/models/new.py', streams: ['s1', 's2'], resolution: 'serialised' },
    ]);
    expect(a.streams[1]?.implicitDependsOn).toEqual(['s1']);
  });

  it('treats equal globs as the same claim without a repository', () => {
    const a = analyzePlan(
      parsed([phase('1', { files: ['lib/*.ts'] }), phase('2', { files: ['lib/*.ts'] })]),
      base,
    );
    expect(a.conflicts.map((c) => [c.path, c.streams])).toEqual([['lib/*.ts', ['s1', 's2']]]);
  });

  it('only reports conflicts when serialising is off', () => {
    const a = analyzePlan(parsed([phase('1', { files: ['x.ts'] }), phase('2', { files: ['x.ts'] })]), {
      ...base,
      serialiseConflicts: false,
    });
    expect(a.conflicts).toEqual([{ path: 'x.ts', streams: ['s1', 's2'], resolution: 'reported' }]);
    expect(a.streams[1]?.implicitDependsOn).toEqual([]);
    expect(a.waves).toEqual([['s1', 's2']]);
    expect(a.diagnostics.map((d) => [d.code, d.line])).toEqual([['file-conflict', 20]]);
  });
});

describe('roles and models', () => {
  it('infers roles from files and honours hints', () => {
    const a = analyzePlan(
      parsed([
        phase('1', { title: 'Schema', files: ['alembic/versions/001_add_orders.py', 'db/seed.sql'] }),
        phase('2', { title: 'Endpoints', files: ['app/routers/orders.py'] }),
        phase('3', { title: 'Something', files: ['app/routers/x.py'], hints: { role: 'Testing' } }),
        phase('4', { title: 'Docs', files: ['README.md'] }),
      ]),
      base,
    );
    expect(a.streams.map((s) => s.role)).toEqual(['migration', 'api', 'testing', 'general']);
    expect(a.streams[2]?.roleReason).toBe('the plan says "Role: Testing"');
    expect(Object.keys(a.roles).sort()).toEqual(['api', 'general', 'migration', 'testing']);
  });

  it('warns about a role hint that names no role', () => {
    const a = analyzePlan(parsed([phase('1', { hints: { role: 'wizard' } })]), base);
    expect(a.diagnostics.map((d) => [d.code, d.severity, d.line])).toEqual([['unknown-role', 'warning', 10]]);
    expect(a.streams[0]?.role).toBe('general');
  });

  it('picks models: --model, then the phase, then the plan, then the role; inherit means the default', () => {
    const p = [
      phase('1', { files: ['tests/test_x.py'] }),
      phase('2', { files: ['app/api/x.py'], hints: { model: 'haiku' } }),
      phase('3', { files: ['README.md'] }),
    ];
    expect(analyzePlan(parsed(p), base).streams.map((s) => s.model)).toEqual(['sonnet', 'haiku', 'opus']);
    expect(
      analyzePlan(parsed(p, { settings: { model: 'sonnet' } }), base).streams.map((s) => s.model),
    ).toEqual(['sonnet', 'haiku', 'sonnet']);
    const forced = analyzePlan(parsed(p), { ...base, model: 'claude-opus-5' });
    expect(forced.streams.map((s) => s.model)).toEqual(['claude-opus-5', 'claude-opus-5', 'claude-opus-5']);
    expect(forced.estimate.model).toBe('claude-opus-5');
  });

  it('warns once per model the price table does not know', () => {
    const a = analyzePlan(parsed([phase('1'), phase('2')]), { ...base, model: 'mystery-1' });
    expect(a.diagnostics.map((d) => d.code)).toEqual(['unknown-price']);
    expect(a.estimate.costUsd).toBe(0);
  });
});

describe('split', () => {
  const mixed = phase('3', {
    title: 'Orders',
    files: [
      'app/models/order.py',
      'app/api/orders.py',
      'tests/test_orders.py',
      'app/models/line.py',
      'setup.cfg',
      'app/api/lines.py',
      'app/services/orders.py',
    ],
  });

  it('splits a phase with separate role areas into parallel streams with the same dependencies', () => {
    const a = analyzePlan(
      parsed([phase('1'), phase('2'), { ...mixed, dependsOn: ['1'] }, phase('4', { dependsOn: ['3'] })]),
      {
        ...base,
        split: true,
      },
    );
    expect(a.streams.map((s) => [s.id, s.phaseId, s.role, s.dependsOn])).toEqual([
      ['s1', '1', 'general', []],
      ['s2', '2', 'general', []],
      ['s3a', '3', 'models', ['s1']],
      ['s3b', '3', 'api', ['s1']],
      ['s4', '4', 'general', ['s3a', 's3b']],
    ]);
    // The lone service file is not an area of its own: it joins the first group with the test and config.
    expect(a.streams[2]?.files.map((f) => f.path)).toEqual([
      'app/models/order.py',
      'tests/test_orders.py',
      'app/models/line.py',
      'setup.cfg',
      'app/services/orders.py',
    ]);
    expect(a.streams[3]?.files.map((f) => f.path)).toEqual(['app/api/orders.py', 'app/api/lines.py']);
    expect(a.streams[3]?.title).toBe('Orders (api)');
    expect(a.waves).toEqual([['s1', 's2'], ['s3a', 's3b'], ['s4']]);
  });

  it('does not split without the option, a second area, or when the plan names the role', () => {
    expect(analyzePlan(parsed([mixed]), base).streams.map((s) => s.id)).toEqual(['s1']);
    const oneArea = phase('1', {
      files: ['app/api/a.py', 'app/api/b.py', 'app/models/a.py', 'tests/test_a.py'],
    });
    expect(analyzePlan(parsed([oneArea]), { ...base, split: true }).streams.map((s) => s.id)).toEqual(['s1']);
    const hinted = { ...mixed, hints: { role: 'api' } };
    expect(
      analyzePlan(parsed([hinted]), { ...base, split: true }).streams.map((s) => [s.id, s.role]),
    ).toEqual([['s1', 'api']]);
  });
});

describe('estimates and diagnostics', () => {
  it('estimates minutes per stream and simulates sequential, wave and dynamic wall time', () => {
    // s1: 2 files → 6 + 8 = 14; s2: no files → counts 1 → 10; s3: 1 file + 1 validation → 12; s4: 10
    const a = analyzePlan(
      parsed([
        phase('1', { files: ['a.ts', 'b.ts'] }),
        phase('2'),
        phase('3', { files: ['c.ts'], dependsOn: ['2'], validation: [{ command: 'npm test', line: 33 }] }),
        phase('4', { dependsOn: ['1'] }),
      ]),
      base,
    );
    expect(a.streams.map((s) => s.estimate.minutes)).toEqual([14, 10, 12, 10]);
    expect(a.estimate.minutes).toEqual({ sequential: 46, waves: 14 + 12, dynamic: 24 });
    expect(a.criticalPath).toEqual(['s1', 's4']);
    expect(a.estimate.inputTokens).toBe(a.streams.reduce((n, s) => n + s.estimate.inputTokens, 0));
    expect(a.estimate.costUsd).toBeGreaterThan(0);
    expect(a.estimate.method).toContain('dynamic');
  });

  it('merges parser diagnostics with its own, ordered by line', () => {
    const parserWarning = {
      severity: 'warning' as const,
      code: 'vague',
      message: 'plan.md:25: hmm',
      line: 25,
    };
    const parserInfo = { severity: 'info' as const, code: 'rule', message: 'sequential' };
    const a = analyzePlan(
      parsed([phase('1', { files: [file('../x', 11)] }), phase('2', { dependsOn: ['1', 'zz'] })], {}, [
        parserInfo,
        parserWarning,
      ]),
      base,
    );
    expect(a.diagnostics.map((d) => d.code)).toEqual([
      'path-escapes-repo',
      'unknown-dependency',
      'vague',
      'rule',
    ]);
  });
});
