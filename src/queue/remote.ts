/**
 * Git remotes carry the code between the coordinator and the workers. The coordinator publishes each
 * start commit under a run ref and fetches results back; a worker keeps one cached bare clone per
 * remote under its work directory, fetches the job's start commit into it, checks it out in a worktree
 * of its own per job, and pushes its commit under the job's result ref. Credentials are git's own on
 * each machine (SSH keys, credential helpers); nothing here handles a secret.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rm } from 'node:fs/promises';
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
    // No `maintenance run --auto` after each fetch (a run fetches often; the run's end runs it once).
    [
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-auto-maintenance',
      remote,
      `+${ref}:${localRef}`,
    ],
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
 * A worker's cached clones: one bare repository per remote under `<workDir>/repos/`, and a pool of
 * worktrees per clone under `<workDir>/jobs/`, each used by one job at a time. A job takes a free
 * worktree and brings it to its start commit (`checkout --force` + `clean`, in proportion to what
 * changed) instead of checking the whole tree out anew: the worker's part of a dependency link is one
 * fetch of the start commit (skipped when this worker already has it) and that reset. Fetches of one
 * commit are shared by the jobs that start from it; git's worktree records are only touched (adding a
 * worktree, pruning a broken one) one at a time per clone.
 */
export class CloneCache {
  readonly #locks = new Map<string, PriorityLock>();
  /** By clone: the bare repository exists. */
  readonly #inits = new Map<string, Promise<void>>();
  /** By clone and commit: the commit is (being) fetched into the clone. */
  readonly #fetched = new Map<string, Promise<void>>();
  /** By clone: worktrees no job uses now. */
  readonly #free = new Map<string, string[]>();
  #made = 0;

  constructor(readonly workDir: string) {}

  /** The cached bare clone of `remote`. */
  cloneDir(remote: string): string {
    return path.join(this.workDir, 'repos', `${cloneKey(remote)}.git`);
  }

  #serial<T>(clone: string, work: () => Promise<T>): Promise<T> {
    let lock = this.#locks.get(clone);
    if (lock === undefined) {
      lock = new PriorityLock();
      this.#locks.set(clone, lock);
    }
    return lock.run(0, work);
  }

  #init(clone: string): Promise<void> {
    let made = this.#inits.get(clone);
    if (made === undefined) {
      made = (async () => {
        if (await exists(path.join(clone, 'HEAD'))) return;
        await mkdir(clone, { recursive: true });
        await git(clone, ['init', '--quiet', '--bare']);
      })();
      made.catch(() => this.#inits.delete(clone));
      this.#inits.set(clone, made);
    }
    return made;
  }

  /** Fetches `ref` from `remote` into `clone`, once per commit for all the jobs that start from it. */
  #fetch(clone: string, remote: string, ref: string, sha: string): Promise<void> {
    const key = `${clone} ${sha}`;
    let fetched = this.#fetched.get(key);
    if (fetched === undefined) {
      fetched = (async () => {
        // Already here (a worker restarted on its work directory, a retry from the same commit): no transfer.
        if ((await gitRaw(clone, ['cat-file', '-e', `${sha}^{commit}`])).exitCode === 0) return;
        const got = await fetchRef(clone, remote, ref, ref);
        if (got !== sha)
          throw new RemoteError(`${ref} on ${remote} points at ${got.slice(0, 10)}, not ${sha.slice(0, 10)}`);
      })();
      fetched.catch(() => this.#fetched.delete(key));
      this.#fetched.set(key, fetched);
    }
    return fetched;
  }

  /**
   * Fetches `ref` (expected to hold `sha`) from `remote` into the cached clone, creating the clone on
   * first use, and checks `sha` out (detached, clean) in a worktree of the pool that no other job uses.
   * Returns the worktree; give it back with `release` once nothing runs in it any more.
   */
  async checkout(remote: string, ref: string, sha: string): Promise<string> {
    const clone = this.cloneDir(remote);
    await this.#init(clone);
    await this.#fetch(clone, remote, ref, sha);
    const free = this.#free.get(clone);
    const reused = free?.pop();
    const worktree = reused ?? path.join(this.workDir, 'jobs', `${cloneKey(remote)}-${String(++this.#made)}`);
    try {
      if (reused === undefined || !(await this.#reset(clone, worktree, sha)))
        await this.#serial(clone, async () => {
          // New, or broken by the job before (its `.git` gone or replaced): checked out anew.
          await rm(worktree, { recursive: true, force: true });
          await gitRaw(clone, ['worktree', 'prune']);
          await mkdir(path.dirname(worktree), { recursive: true });
          await git(clone, ['worktree', 'add', '--quiet', '--detach', worktree, sha]);
        });
    } catch (error) {
      this.release(remote, worktree);
      throw error;
    }
    return worktree;
  }

  /** Brings a worktree of the pool to `sha`, discarding what the job before left; false when it is broken. */
  async #reset(clone: string, worktree: string, sha: string): Promise<boolean> {
    // The worktree's `.git` must still be the link git wrote: an agent could have replaced it.
    const link = await readFile(path.join(worktree, '.git'), 'utf8').catch(() => '');
    const name = path.basename(worktree);
    if (link.trim() !== `gitdir: ${path.join(clone, 'worktrees', name)}`) return false;
    const checkedOut = await gitRaw(worktree, ['checkout', '--quiet', '--force', '--detach', sha]);
    if (checkedOut.exitCode !== 0) return false;
    return (await gitRaw(worktree, ['clean', '-ffdxq'])).exitCode === 0;
  }

  /** Gives a job's worktree back to the pool (its files stay until the next job resets them). */
  release(remote: string, worktree: string): void {
    const clone = this.cloneDir(remote);
    let free = this.#free.get(clone);
    if (free === undefined) {
      free = [];
      this.#free.set(clone, free);
    }
    if (!free.includes(worktree)) free.push(worktree);
  }
}

/** The file name a remote's clone and worktrees go by (a digest: remotes are URLs). */
function cloneKey(remote: string): string {
  return createHash('sha256').update(remote).digest('hex').slice(0, 16);
}
