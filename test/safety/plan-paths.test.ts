/**
 * Finding 11: plan paths that must be refused (under `.git/` or `.maestro/`, `.`, a directory, a
 * symlink resolving outside the repository) are errors with the plan's line, and the run refuses the
 * plan; the user's checkout is untouched byte for byte.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { dirtyUserCheckout, initRepo, makeTempDir } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

interface Diag {
  severity: string;
  code: string;
  line?: number;
  message: string;
}

describe('plan paths that must be refused', () => {
  it('refuses .git/, .maestro/, ".", directories and symlinks out of the repository, with lines', async () => {
    const tmp = makeTempDir('maestro-paths-');
    cleanups.push(tmp.cleanup);
    const repo = path.join(tmp.dir, 'repo');
    const outside = path.join(tmp.dir, 'outside');
    mkdirSync(outside);
    initRepo(repo, { 'README.md': '# r\n', 'src/lib.ts/index.ts': 'x\n' });
    symlinkSync(outside, path.join(repo, 'link'));
    const plan = path.join(tmp.dir, 'plan.md');
    writeFileSync(
      plan,
      [
        '---',
        'phases:',
        '  - id: 5',
        '    files: [.]',
        '---',
        '# Plan',
        '',
        '## Phase 1: Hooks',
        '',
        'Files: `.git/hooks/pre-commit.sh`',
        '',
        '## Phase 2: State',
        '',
        'Files: `.maestro/runs/x.json`',
        '',
        '## Phase 3: Dir',
        '',
        'Files: `src/lib.ts`',
        '',
        '## Phase 4: Link',
        '',
        'Files: `link/evil.ts`',
        '',
        '## Phase 5: Everything',
        '',
        'Files: `ok.ts`',
        '',
      ].join('\n'),
    );
    const verify = dirtyUserCheckout(repo);
    const r = await runCli(['analyze', plan, '--repo', repo, '--json'], repo);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    const diagnostics = (JSON.parse(r.stdout) as { diagnostics: Diag[] }).diagnostics.filter(
      (d) => d.severity === 'error',
    );
    const byCode = (code: string) => diagnostics.filter((d) => d.code === code);
    expect(
      byCode('path-reserved').map((d) => [d.line, /\.git\/|\.maestro\/|whole repository/.test(d.message)]),
    ).toEqual(
      expect.arrayContaining([
        [10, true],
        [14, true],
      ]),
    );
    expect(byCode('path-reserved').some((d) => d.message.includes('the whole repository'))).toBe(true);
    const refused = byCode('path-refused');
    expect(refused.find((d) => d.line === 18)?.message).toMatch(/a directory/);
    expect(refused.find((d) => d.line === 22)?.message).toMatch(/symlink `link`.*outside the repository/);
    // A plan with these errors is not run.
    const run = await runCli(['run', plan, '--repo', repo, '--agent', 'demo', '--yes'], repo);
    expect(run.code).toBe(1);
    expect(run.stderr + run.stdout).toMatch(/plan\.md:10/);
    verify();
  });

  it('analyses a plan with a 1 MB heading line', async () => {
    const tmp = makeTempDir('maestro-paths-');
    cleanups.push(tmp.cleanup);
    const plan = path.join(tmp.dir, 'plan.md');
    writeFileSync(plan, `# Plan\n\n## Phase 1: ${'a'.repeat(1_000_000)}\n\nFiles: \`a.ts\`\n`);
    const r = await runCli(['analyze', plan, '--json'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { streams: { files: { path: string }[] }[] }).streams[0]?.files).toEqual([
      expect.objectContaining({ path: 'a.ts' }),
    ]);
  });
});
