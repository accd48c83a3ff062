/**
 * End to end: the built CLI's `analyze` and `init` on real temp git repositories, as a user runs them,
 * and the official corpus scorer (shared/plans/score.mjs) against the built CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/analyze/types.js';
import { cliPath, runCli } from '../helpers/cli.js';
import { initRepo, makeTempDir } from '../helpers/repo.js';
import { sharedPlansDir } from '../helpers/shared.js';

let tmp: { dir: string; cleanup: () => void };
let repo: string;

beforeEach(() => {
  tmp = makeTempDir('maestro-analyze-');
  repo = path.join(tmp.dir, 'repo');
  initRepo(repo, {
    'README.md': '# app\n',
    'app/models/user.py': 'class User: pass\n',
    'app/models/order.py': 'class Order: pass\n',
    'app/api/routes.py': 'routes = []\n',
  });
});
afterEach(() => {
  tmp.cleanup();
});

const PLAN = `# Orders

## Phase 1: Database migration
Files:
- \`migrations/001_orders.sql\` (create)

## Phase 2: Models
Depends on: Phase 1
Files:
- \`app/models/*.py\`

## Phase 3: API
Depends on: Phase 2
Files:
- \`app/api/routes.py\` (modify)
- \`app/api/orders.py\` (create)

## Phase 4: Tests
Depends on: Phase 2
Files:
- \`tests/test_orders.py\`
- \`app/api/routes.py\`
`;

describe('maestro analyze (built CLI, real git repo)', () => {
  it('prints one JSON document with phases, streams, waves, critical path, conflicts and estimates', async () => {
    writeFileSync(path.join(repo, 'plan.md'), PLAN);
    const r = await runCli(['analyze', 'plan.md', '--json', '--max-parallel', '2'], repo);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout) as Analysis;
    expect(a.plan.dependencyRule).toBe('explicit');
    expect(a.plan.phases.map((p) => [p.id, p.title, p.line, p.dependsOn])).toEqual([
      ['1', 'Database migration', 3, []],
      ['2', 'Models', 7, ['1']],
      ['3', 'API', 12, ['2']],
      ['4', 'Tests', 18, ['2']],
    ]);
    expect(a.plan.phases[0]?.files).toEqual([
      { path: 'migrations/001_orders.sql', action: 'create', glob: false, line: 5 },
    ]);
    expect(a.streams.map((s) => [s.id, s.role])).toEqual([
      ['s1', 'migration'],
      ['s2', 'models'],
      ['s3', 'api'],
      ['s4', 'testing'],
    ]);
    // The glob is expanded against the repository.
    expect(a.streams[1]?.expandedFiles).toEqual(
      expect.arrayContaining(['app/models/user.py', 'app/models/order.py']),
    );
    // app/api/routes.py is claimed by phases 3 and 4: a conflict, serialised by an implicit edge.
    expect(a.conflicts).toEqual([
      { path: 'app/api/routes.py', streams: ['s3', 's4'], resolution: 'serialised' },
    ]);
    expect(a.streams[3]?.implicitDependsOn).toEqual(['s3']);
    expect(a.waves.every((w) => w.length <= 2)).toBe(true);
    expect(a.waves.flat().sort()).toEqual(['s1', 's2', 's3', 's4']);
    expect(a.criticalPath[0]).toBe('s1');
    expect(a.estimate.costUsd).toBeGreaterThan(0);
    expect(a.estimate.minutes.dynamic).toBeLessThanOrEqual(a.estimate.minutes.sequential);
  });

  it('prints a readable summary by default', async () => {
    writeFileSync(path.join(repo, 'plan.md'), PLAN);
    const r = await runCli(['analyze', 'plan.md'], repo);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 phases → 4 streams/);
    expect(r.stdout).toMatch(/s3\s+API\s+\[api, 2 files\]/);
    expect(r.stdout).toMatch(/Critical path: s1 Database migration → s2 Models/);
    expect(r.stdout).toMatch(/app\/api\/routes\.py: s3, s4 \(serialised in plan order\)/);
    expect(r.stdout).toMatch(/Estimate \(/);
  });

  it('exits 1 with file:line diagnostics for cycles, unknown references and paths escaping the repo', async () => {
    writeFileSync(
      path.join(repo, 'bad.md'),
      '# Bad\n\n## Phase 1: A\nDepends on: Phase 2\nFiles: `../outside.txt`\n\n## Phase 2: B\nDepends on: Phase 1\n\n## Phase 3: C\nDepends on: Phase 9\n',
    );
    const r = await runCli(['analyze', 'bad.md', '--json'], repo);
    expect(r.code).toBe(1);
    const a = JSON.parse(r.stdout) as Analysis;
    const byCode = new Map(a.diagnostics.map((d) => [d.code, d]));
    expect(byCode.get('cycle')?.message).toMatch(
      /bad\.md:3: phases form a cycle: Phase 1 → Phase 2 → Phase 1; remove one/,
    );
    expect(byCode.get('unknown-dependency')?.line).toBe(11);
    expect(byCode.get('path-escapes-repo')?.line).toBe(5);
    const text = await runCli(['analyze', 'bad.md'], repo);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/error\[cycle\]: bad\.md:\d+:/);
    expect(text.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('exits 2 with a way forward for a missing plan, a directory or a bad flag', async () => {
    const missing = await runCli(['analyze', 'nope.md'], repo);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file.*maestro init/);
    const dir = await runCli(['analyze', '.'], repo);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toMatch(/is a directory/);
    writeFileSync(path.join(repo, 'plan.md'), PLAN);
    const flag = await runCli(['analyze', 'plan.md', '--max-parallel', 'zero'], repo);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--max-parallel expects a positive whole number/);
  });

  it('ends quietly when the reader closes the pipe early (maestro analyze --json | head)', async () => {
    const phases = Array.from(
      { length: 300 },
      (_, i) => `## Phase ${i + 1}: Part ${i + 1}\nFiles: \`src/p${i + 1}.ts\`\n`,
    );
    writeFileSync(path.join(repo, 'big.md'), `# Big\n\n${phases.join('\n')}`);
    const child = spawn(process.execPath, [cliPath, 'analyze', 'big.md', '--json'], { cwd: repo });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Read one chunk, then close our end, as `head` does.
    child.stdout.once('data', () => {
      child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(code).toBe(0);
  });

  it('init writes an example plan that analyses cleanly and refuses to overwrite it', async () => {
    const first = await runCli(['init'], repo);
    expect(first.code).toBe(0);
    expect(existsSync(path.join(repo, 'plan.md'))).toBe(true);
    const again = await runCli(['init'], repo);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    const r = await runCli(['analyze', 'plan.md', '--json'], repo);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout) as Analysis;
    expect(a.plan.phases.length).toBe(5);
    expect(a.plan.criticalFixes.length).toBeGreaterThanOrEqual(3);
    expect(a.plan.phases.some((p) => p.validation.length > 0)).toBe(true);
    expect(a.plan.phases[0]?.hints.model).toBe('sonnet');
    expect(a.maxParallel).toBe(4); // from the front matter
    expect(readFileSync(path.join(repo, 'plan.md'), 'utf8')).toMatch(/maestro analyze plan\.md/);
  });
});

describe('the corpus scorer against the built CLI', () => {
  it('meets the bar on ../shared/plans (phase count 90%, dependency F1 0.9, file F1 0.9)', () => {
    const plans = sharedPlansDir();
    expect(plans, 'shared/plans not found: set MAESTRO_SHARED_DIR').not.toBeNull();
    if (plans === null) return;
    const r = spawnSync(
      process.execPath,
      [path.join(plans, 'score.mjs'), cliPath, plans, path.join(plans, 'GROUND_TRUTH.json')],
      { encoding: 'utf8', timeout: 300_000 },
    );
    console.log(r.stdout.trim());
    expect(r.stdout).toMatch(/phase count exact \d+%/);
    expect(r.status).toBe(0);
  }, 300_000);
});
