/**
 * `--land`: fast-forward the base branch to the integration branch, only when the base has not moved.
 * If the user has the base branch checked out, their worktree is touched only through
 * `git merge --ff-only`, and only when it is clean; otherwise we print the command instead.
 */
import { git, gitRaw, isClean, listWorktrees, resolveCommit } from '../git/git.js';
import type { RunState } from './types.js';

export type LandResult =
  | { readonly landed: true; readonly branch: string; readonly sha: string }
  | { readonly landed: false; readonly reason: string; readonly command: string | null };

/** Fast-forwards the base branch of a finished run when it is safe to. */
export async function landRun(repo: string, state: RunState): Promise<LandResult> {
  const baseRef = state.baseBranchRef;
  if (baseRef === null)
    return { landed: false, reason: `the base ${state.baseRef} is not a branch`, command: null };
  const branch = baseRef.replace(/^refs\/heads\//, '');
  const command = `git switch ${branch} && git merge --ff-only ${state.integrationBranch}`;
  const current = await resolveCommit(repo, baseRef);
  if (current !== state.baseSha)
    return { landed: false, reason: `${branch} has moved since the run started`, command };
  const target = await resolveCommit(repo, `refs/heads/${state.integrationBranch}`);
  if (target === null) return { landed: false, reason: 'the integration branch is gone', command: null };
  const holder = (await listWorktrees(repo)).find((w) => w.branch === baseRef);
  if (holder === undefined) {
    const r = await gitRaw(repo, [
      'update-ref',
      '-m',
      `maestro: land ${state.runId}`,
      baseRef,
      target,
      current,
    ]);
    if (r.exitCode !== 0) return { landed: false, reason: r.stderr.trim(), command };
    return { landed: true, branch, sha: target };
  }
  if (!(await isClean(holder.path))) {
    return {
      landed: false,
      reason: `${branch} is checked out at ${holder.path} with uncommitted changes`,
      command,
    };
  }
  await git(holder.path, ['merge', '--ff-only', '--quiet', state.integrationBranch]);
  return { landed: true, branch, sha: target };
}
