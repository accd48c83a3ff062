/**
 * The merge queue: the integration branch of a run, its worktree, the merges into it, the validation
 * gates (per merge, or once per wave in `waves` mode) and the undo path back to the last green commit.
 * Only this module moves the integration branch; the engine decides when a stream is ready to merge.
 */
import type { Analysis, Stream } from '../analyze/types.js';
import {
  addWorktree,
  git,
  isAncestor,
  mergeIntoBranch,
  resetWorktree,
  resolveCommit,
  setBranch,
  syncWorktree,
} from '../git/git.js';
import { PriorityLock } from '../util/priority-lock.js';
import { ensureWorktree } from './attempt.js';
import type { RunPaths } from './journal.js';
import type { RunEventInput, RunOptions, RunState } from './types.js';
import { unreachable } from './types.js';
import { runValidation, type ValidationResult } from './validate.js';

/** A reviewer's answer before a merge. */
export type ReviewDecision = 'approve' | 'skip' | 'abort';

/** What a reviewer sees before a stream is merged. */
export interface MergeReview {
  readonly streamId: string;
  readonly title: string;
  readonly role: string;
  /** `git diff --stat` of the stream's work against the integration branch. */
  readonly diffStat: string;
  /** The full diff, read on request. */
  readonly diff: () => Promise<string>;
}

/** Every validation command that gates a stream's merge: `--validate`, the plan's, the phase's. */
export function gateCommands(analysis: Analysis, options: RunOptions, stream: Stream): string[] {
  const all = [
    ...options.validate,
    ...analysis.plan.validation.map((v) => v.command),
    ...stream.validation.map((v) => v.command),
  ];
  return [...new Set(all)];
}

/** A gate that failed. */
type GateFailure = Extract<ValidationResult, { ok: false }>;

/** What the merge queue needs from the engine that drives it. */
export interface MergeQueueHost {
  readonly repo: string;
  readonly paths: RunPaths;
  readonly analysis: Analysis;
  readonly options: RunOptions;
  /** The run's state as the journal says now. */
  run(): RunState;
  /** Journals an event (see `RunEngine.emit`). */
  emit(input: RunEventInput, sync?: boolean): void;
  stream(id: string): Stream;
  /** Aborted when agents (and gates) are being stopped: Ctrl-C, budget, a review abort. */
  readonly signal: AbortSignal;
  commitIdentity(): Promise<readonly string[]>;
  /** Fails a stream and skips its dependants. */
  streamFailed(id: string, code: string, message: string): void;
  /** Asked before each merge (`--review`). */
  readonly reviewMerge: ((review: MergeReview) => Promise<ReviewDecision>) | undefined;
  /** A reviewer aborted the run: stop it, resumable. */
  reviewAborted(streamId: string): void;
}

/** The integration branch of one run, with its gates. Use one per engine. */
export class MergeQueue {
  /** Serialises work on the integration branch (merge + gate), most urgent stream first. */
  readonly #lock = new PriorityLock();
  /**
   * The integration branch's tip as this queue last set or read it (null: read it from git). Only the
   * queue moves the branch while the engine holds the run lock, and every move is an update-ref guarded
   * by the old value, so a stale value can only make a merge report `moved`, never lose work.
   */
  #tip: Promise<string> | null = null;
  /** The integration worktree's checkout in progress at the start of a run (see `checkOut`). */
  #checkout: Promise<void> | null = null;
  /** True when the integration branch moved since its worktree's files were last made to match it. */
  #stale = false;
  /** `waves` mode: streams merged since the last gate, validated together once their wave is done. */
  readonly #unvalidated = new Set<string>();
  /** Streams of a wave that failed its gate: merged again one at a time, each behind its own gate. */
  readonly #gateEach = new Set<string>();
  /** Stream commits made by this process and not merged yet: no branch can contain them. */
  readonly #newCommits = new Set<string>();

  constructor(private readonly host: MergeQueueHost) {}

  /** Runs `work` holding the integration branch, behind more urgent work (lower `priority`). */
  exclusive<T>(priority: number, work: () => Promise<T>): Promise<T> {
    return this.#lock.run(priority, work);
  }

  /** Records that `sha` was just committed by this process (its merge can skip the ancestry check). */
  noteNewCommit(sha: string): void {
    this.#newCommits.add(sha);
  }

  /** True when merges of a finished wave wait for the wave's gate. */
  hasUnvalidated(): boolean {
    return this.#unvalidated.size > 0;
  }

  /** Streams of a wave that failed its gate, to merge again one at a time. */
  gateEachIds(): IterableIterator<string> {
    return this.#gateEach.values();
  }

  #stopping(): boolean {
    return this.host.signal.aborted;
  }

  /** The integration branch's tip. */
  tip(): Promise<string> {
    // A promise, so streams starting together share one rev-parse.
    this.#tip ??= git(this.host.repo, ['rev-parse', `refs/heads/${this.host.run().integrationBranch}`]).then(
      (out) => out.trim(),
      (error: unknown) => {
        this.#tip = null;
        throw error;
      },
    );
    return this.#tip;
  }

  /**
   * Checks out the new integration branch in its worktree, in the background: after every stream
   * start already waiting for the worktree lock, before any early checkout. Awaited before the
   * worktree is used; a failure surfaces there.
   */
  checkOut(priority: number): void {
    const checkout = addWorktree(
      this.host.repo,
      this.host.paths.integrationWorktree,
      this.host.run().integrationBranch,
      priority,
    );
    checkout.catch(() => undefined); // handled where it is awaited
    this.#checkout = checkout;
  }

  /**
   * Makes the integration worktree's files match the branch. Merges move only the branch (atomic
   * update-ref), so this runs just before something needs the files: a validation gate, the run's end.
   */
  async sync(): Promise<void> {
    await this.#checkout;
    if (!this.#stale) return;
    await syncWorktree(this.host.paths.integrationWorktree);
    this.#stale = false;
  }

  /** Resets the integration branch and its worktree to `sha` (the last green commit). */
  async #reset(sha: string): Promise<void> {
    await this.#checkout;
    this.#tip = null;
    await resetWorktree(this.host.paths.integrationWorktree, sha);
    this.#tip = Promise.resolve(sha);
    this.#stale = false;
  }

  /**
   * After a crash: puts the integration branch (recreated if it vanished) and its worktree back on the
   * last green commit, undoing a merge or gate that was cut short.
   */
  async repair(): Promise<void> {
    const run = this.host.run();
    const branch = run.integrationBranch;
    if ((await resolveCommit(this.host.repo, `refs/heads/${branch}`)) === null)
      await setBranch(this.host.repo, branch, run.greenSha);
    await ensureWorktree(this.host.repo, this.host.paths.integrationWorktree, branch);
    const tip = await this.tip();
    if (tip !== run.greenSha) {
      // A merge (or its gate) was cut short: undo it; the stream merges again, exactly once.
      await this.#reset(run.greenSha);
      this.host.emit({
        type: 'integration-reset',
        sha: run.greenSha,
        reason: 'resume: undo an unvalidated merge',
      });
    }
  }

  /** True when `sha` is contained in the last green commit. */
  isValidated(sha: string): Promise<boolean> {
    return isAncestor(this.host.repo, sha, this.host.run().greenSha);
  }

  /** Asks the reviewer about a committed stream and acts on a skip or an abort. Holds the integration lock. */
  async #review(
    stream: Stream,
    reviewMerge: (review: MergeReview) => Promise<ReviewDecision>,
    commitSha: string,
  ): Promise<ReviewDecision> {
    // Three dots: the stream's own changes since it forked from the integration branch.
    const range = `${await this.tip()}...${commitSha}`;
    const decision = await reviewMerge({
      streamId: stream.id,
      title: stream.title,
      role: stream.role,
      diffStat: await git(this.host.repo, ['diff', '--stat', range]),
      diff: () => git(this.host.repo, ['diff', range]),
    });
    switch (decision) {
      case 'approve':
        break;
      case 'skip':
        // Dependants are skipped by the scheduling loop (#skipBlocked).
        this.host.emit({ type: 'stream-skipped', streamId: stream.id, reason: 'skipped in review' });
        break;
      case 'abort':
        this.host.reviewAborted(stream.id);
        break;
      default:
        return unreachable(decision);
    }
    return decision;
  }

  /**
   * `waves` mode: runs the gates of a finished wave once, on all of its merges. When they fail, the
   * integration branch goes back to the last green commit and the wave's streams merge again one at a
   * time, each behind its own gates (as in `dag` mode), so the stream that broke them is found and
   * retried or failed while the others land. Holds the integration lock.
   */
  async waveGate(): Promise<void> {
    const ids = [...this.#unvalidated];
    this.#unvalidated.clear();
    const commands = [
      ...new Set(
        ids.flatMap((id) => gateCommands(this.host.analysis, this.host.options, this.host.stream(id))),
      ),
    ];
    const outcome = await this.#runGate(
      null,
      commands,
      `the wave's validation failed; merging ${ids.join(', ')} again one at a time to find the cause`,
    );
    if (outcome.ok) return;
    for (const id of ids) this.#gateEach.add(id);
    this.backToCommitted(ids);
  }

  /**
   * Runs gate commands on the integration tip (a passing gate makes it the last green commit). On a
   * failure the branch goes back to the last green commit and the journal says why; `stopped` when
   * Ctrl-C or the budget cut the gate short. Holds the integration lock.
   */
  async #runGate(
    streamId: string | null,
    commands: readonly string[],
    resetReason: string,
  ): Promise<{ ok: true } | { ok: false; stopped: true } | { ok: false; stopped: false; gate: GateFailure }> {
    if (commands.length > 0) {
      await this.sync();
      this.host.emit({ type: 'validation-started', streamId, commands });
      const gate = await runValidation(commands, this.host.paths.integrationWorktree, {
        timeoutMs: this.host.options.timeoutMs,
        signal: this.host.signal,
      });
      if (!gate.ok) {
        const green = this.host.run().greenSha;
        await this.#reset(green);
        if (this.#stopping()) {
          this.host.emit({ type: 'integration-reset', sha: green, reason: 'interrupted during validation' });
          return { ok: false, stopped: true };
        }
        this.host.emit({
          type: 'validation-failed',
          streamId,
          command: gate.command,
          exitCode: gate.exitCode,
          output: gate.output,
        });
        this.host.emit({ type: 'integration-reset', sha: green, reason: resetReason });
        return { ok: false, stopped: false, gate };
      }
    }
    this.host.emit({ type: 'validation-passed', streamId, sha: await this.tip() });
    return { ok: true };
  }

  /**
   * Streams whose merges were undone (the integration branch is back on the last green commit) return
   * to committed: merged again, now or on resume, without running their agents again.
   */
  backToCommitted(ids: readonly string[]): void {
    for (const id of ids) {
      const st = this.host.run().streams[id];
      if (st?.commitSha == null) continue;
      this.host.emit({
        type: 'stream-committed',
        streamId: id,
        sha: st.commitSha,
        changedFiles: st.changedFiles,
      });
    }
  }

  /**
   * `waves` mode, when the run stops (Ctrl-C, budget, review abort) before a wave's gate: its merges
   * are undone, so the run's state shows them as committed, which is what they are. Holds the lock.
   */
  async undoUnvalidated(): Promise<void> {
    const ids = [...this.#unvalidated];
    this.#unvalidated.clear();
    const green = this.host.run().greenSha;
    await this.#reset(green);
    this.host.emit({
      type: 'integration-reset',
      sha: green,
      reason: 'stopped before the wave was validated',
    });
    this.backToCommitted(ids);
  }

  /** Merges a committed stream and runs its gates. Holds the integration lock. */
  async mergeAndGate(stream: Stream): Promise<'done' | 'retry'> {
    const id = stream.id;
    const host = this.host;
    const st = host.run().streams[id];
    if (st?.commitSha == null) return 'done';
    if (host.signal.aborted) return 'done'; // stays committed: merged on resume
    if (host.reviewMerge !== undefined) {
      const decision = await this.#review(stream, host.reviewMerge, st.commitSha);
      if (decision !== 'approve' || this.#stopping()) return 'done';
    }
    const run = host.run();
    const commitSha = st.commitSha;
    const result = await mergeIntoBranch(
      host.repo,
      run.integrationBranch,
      commitSha,
      `maestro: merge ${id} (${stream.title})`,
      {
        ours: await this.tip(),
        identity: await host.commitIdentity(),
        theirsIsNew: this.#newCommits.delete(commitSha),
      },
    );
    if (result.ok) {
      if (!result.alreadyMerged) this.#stale = true;
      this.#tip = Promise.resolve(result.sha);
    } else {
      this.#tip = null; // `moved`: read it again next time
    }
    if (!result.ok) {
      const paths = result.reason === 'conflict' ? result.conflicts : [];
      const detail = result.reason === 'conflict' ? paths.join(', ') : result.message;
      host.emit({ type: 'merge-conflict', streamId: id, paths });
      // One conflict retry per stream, counted in the journal so a resumed run does not grant another.
      if (st.conflictRetries === 0) {
        host.emit({
          type: 'stream-retry',
          streamId: id,
          attempt: st.attempts + 1,
          cause: 'conflict',
          reason: `merge conflict in ${detail}; retrying from the new integration tip`,
          context: `Your previous work conflicted with work merged meanwhile by other streams, in: ${detail}.\nYou now start again from the current integration branch, which contains that work; redo your task on top of it.`,
          fresh: true,
        });
        return 'retry';
      }
      host.streamFailed(id, 'merge-conflict', `merge conflict with the integration branch in: ${detail}`);
      return 'done';
    }
    if (host.options.schedule === 'waves' && !this.#gateEach.has(id)) {
      // Gated with the rest of its wave (waveGate); until then the last green commit stays put.
      host.emit({ type: 'stream-merged', streamId: id, mergeSha: result.sha, streamSha: commitSha });
      this.#unvalidated.add(id);
      return 'done';
    }
    const commands = gateCommands(host.analysis, host.options, stream);
    // Without gates, both lines share one fsync (the second's): losing both to a crash is the same
    // as crashing just after update-ref, which `repair` undoes (the tip is not the green commit).
    host.emit(
      { type: 'stream-merged', streamId: id, mergeSha: result.sha, streamSha: commitSha },
      commands.length > 0,
    );
    const outcome = await this.#runGate(id, commands, `validation failed after merging ${id}`);
    if (outcome.ok) return 'done';
    if (outcome.stopped) {
      host.emit({ type: 'stream-interrupted', streamId: id, reason: 'interrupted during validation' });
      return 'done';
    }
    const { gate } = outcome;
    // `--retries` bounds gate retries only; the count comes from the journal, so it survives a resume.
    if ((host.run().streams[id]?.gateRetries ?? 0) < host.options.retries) {
      host.emit({
        type: 'stream-retry',
        streamId: id,
        attempt: (host.run().streams[id]?.attempts ?? 0) + 1,
        cause: 'gate',
        reason: `validation \`${gate.command}\` failed`,
        context: `Validation command \`${gate.command}\` failed (exit ${String(gate.exitCode)}) after your work was merged:\n\n${gate.output.slice(-8000)}`,
        fresh: false,
      });
      return 'retry';
    }
    host.streamFailed(
      id,
      'validation-failed',
      `validation \`${gate.command}\` failed (exit ${String(gate.exitCode)})`,
    );
    return 'done';
  }
}
