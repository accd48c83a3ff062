import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyIncluded, listIncludedFiles } from '../../src/run/worktree-include.js';
import { isPortFree, findFreePortBlock, portOf } from '../../src/run/ports.js';
import { initRepo, makeTempDir, writeTree } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('.worktreeinclude', () => {
  it('lists the ignored files its gitignore-style patterns match, and copies them (not links) into a worktree', async () => {
    const tmp = makeTempDir();
    cleanups.push(tmp.cleanup);
    const repo = path.join(tmp.dir, 'repo');
    initRepo(repo, {
      '.gitignore': '.env\nconfig/local.yml\nnode_modules/\n*.log\n',
      '.worktreeinclude': '# secrets and local config\n.env\nconfig/*.yml\n!config/skip.yml\n',
      'config/app.yml': 'tracked: true\n',
    });
    writeTree(repo, {
      '.env': 'TOKEN=abc\n',
      'config/local.yml': 'local: true\n',
      'config/skip.yml': 'negated\n',
      'config/untracked.yml': 'untracked but not ignored\n',
      'node_modules/x/index.js': 'module.exports = 1;\n',
      'debug.log': 'noise\n',
    });
    const files = await listIncludedFiles(repo);
    // Tracked, negated, unignored and unnamed files are left out.
    expect(files).toEqual(['.env', 'config/local.yml']);
    const worktree = path.join(tmp.dir, 'wt');
    const result = await copyIncluded(repo, files, worktree);
    expect(result).toEqual({ copied: 2, skipped: [] });
    expect(readFileSync(path.join(worktree, '.env'), 'utf8')).toBe('TOKEN=abc\n');
    expect(lstatSync(path.join(worktree, '.env')).isSymbolicLink()).toBe(false);
    // A copy: writing the worktree's file leaves the user's alone (no hardlink either).
    writeFileSync(path.join(worktree, '.env'), 'TOKEN=changed\n');
    expect(readFileSync(path.join(repo, '.env'), 'utf8')).toBe('TOKEN=abc\n');
    expect(lstatSync(path.join(repo, '.env')).nlink).toBe(1);
  });

  it('is a no-op without a .worktreeinclude file', async () => {
    const tmp = makeTempDir();
    cleanups.push(tmp.cleanup);
    initRepo(tmp.dir, { '.gitignore': '.env\n' });
    writeTree(tmp.dir, { '.env': 'x\n' });
    expect(await listIncludedFiles(tmp.dir)).toEqual([]);
  });
});

describe('ports', () => {
  it('finds a block of free loopback ports and lays slots out in it', async () => {
    const base = await findFreePortBlock(40);
    expect(base).toBeGreaterThanOrEqual(20_000);
    expect(await isPortFree(base)).toBe(true);
    expect(portOf(base, 0)).toBe(base);
    expect(portOf(base, 3)).toBe(base + 30);
    // A preferred base that is still free is kept (a resumed run keeps its ports).
    expect(await findFreePortBlock(40, base)).toBe(base);
  });
});
