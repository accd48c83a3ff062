import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRepoRoot, listRepoFiles } from '../../src/analyze/repo-files.js';

const git = promisify(execFile);
let repo: string;
let outside: string;

beforeAll(async () => {
  repo = await realpath(await mkdtemp(join(tmpdir(), 'maestro-repo-')));
  outside = await realpath(await mkdtemp(join(tmpdir(), 'maestro-norepo-')));
  await git('git', ['init', '-q'], { cwd: repo });
  await mkdir(join(repo, 'src/api'), { recursive: true });
  await writeFile(join(repo, '.gitignore'), 'dist/\n*.log\n');
  await writeFile(join(repo, 'src/api/users.ts'), '');
  await writeFile(join(repo, 'src/with space.ts'), '');
  await writeFile(join(repo, 'debug.log'), '');
  await mkdir(join(repo, 'dist'));
  await writeFile(join(repo, 'dist/out.js'), '');
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('listRepoFiles', () => {
  it('lists tracked and untracked files, not ignored ones', async () => {
    expect(await listRepoFiles(repo)).toEqual(['.gitignore', 'src/api/users.ts', 'src/with space.ts']);
  });

  it('rejects outside a repository', async () => {
    await expect(listRepoFiles(outside)).rejects.toThrow();
  });
});

describe('findRepoRoot', () => {
  it('finds the top level from a subdirectory, and null outside a repository', async () => {
    expect(await findRepoRoot(join(repo, 'src/api'))).toBe(repo);
    expect(await findRepoRoot(outside)).toBeNull();
  });
});
