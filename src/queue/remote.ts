/**
 * Git remotes carry the code between the coordinator and the workers. The coordinator publishes each
 * start commit under a run ref and fetches results back; a worker keeps one cached bare clone per
 * remote under its work directory, fetches the job's start commit into it, checks it out in a worktree
 * of its own per job, and pushes its commit under the job's result ref. Credentials are git's own on
 * each machine (SSH keys, credential helpers); nothing here handles a secret.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { git, gitRaw, GitError } from '../git/git.js';
import { exists } from '../util/fs.js';

/** A git remote operation that failed (unreachable, refused, missing ref): an expected failure. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
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
 * A worker's cached clones: one bare repository per remote under `<workDir>/repos/`, into which jobs'
 * start commits are fetched (once per commit for all the jobs that start from it, and not at all when
 * the clone already has it). The worktrees jobs run in are recycled slots of the clone
 * (`WorktreeSlots`, as for a local run) under `worktreeRoot(remote)`.
 */
export class CloneCache {
  /** By clone: the bare repository exists. */
  readonly #inits = new Map<string, Promise<void>>();
  /** By clone and commit: the commit is (being) fetched into the clone. */
  readonly #fetched = new Map<string, Promise<void>>();

  constructor(readonly workDir: string) {}

  /** The cached bare clone of `remote`. */
  cloneDir(remote: string): string {
    return path.join(this.workDir, 'repos', `${cloneKey(remote)}.git`);
  }

  /** Where the worktree slots of `remote`'s clone live. */
  worktreeRoot(remote: string): string {
    return path.join(this.workDir, 'worktrees', cloneKey(remote));
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

  /** Fetches `ref` (expected to hold `sha`) from `remote` into `clone`, unless the clone has `sha`. */
  #fetch(clone: string, remote: string, ref: string, sha: string): Promise<void> {
    const key = `${clone} ${sha}`;
    let fetched = this.#fetched.get(key);
    if (fetched === undefined) {
      fetched = (async () => {
        // Already here (a retry from the same commit, a worker restarted on its work directory).
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
   * Makes sure the cached clone of `remote` exists and holds every commit of `commits` (each fetched
   * from the ref that holds it); returns the clone.
   */
  async fetchCommits(
    remote: string,
    commits: readonly { readonly ref: string; readonly sha: string }[],
  ): Promise<string> {
    const clone = this.cloneDir(remote);
    await this.#init(clone);
    await Promise.all(commits.map((c) => this.#fetch(clone, remote, c.ref, c.sha)));
    return clone;
  }
}

/** The file name a remote's clone and worktrees go by (a digest: remotes are URLs). */
function cloneKey(remote: string): string {
  return createHash('sha256').update(remote).digest('hex').slice(0, 16);
}
