/**
 * One attempt of one stream, as a unit any executor can run: prepare the stream's worktree from a
 * start commit (or continue its branch), run the agent, commit its work, and report the facts the
 * engine journals (the commit, the paths it changed, the paths outside the stream's files). It writes
 * no journal line itself: the engine does, from the callbacks and the result.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { AgentActivity, AgentOutcome, AgentTask } from '../agents/types.js';
import {
  addWorktree,
  changedPaths,
  commitAll,
  removeStaleIndexLock,
  GitError,
  listWorktrees,
  pruneWorktrees,
  startMergeInWorktree,
  syncWorktree,
} from '../git/git.js';
import type { Priority } from '../util/priority-lock.js';
import { outOfScopePaths } from './ownership.js';
import { portOf } from './ports.js';
import type { SetupSpec } from './setup-detect.js';
import { ensureSetup, recordedSetupKey, setupKey, worktreeEnv, type SetupResult } from './setup.js';
import type { WorktreeSlots } from './slots.js';
import type { QueueAttemptRecord } from './types.js';
import { exists } from '../util/fs.js';

/** What to run: one attempt of a stream, from a commit. */
export interface AttemptJob {
  /** The repository the run belongs to (its object store holds `startSha`). */
  readonly repo: string;
  readonly streamId: string;
  readonly attempt: number;
  /** The stream's branch; it ends on the attempt's commit. */
  readonly branch: string;
  /**
   * Where this machine's worktrees of the run live: a local executor runs the attempt in a recycled
   * slot under it (`slots.ts`) and says which in `onStarted`.
   */
  readonly worktreeRoot: string;
  /** What gets each worktree ready before the agent starts. */
  readonly setup: AttemptSetup;
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

/** A worktree's environment: its setup, and where its port block starts. */
export interface AttemptSetup {
  readonly spec: SetupSpec;
  /** The user's checkout (`MAESTRO_ROOT`; `.worktreeinclude` files are copied from there). */
  readonly root: string;
  /** `.worktreeinclude` matches, listed once per run. */
  readonly included: readonly string[];
  /** The run's port block: slot n's `MAESTRO_PORT` is `portOf(portBase, n)`. */
  readonly portBase: number;
}

/** Where an attempt runs: its worktree and the first port of its block (`MAESTRO_PORT`). */
export interface AttemptPlace {
  readonly worktree: string;
  readonly port: number;
}

/** What the engine hears while an attempt runs. */
export interface AttemptCallbacks {
  /**
   * The worktree is checked out (`where`: which one, when the executor knows); setup, if any, and
   * then the agent come next.
   */
  onStarted(where?: AttemptPlace): void;
  /** The setup commands start in the worktree (they run only when its setup files changed). */
  onSetupStarted?(commands: readonly string[], worktree: string): void;
  /** The setup commands ended. */
  onSetupEnded?(result: SetupResult): void;
  onActivity(activity: AgentActivity): void;
  /**
   * The agent ended, before anything is committed. False discards its work (the run is stopping):
   * the attempt then ends without a commit.
   */
  onAgentEnded(outcome: AgentOutcome, durationMs: number): boolean;
}

/** How an attempt ended: without a commit (the agent failed, or its work was discarded), or committed. */
export type AttemptResult = (
  | {
      readonly kind: 'not-committed';
      readonly outcome: AgentOutcome;
      readonly durationMs: number;
      /** A stale `index.lock` the agent left in its worktree, removed (see `removeStaleIndexLock`). */
      readonly staleLock?: string;
    }
  | {
      /** The worktree's setup failed (or was stopped): the agent did not run. */
      readonly kind: 'setup-failed';
      readonly setup: Extract<SetupResult, { ok: false }>;
    }
  | {
      readonly kind: 'committed';
      readonly outcome: Extract<AgentOutcome, { ok: true }>;
      readonly durationMs: number;
      readonly sha: string;
      /** True when the attempt made a new commit (no branch can contain it yet). */
      readonly isNew: boolean;
      readonly changedFiles: readonly string[];
      /** Those of them the attempt deleted, when the executor knows (else the engine asks git). */
      readonly deletedFiles?: readonly string[];
      /** Changed paths the stream does not own. */
      readonly outOfScope: readonly string[];
      readonly staleLock?: string;
    }
) & {
  /** The attempt's job, when it ran on the run queue (`--redis`): the engine journals it. */
  readonly queue?: QueueAttemptRecord;
};

/** Runs the agent of an attempt (a local child process, a worker elsewhere). */
export type AgentRunner = (
  task: AgentTask,
  logFile: string,
  limits: { timeoutMs: number; stallMs: number },
  signal: AbortSignal,
  onActivity: (activity: AgentActivity) => void,
) => Promise<AgentOutcome>;

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
 * Runs one attempt on this machine: takes a recycled worktree slot, points it at the attempt's
 * branch, gets it ready (`.worktreeinclude`, setup when its setup files changed), runs the agent with
 * `runAgent`, commits its work and reports the ownership facts.
 */
export async function runAttempt(
  job: AttemptJob,
  slots: WorktreeSlots,
  runAgent: AgentRunner,
  signal: AbortSignal,
  callbacks: AttemptCallbacks,
): Promise<AttemptResult> {
  const { spec } = job.setup;
  // A slot whose setup already matches the attempt's commit saves a setup run.
  const wanted =
    spec.commands.length === 0 || job.continueBranch
      ? null
      : setupKey(spec, job.repo, job.startSha).catch(() => null);
  const slot = await slots.acquire(job.worktreeRoot, async (s) => {
    const key = await wanted;
    return key !== null && (await recordedSetupKey(s.dir)) === key;
  });
  try {
    const [task] = await Promise.all([
      job.task,
      slots.prepare(job.repo, slot, job.branch, job.continueBranch ? null : job.startSha, job.priority),
    ]);
    // A conflict handed back: the green commit merged in, markers left for the agent to resolve.
    if (job.mergeFrom !== undefined) await startMergeInWorktree(slot.dir, job.mergeFrom, job.identity);
    const place = { worktree: slot.dir, port: portOf(job.setup.portBase, slot.index) };
    const env = worktreeEnv({
      root: job.setup.root,
      worktree: slot.dir,
      streamId: job.streamId,
      port: place.port,
    });
    callbacks.onStarted(place);
    const setup = await ensureSetup(
      spec,
      {
        root: job.setup.root,
        worktree: slot.dir,
        streamId: job.streamId,
        port: place.port,
        logFile: job.logFile,
        timeoutMs: job.timeoutMs,
        signal,
        included: job.setup.included,
      },
      () => callbacks.onSetupStarted?.(spec.commands, slot.dir),
    );
    if (setup.ran) callbacks.onSetupEnded?.(setup);
    if (!setup.ok) return { kind: 'setup-failed', setup };
    return await runAgentAndCommit(
      job,
      { ...task, cwd: slot.dir, env: { ...task.env, ...env } },
      slot.dir,
      runAgent,
      signal,
      callbacks,
    );
  } finally {
    // In the background: the commit is made, and the slot's next user waits for it.
    slots.release(job.worktreeRoot, slot);
  }
}

/** Runs the agent in a ready worktree and commits what it did. */
async function runAgentAndCommit(
  job: AttemptJob,
  task: AgentTask,
  worktree: string,
  runAgent: AgentRunner,
  signal: AbortSignal,
  callbacks: AttemptCallbacks,
): Promise<AttemptResult> {
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
  // runAgent stopped every process of the attempt (its group and all in the worktree): an index.lock
  // left now is stale, and would make git refuse the commit and every later command in this slot.
  const staleLock = await removeStaleIndexLock(worktree);
  const lockFound = staleLock === null ? {} : { staleLock };
  if (!callbacks.onAgentEnded(outcome, durationMs) || !outcome.ok)
    return { kind: 'not-committed', outcome, durationMs, ...lockFound };
  const commit = await commitAll(worktree, job.commitMessage, {
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
    ...(commit.deleted === null ? {} : { deletedFiles: commit.deleted }),
    outOfScope: outOfScopePaths(changed, job.ownedPaths),
    ...lockFound,
  };
}
