import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addExclude,
  addWorktree,
  addWorktreeAt,
  changedPaths,
  commitAll,
  createBranch,
  isAncestor,
  mergeIntoBranch,
  mergeTree,
  resolveCommit,
} from '../../src/git/git.js';
import {
  gitSync,
  initRepo,
  inProcessGitTests,
  makeTempDir,
  snapshotUserState,
  writeTree,
} from '../helpers/repo.js';

const cleanups = inProcessGitTests();

function repo() {
  const tmp = makeTempDir();
  cleanups.push(tmp.cleanup);
  const dir = path.join(tmp.dir, 'repo');
  initRepo(dir, { 'shared.txt': 'base\n' });
  return { dir, tmp: tmp.dir };
}

async function branchWith(
  dir: string,
  tmp: string,
  name: string,
  files: Record<string, string>,
): Promise<string> {
  const base = (await resolveCommit(dir, 'HEAD')) ?? '';
  await createBranch(dir, name, base);
  const wt = path.join(tmp, 'wt', name);
  await addWorktree(dir, wt, name);
  writeTree(wt, files);
  return (await commitAll(wt, `work on ${name}`)).sha;
}

describe('git wrapper', () => {
  it('merges atomically with a merge commit and never touches the user checkout', async () => {
    const { dir, tmp } = repo();
    writeTree(dir, { 'shared.txt': 'user edit\n' });
    const before = snapshotUserState(dir);
    const base = (await resolveCommit(dir, 'HEAD')) ?? '';
    await createBranch(dir, 'integ', base);
    const a = await branchWith(dir, tmp, 'a', { 'a.txt': 'a\n' });
    expect(await changedPaths(dir, base, a)).toEqual(['a.txt']);
    const merged = await mergeIntoBranch(dir, 'integ', a, 'merge a');
    expect(merged).toMatchObject({ ok: true, alreadyMerged: false });
    expect(await isAncestor(dir, a, 'integ')).toBe(true);
    // Merging again is a no-op.
    expect(await mergeIntoBranch(dir, 'integ', a, 'merge a')).toMatchObject({
      ok: true,
      alreadyMerged: true,
    });
    expect(snapshotUserState(dir)).toBe(before);
  });

  it('reports conflicting paths and leaves the target branch untouched', async () => {
    const { dir, tmp } = repo();
    const base = (await resolveCommit(dir, 'HEAD')) ?? '';
    await createBranch(dir, 'integ', base);
    const a = await branchWith(dir, tmp, 'a', { 'shared.txt': 'from a\n' });
    const b = await branchWith(dir, tmp, 'b', { 'shared.txt': 'from b\n', 'b.txt': 'b\n' });
    await mergeIntoBranch(dir, 'integ', a, 'merge a');
    const tip = gitSync(dir, ['rev-parse', 'integ']);
    expect(await mergeTree(dir, tip, b)).toEqual({ clean: false, conflicts: ['shared.txt'] });
    expect(await mergeIntoBranch(dir, 'integ', b, 'merge b')).toEqual({
      ok: false,
      reason: 'conflict',
      conflicts: ['shared.txt'],
    });
    expect(gitSync(dir, ['rev-parse', 'integ'])).toBe(tip);
  });

  it('commits everything with the changed paths, and reports an empty commit as none', async () => {
    const { dir, tmp } = repo();
    const base = (await resolveCommit(dir, 'HEAD')) ?? '';
    const wt = path.join(tmp, 'wt', 'c');
    await addWorktreeAt(dir, wt, 'c', base, 'fail');
    writeTree(wt, { 'new/file.txt': 'x\n', 'shared.txt': 'changed\n' });
    const first = await commitAll(wt, 'work', { identity: [], changedSince: base });
    expect(first.committed).toBe(true);
    expect(first.changed).toEqual(['new/file.txt', 'shared.txt']);
    expect(first.deleted).toEqual([]);
    expect(gitSync(dir, ['rev-parse', 'c'])).toBe(first.sha);
    expect(await commitAll(wt, 'nothing')).toEqual({
      sha: first.sha,
      committed: false,
      changed: null,
      deleted: null,
    });
    // A deletion is a change, and says so; the sha is the branch's (read from the ref files).
    rmSync(path.join(wt, 'shared.txt'));
    writeTree(wt, { 'new/other.txt': 'y\n' });
    const second = await commitAll(wt, 'more', { identity: [], changedSince: first.sha });
    expect(second).toMatchObject({
      committed: true,
      changed: ['new/other.txt', 'shared.txt'],
      deleted: ['shared.txt'],
    });
    expect(gitSync(dir, ['rev-parse', 'c'])).toBe(second.sha);
  });

  it('adds a worktree on a new or reset branch in one call, and refuses an existing one with fail', async () => {
    const { dir, tmp } = repo();
    const base = (await resolveCommit(dir, 'HEAD')) ?? '';
    const a = await branchWith(dir, tmp, 'a', { 'a.txt': 'a\n' });
    await expect(addWorktreeAt(dir, path.join(tmp, 'wt', 'x'), 'a', base, 'fail')).rejects.toThrow();
    expect(gitSync(dir, ['rev-parse', 'a'])).toBe(a);
    await createBranch(dir, 'b', a);
    await addWorktreeAt(dir, path.join(tmp, 'wt', 'b'), 'b', base, 'reset');
    expect(gitSync(dir, ['rev-parse', 'b'])).toBe(base);
  });

  it('does not move a branch that moved since the tip the caller passed', async () => {
    const { dir, tmp } = repo();
    const base = (await resolveCommit(dir, 'HEAD')) ?? '';
    await createBranch(dir, 'integ', base);
    const a = await branchWith(dir, tmp, 'a', { 'a.txt': 'a\n' });
    const b = await branchWith(dir, tmp, 'b', { 'b.txt': 'b\n' });
    const merged = await mergeIntoBranch(dir, 'integ', a, 'merge a', { theirsIsNew: true });
    expect(merged).toMatchObject({ ok: true, alreadyMerged: false });
    const tip = gitSync(dir, ['rev-parse', 'integ']);
    expect(await mergeIntoBranch(dir, 'integ', b, 'merge b', { ours: base })).toMatchObject({
      ok: false,
      reason: 'moved',
    });
    expect(gitSync(dir, ['rev-parse', 'integ'])).toBe(tip);
  });

  it('adds an exclude entry once, in the common git dir', async () => {
    const { dir } = repo();
    await addExclude(dir, '/.maestro/');
    await addExclude(dir, '/.maestro/');
    const text = readFileSync(path.join(dir, '.git', 'info', 'exclude'), 'utf8');
    expect(text.split('\n').filter((l) => l === '/.maestro/')).toHaveLength(1);
  });
});
