/**
 * A thin typed wrapper over the `git` binary (execFile, never a shell).
 * Every function takes the directory to run in; none of them touches the user's checkout unless
 * handed its path explicitly (only `landFastForward` does, and only through `merge --ff-only`).
 * Written against git 2.39 (`merge-tree --write-tree` needs ≥ 2.38).
 */
import { execFile } from 'node:child_process';
import { appendFile, mkdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { PriorityLock, type Priority } from '../util/priority-lock.js';
import { redact } from '../util/redact.js';

/**
 * Stable codes of git failures Maestro expects and explains:
 * - `git-missing`: the `git` executable could not be run;
 * - `git-locked`: a `.lock` file is in the way (another git process, or one that crashed);
 * - `git-hook-refused`: a hook (e.g. `reference-transaction`) refused the update;
 * - `git-failed`: anything else (the message carries git's own output);
 * - `worktree-broken`: a worktree's `.git` is gone or points elsewhere (see `worktreeGitArgs`).
 */
export type GitFailureCode =
  'git-missing' | 'git-locked' | 'git-hook-refused' | 'git-failed' | 'worktree-broken';

/** What git said went wrong, and what to do about it. */
function explainGitFailure(
  stderr: string,
  spawnError: string | null,
): { code: GitFailureCode; advice: string } {
  if (stderr.startsWith('maestro: worktree-broken'))
    return {
      code: 'worktree-broken',
      advice:
        'something in the worktree removed or replaced its `.git` file; Maestro ran no git command there, so none could reach another repository. `maestro resume` checks the worktree out again',
    };
  if (spawnError !== null)
    return {
      code: 'git-missing',
      advice:
        'install git (https://git-scm.com/downloads, or your package manager) and make sure `git` is on PATH',
    };
  const lock = /Unable to create '([^']+\.lock)'|cannot lock ref[^:]*:.*?'([^']+\.lock)'/.exec(stderr);
  if (lock !== null || /\.lock': File exists|index\.lock/.test(stderr)) {
    const file = lock?.[1] ?? lock?.[2] ?? 'the .lock file named above';
    return {
      code: 'git-locked',
      advice: `another git process is running in this repository, or one stopped without cleaning up: when none is running, remove ${file}, then run again (\`maestro retry\` runs a failed run's streams, \`maestro resume\` an interrupted run)`,
    };
  }
  if (/hook|declined|rejected/i.test(stderr))
    return {
      code: 'git-hook-refused',
      advice:
        "a git hook in this repository refused the change; Maestro only updates its own `maestro/*` branches, so let the hook allow refs/heads/maestro/* (or disable it for the run), then run again (`maestro retry` runs a failed run's streams, `maestro resume` an interrupted run)",
    };
  return { code: 'git-failed', advice: "see git's message above; fix the cause, then resume" };
}

/** A git invocation that exited non-zero when the caller did not expect it: an expected failure with a stable code. */
export class GitError extends Error {
  readonly code: GitFailureCode;
  /** What to do about it, for the user. */
  readonly advice: string;

  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    spawnError: string | null = null,
  ) {
    const { code, advice } = explainGitFailure(stderr, spawnError);
    const said = redact((spawnError ?? stderr).trim()).slice(-2000);
    if (code === 'worktree-broken') {
      super(`${said.replace(/^maestro: /, '')}\n${advice}`);
      this.name = 'GitError';
      this.code = code;
      this.advice = advice;
      return;
    }
    super(
      `git ${args.slice(0, 3).join(' ')}${args.length > 3 ? ' …' : ''} failed${exitCode === null ? '' : ` (exit ${String(exitCode)})`}: ${said}\n${advice}`,
    );
    this.name = 'GitError';
    this.code = code;
    this.advice = advice;
  }
}

export interface GitResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Environment for every git call: no prompts, no pager, stable messages. */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C' };
}

/** Runs git and resolves with its output whatever the exit code (spawn errors reject). */
export function gitRaw(cwd: string, args: readonly string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...args],
      { cwd, env: gitEnv(), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new GitError(args, null, '', `could not run git: ${error.message}`));
          return;
        }
        resolve({ stdout, stderr, exitCode: error ? Number(error.code) : 0 });
      },
    );
  });
}

/** Runs git and returns stdout; throws `GitError` on a non-zero exit. */
export async function git(cwd: string, args: readonly string[]): Promise<string> {
  const result = await gitRaw(cwd, args);
  if (result.exitCode !== 0) throw new GitError(args, result.exitCode, result.stderr);
  return result.stdout;
}

function splitZ(text: string): string[] {
  return text.split('\0').filter((s) => s.length > 0);
}

/** The repository's common git directory (shared by all worktrees), absolute. */
export async function commonDir(repo: string): Promise<string> {
  const out = (await git(repo, ['rev-parse', '--git-common-dir'])).trim();
  return path.resolve(repo, out);
}

/** Resolves a revision to a commit id, or null when it does not name a commit. */
export async function resolveCommit(repo: string, ref: string): Promise<string | null> {
  const r = await gitRaw(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/** The full branch ref (`refs/heads/x`) that `ref` names, when it names a local branch (or HEAD on one). */
export async function branchRefOf(repo: string, ref: string): Promise<string | null> {
  if (ref === 'HEAD') {
    const r = await gitRaw(repo, ['symbolic-ref', '-q', 'HEAD']);
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }
  const full = ref.startsWith('refs/heads/') ? ref : `refs/heads/${ref}`;
  const r = await gitRaw(repo, ['show-ref', '--verify', '--quiet', full]);
  return r.exitCode === 0 ? full : null;
}

/** Creates branch `name` at `sha`; fails if it exists (update-ref with an all-zero old value). */
export async function createBranch(repo: string, name: string, sha: string): Promise<void> {
  await git(repo, ['update-ref', `refs/heads/${name}`, sha, '0'.repeat(40)]);
}

/** Moves branch `name` to `sha` unconditionally (creates it when missing). */
export async function setBranch(repo: string, name: string, sha: string): Promise<void> {
  await git(repo, ['update-ref', `refs/heads/${name}`, sha]);
}

/** Deletes a branch if it exists. */
export async function deleteBranch(repo: string, name: string): Promise<void> {
  await gitRaw(repo, ['update-ref', '-d', `refs/heads/${name}`]);
}

/** Lists local branches whose names start with `prefix` (any string, not only whole path components). */
export async function listBranches(repo: string, prefix: string): Promise<string[]> {
  // for-each-ref matches a pattern without wildcards only up to a `/`, so `maestro/ID--` alone matched no
  // stream branch; list the folder the prefix lives in and filter here.
  const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  const out = await git(repo, ['for-each-ref', '--format=%(refname)', `refs/heads/${folder}`]);
  return out
    .split('\n')
    .map((ref) => ref.slice('refs/heads/'.length))
    .filter((name) => name.length > 0 && name.startsWith(prefix));
}

/**
 * Worktree bookkeeping (`.git/worktrees/*`) is not safe under concurrent `git worktree` commands
 * (git 2.39: "failed to read .git/worktrees/x/commondir"), so they run one at a time per process.
 */
const worktreeLock = new PriorityLock();
/** `priority`: lower goes first when several wait (a run passes a stream's place in the schedule). */
function serialWorktreeOp<T>(work: () => Promise<T>, priority: Priority = 0): Promise<T> {
  return worktreeLock.run(priority, work);
}

/** Adds a worktree at `dir` with `branch` checked out. */
export async function addWorktree(
  repo: string,
  dir: string,
  branch: string,
  priority: Priority = 0,
): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  await serialWorktreeOp(() => git(repo, ['worktree', 'add', '--quiet', dir, branch]), priority);
}

/**
 * Points `branch` at `sha` and checks it out in a new worktree at `dir`, in one git call (`worktree add
 * -b`/`-B`). An existing branch is reset (`reset`) or makes it fail (`fail`); so does a `dir` that is
 * already registered. A failure changes nothing.
 */
export async function addWorktreeAt(
  repo: string,
  dir: string,
  branch: string,
  sha: string,
  existingBranch: 'reset' | 'fail',
  priority: Priority = 0,
): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  const flag = existingBranch === 'reset' ? '-B' : '-b';
  await serialWorktreeOp(() => git(repo, ['worktree', 'add', '--quiet', flag, branch, dir, sha]), priority);
}

/** Adds a worktree at `dir` with `sha` checked out on a detached HEAD. */
export async function addDetachedWorktree(
  repo: string,
  dir: string,
  sha: string,
  priority: Priority = 0,
): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  await serialWorktreeOp(() => git(repo, ['worktree', 'add', '--quiet', '--detach', dir, sha]), priority);
}

/** Removes a worktree (with any changes in it) and prunes stale worktree records. */
export async function removeWorktree(repo: string, dir: string): Promise<void> {
  await serialWorktreeOp(async () => {
    await gitRaw(repo, ['worktree', 'remove', '--force', '--force', dir]);
    await gitRaw(repo, ['worktree', 'prune']);
  });
}

/** Forgets worktrees whose directories are gone. */
export async function pruneWorktrees(repo: string): Promise<void> {
  await serialWorktreeOp(() => gitRaw(repo, ['worktree', 'prune']));
}

/** One entry of `git worktree list --porcelain`. */
export interface WorktreeInfo {
  readonly path: string;
  readonly head: string | null;
  /** Full ref (`refs/heads/x`), or null when detached. */
  readonly branch: string | null;
}

/** Every worktree of the repository, the main one first. */
export async function listWorktrees(repo: string): Promise<WorktreeInfo[]> {
  const out = await serialWorktreeOp(() => git(repo, ['worktree', 'list', '--porcelain', '-z']));
  const result: WorktreeInfo[] = [];
  let current: { path: string; head: string | null; branch: string | null } | null = null;
  for (const field of out.split('\0')) {
    if (field.startsWith('worktree ')) {
      if (current) result.push(current);
      current = { path: field.slice('worktree '.length), head: null, branch: null };
    } else if (current && field.startsWith('HEAD ')) {
      current.head = field.slice(5);
    } else if (current && field.startsWith('branch ')) {
      current.branch = field.slice(7);
    }
  }
  if (current) result.push(current);
  return result;
}

/**
 * `--git-dir X --work-tree W` for a linked worktree W, after checking that W is still the worktree
 * git registered: its `.git` file names a directory under the repository's `worktrees/`, and that
 * directory's `gitdir` names W/.git back. Without this, a git command in a worktree whose `.git` an
 * agent deleted would fall through to an enclosing repository (the user's checkout). Throws a
 * `worktree-broken` GitError, having run nothing in W.
 */
export async function worktreeGitArgs(worktree: string): Promise<string[]> {
  const dotGit = path.join(worktree, '.git');
  const broken = (why: string): GitError =>
    new GitError(['(worktree check)', worktree], null, `maestro: worktree-broken: ${worktree}: ${why}`);
  let text: string;
  try {
    text = await readFile(dotGit, 'utf8');
  } catch {
    throw broken('its .git file is gone (or is a directory)');
  }
  const gitDir = /^gitdir: (.+)$/m.exec(text)?.[1]?.trim();
  if (gitDir === undefined) throw broken('its .git file does not name a git directory');
  const absolute = path.resolve(worktree, gitDir);
  if (path.basename(path.dirname(absolute)) !== 'worktrees')
    throw broken(`its .git points at ${absolute}, not a worktree record`);
  let back: string;
  try {
    back = (await readFile(path.join(absolute, 'gitdir'), 'utf8')).trim();
  } catch {
    throw broken(`its git directory ${absolute} is not registered`);
  }
  if (path.resolve(absolute, back) !== path.resolve(dotGit) && path.resolve(back) !== path.resolve(dotGit))
    throw broken(`its .git points at ${absolute}, which belongs to ${back}`);
  return ['--git-dir', absolute, '--work-tree', worktree];
}

/**
 * Removes the `index.lock` in a worktree's own git directory. Only for when nothing can hold it: every
 * process of the attempt that used the worktree has been stopped, so a lock left there is stale (an agent
 * killed mid-`git add`, or one that made it on purpose) and would make git refuse every command in that
 * worktree. Returns the removed path, or null when there was none (or the worktree is broken: the
 * commit that follows says so).
 */
export async function removeStaleIndexLock(worktree: string): Promise<string | null> {
  let gitDir: string | undefined;
  try {
    gitDir = (await worktreeGitArgs(worktree))[1];
  } catch (error) {
    if (error instanceof GitError) return null;
    throw error;
  }
  if (gitDir === undefined) return null;
  const lock = path.join(gitDir, 'index.lock');
  return unlink(lock).then(
    () => lock,
    () => null,
  );
}

/** True when the worktree has no staged, unstaged or untracked (non-ignored) changes. */
export async function isClean(worktree: string): Promise<boolean> {
  const out = await git(worktree, ['status', '--porcelain', '-z', '--untracked-files=all']);
  return out.length === 0;
}

/**
 * `-c user.name=… -c user.email=…` for what the repository does not configure (and the environment
 * does not supply), so commits never fail for want of an identity. Look it up once per run and pass
 * it to `commitAll` / `mergeIntoBranch` to save a git process per commit.
 */
export async function commitIdentityArgs(repo: string): Promise<string[]> {
  const env = process.env;
  // One process for both keys; exit 1 (no match) just means neither is configured.
  const r = await gitRaw(repo, ['config', '--get-regexp', '^user\\.(name|email)$']);
  const keys = new Set(
    r.exitCode === 0 ? r.stdout.split('\n').map((line) => line.split(' ', 1)[0]?.toLowerCase()) : [],
  );
  const args: string[] = [];
  if (!keys.has('user.name') && env.GIT_AUTHOR_NAME === undefined) args.push('-c', 'user.name=Maestro');
  if (!keys.has('user.email') && env.GIT_AUTHOR_EMAIL === undefined)
    args.push('-c', 'user.email=maestro@localhost');
  return args;
}

/**
 * Commits everything in the worktree (tracked and untracked). Returns the new HEAD, whether a commit
 * was made and, with `changedSince`, the paths changed from that commit to the new HEAD.
 */
export async function commitAll(
  worktree: string,
  message: string,
  options: {
    /** `commitIdentityArgs` of the repository, looked up here when omitted. */
    readonly identity?: readonly string[];
    readonly changedSince?: string;
  } = {},
): Promise<{
  sha: string;
  committed: boolean;
  /** Paths changed since `changedSince` (null without it). */
  changed: string[] | null;
  /** Those of them deleted. */
  deleted: string[] | null;
}> {
  // Every command names the worktree's own git directory: never the repository around it.
  const at = await worktreeGitArgs(worktree);
  await git(worktree, [...at, 'add', '--all']);
  // --no-verify: the user's hooks are for humans; validation gates play that part here.
  // maintenance.auto=false: `git commit` would start `git maintenance run --auto` after every commit;
  // a run makes dozens in a burst, so it calls `autoMaintenance` once at its end instead.
  const args = [
    ...(options.identity ?? (await commitIdentityArgs(worktree))),
    ...at,
    '-c',
    'maintenance.auto=false',
    'commit',
    '--quiet',
    '--no-verify',
    '-m',
    message,
  ];
  // What the commit changes since `changedSince` is the index just staged against it: read side by side
  // with the commit (plumbing that only reads the index, which the commit replaces atomically).
  const [commit, changes] = await Promise.all([
    gitRaw(worktree, args),
    options.changedSince === undefined
      ? null
      : git(worktree, [...at, 'diff-index', '--cached', '--name-status', '-z', options.changedSince]).then(
          parseNameStatus,
        ),
  ]);
  let committed = true;
  if (commit.exitCode !== 0) {
    // `git commit` exits 1 both for "nothing to commit" and for real failures: tell them apart only
    // on this rare path, so the usual case costs no extra process.
    const staged = await gitRaw(worktree, [...at, 'diff', '--cached', '--quiet']);
    if (staged.exitCode !== 0) throw new GitError(args, commit.exitCode, commit.stderr);
    committed = false;
  }
  const sha =
    (await headFromFiles(at[1] ?? '')) ?? (await git(worktree, [...at, 'rev-parse', 'HEAD'])).trim();
  return { sha, committed, changed: changes?.changed ?? null, deleted: changes?.deleted ?? null };
}

/** `--name-status -z` output (`M\0path\0D\0path\0…`, no renames): the paths, and the deleted ones. */
function parseNameStatus(text: string): { changed: string[]; deleted: string[] } {
  const fields = text.split('\0');
  const changed: string[] = [];
  const deleted: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const file = fields[i + 1] ?? '';
    if (file === '') continue;
    changed.push(file);
    if (fields[i] === 'D') deleted.push(file);
  }
  return { changed, deleted };
}

/**
 * A worktree's HEAD commit read from its git directory's files (`HEAD`, then the branch's loose ref in
 * the common directory), without a process; null when it is not there in that form (a packed or
 * reftable ref), for the caller to ask git.
 */
async function headFromFiles(gitDir: string): Promise<string | null> {
  const isSha = (text: string): boolean => /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(text);
  try {
    const head = (await readFile(path.join(gitDir, 'HEAD'), 'utf8')).trim();
    if (isSha(head)) return head;
    const ref = /^ref: (refs\/heads\/\S+)$/.exec(head)?.[1];
    if (ref === undefined) return null;
    const common = path.resolve(gitDir, (await readFile(path.join(gitDir, 'commondir'), 'utf8')).trim());
    const sha = (await readFile(path.join(common, ref), 'utf8')).trim();
    return isSha(sha) ? sha : null;
  } catch {
    return null;
  }
}

/** The housekeeping `git commit` does after each commit (`maintenance run --auto`), run once. Best effort. */
export async function autoMaintenance(repo: string): Promise<void> {
  await gitRaw(repo, ['maintenance', 'run', '--auto', '--quiet']);
}

/** Paths changed between two commits (renames listed as delete + add, so both sides are checked). */
export async function changedPaths(repo: string, from: string, to: string): Promise<string[]> {
  return splitZ(await git(repo, ['diff', '--name-only', '-z', '--no-renames', from, to]));
}

/** True when `ancestor` is reachable from `descendant`. */
export async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await gitRaw(repo, ['merge-base', '--is-ancestor', ancestor, descendant]);
  if (r.exitCode === 0) return true;
  if (r.exitCode === 1) return false;
  throw new GitError(['merge-base', '--is-ancestor', ancestor, descendant], r.exitCode, r.stderr);
}

/** Result of a merge pre-check: a clean tree, or the conflicting paths. */
export type MergeTreeResult =
  | { readonly clean: true; readonly tree: string }
  | { readonly clean: false; readonly conflicts: readonly string[] };

/** Computes the merge of two commits without touching any worktree or index (`merge-tree --write-tree`). */
export async function mergeTree(repo: string, ours: string, theirs: string): Promise<MergeTreeResult> {
  const args = ['merge-tree', '--write-tree', '--name-only', '-z', '--no-messages', ours, theirs];
  const r = await gitRaw(repo, args);
  const fields = splitZ(r.stdout);
  if (r.exitCode === 0 && fields[0] !== undefined) return { clean: true, tree: fields[0] };
  if (r.exitCode === 1) return { clean: false, conflicts: [...new Set(fields.slice(1))] };
  throw new GitError(args, r.exitCode, r.stderr);
}

/** Outcome of `mergeIntoBranch`. */
export type MergeResult =
  | { readonly ok: true; readonly sha: string; readonly alreadyMerged: boolean }
  | { readonly ok: false; readonly reason: 'conflict'; readonly conflicts: readonly string[] }
  | { readonly ok: false; readonly reason: 'moved'; readonly message: string };

/**
 * Merges `theirs` into branch `branch` atomically: the merge tree is computed with merge-tree,
 * committed with commit-tree, and the branch moved with update-ref guarded by its old value.
 * The branch is either untouched or points at the complete merge commit; worktrees that have
 * the branch checked out must be synced afterwards (`syncWorktree`).
 */
export async function mergeIntoBranch(
  repo: string,
  branch: string,
  theirs: string,
  message: string,
  options: {
    /** The branch tip the caller last saw; saves a rev-parse, and update-ref still checks it. */
    readonly ours?: string;
    /** `commitIdentityArgs(repo)`, looked up here when omitted. */
    readonly identity?: readonly string[];
    /** The caller just created `theirs` (so no branch can contain it yet): skips the ancestry check. */
    readonly theirsIsNew?: boolean;
  } = {},
): Promise<MergeResult> {
  const ref = `refs/heads/${branch}`;
  const ours = options.ours ?? (await git(repo, ['rev-parse', ref])).trim();
  // Both only read the object store: run them side by side.
  const [alreadyMerged, merged] = await Promise.all([
    options.theirsIsNew === true ? false : isAncestor(repo, theirs, ours),
    mergeTree(repo, ours, theirs),
  ]);
  if (alreadyMerged) return { ok: true, sha: ours, alreadyMerged: true };
  if (!merged.clean) return { ok: false, reason: 'conflict', conflicts: merged.conflicts };
  const ident = options.identity ?? (await commitIdentityArgs(repo));
  const sha = (
    await git(repo, [...ident, 'commit-tree', merged.tree, '-p', ours, '-p', theirs, '-m', message])
  ).trim();
  // Guarded by the old value: if the branch moved since `ours` was read, nothing changes.
  const args = ['update-ref', '-m', message, ref, sha, ours];
  const r = await gitRaw(repo, args);
  if (r.exitCode !== 0) {
    // A hook refusing the update, or a lock in the way, is no merge conflict: it fails the same way again.
    const error = new GitError(args, r.exitCode, r.stderr);
    if (error.code === 'git-hook-refused' || error.code === 'git-locked') throw error;
    return { ok: false, reason: 'moved', message: r.stderr.trim() };
  }
  return { ok: true, sha, alreadyMerged: false };
}

/**
 * Starts merging `theirs` into the worktree's checked-out branch without committing (`merge --no-ff
 * --no-commit`), so conflicting files keep git's conflict markers for someone to resolve; the next
 * `commitAll` then makes the merge commit (git keeps MERGE_HEAD until then). Returns the paths left
 * in conflict (none when it merged cleanly).
 */
export async function startMergeInWorktree(
  worktree: string,
  theirs: string,
  identity: readonly string[] = [],
): Promise<string[]> {
  const at = await worktreeGitArgs(worktree);
  const args = [...identity, ...at, 'merge', '--no-ff', '--no-commit', '--no-edit', '--quiet', theirs];
  const r = await gitRaw(worktree, args);
  // Exit 1 with conflicts is the expected outcome; anything else (a dirty worktree, a bad commit) is not.
  const conflicted = splitZ(await git(worktree, [...at, 'diff', '--name-only', '-z', '--diff-filter=U']));
  if (r.exitCode !== 0 && conflicted.length === 0) throw new GitError(args, r.exitCode, r.stderr);
  return [...new Set(conflicted)];
}

/**
 * A merge commit of `theirs` into `ours` whose files keep git's conflict markers where they conflict
 * (`merge-tree --write-tree` writes them into its tree), for an agent elsewhere to resolve from a plain
 * checkout; nothing moves. Its subject must not look like a stream's own commit.
 */
export async function conflictedMergeCommit(
  repo: string,
  ours: string,
  theirs: string,
  message: string,
  identity: readonly string[] = [],
): Promise<string> {
  const args = ['merge-tree', '--write-tree', '--no-messages', ours, theirs];
  const r = await gitRaw(repo, args);
  const tree = r.stdout.split('\n')[0]?.trim() ?? '';
  if ((r.exitCode !== 0 && r.exitCode !== 1) || !/^[0-9a-f]{40,64}$/.test(tree))
    throw new GitError(args, r.exitCode, r.stderr);
  return (
    await git(repo, [...identity, 'commit-tree', tree, '-p', ours, '-p', theirs, '-m', message])
  ).trim();
}

/** Paths among `paths` whose content in commit `sha` still holds a conflict marker line (`<<<<<<< ` or `>>>>>>> `). */
export async function pathsWithConflictMarkers(
  repo: string,
  sha: string,
  paths: readonly string[],
): Promise<string[]> {
  if (paths.length === 0) return [];
  const args = ['grep', '-l', '-I', '-E', '^(<{7}|>{7})( |$)', sha, '--', ...paths];
  const r = await gitRaw(repo, args);
  if (r.exitCode === 1) return [];
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
  // `git grep` names a match in a commit as `<sha>:<path>`.
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.slice(sha.length + 1));
}

/** Makes a worktree match its HEAD exactly: discards changes and untracked files (keeps ignored ones). */
export async function syncWorktree(worktree: string): Promise<void> {
  const at = await worktreeGitArgs(worktree);
  await git(worktree, [...at, 'reset', '--quiet', '--hard', 'HEAD']);
  await git(worktree, [...at, 'clean', '-fdq']);
}

/** Moves the worktree's checked-out branch to `sha` and makes the files match (revert to last green). */
export async function resetWorktree(worktree: string, sha: string): Promise<void> {
  const at = await worktreeGitArgs(worktree);
  await git(worktree, [...at, 'reset', '--quiet', '--hard', sha]);
  await git(worktree, [...at, 'clean', '-fdq']);
}

/** The parents of a commit. */
export async function parentsOf(repo: string, sha: string): Promise<string[]> {
  const out = (await git(repo, ['rev-list', '--parents', '-n', '1', sha])).trim();
  return out.split(' ').slice(1);
}

/** Tracked files of a commit or the index (`ls-files`). */
export async function lsFiles(repo: string, ref?: string): Promise<string[]> {
  if (ref === undefined) return splitZ(await git(repo, ['ls-files', '-z']));
  return splitZ(await git(repo, ['ls-tree', '-r', '--name-only', '-z', ref]));
}

/** Adds a pattern to `<common dir>/info/exclude` (never the user's .gitignore) if not there yet. */
export async function addExclude(repo: string, pattern: string): Promise<void> {
  const file = path.join(await commonDir(repo), 'info', 'exclude');
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    await mkdir(path.dirname(file), { recursive: true });
  }
  if (text.split('\n').includes(pattern)) return;
  const prefix = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  await appendFile(file, `${prefix}${pattern}\n`);
}

/** Runs git with `input` on its stdin; resolves with its output whatever the exit code. */
export function gitWithInput(cwd: string, args: readonly string[], input: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [...args],
      { cwd, env: gitEnv(), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`could not run git ${args.join(' ')}: ${error.message}`));
          return;
        }
        resolve({ stdout, stderr, exitCode: error ? Number(error.code) : 0 });
      },
    );
    child.stdin?.end(input);
  });
}

/**
 * The ignored entries `git clean -X` would remove (directories as `dir/`), for callers that keep
 * some of them (a recycled worktree keeps its dependency directories).
 */
export async function ignoredEntries(worktree: string): Promise<string[]> {
  const out = await git(worktree, ['clean', '-ndX']);
  return out
    .split('\n')
    .filter((l) => l.startsWith('Would remove '))
    .map((l) => l.slice('Would remove '.length));
}

/**
 * Points a worktree at another branch and start commit, for a new stream (`-B`: created or reset to
 * `sha`) or a continued one (`sha` null: the branch as it is), and removes untracked files. Ignored
 * files stay: the caller decides which of them go.
 */
export async function switchWorktree(worktree: string, branch: string, sha: string | null): Promise<void> {
  await git(
    worktree,
    sha === null
      ? ['checkout', '--quiet', '--force', branch]
      : ['checkout', '--quiet', '--force', '-B', branch, sha],
  );
  await git(worktree, ['clean', '-fdq']);
}
