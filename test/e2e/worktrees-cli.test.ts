/**
 * End to end: where worktrees live and what `analyze` says about a worktree's environment, with
 * the built CLI on real temp repositories and the stand-in agent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installStandInAgent } from '../helpers/agent.js';
import { commandRunArgs, runCli } from '../helpers/cli.js';
import { planMarkdown, repoWithPlan } from '../helpers/plan.js';
import { dirtyUserCheckout, gitSync, initRepo, makeTempDir } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function journal(repo: string): { type: string; [key: string]: unknown }[] {
  const runs = path.join(repo, '.maestro', 'runs');
  const id = execFileSync('ls', [runs], { encoding: 'utf8' }).trim().split('\n').sort().at(-1) ?? '';
  return readFileSync(path.join(runs, id, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string });
}

describe('worktrees outside the checkout', () => {
  it('puts every worktree under $XDG_CACHE_HOME/maestro, where no tool of the user walks; clean removes them', async () => {
    const { dir, repo, plan } = repoWithPlan(
      cleanups,
      'maestro-wt-',
      planMarkdown('Two phases', [
        { title: 'One', files: ['one.txt'] },
        { title: 'Two', deps: [1], files: ['two.txt'] },
      ]),
    );
    const verify = dirtyUserCheckout(repo);
    const agent = installStandInAgent(dir);
    const r = await runCli(commandRunArgs(plan, repo, agent.command, { noLive: false }), repo);
    expect(r.code, r.stderr).toBe(0);
    const cache = process.env.XDG_CACHE_HOME ?? '';
    expect(cache).not.toBe('');
    const worktrees = journal(repo)
      .filter((e) => e.type === 'stream-started')
      .map((e) => String(e.worktree));
    expect(worktrees).toHaveLength(2);
    for (const w of worktrees) expect(w.startsWith(path.join(cache, 'maestro') + path.sep)).toBe(true);
    // The user's `find` sees one repository and no worktree (a worktree has a `.git` file).
    const found = execFileSync('find', [repo, '-name', '.git'], { encoding: 'utf8' }).trim().split('\n');
    expect(found).toEqual([path.join(repo, '.git')]);
    for (const line of gitSync(repo, ['worktree', 'list', '--porcelain']).split('\n')) {
      if (line.startsWith('worktree ') && line !== `worktree ${repo}`)
        expect(line.startsWith(`worktree ${repo}/`)).toBe(false);
    }
    verify();
    const cleaned = await runCli(['clean', '--repo', repo], repo);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    for (const w of worktrees) expect(existsSync(w)).toBe(false);
  });

  it('analyze shows the detected setup and the lockfile a manifest implies', async () => {
    const tmp = makeTempDir('maestro-wt-');
    cleanups.push(tmp.cleanup);
    const repo = path.join(tmp.dir, 'repo');
    initRepo(repo, {
      'package.json': '{ "name": "app", "version": "1.0.0" }\n',
      'package-lock.json': '{ "name": "app", "lockfileVersion": 3, "packages": {} }\n',
      '.gitignore': '.env\n',
      '.worktreeinclude': '.env\n',
    });
    writeFileSync(path.join(repo, '.env'), 'SECRET=1\n');
    const plan = path.join(repo, 'plan.md');
    writeFileSync(
      plan,
      planMarkdown('Deps', [{ title: 'Add a dependency', files: ['package.json', 'src/a.js'] }]),
    );
    const r = await runCli(['analyze', plan], repo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'setup: npm ci --prefer-offline --no-audit --no-fund (detected from package-lock.json)',
    );
    expect(r.stdout).toContain('implied: package-lock.json (with package.json)');
    expect(r.stdout).toContain('.worktreeinclude: copies .env into each worktree');
    writeFileSync(path.join(repo, 'maestro.config.json'), '{ "setup": [] }\n');
    const off = await runCli(['analyze', plan], repo);
    expect(off.stdout).toContain('setup: none (turned off in maestro.config)');
  });
});
