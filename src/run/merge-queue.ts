/**
 * The merge queue: the integration branch of a run, its worktree, the merges into it, the validation
 * gates (per merge, or once per wave in `waves` mode) and the undo path back to the last green commit.
 * Only this module moves the integration branch; the engine decides when a stream is ready to merge.
 */
import { rm } from 'node:fs/promises';
import type { Analysis, Stream } from '../analyze/types.js';
import {
  addDetachedWorktree,
  addWorktree,
  git,
  GitError,
  isAncestor,
  mergeIntoBranch,
  pruneWorktrees,
  resetWorktree,
  resolveCommit,
  setBranch,
  syncWorktree,
  worktreeGitArgs,
} from '../git/git.js';
import { PriorityLock } from '../util/priority-lock.js';
import { ensureWorktree } from './attempt.js';
import type { RunPaths } from './journal.js';
import type { GateFailure as FailedGate, RunEventInput, RunOptions, RunState } from './types.js';
import { unreachable } from './types.js';
import type { GateEnv } from './gate-env.js';
import { failureExcerpt, type ValidationResult } from './validate.js';

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
  streamFailed(id: string, code: string, message: string, gate?: FailedGate): void;
  /** Asked before each merge (`--review`). */
  readonly reviewMerge: ((review: MergeReview) => Promise<ReviewDecision>) | undefined;
  /** A reviewer aborted the run: stop it, resumable. */
  reviewAborted(streamId: string): void;
  /** Setup, gate commands and clean-up in the integration worktree. */
  readonly gateEnv: GateEnv;
  /** Gate lane `n` (1…): its own worktree, set up and put back like the integration worktree. */
  gateLane(n: number): Promise<{ readonly worktree: string; readonly env: GateEnv }>;
}

/** A committed stream waiting in the queue, and how to tell its runner the outcome. */
interface Entry {
  readonly stream: Stream;
  readonly urgency: number;
  /** What the attempt that made the commit took (what a discarded speculation wasted). */
  readonly attempt?: { readonly agentMs: number; readonly costUsd: number } | undefined;
  readonly resolve: (outcome: 'done' | 'retry') => void;
  readonly reject: (error: unknown) => void;
}

/** What a bisection found: streams landed, culprits with the failure that convicted them, streams a
 * merge conflict settled, and streams left unsettled because the run stopped. */
interface BisectResult {
  readonly landed: string[];
  readonly culprits: Map<string, GateFailure>;
  readonly byMerge: Map<string, 'done' | 'retry'>;
  readonly unsettled: string[];
  readonly gateRuns: number;
}

/** Gates that may run at once by default (`--gate-lanes`). */
export const defaultGateLanes = 2;

/** How a pipelined gate ended: its result, or a bug or git failure to settle its streams with. */
type GateRun = { kind: 'result'; result: ValidationResult } | { kind: 'error'; error: unknown };

/** A batch merged onto the tip whose gate runs (or waits its turn to land). */
interface InFlight {
  /** Every entry taken for the batch, and those merged (the others were settled when merging). */
  readonly batch: readonly Entry[];
  readonly merged: readonly Entry[];
  readonly ids: readonly string[];
  /** The tip with this batch merged: the last green commit once it and every batch ahead pass. */
  readonly tip: string;
  readonly lane: number;
  readonly commands: readonly string[];
  /** Calls its gate off (a batch ahead failed). */
  readonly controller: AbortController;
  readonly done: Promise<GateRun>;
  readonly settle: (e: Entry, o: 'done' | 'retry') => void;
  readonly settled: ReadonlySet<Entry>;
  readonly fail: (error: unknown) => void;
}

/** How a gate run ended. */
type GateOutcome =
  { ok: true } | { ok: false; stopped: true } | { ok: false; stopped: false; gate: GateFailure };

/**
 * The integration branch of one run, with its gates. Use one per engine.
 *
 * Committed streams queue up (`submit`) while a gate runs. When the gate frees up, every queued stream
 * is merged onto the tip, most urgent first, and one gate run validates the combined tip: a passing
 * batch lands all of its streams at once. A failing batch goes back to the last green commit and is
 * bisected (see `#bisect`) until the culprits are found; the innocent streams land without running
 * their agents again. Streams start only from the last green commit, so the members of a batch never
 * depend on each other.
 */
export class MergeQueue {
  /** Serialises work on the integration branch (batches, wave gates, undo). */
  readonly #lock = new PriorityLock();
  /**
   * The integration branch's tip as this queue last set or read it (null: read it from git). Only the
   * queue moves the branch while the engine holds the run lock, and every move is an update-ref guarded
   * by the old value, so a stale value can only make a merge report `moved`, never lose work.
   */
  #tip: Promise<string> | null = null;
  /** The integration worktree's checkout in progress at the start of a run (see `checkOut`). */
  #checkout: Promise<void> | null = null;
  /** A new run's: where its checkout queues for the worktree lock (null: a resumed run's exists). */
  #checkoutPriority: number | null = null;
  /** True when the integration branch moved since its worktree's files were last made to match it. */
  #stale = false;
  /** True when a gate left the integration worktree detached at its batch's tip (`#attach` undoes it). */
  #detached = false;
  /** `waves` mode: streams merged since the last gate, validated together once their wave is done. */
  readonly #unvalidated = new Set<string>();
  /**
   * `waves` mode: streams a wave's bisection found guilty, with the failure; they are handed back to
   * the engine as committed and, when submitted again, retried or failed without another merge.
   */
  readonly #convicted = new Map<string, GateFailure>();
  /** `waves` mode: streams that conflicted with the wave's ungated merges (see `takeAfterWave`). */
  readonly #afterWave = new Set<string>();
  /** Stream commits made by this process and not merged yet: no branch can contain them. */
  readonly #newCommits = new Set<string>();
  /** Committed streams waiting for the next batch. */
  #pending: Entry[] = [];
  /** Batches in flight whose gate has ended (their outcome is taken in order, by `#drain`). */
  readonly #ended = new WeakSet<InFlight>();
  /** Streams whose merge conflicted with work still being gated: queued again once none is in flight. */
  readonly #deferred: Entry[] = [];
  /** Streams merged onto the tip whose batch is still being gated (`--speculate` may start from them). */
  readonly #underTest = new Set<string>();
  #draining = false;
  /** Resolves `#arrival` (a stream was submitted while the drain waits for a gate). */
  #arrived: (() => void) | null = null;
  #arrival: Promise<void> | null = null;

  constructor(private readonly host: MergeQueueHost) {}

  /** Runs `work` holding the integration branch, behind more urgent work (lower `priority`). */
  exclusive<T>(priority: number, work: () => Promise<T>): Promise<T> {
    return this.#lock.run(priority, work);
  }

  /** Records that `sha` was just committed by this process (its merge can skip the ancestry check). */
  noteNewCommit(sha: string): void {
    this.#newCommits.add(sha);
  }

  /** True when `id` is merged onto the tip and its batch's gate has not settled yet. */
  isUnderTest(id: string): boolean {
    return this.#underTest.has(id);
  }

  /** True when merges of a finished wave wait for the wave's gate. */
  hasUnvalidated(): boolean {
    return this.#unvalidated.size > 0;
  }

  /** Streams a wave's gate found guilty, to hand to the queue again (for their retry or failure). */
  convictedIds(): IterableIterator<string> {
    return this.#convicted.keys();
  }

  /**
   * `waves` mode: streams whose merge conflicted with the wave's merges, which are not gated yet. They
   * stay committed and are handed to the queue again once the wave's gate has run (`takeAfterWave`):
   * then the conflict is with the last green commit, and goes back to the agent as usual.
   */
  takeAfterWave(): string[] {
    if (this.hasUnvalidated()) return [];
    const ids = [...this.#afterWave];
    this.#afterWave.clear();
    return ids;
  }

  #stopping(): boolean {
    return this.host.signal.aborted;
  }

  /**
   * Queues a committed stream for the next batch. Resolves once it is settled: `done` when it landed
   * (or failed, was skipped, or stays committed because the run is stopping), `retry` when its agent
   * must run again (a conflict, or a gate its work broke).
   */
  submit(
    stream: Stream,
    urgency: number,
    attempt?: { readonly agentMs: number; readonly costUsd: number },
  ): Promise<'done' | 'retry'> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ stream, urgency, attempt, resolve, reject });
      const arrived = this.#arrived;
      this.#arrived = null;
      this.#arrival = null;
      arrived?.();
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#draining) return;
    this.#draining = true;
    void this.#lock
      .run(0, () => this.#drain())
      .finally(() => {
        this.#draining = false;
        if (this.#pending.length > 0) this.#kick();
      });
  }

  /**
   * Takes every queued stream as one batch, again and again, until the queue is empty. Batches are
   * pipelined (Zuul's dependent pipeline): while a batch's gate runs, the streams that commit meanwhile
   * are merged on top of it and gated at once in another gate lane (`--gate-lanes`), on the tip that
   * assumes the batches ahead pass. Batches land in order: a batch's pass counts only once every
   * batch ahead has passed. When one fails, the gates behind it are called off, their streams go back
   * to the queue (merged again, without their agents, on the new green commit), and the failing batch
   * is bisected as before.
   */
  async #drain(): Promise<void> {
    const inFlight: InFlight[] = [];
    const lanes = this.#laneCount();
    for (;;) {
      // Conflicts with work that was in flight: merged again now that all of it has landed or gone.
      if (inFlight.length === 0 && this.#deferred.length > 0)
        this.#pending.unshift(...this.#deferred.splice(0));
      if (this.#pending.length === 0 && inFlight.length === 0) break;
      // A batch whose gate has already ended (or that had none) lands before anything new is merged.
      const ended = inFlight[0];
      if (ended !== undefined && this.#ended.has(ended)) {
        inFlight.shift();
        await this.#closeBatch(ended, inFlight);
        continue;
      }
      const lane = this.#freeLane(inFlight, lanes);
      if (this.#pending.length > 0 && (inFlight.length === 0 || (lane !== null && !this.#stopping()))) {
        const opened = await this.#openBatch(this.#takeBatch(), lane ?? 0);
        if (opened !== null) inFlight.push(opened);
        continue;
      }
      const head = inFlight[0];
      if (head === undefined) continue;
      // The oldest gate decides what lands next; a stream committing meanwhile may take a free lane.
      const arrived = lane === null || this.#stopping() ? null : this.#nextArrival();
      const first = await Promise.race([
        head.done.then(() => 'head' as const),
        ...(arrived === null ? [] : [arrived.then(() => 'arrival' as const)]),
      ]);
      if (first === 'arrival') continue;
      inFlight.shift();
      await this.#closeBatch(head, inFlight);
    }
  }

  /** The next batch: the most urgent queued streams, at most `--max-batch` of them. */
  #takeBatch(): Entry[] {
    const sorted = this.#pending.sort((a, b) => a.urgency - b.urgency);
    const limit = this.host.options.maxBatch ?? sorted.length;
    this.#pending = sorted.slice(limit);
    return sorted.slice(0, limit);
  }

  /**
   * How many gates may run at once (`--gate-lanes`; one in `waves` mode, which gates per wave, and with
   * `--review`).
   */
  #laneCount(): number {
    // `--review` asks before each merge: a question about the next batch would hold up the one ahead.
    if (this.host.options.schedule === 'waves' || this.host.reviewMerge !== undefined) return 1;
    return Math.max(1, this.host.options.gateLanes ?? defaultGateLanes);
  }

  /**
   * A gate lane no batch in flight is using, or null: 0 is the integration worktree, 1… worktrees of
   * their own. Each gate runs on a detached checkout of its batch's tip, because the branch moves while
   * it runs (the batches behind it merge).
   */
  #freeLane(inFlight: readonly InFlight[], lanes: number): number | null {
    for (let lane = 0; lane < lanes; lane++) if (!inFlight.some((f) => f.lane === lane)) return lane;
    return null;
  }

  /** Resolves when a stream is next submitted. */
  #nextArrival(): Promise<void> {
    this.#arrival ??= new Promise<void>((resolve) => {
      this.#arrived = resolve;
    });
    return this.#arrival;
  }

  /**
   * Merges a batch onto the tip and starts its gate in `lane` (not awaited: see `#closeBatch`).
   * Null when nothing of it was merged (all settled otherwise) or in `waves` mode (gated per wave).
   */
  async #openBatch(batch: Entry[], lane: number): Promise<InFlight | null> {
    const host = this.host;
    const settled = new Set<Entry>();
    const settle = (e: Entry, outcome: 'done' | 'retry'): void => {
      settled.add(e);
      e.resolve(outcome);
    };
    const fail = (error: unknown): void => {
      // A git failure (a full disk): the streams not settled fail with it, not the whole run.
      for (const e of batch) if (!settled.has(e)) e.reject(error);
    };
    if (this.#stopping()) {
      // They stay committed: merged on resume.
      for (const e of batch) e.resolve('done');
      return null;
    }
    try {
      // A stream a wave's bisection found guilty: its retry or failure, without another merge.
      const fresh: Entry[] = [];
      for (const e of batch) {
        const gate = this.#convicted.get(e.stream.id);
        if (gate === undefined) fresh.push(e);
        else {
          this.#convicted.delete(e.stream.id);
          settle(e, this.#convict(e.stream.id, gate));
        }
      }
      const current = host.options.speculate === true ? await this.#discardStale(fresh, settle) : fresh;
      const deferred = new Set<Entry>();
      const waves = host.options.schedule === 'waves';
      // `waves`: merges wait for the wave's gate, so the tip stays ahead of the last green commit with
      // nothing in flight; a conflict there is handed back at once, never deferred.
      const merged = await this.#mergeAll(
        current,
        settle,
        waves
          ? undefined
          : (e) => {
              deferred.add(e);
              this.#deferred.push(e);
            },
      );
      const ids = merged.map((e) => e.stream.id);
      if (merged.length === 0 || waves) {
        // `waves`: gated with the rest of its wave (waveGate); until then the last green commit stays put.
        for (const id of ids) {
          this.#unvalidated.add(id);
          this.#underTest.delete(id);
        }
        for (const e of batch) if (!settled.has(e) && !deferred.has(e)) settle(e, 'done');
        return null;
      }
      const commands = this.#commandsOf(ids);
      const tip = await this.tip();
      const controller = new AbortController();
      const done = this.#startGate(lane, tip, ids, commands, controller.signal).catch(
        (error: unknown): GateRun => ({ kind: 'error', error }),
      );
      const flight: InFlight = {
        batch: batch.filter((e) => !deferred.has(e)),
        merged,
        ids,
        tip,
        lane,
        commands,
        controller,
        done,
        settle,
        settled,
        fail,
      };
      // No gate: it has ended already (and lands first thing, in its turn).
      if (commands.length === 0) this.#ended.add(flight);
      else
        void done.then(() => {
          this.#ended.add(flight);
        });
      return flight;
    } catch (error) {
      fail(error);
      return null;
    }
  }

  /** Runs a batch's gate commands on `tip` in a gate lane (none: it passes, in its turn). */
  async #startGate(
    lane: number,
    tip: string,
    ids: readonly string[],
    commands: readonly string[],
    stop: AbortSignal,
  ): Promise<GateRun> {
    if (commands.length === 0) return { kind: 'result', result: { ok: true } };
    let env: GateEnv;
    if (lane === 0) {
      await this.ready();
      this.#detached = true;
      await checkoutDetached(this.host.repo, this.host.paths.integrationWorktree, tip);
      env = this.host.gateEnv;
    } else {
      const { worktree, env: laneEnv } = await this.host.gateLane(lane);
      await checkoutDetached(this.host.repo, worktree, tip);
      env = laneEnv;
    }
    const single = ids.length === 1 ? (ids[0] ?? null) : null;
    this.host.emit({
      type: 'validation-started',
      streamId: single,
      streamIds: [...ids],
      commands: [...commands],
      ...(lane === 0 ? {} : { lane }),
    });
    return { kind: 'result', result: await env.run(commands, stop) };
  }

  /**
   * Settles the oldest batch in flight once its gate has ended: a pass lands it (the last green commit
   * moves to its tip); a failure calls off the gates of the batches `behind` it (their streams are
   * queued again, first), puts the branch back on the last green commit and bisects the batch.
   */
  async #closeBatch(head: InFlight, behind: InFlight[]): Promise<void> {
    const host = this.host;
    try {
      const run = await head.done;
      if (run.kind === 'error') throw run.error;
      const { result } = run;
      if (result.ok) {
        host.emit({
          type: 'validation-passed',
          streamId: head.ids.length === 1 ? (head.ids[0] ?? null) : null,
          streamIds: [...head.ids],
          sha: head.tip,
        });
        if (head.commands.length > 0) this.#batchGated(head.ids, head.ids, [], 1);
        for (const id of head.ids) this.#underTest.delete(id);
        for (const e of head.merged) head.settle(e, 'done');
        return;
      }
      // Everything behind it was gated on top of it: void. Called off, waited for, queued again.
      const called = behind.splice(0);
      for (const f of called) f.controller.abort();
      await Promise.all(called.map((f) => f.done));
      const green = host.run().greenSha;
      await this.#reset(green);
      const behindIds = called.flatMap((f) => f.ids);
      for (const id of [...head.ids, ...behindIds]) this.#underTest.delete(id);
      this.backToCommitted(behindIds);
      if (called.length > 0 && !this.#stopping())
        host.emit({
          type: 'note',
          message: `gate of ${behindIds.join(', ')} called off: the batch ahead of it (${head.ids.join(', ')}) failed; merged and gated again after it`,
        });
      for (const f of called.reverse())
        for (const e of [...f.merged].reverse()) if (!f.settled.has(e)) this.#pending.unshift(e);
      for (const f of called)
        for (const e of f.batch) if (!f.merged.includes(e) && !f.settled.has(e)) f.settle(e, 'done');
      const single = head.ids.length === 1 ? (head.ids[0] ?? null) : null;
      if (this.#stopping()) {
        host.emit({ type: 'integration-reset', sha: green, reason: 'interrupted during validation' });
        // Committed again: merged on resume, without running the agents again.
        this.backToCommitted(head.ids);
        for (const e of head.merged) head.settle(e, 'done');
        return;
      }
      host.emit({
        type: 'validation-failed',
        streamId: single,
        streamIds: [...head.ids],
        command: result.command,
        exitCode: result.exitCode,
        output: result.output,
      });
      host.emit({
        type: 'integration-reset',
        sha: green,
        reason:
          single !== null
            ? `validation failed after merging ${single}`
            : `validation failed after merging ${head.ids.join(', ')}`,
      });
      await this.#afterFailedGate(head.merged, head.ids, result, head.settle);
    } catch (error) {
      head.fail(error);
    } finally {
      // Landed, or settled by its bisection (whose merges marked them again).
      for (const id of head.ids) this.#underTest.delete(id);
      for (const e of head.batch) if (!head.settled.has(e)) head.settle(e, 'done');
    }
  }

  /**
   * Puts the integration branch back where the journal says Maestro left it, if anyone else moved it
   * (an agent running `git update-ref refs/heads/maestro/<run> HEAD`, so later merges would build on
   * its smuggled commit). Returns the commit it was found on, or null when it had not moved. Call
   * holding the integration lock (`exclusive`).
   */
  async guardTip(): Promise<string | null> {
    const run = this.host.run();
    const expected = run.tipSha ?? run.greenSha;
    const ref = `refs/heads/${run.integrationBranch}`;
    const found = await resolveCommit(this.host.repo, ref);
    if (found === expected) return null;
    // Guarded by the value just read: if it moves again meanwhile, the next check sees it.
    await git(this.host.repo, [
      'update-ref',
      '-m',
      'maestro: restore a ref moved by someone else',
      ref,
      expected,
      ...(found === null ? [] : [found]),
    ]);
    this.#tip = Promise.resolve(expected);
    this.#stale = true;
    return found ?? '(deleted)';
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
    this.#checkoutPriority = priority;
    if (this.#checkout !== null) return;
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
   * A new run's integration worktree is checked out later (`checkOut`, or the first time it is needed):
   * nothing needs it before the first gate, so the first agents' worktrees come first.
   */
  deferCheckOut(priority: number): void {
    this.#checkoutPriority = priority;
  }

  /** Resolves once the integration worktree exists (checking it out now if it was deferred). */
  ready(): Promise<void> {
    if (this.#checkout === null && this.#checkoutPriority !== null) this.checkOut(this.#checkoutPriority);
    return this.#checkout ?? Promise.resolve();
  }

  /**
   * Makes the integration worktree's files match the branch. Merges move only the branch (atomic
   * update-ref), so this runs just before something needs the files: a validation gate, the run's end.
   */
  async sync(): Promise<void> {
    await this.ready();
    if (this.#detached) await this.#attach();
    if (!this.#stale) return;
    await syncWorktree(this.host.paths.integrationWorktree);
    this.#stale = false;
  }

  /**
   * Checks the integration branch out again in its worktree (a pipelined gate left it detached at its
   * batch's tip), files and all.
   */
  async #attach(): Promise<void> {
    const dir = this.host.paths.integrationWorktree;
    const at = await worktreeGitArgs(dir);
    await git(dir, [...at, 'checkout', '--quiet', '--force', this.host.run().integrationBranch]);
    await git(dir, [...at, 'clean', '-fdq']);
    this.#detached = false;
    this.#stale = false;
  }

  /** Resets the integration branch and its worktree to `sha` (the last green commit). */
  async #reset(sha: string): Promise<void> {
    await this.ready();
    this.#tip = null;
    if (this.#detached) {
      // The branch itself is moved (a detached worktree's `reset` would move only its HEAD).
      await setBranch(this.host.repo, this.host.run().integrationBranch, sha);
      await this.#attach();
    } else await resetWorktree(this.host.paths.integrationWorktree, sha);
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
    // A crash during a gate may have left it detached at that gate's tip.
    await this.#attach();
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

  /** The gate commands of a set of streams (each command once). */
  #commandsOf(ids: readonly string[]): string[] {
    const { analysis, options } = this.host;
    return [...new Set(ids.flatMap((id) => gateCommands(analysis, options, this.host.stream(id))))];
  }

  /**
   * `waves` mode: runs the gates of a finished wave once, on all of its merges. When they fail, the
   * wave is bisected like a batch: its innocent streams land, the guilty ones are handed back to the
   * engine (committed) to be retried or failed. Holds the integration lock.
   */
  async waveGate(): Promise<void> {
    const ids = [...this.#unvalidated];
    this.#unvalidated.clear();
    const outcome = await this.#runGate(null, ids, this.#commandsOf(ids));
    if (outcome.ok) {
      this.#batchGated(ids, ids, [], 1);
      return;
    }
    if (outcome.stopped) {
      this.backToCommitted(ids);
      return;
    }
    this.backToCommitted(ids);
    const result = await this.#bisect(ids, outcome.gate);
    for (const [id, gate] of result.culprits) this.#convicted.set(id, gate);
    // Unsettled (the run stopped mid-bisection): committed, merged again on resume.
    this.backToCommitted(result.unsettled);
    this.#batchGated(ids, result.landed, [...result.culprits.keys()], 1 + result.gateRuns);
  }

  /**
   * Runs gate commands on the integration tip (a passing gate makes it the last green commit). On a
   * failure the branch goes back to the last green commit and the journal says why; `stopped` when
   * Ctrl-C or the budget cut the gate short. Holds the integration lock.
   */
  async #runGate(
    streamId: string | null,
    ids: readonly string[],
    commands: readonly string[],
  ): Promise<GateOutcome> {
    const streamIds = [...ids];
    if (commands.length > 0) {
      await this.sync();
      this.host.emit({ type: 'validation-started', streamId, streamIds, commands });
      // Setup first when a merge changed the manifests; the worktree is put back afterwards.
      const gate = await this.host.gateEnv.run(commands);
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
          streamIds,
          command: gate.command,
          exitCode: gate.exitCode,
          output: gate.output,
        });
        this.host.emit({
          type: 'integration-reset',
          sha: green,
          reason:
            streamId !== null
              ? `validation failed after merging ${streamId}`
              : `validation failed after merging ${streamIds.join(', ')}`,
        });
        return { ok: false, stopped: false, gate };
      }
    }
    this.host.emit({ type: 'validation-passed', streamId, streamIds, sha: await this.tip() });
    return { ok: true };
  }

  /** Journals how a gated batch ended: how many gate runs it took, what landed, what broke it. */
  #batchGated(
    ids: readonly string[],
    landed: readonly string[],
    culprits: readonly string[],
    gateRuns: number,
  ): void {
    this.host.emit({
      type: 'batch-gated',
      streamIds: [...ids],
      landed: [...landed],
      culprits: [...culprits],
      gateRuns,
    });
  }

  /**
   * Streams whose merges were undone (the integration branch is back on the last green commit) return
   * to committed: merged again, now or on resume, without running their agents again.
   */
  backToCommitted(ids: readonly string[]): void {
    for (const id of ids) {
      const st = this.host.run().streams[id];
      if (st?.commitSha == null || st.status === 'committed') continue;
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

  /**
   * Merges one committed stream onto the tip. `conflict` when it conflicted (the stream was then
   * retried or failed); `skipped` when a reviewer said no or the run is stopping.
   */
  async #mergeOne(
    entry: Entry,
    deferConflicts = false,
  ): Promise<'merged' | 'conflict' | 'skipped' | 'deferred'> {
    const { stream } = entry;
    const id = stream.id;
    const host = this.host;
    const st = host.run().streams[id];
    if (st?.commitSha == null) return 'skipped';
    if (host.signal.aborted) return 'skipped'; // stays committed: merged on resume
    if (host.reviewMerge !== undefined && st.status === 'committed') {
      const decision = await this.#review(stream, host.reviewMerge, st.commitSha);
      if (decision !== 'approve' || this.#stopping()) return 'skipped';
    }
    const commitSha = st.commitSha;
    const merge = async () => {
      const run = host.run();
      return mergeIntoBranch(
        host.repo,
        run.integrationBranch,
        commitSha,
        `maestro: merge ${id} (${stream.title})`,
        {
          ours: run.tipSha ?? run.greenSha,
          identity: await host.commitIdentity(),
          theirsIsNew: this.#newCommits.has(commitSha),
        },
      );
    };
    // Merges build on the journal's tip, never on a ref someone else moved: the update is guarded by
    // the tip's journaled value, so a moved ref shows as `moved`; then it is put back and merged again.
    let result = await merge();
    if (!result.ok && result.reason === 'moved') {
      const moved = await this.guardTip();
      if (moved !== null) {
        const run = host.run();
        host.emit({
          type: 'safety-finding',
          streamId: null,
          code: 'tampered-ref',
          message: `${run.integrationBranch} had been moved to ${moved.slice(0, 12)} by something other than Maestro; put back on ${(run.tipSha ?? run.greenSha).slice(0, 12)} before merging ${id}`,
        });
        result = await merge();
      }
    }
    this.#newCommits.delete(commitSha);
    if (result.ok) {
      if (!result.alreadyMerged) this.#stale = true;
      this.#tip = Promise.resolve(result.sha);
      // Before the event: it wakes the engine, which (`--speculate`) may start dependants from this tip.
      this.#underTest.add(id);
      host.emit({ type: 'stream-merged', streamId: id, mergeSha: result.sha, streamSha: commitSha }, false);
      return 'merged';
    }
    this.#tip = null; // `moved`: read it again next time
    const run = host.run();
    if (
      host.options.schedule === 'waves' &&
      result.reason === 'conflict' &&
      this.#unvalidated.size > 0 &&
      (run.tipSha ?? run.greenSha) !== run.greenSha
    ) {
      host.emit({
        type: 'note',
        message: `${id} conflicts with this wave's merges (in ${result.conflicts.join(', ')}), which are not gated yet; it is merged again after the wave's gate`,
      });
      this.#afterWave.add(id);
      entry.resolve('done');
      return 'conflict';
    }
    if (deferConflicts && result.reason === 'conflict' && (run.tipSha ?? run.greenSha) !== run.greenSha) {
      // It conflicts with work still being gated (a batch ahead in the pipeline, or one merged just
      // before it): if that gate fails, the conflict may be gone. It waits until nothing is in flight,
      // then merges again; a conflict with the last green commit is handed back to its agent.
      host.emit({
        type: 'note',
        message: `${id} conflicts with work still being gated (in ${result.conflicts.join(', ')}); it is merged again once that work has landed or been taken off`,
      });
      return 'deferred';
    }
    const paths = result.reason === 'conflict' ? result.conflicts : [];
    const detail = result.reason === 'conflict' ? paths.join(', ') : result.message;
    host.emit({ type: 'merge-conflict', streamId: id, paths });
    // Handed back to the agent that made it, `--retries` times; counted in the journal, so a resumed
    // run neither gains nor loses one.
    if (st.conflictRetries < host.options.retries) {
      host.emit({
        type: 'stream-retry',
        streamId: id,
        attempt: st.attempts + 1,
        cause: 'conflict',
        reason: `merge conflict in ${detail}; handing it back to the agent`,
        context: `Your work conflicted with work merged meanwhile by other streams, in: ${detail}.\nThat work is merged into your branch; resolve the conflicts, keeping both intents.`,
        handBack: true,
      });
      entry.resolve('retry');
      return 'conflict';
    }
    host.streamFailed(id, 'merge-conflict', `merge conflict with the integration branch in: ${detail}`);
    entry.resolve('done');
    return 'conflict';
  }

  /** Merges `entries` onto the tip in order; returns the ones merged (the others are settled or skipped). */
  async #mergeAll(
    entries: readonly Entry[],
    settle: (e: Entry, o: 'done' | 'retry') => void,
    /** Conflicts with work not yet green wait in `#deferred` (a batch's own merges; not bisection's). */
    defer?: (e: Entry) => void,
  ): Promise<Entry[]> {
    const merged: Entry[] = [];
    for (const e of entries) {
      const r = await this.#mergeOne(
        {
          ...e,
          resolve: (o) => {
            settle(e, o);
          },
        },
        defer !== undefined,
      );
      if (r === 'merged') merged.push(e);
      else if (r === 'skipped') settle(e, 'done');
      else if (r === 'deferred') defer?.(e);
    }
    return merged;
  }

  /** A culprit: retried with the gate's output in its prompt while it has retries, then failed. */
  #convict(id: string, gate: GateFailure): 'done' | 'retry' {
    const host = this.host;
    // `--retries` bounds gate retries only; the count comes from the journal, so it survives a resume.
    if ((host.run().streams[id]?.gateRetries ?? 0) < host.options.retries) {
      host.emit({
        type: 'stream-retry',
        streamId: id,
        attempt: (host.run().streams[id]?.attempts ?? 0) + 1,
        cause: 'gate',
        reason: `validation \`${gate.command}\` failed`,
        context: `Validation command \`${gate.command}\` failed (exit ${String(gate.exitCode)}) after your work was merged:\n\n${failureExcerpt(gate.output.slice(-64_000), 150, 20)}`,
        fresh: false,
      });
      return 'retry';
    }
    host.streamFailed(
      id,
      'validation-failed',
      `validation \`${gate.command}\` failed (exit ${String(gate.exitCode)})`,
      { command: gate.command, exitCode: gate.exitCode, output: failureExcerpt(gate.output) },
    );
    return 'done';
  }

  /**
   * `--speculate`: a stream that started from a batch tip that then failed its gate was built on work
   * that is not on the branch any more: its commit is discarded and it starts again from the last
   * green commit.
   * Returns the others.
   */
  async #discardStale(
    entries: readonly Entry[],
    settle: (e: Entry, o: 'done' | 'retry') => void,
  ): Promise<Entry[]> {
    const keep: Entry[] = [];
    for (const e of entries) {
      const st = this.host.run().streams[e.stream.id];
      // Stale when its start is no longer on the branch (a batch it started from was reset away); a
      // start still being gated ahead of it in the pipeline is not stale.
      if (st?.startSha == null || (await isAncestor(this.host.repo, st.startSha, await this.tip()))) {
        keep.push(e);
        continue;
      }
      this.host.emit({
        type: 'stream-retry',
        streamId: e.stream.id,
        attempt: st.attempts + 1,
        cause: 'speculation',
        reason: `started from ${st.startSha.slice(0, 10)}, a batch that failed its gate; starting again from the last green commit`,
        context:
          'Your previous attempt started from work that other streams had merged but that then failed validation and was removed. You now start again from the last validated commit; do your task on top of it.',
        fresh: true,
        wasted: e.attempt ?? { agentMs: 0, costUsd: 0 },
      });
      settle(e, 'retry');
    }
    return keep;
  }

  /**
   * After a batch's gate failed (the branch is back on the last green commit): bisects it to find the
   * culprits; the innocent streams land, the culprits are retried or failed. Holds the lock.
   */
  async #afterFailedGate(
    merged: readonly Entry[],
    ids: readonly string[],
    gate: GateFailure,
    settle: (e: Entry, o: 'done' | 'retry') => void,
  ): Promise<void> {
    const byId = new Map(merged.map((e) => [e.stream.id, e]));
    if (merged.length > 1) this.backToCommitted(ids);
    const result =
      merged.length === 1
        ? {
            landed: [],
            culprits: new Map(ids.map((id) => [id, gate])),
            byMerge: new Map<string, 'done' | 'retry'>(),
            unsettled: [],
            gateRuns: 0,
          }
        : await this.#bisect(ids, gate);
    for (const [id, o] of result.byMerge) {
      const e = byId.get(id);
      if (e) settle(e, o);
    }
    for (const id of result.landed) {
      const e = byId.get(id);
      if (e) settle(e, 'done');
    }
    for (const [id, g] of result.culprits) {
      const e = byId.get(id);
      if (e) settle(e, this.#convict(id, g));
    }
    this.backToCommitted(result.unsettled);
    this.#batchGated(ids, result.landed, [...result.culprits.keys()], 1 + result.gateRuns);
  }

  /** The suspects that changed a file the gate's output names (a path, not part of a longer one). */
  #namedIn(output: string, suspects: readonly string[]): string[] {
    const run = this.host.run();
    const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return suspects.filter((id) =>
      (run.streams[id]?.changedFiles ?? []).some((file) =>
        new RegExp(`(?:^|[^\\w./-])${escape(file)}(?![\\w/-]|\\.\\w)`, 'm').test(output),
      ),
    );
  }

  /**
   * Finds the streams that break the gate among `suspects`, which together failed it (`failure`) on
   * the last green commit; the branch is back there. Binary search: merge the first half and gate it;
   * a passing half lands at once and the fault is in the other half (not gated again: with the first
   * half landed it is the same tree that failed); a failing half is searched further and the other
   * half waits. When one suspect is left, it is the culprit, and the halves that waited are gated
   * together on the new green commit (bisected again if they fail too). Holds the lock.
   */
  async #bisect(suspects: readonly string[], failure: GateFailure): Promise<BisectResult> {
    const landed: string[] = [];
    const byMerge = new Map<string, 'done' | 'retry'>();
    const culprits = new Map<string, GateFailure>();
    let gateRuns = 0;
    let current = [...suspects];
    let lastFailure = failure;
    let waiting: string[] = [];
    const entries = (ids: readonly string[]): Entry[] =>
      ids.map((id) => ({
        stream: this.host.stream(id),
        urgency: 0,
        resolve: (o: 'done' | 'retry') => byMerge.set(id, o),
        reject: () => undefined,
      }));
    /** Merges `ids` onto the tip and gates them; the ids that merged, and the outcome. */
    const tryGroup = async (ids: readonly string[]): Promise<{ merged: string[]; outcome: GateOutcome }> => {
      const merged = (
        await this.#mergeAll(entries(ids), (e, o) => {
          e.resolve(o);
        })
      ).map((e) => e.stream.id);
      if (merged.length === 0) return { merged, outcome: { ok: true } };
      gateRuns += 1;
      const single = merged.length === 1 ? (merged[0] ?? null) : null;
      return { merged, outcome: await this.#runGate(single, merged, this.#commandsOf(merged)) };
    };
    // We know what each suspect changed: when the failing output names the files of only some of them,
    // gate all the others first. If that passes, they land at once and the named ones are the only
    // suspects left (one gate run instead of log₂(batch)); if it fails, it is an ordinary first half.
    const named = this.#namedIn(failure.output, suspects);
    if (named.length > 0 && named.length < suspects.length) {
      const others = suspects.filter((id) => !named.includes(id));
      const { merged, outcome } = await tryGroup(others);
      if (outcome.ok) {
        landed.push(...merged);
        current = named;
      } else if (outcome.stopped) {
        return { landed, culprits, byMerge, unsettled: [...suspects], gateRuns };
      } else {
        this.backToCommitted(merged);
        current = merged;
        waiting = named;
        lastFailure = outcome.gate;
      }
    }
    for (;;) {
      if (this.#stopping())
        return { landed, culprits, byMerge, unsettled: [...current, ...waiting], gateRuns };
      if (current.length === 0) break;
      if (current.length === 1) {
        const [culprit] = current;
        if (culprit !== undefined) culprits.set(culprit, lastFailure);
        if (waiting.length === 0) break;
        const group = waiting;
        waiting = [];
        const { merged, outcome } = await tryGroup(group);
        if (outcome.ok) {
          landed.push(...merged);
          break;
        }
        if (outcome.stopped) return { landed, culprits, byMerge, unsettled: group, gateRuns };
        this.backToCommitted(merged);
        current = merged;
        lastFailure = outcome.gate;
        continue;
      }
      const half = Math.ceil(current.length / 2);
      const first = current.slice(0, half);
      const second = current.slice(half);
      const { merged, outcome } = await tryGroup(first);
      if (outcome.ok) {
        landed.push(...merged);
        current = second;
        continue;
      }
      if (outcome.stopped)
        return { landed, culprits, byMerge, unsettled: [...current, ...waiting], gateRuns };
      this.backToCommitted(merged);
      waiting = [...second, ...waiting];
      current = merged;
      lastFailure = outcome.gate;
    }
    return { landed, culprits, byMerge, unsettled: [], gateRuns };
  }
}

/** Makes `dir` a detached checkout of `sha` with no untracked files (ignored ones stay): a gate lane. */
async function checkoutDetached(repo: string, dir: string, sha: string): Promise<void> {
  try {
    const at = await worktreeGitArgs(dir);
    await git(dir, [...at, 'checkout', '--quiet', '--force', '--detach', sha]);
    await git(dir, [...at, 'clean', '-fdq']);
    return;
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    // Missing or broken: checked out anew.
  }
  await rm(dir, { recursive: true, force: true });
  await pruneWorktrees(repo);
  await addDetachedWorktree(repo, dir, sha, 0);
}
