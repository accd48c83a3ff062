/**
 * `QueueExecutor`: the `StreamExecutor` of `maestro run --redis`. Each attempt becomes one BullMQ job
 * that a `maestro worker` somewhere runs (see `worker.ts`): the coordinator publishes the start commit
 * on the git remote, the worker runs the agent and pushes its commit, and the commit is fetched back
 * into the stream's branch here, where the engine checks ownership, merges and gates exactly as for a
 * local attempt. The changed paths are computed here from the fetched commit, not taken on the
 * worker's word.
 */
import type { AgentOutcome } from '../agents/types.js';
import { changedPaths, conflictedMergeCommit, resolveCommit } from '../git/git.js';
import type { AttemptCallbacks, AttemptJob, AttemptResult } from '../run/attempt.js';
import type { StreamExecutor } from '../run/executor.js';
import { outOfScopePaths } from '../run/ownership.js';
import type { QueueAttemptOutcome, QueueClient } from './client.js';
import type { AttemptJobData } from './schema.js';

/** Runs every attempt of a run on the workers behind `client`, for the agent backend `backend`. */
export class QueueExecutor implements StreamExecutor {
  constructor(
    private readonly client: QueueClient,
    private readonly runId: string,
    private readonly backend: AttemptJobData['backend'],
  ) {}

  bindJournal(note: (message: string) => void): void {
    this.client.setNote(note);
  }

  async run(job: AttemptJob, signal: AbortSignal, callbacks: AttemptCallbacks): Promise<AttemptResult> {
    const task = await job.task;
    // A fresh attempt starts from the validated integration commit; a continued one from its branch's
    // last commit (its earlier work), counting changes from where the branch started.
    const branchHead = job.continueBranch
      ? ((await resolveCommit(job.repo, `refs/heads/${job.branch}`)) ?? job.startSha)
      : job.startSha;
    // A conflict handed back: the worker checks out the merge with its conflict markers committed.
    const checkoutSha =
      job.mergeFrom === undefined
        ? branchHead
        : await conflictedMergeCommit(
            job.repo,
            branchHead,
            job.mergeFrom,
            `maestro: conflicts of ${job.streamId} with ${job.mergeFrom.slice(0, 12)}, to resolve`,
            job.identity,
          );
    // Journaled before the job exists, so a job of attempt N always has attempt N in the journal.
    callbacks.onStarted();
    const started = performance.now();
    const outcome = await this.client.runAttempt(
      {
        runId: this.runId,
        streamId: job.streamId,
        attempt: job.attempt,
        backend: this.backend,
        checkoutSha,
        baseSha: job.startSha,
        ...(job.mergeFrom === undefined ? {} : { mergeFromSha: job.mergeFrom }),
        branch: job.branch,
        commitMessage: job.commitMessage,
        timeoutMs: job.timeoutMs,
        stallMs: job.stallMs,
        task: {
          streamTitle: task.streamTitle,
          role: task.role,
          roleInstructions: task.roleInstructions,
          model: task.model,
          files: [...task.files],
          prompt: task.prompt,
          validationCommands: [...task.validationCommands],
          ...(task.budgetUsd === undefined ? {} : { budgetUsd: task.budgetUsd }),
          ...(task.resumeSessionId === undefined ? {} : { resumeSessionId: task.resumeSessionId }),
          ...(task.resumedUsage === undefined ? {} : { resumedUsage: task.resumedUsage }),
          ...(task.ownedPaths === undefined ? {} : { ownedPaths: [...task.ownedPaths] }),
        },
      },
      signal,
      (activity) => {
        callbacks.onActivity(activity);
      },
    );
    const durationMs = Math.round(performance.now() - started);
    const queue = outcome.costs;
    if (!outcome.ok && outcome.code === 'setup' && outcome.setup !== undefined) {
      // The worker's setup failed: the agent did not run, as when a local setup fails.
      const setup = {
        ok: false as const,
        ...outcome.setup,
        output: `${outcome.message}\n${outcome.setup.output}`,
      };
      callbacks.onSetupEnded?.(setup);
      return { kind: 'setup-failed', setup, queue };
    }
    const agentOutcome = toAgentOutcome(outcome);
    if (!callbacks.onAgentEnded(agentOutcome, durationMs) || !agentOutcome.ok || !outcome.ok)
      return { kind: 'not-committed', outcome: agentOutcome, durationMs, queue };
    // Counted from the job's own base: a job re-attached after a crash may have started earlier.
    const changed = await changedPaths(job.repo, outcome.baseSha, outcome.commitSha);
    return {
      kind: 'committed',
      outcome: agentOutcome,
      durationMs,
      sha: outcome.commitSha,
      // A worker that changed nothing hands back the commit it started from, which a branch may contain.
      isNew: outcome.commitSha !== checkoutSha,
      changedFiles: changed,
      outOfScope: outOfScopePaths(changed, job.ownedPaths),
      queue,
    };
  }
}

/** The agent outcome the engine journals for a queue attempt's outcome. */
function toAgentOutcome(outcome: QueueAttemptOutcome): AgentOutcome {
  const session = outcome.sessionId === undefined ? {} : { sessionId: outcome.sessionId };
  if (outcome.ok) return { ok: true, report: outcome.report, usage: outcome.usage, ...session };
  // `setup` without its details (a result that lost them) counts as the agent not starting.
  const code = outcome.code === 'setup' ? 'crashed' : outcome.code;
  return { ok: false, code, message: outcome.message, usage: outcome.usage, ...session };
}
