/**
 * Where a run's worktrees live: outside the user's working tree, under the user cache directory
 * (`$XDG_CACHE_HOME/maestro/<repo-id>/<run-id>/`, else `~/.cache/…`). Inside the checkout, Node's
 * module lookup climbs into the user's `node_modules`, jest and IDE indexers walk into every
 * worktree, and a worktree that lost its `.git` falls through to the user's repository; out here
 * none of that can happen, and what a worktree needs it gets from setup and `.worktreeinclude`.
 *
 * The run directory (journal, reports) stays in `<repo>/.maestro/runs/<run-id>/`, and records the
 * worktree root it chose (`worktrees.path`), so `resume`, `clean` and `status` find the worktrees
 * even if the cache directory setting changed since.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** Name of the file in the run directory that records where the run's worktrees are. */
export const worktreeRootFile = 'worktrees.path';

/** The user cache directory (XDG Base Directory spec: `$XDG_CACHE_HOME`, else `~/.cache`). */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // The spec says a relative value is invalid and must be ignored.
  if (xdg !== undefined && xdg !== '' && path.isAbsolute(xdg)) return xdg;
  return path.join(homedir(), '.cache');
}

/** A stable, readable id for a repository: its folder name and a hash of its real path. */
export function repoId(repo: string): string {
  let real = path.resolve(repo);
  try {
    real = realpathSync(real);
  } catch {
    // A repository that is gone keeps the id of the path it was given.
  }
  const hash = createHash('sha256').update(real).digest('hex').slice(0, 12);
  const name =
    path
      .basename(real)
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(0, 40) || 'repo';
  return `${name}-${hash}`;
}

/** The default worktree root of a new run. */
export function defaultWorktreeRoot(
  repo: string,
  runId: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return path.join(userCacheDir(env), 'maestro', repoId(repo), runId);
}

/**
 * The worktree root of a run: the one recorded in its run directory, else where a new run would put
 * it. Synchronous because run paths are computed synchronously everywhere; the file is one line.
 */
export function worktreeRootOf(runDir: string, repo: string, runId: string): string {
  try {
    const recorded = readFileSync(path.join(runDir, worktreeRootFile), 'utf8').trim();
    if (recorded !== '' && path.isAbsolute(recorded)) return recorded;
  } catch {
    // A new run (or one from before worktrees moved out of the checkout).
  }
  return defaultWorktreeRoot(repo, runId);
}

/** True when `dir` is `root` or inside it (after resolving both). */
export function isInside(dir: string, root: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(dir));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
