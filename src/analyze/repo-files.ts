/**
 * The repository's file list for glob expansion, from the `git` binary (thin I/O wrapper).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Repository-relative paths of tracked and untracked-but-not-ignored files
 * (`git ls-files -co --exclude-standard`), sorted and unique. `-z` keeps unusual names intact:
 * without it git quotes paths with special characters. Rejects when `repo` is not a git work tree.
 */
export async function listRepoFiles(repo: string): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z', '-co', '--exclude-standard'], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  // An unmerged file is listed once per stage; a Set removes the repeats.
  return [...new Set(stdout.split('\0').filter((p) => p !== ''))].sort();
}

/** Work-tree roots found so far in this process (a command asks more than once; the answer holds). */
const rootsFound = new Map<string, string>();

/** The top-level directory of the git work tree containing `dir`, or null when it is not in one. */
export async function findRepoRoot(dir: string): Promise<string | null> {
  const known = rootsFound.get(dir);
  if (known !== undefined) return known;
  try {
    const { stdout } = await run('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8' });
    const root = stdout.trim();
    if (root === '') return null;
    rootsFound.set(dir, root);
    rootsFound.set(root, root);
    return root;
  } catch {
    // Not a repository, a bare repository, or no git at all: all mean "no repo" for analysis.
    return null;
  }
}
