/**
 * The repository's file list for glob expansion, from the `git` binary (thin I/O wrapper).
 */
import { execFile } from 'node:child_process';
import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
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

/**
 * Plan paths that the files on disk make unusable, with why: a path written as a file that is a
 * directory, or one reached through a symlink that resolves outside the repository (an agent writing
 * "inside" it would write outside). Paths not on disk yet (to be created) are checked up to the part
 * that exists. Globs are skipped (they only match files).
 */
export async function refusedOnDisk(repo: string, paths: readonly string[]): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  let root: string;
  try {
    root = await realpath(repo);
  } catch {
    return refused;
  }
  const inside = (p: string): boolean => p === root || p.startsWith(root + sep);
  await Promise.all(
    [...new Set(paths)].map(async (planPath) => {
      if (/[*?[\]{}]/.test(planPath) || isAbsolute(planPath) || planPath.split(/[\\/]/).includes('..'))
        return;
      const segments = planPath.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
      let current = root;
      for (const [i, segment] of segments.entries()) {
        current = join(current, segment);
        let info;
        try {
          info = await lstat(current);
        } catch {
          return; // Not there yet: the rest is created by the stream.
        }
        if (info.isSymbolicLink()) {
          const target = await realpath(current).catch(() => null);
          const shown = segments.slice(0, i + 1).join('/');
          if (target === null) {
            refused.set(
              planPath,
              `reached through the symlink \`${shown}\`, which points nowhere; fix or remove the link`,
            );
            return;
          }
          if (!inside(target)) {
            refused.set(
              planPath,
              `reached through the symlink \`${shown}\`, which resolves outside the repository (${target}); an agent writing there would write outside it`,
            );
            return;
          }
          current = target;
        }
        const last = i === segments.length - 1;
        if (
          last &&
          !/[\\/]$/.test(planPath) &&
          (await stat(current).catch(() => null))?.isDirectory() === true
        )
          refused.set(
            planPath,
            `a directory, not a file; list the files it should contain, or write \`${planPath}/\` to own everything in it`,
          );
      }
    }),
  );
  return refused;
}
