/**
 * Git remotes carry the code between the coordinator and the workers. The coordinator publishes each
 * start commit under a run ref and fetches results back; a worker keeps one cached bare clone per
 * remote under its work directory, fetches the job's start commit into it, checks it out in a worktree
 * of its own per job, and pushes its commit under the job's result ref. Credentials are git's own on
 * each machine (SSH keys, credential helpers); nothing here handles a secret.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { git, gitRaw, GitError } from '../git/git.js';
import { PriorityLock } from '../util/priority-lock.js';

/** A git remote operation that failed (unreachable, refused, missing ref): an expected failure. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Runs a git command that talks to a remote; a non-zero exit becomes a `RemoteError` with git's words. */
async function remoteGit(cwd: string, args: readonly string[], what: string): Promise<string> {
  try {
    return await git(cwd, args);
  } catch (error) {
    if (error instanceof GitError) {
      const detail = error.stderr.trim().split('\n').slice(-3).join(' ');
      throw new RemoteError(`${what}: ${detail === '' ? `git exited ${String(error.exitCode)}` : detail}`);
    }
    throw error;
  }
}

/** The URL of a remote configured in `repo` (`git remote get-url`), or null when there is none of that name. */
export async function remoteUrl(repo: string, name: string): Promise<string | null> {
  const r = await gitRaw(repo, ['remote', 'get-url', '--', name]);
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/** Pushes `sha` to `ref` on `remote` (forced: run refs belong to the run). */
export async function pushCommit(repo: string, remote: string, sha: string, ref: string): Promise<void> {
  await remoteGit(repo, ['push', '--quiet', '--no-verify', remote, `+${sha}:${ref}`], `push to ${remote}`);
}

/** Fetches `ref` from `remote` into `localRef` (forced) and returns the commit it points at. */
export async function fetchRef(repo: string, remote: string, ref: string, localRef: string): Promise<string> {
  await remoteGit(
    repo,
    ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', remote, `+${ref}:${localRef}`],
    `fetch ${ref} from ${remote}`,
  );
  return (await git(repo, ['rev-parse', '--verify', `${localRef}^{commit}`])).trim();
}

/** Deletes every remote ref under `prefix` (a finished run's refs). Best effort: returns how many went. */
export async function deleteRemoteRefs(repo: string, remote: string, prefix: string): Promise<number> {
  const listed = await gitRaw(repo, ['ls-remote', '--refs', remote, `${prefix}*`]);
  if (listed.exitCode !== 0) return 0;
  const refs = listed.stdout
    .split('\n')
    .map((line) => line.split('\t')[1])
    .filter((ref): ref is string => ref?.startsWith(prefix) === true);
  if (refs.length === 0) return 0;
  const r = await gitRaw(repo, ['push', '--quiet', '--no-verify', remote, ...refs.map((ref) => `:${ref}`)]);
  return r.exitCode === 0 ? refs.length : 0;
}

/**
 * A worker's cached clones: one bare repository per remote under `<workDir>/repos/`, and one worktree
 * per job under `<workDir>/jobs/`. Fetches into one clone and its worktree bookkeeping are serialised
 * (git's worktree records are not safe under concurrent commands).
 */
export class CloneCache {
  readonly #locks = new Map<string, PriorityLock>();

  constructor(readonly workDir: string) {}

  /** The cached bare clone of `remote`. */
  cloneDir(remote: string): string {
    const key = createHash('sha256').update(remote).digest('hex').slice(0, 16);
    return path.join(this.workDir, 'repos', `${key}.git`);
  }

  /** The worktree directory of a job. */
  worktreeDir(jobId: string): string {
    return path.join(this.workDir, 'jobs', jobId);
  }

  #serial<T>(clone: string, work: () => Promise<T>): Promise<T> {
    let lock = this.#locks.get(clone);
    if (lock === undefined) {
      lock = new PriorityLock();
      this.#locks.set(clone, lock);
    }
    return lock.run(0, work);
  }

  /**
   * Fetches `ref` (expected to hold `sha`) from `remote` into the cached clone, creating the clone on
   * first use, and checks `sha` out in a fresh detached worktree for `jobId`. Returns the worktree.
   */
  async checkout(remote: string, ref: string, sha: string, jobId: string): Promise<string> {
    const clone = this.cloneDir(remote);
    const worktree = this.worktreeDir(jobId);
    await this.#serial(clone, async () => {
      if (!(await exists(path.join(clone, 'HEAD')))) {
        await mkdir(clone, { recursive: true });
        await git(clone, ['init', '--quiet', '--bare']);
      }
      const present = await gitRaw(clone, ['cat-file', '-e', `${sha}^{commit}`]);
      if (present.exitCode !== 0) {
        const fetched = await fetchRef(clone, remote, ref, ref);
        if (fetched !== sha)
          throw new RemoteError(
            `${ref} on ${remote} points at ${fetched.slice(0, 10)}, not ${sha.slice(0, 10)}`,
          );
      }
      // A job run again on this worker (it stalled and came back) starts from a clean worktree.
      if (await exists(worktree)) {
        await rm(worktree, { recursive: true, force: true });
        await gitRaw(clone, ['worktree', 'prune']);
      }
      await mkdir(path.dirname(worktree), { recursive: true });
      await git(clone, ['worktree', 'add', '--quiet', '--detach', worktree, sha]);
    });
    return worktree;
  }

  /** Removes a job's worktree (its commit stays in the clone's object store, which the next fetch reuses). */
  async release(remote: string, jobId: string): Promise<void> {
    const clone = this.cloneDir(remote);
    const worktree = this.worktreeDir(jobId);
    await this.#serial(clone, async () => {
      const removed = await gitRaw(clone, ['worktree', 'remove', '--force', '--force', worktree]);
      if (removed.exitCode !== 0) {
        await rm(worktree, { recursive: true, force: true });
        await gitRaw(clone, ['worktree', 'prune']);
      }
    });
  }
}
