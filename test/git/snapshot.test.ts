/**
 * The fingerprint of the user's checkout that catches an agent writing into it by path: taken with one
 * `git status --porcelain=v2` on a real repository, compared path by path.
 */
import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkoutChanges, snapshotCheckout } from '../../src/git/snapshot.js';
import { gitSync, initRepo, makeTempDir, inProcessGitTests, writeTree } from '../helpers/repo.js';

const cleanups = inProcessGitTests();

function repo(): string {
  const tmp = makeTempDir();
  cleanups.push(tmp.cleanup);
  const dir = path.join(tmp.dir, 'repo');
  initRepo(dir, { 'a.txt': 'a\n', 'dir/b c.txt': 'b\n', '.gitignore': 'ignored/\n' });
  return dir;
}

describe('snapshotCheckout', () => {
  it('sees nothing change when nothing did, and ignored files never', async () => {
    const dir = repo();
    writeTree(dir, { 'dirty.txt': 'untracked\n', 'a.txt': 'edited\n' });
    const before = await snapshotCheckout(dir);
    writeTree(dir, { 'ignored/build.log': 'noise\n' });
    expect(checkoutChanges(before, await snapshotCheckout(dir))).toEqual([]);
  });

  it('names every kind of change: new, edited again, staged, deleted, and paths with spaces', async () => {
    const dir = repo();
    writeTree(dir, { 'a.txt': 'first edit\n' });
    const before = await snapshotCheckout(dir);
    writeTree(dir, {
      'a.txt': 'second edit\n', // already modified: only its bytes differ
      'evil.txt': 'x\n', // untracked, new
      'dir/new file.txt': 'y\n', // a space in the name
    });
    writeFileSync(path.join(dir, 'staged.txt'), 's\n');
    gitSync(dir, ['add', 'staged.txt']);
    rmSync(path.join(dir, 'dir', 'b c.txt'));
    expect(checkoutChanges(before, await snapshotCheckout(dir))).toEqual([
      'a.txt',
      'dir/b c.txt',
      'dir/new file.txt',
      'evil.txt',
      'staged.txt',
    ]);
  });

  it('sees HEAD move, a branch switch and a change staged with the same bytes in the tree', async () => {
    const dir = repo();
    const before = await snapshotCheckout(dir);
    gitSync(dir, ['commit', '--quiet', '--allow-empty', '-m', 'moved']);
    expect(checkoutChanges(before, await snapshotCheckout(dir))).toEqual(['HEAD']);

    const onMain = await snapshotCheckout(dir);
    gitSync(dir, ['switch', '--quiet', '-c', 'other']);
    expect(checkoutChanges(onMain, await snapshotCheckout(dir))).toEqual(['HEAD']);

    // Staged, then the file put back as it was: the bytes are the same, the index is not.
    writeTree(dir, { 'a.txt': 'staged\n' });
    const edited = await snapshotCheckout(dir);
    gitSync(dir, ['add', 'a.txt']);
    expect(checkoutChanges(edited, await snapshotCheckout(dir))).toEqual(['a.txt']);
  });

  it('never writes the index (no optional locks), so the user’s git commands are not disturbed', async () => {
    const dir = repo();
    // A tracked file touched without a change: a plain `git status` would refresh and rewrite the index.
    utimesSync(path.join(dir, 'a.txt'), new Date(2030, 0, 1), new Date(2030, 0, 1));
    const index = path.join(dir, '.git', 'index');
    const before = statSync(index).mtimeMs;
    expect(await snapshotCheckout(dir)).toBeDefined();
    expect(statSync(index).mtimeMs).toBe(before);
  });
});
