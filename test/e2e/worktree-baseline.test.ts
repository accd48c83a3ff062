/**
 * End to end: what happens before agents run. The baseline gate stops a run whose validation fails
 * on the base commit itself; a failing setup fails its stream (code `setup`) without running or
 * retrying the agent; a detected setup tool that is missing is reported before anything starts;
 * teardown runs in every worktree `clean` removes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installStandInAgent } from '../helpers/agent.js';
import { commandRunArgs, runCli } from '../helpers/cli.js';
import { planMarkdown, repoWithPlan } from '../helpers/plan.js';
import { latestJournal } from '../helpers/projects.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function project(files?: Record<string, string>): {
  repo: string;
  plan: string;
  args: string[];
  dir: string;
} {
  const { dir, repo, plan } = repoWithPlan(
    cleanups,
    'maestro-base-',
    planMarkdown('Two phases', [
      { title: 'One', files: ['one.txt'] },
      { title: 'Two', deps: [1], files: ['two.txt'] },
    ]),
    files,
  );
  const agent = installStandInAgent(dir);
  return {
    repo,
    plan,
    dir,
    args: commandRunArgs(plan, repo, agent.command),
  };
}

describe('before any agent starts', () => {
  it('a validation command failing on the base commit stops the run before any agent; --skip-baseline goes on', async () => {
    const p = project();
    const gate = 'echo "base is broken: 3 tests fail" >&2; exit 3';
    const r = await runCli([...p.args, '--validate', gate], p.repo);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('your validation command fails on the base commit itself');
    expect(r.stderr).toContain('base is broken: 3 tests fail');
    expect(r.stderr).toContain('--skip-baseline');
    const events = latestJournal(p.repo);
    expect(events.filter((e) => e.type === 'stream-started')).toEqual([]);
    expect(events.find((e) => e.type === 'baseline' && e.phase === 'failed')?.exitCode).toBe(3);
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', status: 'failed' });
    expect(existsSync(path.join(p.dir, 'timeline.jsonl'))).toBe(false);

    const skipped = await runCli([...p.args, '--validate', gate, '--skip-baseline'], p.repo);
    expect(skipped.code).not.toBe(0);
    const again = latestJournal(p.repo);
    expect(again.filter((e) => e.type === 'baseline')).toEqual([]);
    expect(again.filter((e) => e.type === 'stream-started').length).toBeGreaterThan(0);
  });

  it('a failing setup fails its stream with code setup, shows the output and does not run or retry the agent', async () => {
    const p = project();
    const r = await runCli(
      [...p.args, '--setup', 'echo "cannot install: the registry said 503" >&2; exit 7', '--retries', '2'],
      p.repo,
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('setup');
    expect(r.stdout).toContain('cannot install: the registry said 503');
    const events = latestJournal(p.repo);
    const failed = events.find((e) => e.type === 'stream-failed');
    expect(failed).toMatchObject({ streamId: 's1', code: 'setup' });
    expect(events.filter((e) => e.type === 'stream-retry')).toEqual([]);
    expect(events.find((e) => e.type === 'stream-skipped')?.streamId).toBe('s2');
    expect(existsSync(path.join(p.dir, 'timeline.jsonl'))).toBe(false);
    // Its output went to the stream's log too.
    const runDir = path.join(p.repo, '.maestro', 'runs', String(events[0]?.runId));
    expect(readFileSync(path.join(runDir, 'streams', 's1', 'agent.log'), 'utf8')).toContain(
      'the registry said 503',
    );
  });

  it('a detected setup tool that is not installed is reported before anything starts', async () => {
    const p = project({ 'README.md': '# php\n', 'composer.json': '{}\n', 'composer.lock': '{}\n' });
    const r = await runCli(p.args, p.repo, { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('composer (for composer.lock) is not on PATH');
    expect(existsSync(path.join(p.repo, '.maestro', 'runs'))).toBe(false);
  });

  it('setup keeps the user environment (a registry token); teardown runs in each worktree clean removes', async () => {
    const p = project();
    const log = path.join(p.dir, 'teardown.log');
    const r = await runCli(
      [
        ...p.args,
        // Agents never see NPM_TOKEN; the user's own setup (npm ci from a private registry) needs it.
        '--setup',
        'test "$NPM_TOKEN" = tok-for-the-registry',
        '--teardown',
        `echo "$MAESTRO_STREAM_ID $MAESTRO_WORKTREE $MAESTRO_PORT" >> '${log}'`,
      ],
      p.repo,
      { NPM_TOKEN: 'tok-for-the-registry' },
    );
    expect(r.code, r.stderr).toBe(0);
    const worktrees = new Set(
      latestJournal(p.repo)
        .filter((e) => e.type === 'stream-started')
        .map((e) => String(e.worktree)),
    );
    const cleaned = await runCli(['clean', '--repo', p.repo], p.repo);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // Each stream slot and the integration worktree, each with a port.
    for (const w of worktrees) expect(lines.some((l) => l.includes(` ${w} `))).toBe(true);
    expect(lines.some((l) => l.startsWith('_integration '))).toBe(true);
    for (const l of lines) expect(l).toMatch(/ \d{4,5}$/);
  });
});
