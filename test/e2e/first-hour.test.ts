/**
 * End-to-end: what a new user trips over in the first hour — retrying failed streams, resume picking
 * the right run, clean deleting stream branches, --agent-command from the current directory, and
 * the messages for an empty repository and a failed gate.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pause } from '../../src/cli/watch.js';
import { failureExcerpt } from '../../src/run/validate.js';
import { installStandInAgent } from '../helpers/agent.js';
import { commandRunArgs, runCli } from '../helpers/cli.js';
import { planMarkdown } from '../helpers/plan.js';
import { gitSync, initRepo, makeTempDir } from '../helpers/repo.js';
import { getEventListeners } from 'node:events';
import type { Analysis } from '../../src/analyze/types.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempRoot(): string {
  const tmp = makeTempDir('maestro-first-hour-');
  cleanups.push(tmp.cleanup);
  return tmp.dir;
}

describe('maestro retry and resume', () => {
  it('retries the failed stream and its skipped dependant on the same branch, keeping what merged', async () => {
    const root = tempRoot();
    const repo = path.join(root, 'repo');
    initRepo(repo);
    const fixed = path.join(root, 'fixed');
    // Phase 2's gate fails until the user "fixes the cause" (the marker file).
    const plan = path.join(root, 'plan.md');
    writeFileSync(
      plan,
      planMarkdown('Retry plan', [
        { title: 'Base', files: ['base.txt'] },
        {
          title: 'Flaky',
          files: ['flaky.txt'],
          validation: [`test -f '${fixed}' || { echo 'Error: Cannot find module fixed'; exit 1; }`],
        },
        { title: 'After', deps: [2], files: ['after.txt'] },
      ]),
    );
    const agent = installStandInAgent(root);
    const first = await runCli(
      [...commandRunArgs(plan, repo, agent.command, { noLive: false, retries: 0 }), '--json'],
      repo,
    );
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toContain('maestro retry');
    const status = JSON.parse((await runCli(['status', '--json', '--repo', repo], repo)).stdout) as {
      runId: string;
      integrationBranch: string;
      streams: Record<
        string,
        { status: string; error: { command?: string; exitCode?: number; output?: string } | null }
      >;
    };
    const byTitle = (t: string) => agent.idOf(t);
    const flaky = byTitle('Flaky');
    expect(status.streams[flaky]?.status).toBe('failed');
    // status --json's error names the command, its exit code and the line that matters.
    expect(status.streams[flaky]?.error).toMatchObject({ exitCode: 1 });
    expect(status.streams[flaky]?.error?.command).toContain(fixed);
    expect(status.streams[flaky]?.error?.output).toContain('Cannot find module fixed');
    // Which stream was skipped: the dependant of the failed one, nothing else.
    const skipped = Object.entries(status.streams)
      .filter(([, s]) => s.status === 'skipped')
      .map(([id]) => id);
    expect(skipped).toHaveLength(1);
    const baseId = byTitle('Base');
    const baseMerge = gitSync(repo, ['rev-parse', status.integrationBranch]);

    // resume does not pretend: a failed run is pointed at retry.
    const resumed = await runCli(['resume', status.runId, '--repo', repo], repo);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(`maestro retry ${status.runId}`);

    writeFileSync(fixed, '');
    const retried = await runCli(['retry', '--repo', repo, '--no-live'], repo);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain(`Retrying run ${status.runId} (failed`);
    const after = JSON.parse(
      (await runCli(['status', '--json', '--repo', repo, status.runId], repo)).stdout,
    ) as {
      status: string;
      streams: Record<string, { status: string }>;
    };
    expect(after.status).toBe('completed');
    expect(Object.values(after.streams).map((s) => s.status)).toEqual(['merged', 'merged', 'merged']);
    // The skipped stream was After (it has run now), and only After.
    expect(skipped).toEqual([byTitle('After')]);
    // Base merged once and ran once: its work was kept, not redone.
    expect(agent.timeline().filter((e) => e.stream === baseId && e.event === 'start')).toHaveLength(1);
    expect(gitSync(repo, ['merge-base', '--is-ancestor', baseMerge, status.integrationBranch])).toBe('');
    const merges = gitSync(repo, ['log', '--merges', '--format=%s', status.integrationBranch]).split('\n');
    expect(merges.filter((m) => m.includes(`merge ${baseId} `))).toHaveLength(1);
  });

  it('resume with no id does not pick a failed run; it points at retry', async () => {
    const root = tempRoot();
    const repo = path.join(root, 'repo');
    initRepo(repo);
    const agent = installStandInAgent(root, { '*': { exit: 3 } });
    const plan = path.join(root, 'plan.md');
    writeFileSync(plan, planMarkdown('P', [{ title: 'One', files: ['one.txt'] }]));
    const failed = await runCli(commandRunArgs(plan, repo, agent.command), repo);
    expect(failed.code).toBe(1);
    const none = await runCli(['resume', '--repo', repo], repo);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('maestro retry RUN');
  });
});

describe('maestro abort', () => {
  it('marks a crashed run aborted in its journal and state.json, and resume then refuses it', async () => {
    const root = tempRoot();
    const repo = path.join(root, 'repo');
    initRepo(repo);
    const agent = installStandInAgent(root);
    const plan = path.join(root, 'plan.md');
    writeFileSync(plan, planMarkdown('P', [{ title: 'One', files: ['one.txt'] }]));
    // Killed (SIGKILL) right after its first journal line (run-started), before any agent: no process is left to record anything.
    const crashed = await runCli(commandRunArgs(plan, repo, agent.command), repo, {
      MAESTRO_CRASH_AFTER_EVENTS: '1',
    });
    expect(crashed.signal).toBe('SIGKILL');
    const aborted = await runCli(['abort', '--repo', repo], repo);
    expect(aborted.code, aborted.stderr).toBe(0);
    const runId = readdirSync(path.join(repo, '.maestro', 'runs'))[0] ?? '';
    const dir = path.join(repo, '.maestro', 'runs', runId);
    const last = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').at(-1) ?? '{}';
    expect(JSON.parse(last)).toMatchObject({ type: 'run-finished', status: 'aborted' });
    expect(JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8'))).toMatchObject({
      status: 'aborted',
    });
    const resumed = await runCli(['resume', runId, '--repo', repo], repo);
    expect(resumed.code).not.toBe(0);
    expect(resumed.stderr).toContain('aborted');
  });
});

describe('maestro clean', () => {
  it('deletes the stream branches (refs checked), and the integration branch with --branches', async () => {
    const root = tempRoot();
    const repo = path.join(root, 'repo');
    initRepo(repo);
    const agent = installStandInAgent(root);
    const plan = path.join(root, 'plan.md');
    writeFileSync(
      plan,
      planMarkdown('P', [
        { title: 'One', files: ['one.txt'] },
        { title: 'Two', files: ['two.txt'] },
      ]),
    );
    const run = await runCli(commandRunArgs(plan, repo, agent.command), repo);
    expect(run.code, run.stderr).toBe(0);
    const refs = () =>
      gitSync(repo, ['for-each-ref', '--format=%(refname)', 'refs/heads/maestro/'])
        .split('\n')
        .filter((r) => r !== '');
    expect(refs().filter((r) => r.includes('--'))).toHaveLength(2);
    const clean = await runCli(['clean', '--repo', repo], repo);
    expect(clean.code, clean.stderr).toBe(0);
    expect(refs().filter((r) => r.includes('--'))).toEqual([]);
    expect(refs()).toHaveLength(1); // the integration branch is kept without --branches
    await runCli(['clean', '--repo', repo, '--branches'], repo);
    expect(refs()).toEqual([]);
  });
});

describe('--agent-command and messages', () => {
  it('runs ./my-agent.sh from the current directory, and says where it looked when it is missing', async () => {
    const root = tempRoot();
    const repo = path.join(root, 'repo');
    initRepo(repo);
    const plan = path.join(root, 'plan.md');
    writeFileSync(plan, planMarkdown('P', [{ title: 'One', files: ['one.txt'] }]));
    // Not committed: it exists only in the user's checkout, not in the stream's worktree.
    const script = path.join(repo, 'my-agent.sh');
    writeFileSync(script, '#!/bin/sh\necho hi > one.txt\necho done > "$MAESTRO_REPORT_FILE"\n');
    chmodSync(script, 0o755);
    const ok = await runCli(
      ['run', plan, '--agent', 'command', '--agent-command', './my-agent.sh', '--yes', '--no-live'],
      repo,
    );
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await runCli(
      ['run', plan, '--agent', 'command', '--agent-command', './nope.sh --x', '--yes'],
      repo,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`looked at ${path.join(repo, 'nope.sh')}`);
    expect(missing.stderr).not.toContain('    at '); // no stack trace
  });

  it('says a repository has no commits yet instead of blaming --base', async () => {
    const root = tempRoot();
    const repo = path.join(root, 'empty');
    gitSync(root, ['init', '-q', '-b', 'main', repo]);
    const plan = path.join(root, 'plan.md');
    writeFileSync(plan, planMarkdown('P', [{ title: 'One', files: ['one.txt'] }]));
    const r = await runCli(['run', plan, '--repo', repo, '--agent', 'demo', '--yes'], repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no commits yet');
    expect(r.stderr).not.toContain('--base');
    expect(existsSync(path.join(repo, '.maestro', 'runs'))).toBe(false);
  });
});

describe("maestro init's example in a brand-new repository", () => {
  it('analyses without a warning, shows every construct, and runs green with the demo agent', async () => {
    const root = tempRoot();
    const repo = path.join(root, 'new-project');
    // What a new user does: git init, maestro init, commit, run.
    gitSync(root, ['init', '-q', '-b', 'main', repo]);
    const init = await runCli(['init'], repo);
    expect(init.code, init.stderr).toBe(0);
    const analysed = await runCli(['analyze', 'plan.md', '--json'], repo);
    expect(analysed.code, analysed.stderr).toBe(0);
    const a = JSON.parse(analysed.stdout) as Analysis;
    expect(a.diagnostics).toEqual([]);
    // Every construct is still there.
    expect(a.maxParallel).toBe(4); // front matter
    expect(a.plan.title).toBe('Plan: user accounts');
    // The `# Plan: …` title is printed once, not as "Plan: Plan: …".
    const text = await runCli(['analyze', 'plan.md'], repo);
    expect(text.stdout.split('\n')[0]).toBe('Plan: user accounts (plan.md)');
    expect(a.dependencyRule).toBe('explicit');
    expect(a.plan.phases.map((p) => p.dependsOn)).toEqual([[], ['1'], ['2'], ['3'], ['2']]);
    expect(a.plan.phases[0]?.hints).toMatchObject({ role: 'migration', model: 'sonnet' });
    expect(a.plan.criticalFixes.length).toBeGreaterThanOrEqual(3);
    expect(a.plan.phases[1]?.criticalFixes.length).toBeGreaterThan(0); // the inline `Critical:`
    expect(a.plan.phases.filter((p) => p.validation.length > 0).map((p) => p.id)).toEqual(['1', '5']);
    expect(a.plan.phases.flatMap((p) => p.files.filter((f) => f.glob).map((f) => f.path))).toEqual([
      'test/users/*.test.ts',
    ]);
    expect(a.plan.phases[1]?.files.map((f) => f.path)).toEqual([
      'src/models/user.ts',
      'src/validation/user.ts',
    ]);
    const owned = a.streams.flatMap((s) => s.files);
    expect(owned).not.toContain('docs/architecture.md'); // context only
    expect(a.plan.phases.map((p) => p.title)).not.toContain('Risks');

    gitSync(repo, ['add', '-A']);
    gitSync(repo, ['commit', '-q', '-m', 'Add the plan']);
    const run = await runCli(['run', 'plan.md', '--agent', 'demo', '--yes', '--no-live'], repo);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('Plan: user accounts — 5 streams');
    expect(run.stdout).not.toContain('Plan: Plan:');
    const status = JSON.parse((await runCli(['status', '--json'], repo)).stdout) as {
      status: string;
      integrationBranch: string;
      streams: Record<string, { status: string }>;
    };
    expect(status.status).toBe('completed');
    expect(Object.values(status.streams).map((s) => s.status)).toEqual(Array(5).fill('merged'));
    const files = gitSync(repo, ['ls-tree', '-r', '--name-only', status.integrationBranch]).split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'db/migrations/0003_users.sql',
        'src/api/router.ts',
        'src/services/passwords.ts',
        'test/users/user.test.ts',
      ]),
    );
  });
});

describe('npm run demo', () => {
  const demo = (tmp: string, args: readonly string[]) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [fileURLToPath(new URL('../../scripts/demo.mjs', import.meta.url)), ...args],
        // Its repository goes under TMPDIR: a directory of the test's own, to see what is left there.
        { env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout) => {
          resolve({ code: error === null ? 0 : ((error.code as number | undefined) ?? 1), stdout });
        },
      );
    });

  it('removes its repository and then prints no path, report or command into it', async () => {
    const tmp = tempRoot();
    const r = await demo(tmp, []);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('Landed: main fast-forwarded');
    expect(readdirSync(tmp)).toEqual([]);
    expect(r.stdout).not.toContain(tmp);
    expect(r.stdout).not.toMatch(/^(Report|Take the result|Integration branch): /m);
    expect(r.stdout).toContain('npm run demo -- --keep');
  }, 180_000);

  it('with --keep keeps the repository, says where, and what it prints points at files that exist', async () => {
    const tmp = tempRoot();
    const r = await demo(tmp, ['--keep']);
    expect(r.code, r.stdout).toBe(0);
    const kept = /^Kept the demo repository: (.+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(readdirSync(tmp).map((d) => path.join(tmp, d))).toEqual([kept]);
    const report = /^Report: (.+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(report.startsWith(kept)).toBe(true);
    expect(existsSync(report)).toBe(true);
    // --land took the result already: no "take the result" command beside "Landed".
    expect(r.stdout).toContain('Landed: main fast-forwarded');
    expect(r.stdout).not.toContain('Take the result');
    const integration = /^Integration branch: (.+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(gitSync(kept, ['rev-parse', 'main'])).toBe(gitSync(kept, ['rev-parse', integration]));
  }, 180_000);
});

describe('small pieces', () => {
  it('run prints each plan error once, with its location once', async () => {
    const root = tempRoot();
    const repo = path.join(root, 'repo');
    initRepo(repo);
    writeFileSync(
      path.join(repo, 'plan.md'),
      '# P\n\n## Phase 1: A\n\nDepends on: Phase 9\n\nFiles: `a.txt`\n\n## Phase 2: B\n\nFiles: `../x.txt`\n',
    );
    const r = await runCli(['run', 'plan.md', '--agent', 'demo', '--yes'], repo);
    expect(r.code).toBe(1);
    const plan = path.join(repo, 'plan.md');
    expect(r.stderr).toContain(`\n${plan}:5: dependency on unknown Phase 9`);
    expect(r.stderr).toContain(`\n${plan}:11: "../x.txt" is outside the repository`);
    expect(r.stderr).not.toMatch(/(\S+:\d+: )\1/);
  });

  it('maestro init docs/plan.md creates the folder', async () => {
    const root = tempRoot();
    const r = await runCli(['init', 'docs/plan.md'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(root, 'docs', 'plan.md'))).toBe(true);
  });

  it('keeps the first error lines of a gate failure as well as the tail', () => {
    const output = [
      'node:internal/modules/cjs/loader:1228',
      "Error: Cannot find module 'left-pad'",
      ...Array.from({ length: 60 }, (_, i) => `    at frame ${String(i)}`),
    ].join('\n');
    const excerpt = failureExcerpt(output);
    expect(excerpt).toContain("Cannot find module 'left-pad'");
    expect(excerpt).toContain('at frame 59');
    expect(excerpt).toMatch(/more lines/);
  });

  it('run --help and the README name the same default agent, in the order the CLI picks it', async () => {
    const help = (await runCli(['run', '--help'], tempRoot())).stdout.replace(/\s+/g, ' ');
    const order = /else the first of (\w+), (\w+), (\w+) on PATH/.exec(help)?.slice(1);
    expect(order).toEqual(['claude', 'codex', 'gemini']);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('default: the first of claude, codex, gemini on PATH');
    expect(readme).toContain(
      'the default is `claude` when `claude` is\non PATH, else `codex`, else `gemini`',
    );
    expect(readme).not.toMatch(/Claude Code by default/);
  });

  it('status --watch polling leaves no abort listener behind', async () => {
    const stop = new AbortController();
    for (let i = 0; i < 20; i++) await pause(1, stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});
