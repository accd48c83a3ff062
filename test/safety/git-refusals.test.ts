/**
 * Finding 10: git refusals are values. A `reference-transaction` hook in the user's repository that
 * refuses Maestro's ref updates, and a stale `index.lock` an agent leaves behind, end with a clear message
 * under a stable code and what to do (or, for a lock in the stream's own worktree once nothing of the
 * attempt runs, with Maestro removing it and saying so) — never a stack trace or a raw GitError as
 * `internal-error` — and the user's checkout is byte-identical.
 */
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { badAgentFixture, ownWork, runStatus, stackTraceLine } from '../helpers/bad-agent.js';
import { runCli } from '../helpers/cli.js';
import { gitSync } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A reference-transaction hook that refuses the transaction (in its `prepared` state) when `refuses` holds for a line. */
function refusingHook(repo: string, refuses: string): void {
  const hook = path.join(repo, '.git', 'hooks', 'reference-transaction');
  writeFileSync(
    hook,
    `#!/bin/sh\n[ "$1" = prepared ] || exit 0\nwhile read old new ref; do\n  if ${refuses}; then echo "policy: $ref may not change here" >&2; exit 1; fi\ndone\nexit 0\n`,
  );
  chmodSync(hook, 0o755);
}

const zero = '0000000000000000000000000000000000000000';

describe('git refusals', () => {
  it('a reference-transaction hook refusing maestro refs: git-hook-refused, git’s words, what to do, no stack trace', async () => {
    const f = badAgentFixture(cleanups, [{ title: 'Alpha', files: ['a.ts'] }]);
    const mainBefore = gitSync(f.repo, ['rev-parse', 'main']);
    refusingHook(f.repo, 'case "$ref" in refs/heads/maestro/*) true ;; *) false ;; esac');
    const r = await runCli(f.args(ownWork), f.repo, f.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[git-hook-refused]');
    expect(r.stderr).toMatch(/policy: refs\/heads\/maestro\/\S+ may not change here/);
    expect(r.stderr).toContain('let the hook allow refs/heads/maestro/*');
    expect(r.stdout + r.stderr).not.toMatch(stackTraceLine);
    expect(r.stdout + r.stderr).not.toContain('GitError');
    expect(gitSync(f.repo, ['rev-parse', 'main'])).toBe(mainBefore);
    f.verify();
  });

  it('a hook refusing only merges into the integration branch fails the stream git-hook-refused, not merge-conflict', async () => {
    const f = badAgentFixture(cleanups, [{ title: 'Alpha', files: ['a.ts'] }]);
    // Creating branches is allowed; moving the integration branch (maestro/<run>, no `--`) is not.
    refusingHook(
      f.repo,
      `case "$ref" in refs/heads/maestro/*--*) false ;; refs/heads/maestro/*) [ "$old" != ${zero} ] ;; *) false ;; esac`,
    );
    const r = await runCli(f.args(ownWork), f.repo, f.env);
    expect(r.code).toBe(1);
    const alpha = Object.values((await runStatus(f)).streams)[0];
    expect(alpha?.status).toBe('failed');
    expect(alpha?.error?.code).toBe('git-hook-refused');
    expect(alpha?.error?.message).toMatch(/policy: refs\/heads\/maestro\/\S+ may not change here/);
    expect(alpha?.error?.message).toContain('let the hook allow refs/heads/maestro/*');
    expect(r.stdout).toContain('git-hook-refused');
    expect(r.stdout + r.stderr).not.toMatch(stackTraceLine);
    expect(r.stdout + r.stderr).not.toMatch(/merge-conflict|internal-error/);
    f.verify();
  });

  it('a stale index.lock the agent leaves in its worktree is removed (nothing of the attempt runs) and reported', async () => {
    const f = badAgentFixture(cleanups);
    const script = `${ownWork}touch "$(git rev-parse --git-dir)/index.lock"\n`;
    const r = await runCli(f.args(script, '--max-parallel', '1'), f.repo, f.env);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const s = await runStatus(f);
    expect(s.status).toBe('completed');
    for (const stream of Object.values(s.streams)) {
      expect(stream.status).toBe('merged');
      expect(stream.warnings.join('\n')).toMatch(
        /stale-lock: the agent left \S+index\.lock behind; no process of the attempt was alive, so Maestro removed it/,
      );
    }
    expect(gitSync(f.repo, ['show', `${s.integrationBranch}:a.ts`])).toBe('alpha');
    expect(gitSync(f.repo, ['show', `${s.integrationBranch}:b.ts`])).toBe('bravo');
    expect(r.stdout + r.stderr).not.toMatch(stackTraceLine);
    f.verify();
  });

  it('an index.lock the agent leaves in the user’s repository is left alone: Maestro needs no index there', async () => {
    const f = badAgentFixture(cleanups, [{ title: 'Alpha', files: ['a.ts'] }]);
    const lock = path.join(f.repo, '.git', 'index.lock');
    const r = await runCli(f.args(`${ownWork}touch '${lock}'\n`), f.repo, f.env);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect((await runStatus(f)).status).toBe('completed');
    // Not Maestro's to remove: a git process of the user's may hold it.
    expect(existsSync(lock)).toBe(true);
    rmSync(lock);
    f.verify();
  });

  it('a ref lock the agent leaves on the integration branch: git-locked, naming the file to remove, then retry', async () => {
    const f = badAgentFixture(cleanups, [{ title: 'Alpha', files: ['a.ts'] }]);
    // Once: the retry's agent behaves.
    const once = path.join(f.root, 'locked-once');
    const script = `${ownWork}[ -f '${once}' ] || { touch '${once}' "$(git rev-parse --git-common-dir)/refs/heads/maestro/$MAESTRO_RUN_ID.lock"; }\n`;
    const r = await runCli(f.args(script), f.repo, f.env);
    expect(r.code).toBe(1);
    const s = await runStatus(f);
    const alpha = Object.values(s.streams)[0];
    expect(alpha?.error?.code).toBe('git-locked');
    const lock = path.join(f.repo, '.git', 'refs', 'heads', `${s.integrationBranch}.lock`);
    expect(alpha?.error?.message).toContain(`when none is running, remove ${lock}, then run again`);
    expect(r.stdout + r.stderr).not.toMatch(stackTraceLine);
    expect(r.stdout + r.stderr).not.toMatch(/internal-error|merge-conflict/);
    // Doing what it says finishes the run.
    rmSync(lock);
    expect(alpha?.error?.message).toContain('`maestro retry` runs a failed run');
    const retried = await runCli(['retry', '--repo', f.repo], f.repo, f.env);
    expect(retried.code, `${retried.stdout}\n${retried.stderr}`).toBe(0);
    const after = await runStatus(f);
    expect(after.status).toBe('completed');
    expect(gitSync(f.repo, ['show', `${after.integrationBranch}:a.ts`])).toBe('alpha');
    f.verify();
  });
});
