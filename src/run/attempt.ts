/**
 * One attempt of one stream, as a unit any executor can run: prepare the stream's worktree from a
 * start commit (or continue its branch), run the agent, commit its work, and report the facts the
 * engine journals (the commit, the paths it changed, the paths outside the stream's files). It writes
 * no journal line itself: the engine does, from the callbacks and the result.
 */
import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import type { AgentActivity, AgentOutcome, AgentTask } from '../agents/types.js';
import {
  addWorktree,
  addWorktreeAt,
  changedPaths,
  commitAll,
  GitError,
  listWorktrees,
  moveWorktree,
  pruneWorktrees,
  setBranch,
  startMergeInWorktree,
  syncWorktree,
} from '../git/git.js';
import type { Priority } from '../util/priority-lock.js';
import { outOfScopePaths } from './ownership.js';

/** What to run: one attempt of a stream, from a commit. */
export interface AttemptJob {
  /** The repository the run belongs to (its object store holds `startSha`). */
  readonly repo: string;
  readonly streamId: string;
  readonly attempt: number;
  /** The stream's branch; it ends on the attempt's commit. */
  readonly branch: string;
  /** The worktree the agent works in (`task.cwd`). */
  readonly worktree: string;
  /**
   * The commit the attempt starts from. A fresh attempt points the branch there (a validated commit
   * of the integration branch); a continued one (`continueBranch`) keeps the branch and its work, and
   * `startSha` is where that branch first started (what the commit's changed paths are counted from).
   */
  readonly startSha: string;
  readonly continueBranch: boolean;
  /**
   * A conflict handed back to the agent: this commit (the last green one, which is `startSha`) is merged
   * into the continued branch before the agent starts, leaving the conflict markers in the worktree;
   * the attempt's commit is then that merge, resolved.
   */
  readonly mergeFrom?: string;
  /** Where the worktree command queues behind others (lower first). */
  readonly priority: Priority;
  /** The agent's task; a promise, so the prompt files are written while git prepares the worktree. */
  readonly task: Promise<AgentTask>;
  readonly logFile: string;
  readonly timeoutMs: number;
  readonly stallMs: number;
  readonly commitMessage: string;
  /** `commitIdentityArgs` of the repository. */
  readonly identity: readonly string[];
  /** The stream's files and globs, for the ownership facts. */
  readonly ownedPaths: readonly string[];
}

/** What the engine hears while an attempt runs. */
export interface AttemptCallbacks {
  /** The worktree is ready and the agent is about to start. */
  onStarted(): void;
  onActivity(activity: AgentActivity): void;
  /**
   * The agent ended, before anything is committed. False discards its work (the run is stopping):
   * the attempt then ends without a commit.
   */
  onAgentEnded(outcome: AgentOutcome, durationMs: number): boolean;
}

/** How an attempt ended: without a commit (the agent failed, or its work was discarded), or committed. */
export type AttemptResult =
  | { readonly kind: 'not-committed'; readonly outcome: AgentOutcome; readonly durationMs: number }
  | {
      readonly kind: 'committed';
      readonly outcome: Extract<AgentOutcome, { ok: true }>;
      readonly durationMs: number;
      readonly sha: string;
      /** True when the attempt made a new commit (no branch can contain it yet). */
      readonly isNew: boolean;
      readonly changedFiles: readonly string[];
      /** Changed paths the stream does not own. */
      readonly outOfScope: readonly string[];
    };

/** Runs the agent of an attempt (a local child process, a worker elsewhere). */
export type AgentRunner = (
  task: AgentTask,
  logFile: string,
  limits: { timeoutMs: number; stallMs: number },
  signal: AbortSignal,
  onActivity: (activity: AgentActivity) => void,
) => Promise<AgentOutcome>;

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Ensures a worktree for `branch` at `dir` exists and is clean (recreated if it vanished). */
export async function ensureWorktree(repo: string, dir: string, branch: string): Promise<void> {
  const registered = (await listWorktrees(repo)).some((w) => path.resolve(w.path) === path.resolve(dir));
  if (registered && (await exists(dir))) {
    try {
      await syncWorktree(dir);
      return;
    } catch (error) {
      // Its `.git` was removed or replaced (an agent): check it out again rather than run git in it.
      if (!(error instanceof GitError) || error.code !== 'worktree-broken') throw error;
    }
  }
  await rm(dir, { recursive: true, force: true });
  await pruneWorktrees(repo);
  await addWorktree(repo, dir, branch);
}

/**
 * A repository's stream worktrees on this machine, with checkouts made ahead of time: made while a
 * stream's dependencies still run, so that starting it only has to bring the files up to the new
 * integration tip (`git reset --hard`, in proportion to what changed) instead of checking out the
 * whole repository on the critical path.
 */
export class StreamWorktrees {
  /** By worktree directory (unique to a run and stream): true when the checkout was made. */
  readonly #prewarmed = new Map<string, Promise<boolean>>();

  /** Checks out `branch` at `sha` in `worktree` in the background; a failure only means no head start. */
  prewarm(repo: string, worktree: string, branch: string, sha: string, priority: Priority): void {
    this.#prewarmed.set(
      worktree,
      exists(worktree).then(async (present) => {
        if (present) return false;
        try {
          await addWorktreeAt(repo, worktree, branch, sha, 'reset', priority);
          return true;
        } catch {
          return false;
        }
      }),
    );
  }

  /** Waits for checkouts still in progress (they never reject): no git process may outlive a run. */
  async settle(): Promise<void> {
    await Promise.all(this.#prewarmed.values());
  }

  /**
   * Makes `worktree` a clean checkout of `branch`; with `freshFrom`, first points the branch there
   * (a fresh start from the integration tip) instead of continuing it.
   */
  async prepare(
    repo: string,
    worktree: string,
    branch: string,
    freshFrom: string | null,
    priority: Priority,
  ): Promise<void> {
    const prewarmed = this.#prewarmed.get(worktree);
    if (freshFrom !== null && prewarmed !== undefined) {
      this.#prewarmed.delete(worktree);
      // Checked out ahead of time and untouched since: move its branch and files to `freshFrom`.
      if (await prewarmed) {
        await moveWorktree(worktree, freshFrom);
        return;
      }
    }
    if (freshFrom === null || (await exists(worktree))) {
      if (freshFrom !== null) await setBranch(repo, branch, freshFrom);
      await ensureWorktree(repo, worktree, branch);
      return;
    }
    // The usual case: branch and worktree in one git call. A stale registration (its directory deleted
    // by hand) makes it fail without changing anything; the slow path prunes it.
    try {
      await addWorktreeAt(repo, worktree, branch, freshFrom, 'reset', priority);
    } catch {
      await setBranch(repo, branch, freshFrom);
      await ensureWorktree(repo, worktree, branch);
    }
  }
}

/**
 * Runs one attempt on this machine: prepares the worktree (with `worktrees`' head start, if any),
 * runs the agent with `runAgent`, commits its work and reports the ownership facts.
 */
export async function runAttempt(
  job: AttemptJob,
  worktrees: StreamWorktrees,
  runAgent: AgentRunner,
  signal: AbortSignal,
  callbacks: AttemptCallbacks,
): Promise<AttemptResult> {
  const [task] = await Promise.all([
    job.task,
    worktrees.prepare(
      job.repo,
      job.worktree,
      job.branch,
      job.continueBranch ? null : job.startSha,
      job.priority,
    ),
  ]);
  if (job.mergeFrom !== undefined) await startMergeInWorktree(job.worktree, job.mergeFrom, job.identity);
  callbacks.onStarted();
  const started = performance.now();
  const outcome = await runAgent(
    task,
    job.logFile,
    { timeoutMs: job.timeoutMs, stallMs: job.stallMs },
    signal,
    (activity) => {
      callbacks.onActivity(activity);
    },
  );
  const durationMs = Math.round(performance.now() - started);
  if (!callbacks.onAgentEnded(outcome, durationMs) || !outcome.ok)
    return { kind: 'not-committed', outcome, durationMs };
  const commit = await commitAll(job.worktree, job.commitMessage, {
    identity: job.identity,
    changedSince: job.startSha,
  });
  const changed = commit.changed ?? (await changedPaths(job.repo, job.startSha, commit.sha));
  return {
    kind: 'committed',
    outcome,
    durationMs,
    sha: commit.sha,
    isNew: commit.committed,
    changedFiles: changed,
    outOfScope: outOfScopePaths(changed, job.ownedPaths),
  };
}
