/**
 * The run engine: the orchestration of a run. It creates the integration branch, starts stream
 * attempts as the scheduler says (run by the executor, see `attempt.ts`), hands committed work to the
 * merge queue (`merge-queue.ts`: merges, gates, undo), and records every step in the journal so a
 * crashed or interrupted run can resume.
 */
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentActivity, AgentOutcome, AgentTask, Usage } from '../agents/types.js';
import type { Analysis, Stream } from '../analyze/types.js';
import {
  addExclude,
  autoMaintenance,
  branchRefOf,
  commitIdentityArgs,
  createBranch,
  changedPaths,
  git,
  GitError,
  isAncestor,
  pathsWithConflictMarkers,
  resolveCommit,
  setBranch,
} from '../git/git.js';
import { checkoutChanges, snapshotCheckout, type CheckoutSnapshot } from '../git/snapshot.js';
import { redactDeep } from '../util/redact.js';
import { failureExcerpt } from './validate.js';
import { RunError } from './errors.js';
import { streamsToRetry } from './retry.js';
import { EventBus } from './events.js';
import type { AttemptSetup } from './attempt.js';
import type { StreamExecutor } from './executor.js';
import {
  Journal,
  createRunDir,
  newRunId,
  readJournal,
  readJson,
  runPaths,
  writeState,
  type RunPaths,
} from './journal.js';
import { acquireLock, type LockOwner } from './lock.js';
import { baselineCommands, baselineMessage, GateEnv, integrationLogFile } from './gate-env.js';
import {
  defaultGateLanes,
  gateCommands,
  MergeQueue,
  type MergeReview,
  type ReviewDecision,
} from './merge-queue.js';
import { killProcessesUnder } from './orphans.js';
import { outOfScopePaths } from './ownership.js';
import { findFreePortBlock, portSpan } from './ports.js';
import {
  assembleConflictPrompt,
  assemblePrompt,
  assembleRetryPrompt,
  type ConflictSide,
  type DependencyReport,
} from './prompt.js';
import { conflictSides } from './conflict.js';
import { listIncludedFiles } from './worktree-include.js';
import { currentWave, dependantsOf, streamsToStart, type SchedulerStream } from './scheduler.js';
import { addUsage, applyEvent, replay } from './state.js';
import type {
  GateFailure,
  RunEvent,
  RunEventInput,
  RunOptions,
  RunState,
  RunStatus,
  StreamStatus,
} from './types.js';
import { unreachable } from './types.js';
import { exists } from '../util/fs.js';

export { gateCommands, type MergeReview, type ReviewDecision } from './merge-queue.js';
export { RunError } from './errors.js';

/** An expected reason a run cannot start or resume. */

/** What the engine needs from its caller (the CLI, or a worker). */
export interface EngineHooks {
  readonly executor: StreamExecutor;
  readonly bus: EventBus;
  /** Aborting interrupts the run (Ctrl-C): agents are stopped, state written, the run stays resumable. */
  readonly signal?: AbortSignal;
  /** Asked before each wave in `waves` mode; false stops the run. */
  readonly approveWave?: (wave: number, streamIds: readonly string[]) => Promise<boolean>;
  /**
   * Asked before each stream is merged (`--review`): `approve` merges it; `skip` marks it skipped (its
   * dependants too); `abort` stops the run, resumable, with the stream left committed (merged on resume).
   */
  readonly reviewMerge?: (review: MergeReview) => Promise<ReviewDecision>;
}

/** The result of a run (or of a resumed run). */
export interface RunResult {
  readonly runId: string;
  readonly state: RunState;
  readonly paths: RunPaths;
  /** The analysis the run executed (for estimates next to actuals). */
  readonly analysis: Analysis;
  /** The options it ran with (after any `resume` overrides). */
  readonly options: RunOptions;
}

/** The branch a stream works on. Not `maestro/<run>/<stream>`: git cannot have `maestro/<run>` as a branch and a directory. */
export function streamBranchName(runId: string, streamId: string): string {
  return `maestro/${runId}--${streamId}`;
}

/** The integration branch of a run. */
export function integrationBranchName(runId: string): string {
  return `maestro/${runId}`;
}

/** The completion report file name for a stream's role. */
export function reportNameFor(analysis: Analysis, stream: Stream): string {
  return (
    analysis.roles[stream.role]?.reportName ??
    `${stream.role.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_COMPLETE.md`
  );
}

function lockMessage(owner: LockOwner): string {
  return `another maestro run (${owner.runId}, pid ${String(owner.pid)}) is active in this repository; wait for it to finish or stop it with \`maestro abort ${owner.runId}\``;
}

/** Starts a new run of an analysed plan in `repo`. */
export async function startRun(
  repo: string,
  analysis: Analysis,
  options: RunOptions,
  hooks: EngineHooks,
  runId = newRunId(),
): Promise<RunResult> {
  const [baseSha, baseBranchRef] = await Promise.all([
    resolveCommit(repo, options.base),
    branchRefOf(repo, options.base),
  ]);
  if (baseSha === null) {
    // An unborn HEAD: the user never made a commit, whatever --base says.
    if ((await resolveCommit(repo, 'HEAD')) === null)
      throw new RunError(
        'no-commits',
        `the repository ${repo} has no commits yet; Maestro branches from a commit: commit your files first (git add -A && git commit -m "initial commit") and run again`,
      );
    throw new RunError('bad-base', `--base ${options.base} does not name a commit in ${repo}`);
  }
  const paths = runPaths(repo, runId);
  const lock = await acquireLock(repo, runId);
  if (!lock.ok) throw new RunError('locked', lockMessage(lock.owner));
  try {
    const integrationBranch = integrationBranchName(runId);
    // Independent set-up steps, side by side; the branch must not exist yet (`fail`: a reused run id).
    await Promise.all([
      addExclude(repo, '/.maestro/'),
      createRunDir(paths).then(() =>
        Promise.all([
          writeFile(paths.analysis, `${JSON.stringify(analysis, null, 2)}\n`),
          writeFile(paths.options, `${JSON.stringify(options, null, 2)}\n`),
        ]),
      ),
      // Fails when the branch exists (a reused run id). Its worktree is only needed by validation
      // gates and at the end, so it is checked out in the background while the first agents start.
      createBranch(repo, integrationBranch, baseSha),
    ]);
    const engine = new RunEngine(repo, runId, paths, analysis, options, hooks, null);
    engine.emit({
      type: 'run-started',
      runId,
      repo,
      planSource: analysis.plan.source,
      baseRef: options.base,
      baseSha,
      baseBranchRef,
      integrationBranch,
      streamIds: analysis.streams.map((s) => s.id),
    });
    engine.checkOutIntegration();
    await engine.reservePorts();
    await engine.baseline();
    return await engine.execute();
  } finally {
    lock.release();
  }
}

/** Loads a run's saved analysis, options and journal. */
export async function loadRun(
  repo: string,
  runId: string,
): Promise<{
  paths: RunPaths;
  analysis: Analysis;
  options: RunOptions;
  events: RunEvent[];
  state: RunState;
}> {
  const paths = runPaths(repo, runId);
  if (!(await exists(paths.journal)))
    throw new RunError(
      'not-found',
      `no run ${runId} in ${repo}; \`maestro status\` shows the latest run (run ids are the folders in .maestro/runs)`,
    );
  const events = await readJournal(paths.journal);
  const state = replay(events);
  if (state === null) throw new RunError('corrupt', `run ${runId} has no run-started event in its journal`);
  const analysis = (await readJson(paths.analysis)) as Analysis;
  const options = (await readJson(paths.options)) as RunOptions;
  return { paths, analysis, options, events, state };
}

/** Options `maestro resume` may change (e.g. a higher budget after a budget stop); saved for later resumes. */
export type ResumeOverrides = Partial<Pick<RunOptions, 'budgetUsd' | 'streamBudgetUsd'>>;

/** `maestro retry`: run these failed or skipped streams again (null: a plain resume). */
export interface RetryRequest {
  /** Streams to retry; empty: every failed stream. Their skipped dependants are added. */
  readonly streamIds: readonly string[];
}

/**
 * Resumes an interrupted or crashed run: repairs half-done work, then carries on. With `retry`, the
 * failed streams (and the ones skipped because of them) first go back to pending, on the same
 * integration branch, so what merged stays merged and is not paid for again.
 */
export async function resumeRun(
  repo: string,
  runId: string,
  hooks: EngineHooks,
  overrides: ResumeOverrides = {},
  retry: RetryRequest | null = null,
): Promise<RunResult> {
  const lock = await acquireLock(repo, runId);
  if (!lock.ok) throw new RunError('locked', lockMessage(lock.owner));
  try {
    const loaded = await loadRun(repo, runId);
    if (loaded.state.status === 'completed' || loaded.state.status === 'aborted') {
      throw new RunError('finished', `run ${runId} is ${loaded.state.status}; nothing to resume`);
    }
    const selection = retry === null ? null : streamsToRetry(loaded.state, loaded.analysis, retry.streamIds);
    if (selection?.ok === false) throw new RunError('bad-retry', selection.message);
    const options: RunOptions = { ...loaded.options, ...overrides };
    if (Object.keys(overrides).length > 0)
      await writeFile(loaded.paths.options, `${JSON.stringify(options, null, 2)}\n`);
    const engine = new RunEngine(repo, runId, loaded.paths, loaded.analysis, options, hooks, loaded.state);
    engine.emit({ type: 'run-resumed', runId });
    await engine.reservePorts();
    for (const id of selection?.streamIds ?? [])
      engine.emit({
        type: 'stream-reset',
        streamId: id,
        reason: loaded.state.streams[id]?.status === 'skipped' ? 'retry: its dependency runs again' : 'retry',
      });
    await engine.repair();
    return await engine.execute();
  } finally {
    lock.release();
  }
}

const maxOutputEventsPerAttempt = 200;
/** How long `state.json` may lag the journal while a run is live. */
const stateWriteDelayMs = 50;

/** The `agent-activity` payload of an activity that is neither output nor usage. */
function activityText(activity: Exclude<AgentActivity, { kind: 'output' } | { kind: 'usage' }>): {
  kind: 'edit' | 'command' | 'retry' | 'warning';
  text: string;
} {
  switch (activity.kind) {
    case 'edit':
      return { kind: 'edit', text: activity.path };
    case 'command':
      return { kind: 'command', text: activity.command.slice(0, 500) };
    case 'retry':
      return {
        kind: 'retry',
        text: `API retry ${String(activity.attempt)}${activity.status === undefined ? '' : ` (HTTP ${String(activity.status)})`}`,
      };
    case 'warning':
      return { kind: 'warning', text: activity.message.slice(0, 500) };
    default:
      return unreachable(activity);
  }
}

/** Drives one run. Use `startRun` / `resumeRun`. */
class RunEngine {
  state: RunState | null;
  readonly #journal: Journal;
  readonly #agents = new AbortController();
  /** The integration branch: merges, gates, undo. */
  readonly #queue: MergeQueue;
  /** Each stream's place in the start order, its urgency for the merge queue and locks (0 = most urgent). */
  readonly #urgency: ReadonlyMap<string, number>;
  readonly #streams: ReadonlyMap<string, Stream>;
  /** The scheduler's streams in start order (the analysis's `startOrder`), most urgent first. */
  readonly #schedulerStreams: readonly SchedulerStream[];
  readonly #liveCost = new Map<string, number>();
  #interrupted = false;
  /** The user's checkout at the start of this process's part of the run, updated as changes are reported. */
  #checkoutBaseline: Promise<CheckoutSnapshot> | null = null;
  /** Serialises checkout comparisons, so one change is reported once, by the first stream to see it. */
  #checkoutCheck: Promise<unknown> = Promise.resolve();
  #stopReason: RunStatus | null = null;
  #approvedWave = -1;
  #reviewAborted = false;
  #identity: Promise<string[]> | null = null;
  #stateTimer: NodeJS.Timeout | null = null;
  /** Streams whose agent holds one of the `--max-parallel` slots (from launch until the agent ends). */
  readonly #agentSlots = new Set<string>();
  /** Retries waiting for an agent slot. */
  readonly #slotWaiters = new Map<string, () => void>();
  /** Each stream's latest agent attempt: its duration and cost (what a discarded speculation wasted). */
  readonly #lastAttempt = new Map<string, { agentMs: number; costUsd: number }>();
  /** Resolves the scheduling loop's current wait early (see `#wake`). */
  #wakeLoop: (() => void) | null = null;
  /** Setup, gates and clean-up in the integration worktree. */
  readonly #gateEnv: GateEnv;
  /** A read of every ref in progress, shared by the streams starting meanwhile (`#refsBeforeStart`). */
  #refsRead: Promise<Map<string, string>> | null = null;
  readonly #gateLanes = new Map<number, Promise<{ worktree: string; env: GateEnv }>>();
  /** `.worktreeinclude` matches in the user's checkout, listed once per process. */
  #included: Promise<string[]> | null = null;

  constructor(
    readonly repo: string,
    readonly runId: string,
    readonly paths: RunPaths,
    readonly analysis: Analysis,
    readonly options: RunOptions,
    readonly hooks: EngineHooks,
    state: RunState | null,
  ) {
    this.state = state;
    // Every running agent and gate listens for a stop: as many listeners as `--max-parallel` + 1.
    setMaxListeners(0, this.#agents.signal);
    this.#journal = new Journal(paths.journal);
    this.#streams = new Map(analysis.streams.map((s) => [s.id, s]));
    const known = new Set(analysis.streams.map((s) => s.id));
    const byId = new Map(
      analysis.streams.map((s) => [
        s.id,
        {
          id: s.id,
          deps: [...new Set([...s.dependsOn, ...s.implicitDependsOn])].filter(
            (d) => known.has(d) && d !== s.id,
          ),
        },
      ]),
    );
    // One ranking for everything: the analysis's start order (critical path first, at --max-parallel),
    // which decides which ready stream starts and, as urgency (0 = most urgent), who goes first for
    // the merge queue and worktree locks.
    const order = [...analysis.startOrder.filter((id) => byId.has(id)), ...analysis.streams.map((s) => s.id)];
    this.#schedulerStreams = [...new Set(order)].map((id) => byId.get(id)).filter((s) => s !== undefined);
    this.#urgency = new Map(this.#schedulerStreams.map((s, i) => [s.id, i]));
    this.#gateEnv = this.#newGateEnv(paths.integrationWorktree, 0);
    this.#queue = new MergeQueue({
      gateEnv: this.#gateEnv,
      gateLane: (n) => this.#gateLane(n),
      repo,
      paths,
      analysis,
      options,
      run: () => this.#run,
      emit: (input, sync) => {
        this.emit(input, sync);
      },
      stream: (id) => this.#stream(id),
      signal: this.#agents.signal,
      commitIdentity: () => this.#commitIdentity(),
      streamFailed: (id, code, message, gate) => {
        this.#onStreamFailed(id, code, message, gate);
      },
      reviewMerge: hooks.reviewMerge,
      reviewAborted: (id) => {
        if (this.#stopReason === null) this.#stopReason = 'stopped';
        this.#reviewAborted = true;
        this.emit({ type: 'note', message: `review: run aborted before merging ${id}; resumable` });
        this.#agents.abort('abort');
      },
    });
  }

  get #run(): RunState {
    if (this.state === null) throw new Error('run state used before run-started');
    return this.state;
  }

  /** Stamps, applies, journals and publishes an event; `sync` false leaves the fsync to the next synced line. */
  emit(input: RunEventInput, sync = true): void {
    // Redacted before anything sees it: state, journal, state.json, reporters, live views.
    const stamped = { ...input, time: new Date().toISOString() } as RunEvent;
    const event = redactDeep(stamped);
    this.state = applyEvent(this.state, event);
    if (
      event.type === 'agent-output' ||
      event.type === 'agent-activity' ||
      event.type === 'agent-live-usage'
    ) {
      // Progress for live views (`status --watch` tails the journal). It changes no state, so it is
      // journaled without fsync or a state.json rewrite; output lines are shortened.
      this.#journal.append(
        event.type === 'agent-output' ? { ...event, text: event.text.slice(0, 300) } : event,
        false,
      );
    } else {
      this.#journal.append(event, sync);
      this.#scheduleStateWrite(event.type === 'run-finished');
      // `--speculate`: a merge onto the tip may let dependants start before its gate has passed.
      if (event.type === 'stream-merged' && this.options.speculate === true) this.#wake();
    }
    this.hooks.bus.publish(event);
  }

  /**
   * `state.json` is a cache of the fsync'd journal (resume replays the journal), so bursts of events
   * share one rewrite a few milliseconds later instead of one each; the run's last event writes at once.
   */
  /** Setup, gates and clean-up in a gate worktree (the integration worktree, or a gate lane's). */
  #newGateEnv(worktree: string, portSlot: number): GateEnv {
    return new GateEnv({
      repo: this.repo,
      worktree,
      logFile: integrationLogFile(this.paths.dir),
      spec: this.options.setup,
      timeoutMs: this.options.timeoutMs,
      signal: this.#agents.signal,
      portBase: () => this.state?.portBase ?? null,
      portSlot,
      emit: (input) => {
        this.emit(input);
      },
    });
  }

  /**
   * Gate lane `n` (1…): a worktree of its own beside the stream slots, with its own port block (after
   * the stream slots'), made the first time a gate runs beside another.
   */
  #gateLane(n: number): Promise<{ worktree: string; env: GateEnv }> {
    let lane = this.#gateLanes.get(n);
    if (lane === undefined) {
      const worktree = path.join(this.paths.worktrees, `gate-${String(n)}`);
      lane = Promise.resolve({
        worktree,
        env: this.#newGateEnv(worktree, this.options.maxParallel + n),
      });
      this.#gateLanes.set(n, lane);
    }
    return lane;
  }

  #scheduleStateWrite(now: boolean): void {
    if (now) {
      if (this.#stateTimer !== null) clearTimeout(this.#stateTimer);
      this.#stateTimer = null;
      this.#writeState();
      return;
    }
    if (this.#stateTimer !== null) return;
    this.#stateTimer = setTimeout(() => {
      this.#stateTimer = null;
      this.#writeState();
    }, stateWriteDelayMs);
  }

  #writeState(): void {
    if (this.state !== null) writeState(this.paths, this.state);
  }

  #status(id: string): StreamStatus {
    return this.#run.streams[id]?.status ?? 'pending';
  }

  #stream(id: string): Stream {
    const s = this.#streams.get(id);
    if (!s) throw new Error(`unknown stream ${id}`);
    return s;
  }

  /** The commit identity arguments, looked up once per run. */
  #commitIdentity(): Promise<readonly string[]> {
    this.#identity ??= commitIdentityArgs(this.repo);
    return this.#identity;
  }

  /**
   * Reserves the run's block of loopback ports (the journaled one again on resume, if still free):
   * one block of `portSpan` ports per worktree slot, the integration worktree's and `--max-parallel`
   * streams'.
   */
  async reservePorts(): Promise<void> {
    const previous = this.#run.portBase;
    // Slot 0 (the integration worktree, gate lane 0), the stream slots 1…maxParallel, then gate lanes 1….
    const lanes = Math.max(1, this.options.gateLanes ?? defaultGateLanes);
    const base = await findFreePortBlock((this.options.maxParallel + lanes) * portSpan, previous);
    if (base !== previous) this.emit({ type: 'ports-reserved', base, span: portSpan });
  }

  /**
   * The baseline: before any agent starts, the run-wide validation commands run once on the base
   * commit, in the integration worktree after its setup. When they fail there, no agent could pass
   * them: the run ends (failed, with the output) before anything is spent. `--skip-baseline` skips it.
   */
  async baseline(): Promise<void> {
    const commands = baselineCommands(
      this.options.validate,
      this.analysis.plan.validation.map((v) => v.command),
    );
    if (this.options.baseline !== true || commands.length === 0) return;
    await this.#queue.sync();
    const sha = this.#run.baseSha;
    this.emit({ type: 'baseline', phase: 'started', sha, commands });
    // Ctrl-C reaches the baseline's commands as it reaches agents (`execute` then sees the abort).
    const stop = () => {
      this.#interrupted = true;
      this.#agents.abort('abort');
    };
    this.hooks.signal?.addEventListener('abort', stop, { once: true });
    let result;
    try {
      result = await this.#gateEnv.run(commands);
    } finally {
      this.hooks.signal?.removeEventListener('abort', stop);
    }
    if (result.ok) {
      this.emit({ type: 'baseline', phase: 'passed', sha, commands });
      return;
    }
    if (this.#stopping()) return;
    this.emit({
      type: 'baseline',
      phase: 'failed',
      sha,
      commands,
      command: result.command,
      exitCode: result.exitCode,
      output: failureExcerpt(result.output),
    });
    this.emit({ type: 'run-finished', status: 'failed' });
    this.#journal.close();
    throw new RunError('baseline-failed', baselineMessage(result, this.#run.baseSha));
  }

  /** What gets a stream worktree ready: the run's setup, `.worktreeinclude` files and port block. */
  async #attemptSetup(): Promise<AttemptSetup> {
    this.#included ??= listIncludedFiles(this.repo).catch(() => []);
    return {
      spec: this.options.setup ?? { commands: [], source: 'none', detectedFrom: [], tools: [], teardown: [] },
      root: this.repo,
      included: await this.#included,
      portBase: this.#run.portBase ?? 0,
    };
  }

  /**
   * Checks out the new integration branch in its worktree, in the background, once the first stream
   * has started (then behind the other starting streams on the worktree lock), or when first needed
   * (the baseline, a gate). Awaited before the worktree is used; a failure surfaces there.
   */
  checkOutIntegration(): void {
    this.#queue.deferCheckOut(this.#schedulerStreams.length);
  }

  /**
   * After a crash: kill orphaned agents, put the integration branch back on the last green commit,
   * and bring each stream's journaled state in line with git (no merge twice, no lost commit).
   */
  async repair(): Promise<void> {
    const run = this.#run;
    killProcessesUnder(this.paths.worktrees);
    await this.#queue.repair();
    for (const s of Object.values(run.streams)) {
      switch (s.status) {
        case 'merged':
          if (s.mergeSha !== null && !(await this.#queue.isValidated(s.mergeSha))) {
            // Merged but not validated before the crash (the merge was undone above): its commit
            // stands, so it merges again, behind its gates, without running its agent again.
            if (s.commitSha !== null) {
              this.#queue.backToCommitted([s.id]);
            } else {
              this.emit({
                type: 'stream-interrupted',
                streamId: s.id,
                reason: 'merge not validated before the crash',
              });
            }
          }
          break;
        case 'running':
          if (await this.#recoverCommit(s.id)) break;
          this.emit({
            type: 'stream-interrupted',
            streamId: s.id,
            reason: 'maestro stopped while the agent ran',
          });
          break;
        case 'committed':
          if (s.commitSha !== null && (await this.#queue.isValidated(s.commitSha))) {
            // Merged and validated, but the journal line was lost: record it, do not merge again.
            this.emit({
              type: 'stream-merged',
              streamId: s.id,
              mergeSha: run.greenSha,
              streamSha: s.commitSha,
            });
          }
          break;
        case 'interrupted':
          await this.#recoverCommit(s.id);
          break;
        case 'pending':
        case 'failed':
        case 'skipped':
          break;
      }
    }
  }

  /**
   * After a crash, a stream whose agent finished may have its commit on its branch but not in the
   * journal. Maestro's own commit (`maestro(<id>): …`) ahead of the last journaled point counts as
   * committed: it is journaled now and merged, and the agent does not run again on top of its own
   * work. Anything else on the branch or in the worktree (the agent's own commits, files it left) is
   * reset away, always: the stream re-runs from the last journaled point. True when committed.
   */
  async #recoverCommit(id: string): Promise<boolean> {
    const st = this.#run.streams[id];
    const stream = this.#streams.get(id);
    if (st?.branch == null || stream === undefined) return false;
    // The last journaled point of the current attempt: the previous attempt's commit when this attempt
    // continued it (a gate retry), else where this attempt started (a fresh start after a conflict).
    const start = st.startSha;
    const base =
      start !== null &&
      st.commitSha !== null &&
      (await isAncestor(this.repo, start, st.commitSha).catch(() => false))
        ? st.commitSha
        : (start ?? st.commitSha);
    const head = await resolveCommit(this.repo, `refs/heads/${st.branch}`);
    if (base === null || head === null || head === base) return false;
    // The journaled commit itself (a conflict hand-back cut short before its merge was committed):
    // nothing new to journal, and nothing to undo.
    if (head === st.commitSha) return false;
    const subject = (await git(this.repo, ['log', '-1', '--format=%s', head])).trim();
    if (subject.startsWith(`maestro(${id}): `) && (await isAncestor(this.repo, base, head))) {
      const changed = await changedPaths(this.repo, st.startSha ?? base, head);
      this.emit({ type: 'stream-committed', streamId: id, sha: head, changedFiles: changed });
      this.emit({
        type: 'note',
        message: `${id}: its commit ${head.slice(0, 12)} was made before the crash; merging it, not running the agent again`,
      });
      const outside = outOfScopePaths(changed, [
        ...stream.files.map((f) => f.path),
        ...(stream.impliedFiles ?? []).map((f) => f.path),
      ]);
      if (outside.length > 0) {
        this.emit({
          type: 'ownership-violation',
          streamId: id,
          paths: outside,
          mode: this.options.ownership,
        });
        if (this.options.ownership === 'fail')
          this.#onStreamFailed(id, 'out-of-scope', `changed files it does not own: ${outside.join(', ')}`);
      }
      if (st.resolving != null && this.#status(id) === 'committed') await this.#markersLeft(id, head);
      return true;
    }
    // Not Maestro's commit: the attempt is redone from the journaled point, never on top of itself.
    await setBranch(this.repo, st.branch, base);
    return false;
  }

  /** The scheduling loop: start what the scheduler allows, wait for something to finish, repeat. */
  async execute(): Promise<RunResult> {
    // The user's checkout as it is now: compared after every agent and at the end (escapes).
    this.#checkoutBaseline = snapshotCheckout(this.repo);
    this.#checkoutBaseline.catch(() => undefined); // surfaces where it is awaited
    const onAbort = () => {
      this.#interrupted = true;
      this.#agents.abort('abort');
    };
    if (this.hooks.signal?.aborted === true) onAbort();
    this.hooks.signal?.addEventListener('abort', onAbort, { once: true });
    this.hooks.executor.bindJournal?.((message) => {
      this.emit({ type: 'note', message });
    });
    const inflight = new Map<string, Promise<void>>();
    // Streams committed but not merged (stopped between commit and merge, or a review abort) are not
    // startable by the scheduler: merge them first; #runStream skips the agent for a committed stream.
    if (!this.#interrupted) {
      for (const s of Object.values(this.#run.streams)) {
        if (s.status !== 'committed') continue;
        inflight.set(
          s.id,
          this.#runStreamSafely(s.id).finally(() => inflight.delete(s.id)),
        );
      }
    }
    try {
      for (;;) {
        this.#skipBlocked();
        // A run resumed without a higher budget (or one that reached it exactly) starts no agent.
        this.#checkBudget();
        // `waves`: the wave's merges are in and nothing runs: gate them together before the next wave.
        if (this.#queue.hasUnvalidated() && inflight.size === 0 && !this.#stopping()) {
          await this.#queue.exclusive(0, () => this.#queue.waveGate());
        }
        if (!this.#interrupted && this.#stopReason === null) {
          // Streams a wave's bisection found guilty: handed to the queue again, to be retried or failed.
          for (const id of [...this.#queue.convictedIds(), ...this.#queue.takeAfterWave()]) {
            if (this.#status(id) !== 'committed' || inflight.has(id)) continue;
            inflight.set(
              id,
              this.#runStreamSafely(id).finally(() => inflight.delete(id)),
            );
          }
          const start = streamsToStart({
            mode: this.options.schedule,
            maxParallel: this.options.maxParallel,
            streams: this.#schedulerStreams,
            // A launched stream counts as running before its first event (it awaits git work first).
            status: new Map(
              Object.values(this.#run.streams).map((s) => [s.id, this.#schedulingStatus(s.id, inflight)]),
            ),
            waves: this.analysis.waves,
            criticalPath: new Set(this.analysis.criticalPath),
          });
          if (start.length > 0 && !(await this.#approve())) {
            this.#stopReason = 'stopped';
            this.emit({ type: 'note', message: 'wave not approved; stopping' });
          } else {
            for (const id of start) {
              this.#agentSlots.add(id);
              const job = this.#runStreamSafely(id).finally(() => inflight.delete(id));
              inflight.set(id, job);
            }
          }
        }
        this.#grantSlots();
        if (inflight.size === 0) break;
        const woken = new Promise<void>((resolve) => {
          this.#wakeLoop = resolve;
        });
        await Promise.race([...inflight.values(), woken]);
      }
    } finally {
      this.hooks.signal?.removeEventListener('abort', onAbort);
      // No git process may outlive the run: wait for checkouts still in progress (they never throw).
      await this.hooks.executor.settle?.();
    }
    if (this.#queue.hasUnvalidated()) {
      try {
        await this.#queue.exclusive(0, () => this.#queue.undoUnvalidated());
      } catch (error) {
        // The journal still says merged-but-not-green; `resume` undoes those merges (see repair).
        const message = error instanceof Error ? error.message : String(error);
        this.emit({ type: 'note', message: `could not undo unvalidated merges: ${message}` });
      }
    }
    try {
      // A branch an agent moved after the last merge goes back to where Maestro left it.
      const moved = await this.#queue.exclusive(0, () => this.#queue.guardTip());
      if (moved !== null)
        this.emit({
          type: 'safety-finding',
          streamId: null,
          code: 'tampered-ref',
          message: `${this.#run.integrationBranch} had been moved to ${moved.slice(0, 12)} by something other than Maestro; put back`,
        });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.emit({ type: 'note', message: `could not check the integration branch: ${message}` });
    }
    try {
      await Promise.all([this.#queue.sync(), autoMaintenance(this.repo)]);
    } catch (error) {
      // The branch is right; only its worktree's files lag (`resume` or `git reset --hard` fixes them).
      const message = error instanceof Error ? error.message : String(error);
      this.emit({ type: 'note', message: `could not update the integration worktree: ${message}` });
    }
    // Anything that changed the user's checkout and was not caught after an agent (a gate, a late write).
    try {
      const changed = await this.#checkoutEscapes();
      if (changed.length > 0)
        this.emit({
          type: 'safety-finding',
          streamId: null,
          code: 'escaped-worktree',
          message: `your checkout changed during the run: ${changed.join(', ')}`,
          paths: changed,
        });
    } catch {
      // The checkout could not be read: nothing to compare.
    }
    this.emit({ type: 'run-finished', status: this.#finalStatus() });
    this.#journal.close();
    return {
      runId: this.runId,
      state: this.#run,
      paths: this.paths,
      analysis: this.analysis,
      options: this.options,
    };
  }

  async #approve(): Promise<boolean> {
    if (this.options.schedule !== 'waves') return true;
    const status = new Map(Object.values(this.#run.streams).map((s) => [s.id, s.status]));
    const wave = currentWave({ waves: this.analysis.waves, status });
    if (wave < 0 || wave <= this.#approvedWave) return true;
    const ids = this.analysis.waves[wave] ?? [];
    const ok = this.hooks.approveWave ? await this.hooks.approveWave(wave, ids) : true;
    if (ok) {
      this.#approvedWave = wave;
      this.emit({ type: 'wave-started', wave, streamIds: ids });
    }
    return ok;
  }

  /**
   * A stream's status as the scheduler sees it: `running` while its agent holds a slot; `committed`
   * while the merge queue has it (even once merged: until its gate passes, its dependants must not
   * start from a commit without it).
   */
  #schedulingStatus(id: string, inflight: ReadonlyMap<string, Promise<void>>): StreamStatus {
    if (this.#agentSlots.has(id)) return 'running';
    // `--speculate`: merged onto the tip while its batch's gate runs counts as merged for its dependants.
    if (inflight.has(id))
      return this.options.speculate === true && this.#queue.isUnderTest(id) ? 'merged' : 'committed';
    return this.#status(id);
  }

  #finalStatus(): RunStatus {
    // Stopped by `maestro abort` (it asks before it signals): aborted for good, not resumable.
    if (this.#interrupted) return existsSync(this.paths.abortRequest) ? 'aborted' : 'interrupted';
    const streams = Object.values(this.#run.streams);
    if (streams.every((s) => s.status === 'merged')) return 'completed';
    if (this.#stopReason !== null) return this.#stopReason;
    return 'failed';
  }

  /** Marks not-yet-started streams whose dependencies failed or were skipped as skipped. */
  #skipBlocked(): void {
    for (const s of this.#schedulerStreams) {
      const status = this.#status(s.id);
      if (status !== 'pending' && status !== 'interrupted') continue;
      const blocker = s.deps.find((d) => {
        const ds = this.#status(d);
        return ds === 'failed' || ds === 'skipped';
      });
      if (blocker !== undefined) {
        this.emit({
          type: 'stream-skipped',
          streamId: s.id,
          reason: `depends on ${blocker}, which ${this.#status(blocker)}`,
        });
      }
    }
  }

  #onStreamFailed(id: string, code: string, message: string, gate?: GateFailure): void {
    this.emit({
      type: 'stream-failed',
      streamId: id,
      code,
      message,
      ...(gate === undefined ? {} : { gate }),
    });
    for (const dep of dependantsOf(this.#schedulerStreams, id)) {
      const status = this.#status(dep);
      if (status === 'pending' || status === 'interrupted') {
        this.emit({ type: 'stream-skipped', streamId: dep, reason: `depends on ${id}, which failed` });
      }
    }
    if (this.options.onFailure === 'stop' && this.#stopReason === null) {
      this.#stopReason = 'stopped';
      this.emit({ type: 'note', message: `stopping: ${id} failed and --on-failure is stop` });
    }
  }

  /**
   * Runs a stream; an unexpected error (a git failure, a full disk) fails that stream with the error
   * rather than tearing down the run and orphaning the other agents.
   */
  async #runStreamSafely(id: string): Promise<void> {
    try {
      await this.#runStream(id);
    } catch (error) {
      // Git refusing (a hook, a stale index.lock) is expected: its code and git's words, no stack trace.
      if (error instanceof GitError) {
        this.#onStreamFailed(id, error.code, error.message);
        return;
      }
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.#onStreamFailed(id, 'internal-error', message);
    }
  }

  /**
   * One stream from start to merge (or failure), including its retries. Its agent holds one of the
   * `--max-parallel` slots (taken by the scheduling loop) only while it runs: the commit then waits in
   * the merge queue without one, and a retry waits for a free slot again.
   */
  async #runStream(id: string): Promise<void> {
    const stream = this.#stream(id);
    let holdsSlot = this.#agentSlots.has(id);
    try {
      for (;;) {
        const st = this.#run.streams[id];
        if (!st) return;
        if (st.status !== 'committed') {
          if (!holdsSlot) await this.#waitForSlot(id);
          holdsSlot = true;
          const agentDone = await this.#runAgentAttempt(stream);
          this.#releaseSlot(id);
          holdsSlot = false;
          // Done did not hold (no-changes, missing-files): the agent runs again, for a slot again.
          if (agentDone === 'retry') continue;
          if (!agentDone) return;
        } else if (holdsSlot) {
          this.#releaseSlot(id);
          holdsSlot = false;
        }
        const merged = await this.#queue.submit(
          stream,
          this.#urgency.get(id) ?? 0,
          this.#lastAttempt.get(id),
        );
        if (merged !== 'retry') return;
        // `--speculate`: a dependency it started from is being merged again (its batch failed): the
        // scheduler starts this stream again once its dependencies have landed.
        const waitsFor = this.#schedulerStreams
          .find((s) => s.id === id)
          ?.deps.find((d) => this.#status(d) !== 'merged' || this.#queue.isUnderTest(d));
        if (waitsFor !== undefined) {
          this.emit({
            type: 'stream-interrupted',
            streamId: id,
            reason: `starts again once ${waitsFor} has landed`,
          });
          return;
        }
      }
    } finally {
      if (holdsSlot) this.#releaseSlot(id);
    }
  }

  /** Frees a stream's agent slot and wakes the scheduling loop to fill it. */
  #releaseSlot(id: string): void {
    this.#agentSlots.delete(id);
    this.#wake();
  }

  /** Resolves once the scheduling loop gives `id` an agent slot (for a retry). */
  #waitForSlot(id: string): Promise<void> {
    return new Promise((resolve) => {
      this.#slotWaiters.set(id, resolve);
      this.#wake();
    });
  }

  /** Gives free agent slots to waiting retries, most urgent first (all of them when stopping: they end at once). */
  #grantSlots(): void {
    const waiting = [...this.#slotWaiters.keys()].sort(
      (a, b) => (this.#urgency.get(a) ?? 0) - (this.#urgency.get(b) ?? 0),
    );
    const stopping = this.#stopping() || this.#stopReason !== null;
    for (const id of waiting) {
      if (!stopping && this.#agentSlots.size >= this.options.maxParallel) return;
      const resolve = this.#slotWaiters.get(id);
      this.#slotWaiters.delete(id);
      this.#agentSlots.add(id);
      resolve?.();
    }
  }

  /** Wakes the scheduling loop (an agent ended, a retry waits for a slot). */
  #wake(): void {
    const resolve = this.#wakeLoop;
    this.#wakeLoop = null;
    resolve?.();
  }

  /** Paths of the user's checkout changed since the last comparison (the baseline then moves on). */
  #checkoutEscapes(): Promise<string[]> {
    const check = this.#checkoutCheck.then(async () => {
      const before = await (this.#checkoutBaseline ?? snapshotCheckout(this.repo));
      const after = await snapshotCheckout(this.repo);
      this.#checkoutBaseline = Promise.resolve(after);
      return checkoutChanges(before, after);
    });
    this.#checkoutCheck = check.catch(() => undefined);
    return check;
  }

  /** Every ref of the repository (ref → the object it names), read by one `git for-each-ref`. */
  async #allRefs(): Promise<Map<string, string>> {
    const out = await git(this.repo, ['for-each-ref', '--format=%(objectname) %(refname)']);
    const refs = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [sha, ref] = line.split(' ');
      if (sha !== undefined && ref !== undefined) refs.set(ref, sha);
    }
    return refs;
  }

  /**
   * The refs as they are before an agent starts. Streams starting together share one read (at the
   * start of a run, ten of them at once): any read taken before the agent starts will do.
   */
  #refsBeforeStart(): Promise<Map<string, string>> {
    if (this.#refsRead === null) {
      const read = this.#allRefs();
      this.#refsRead = read;
      const done = () => {
        if (this.#refsRead === read) this.#refsRead = null;
      };
      read.then(done, done);
    }
    return this.#refsRead;
  }

  /** The user's refs (branches, tags…) in `all`: those outside this run's own `maestro/<run>` branches. */
  #userRefs(all: ReadonlyMap<string, string>): Map<string, string> {
    const own = `refs/heads/${this.#run.integrationBranch}`;
    return new Map([...all].filter(([ref]) => ref !== own && !ref.startsWith(`${own}--`)));
  }

  /**
   * What an agent may have done outside its worktree, checked when it ends: processes it left (already
   * stopped), Maestro's integration branch moved (put back: `tampered-ref`), refs of the user's
   * repository created or moved, and writes into the user's checkout (`escaped-worktree`). Returns the
   * failure the stream gets, or null.
   */
  async #agentAftermath(
    id: string,
    outcome: AgentOutcome,
    refsBefore: Map<string, string> | null,
  ): Promise<{ code: string; message: string } | null> {
    for (const notice of outcome.notices ?? [])
      this.emit({ type: 'safety-finding', streamId: id, code: 'left-processes', message: notice });
    let failure: { code: string; message: string } | null = null;
    // Not under the integration lock (a gate may hold it for minutes): a moved branch whose commit is
    // this stream's own work can only be the agent's doing. The merge queue puts the branch back
    // before its next merge (`guardTip`), and at the end of the run.
    // The journal's value first: a merge journaled while the ref is read only makes the ref newer.
    const run = this.#run;
    const expected = run.tipSha ?? run.greenSha;
    // One read of every ref: the integration branch, the stream's own, and the user's.
    const refs = await this.#allRefs();
    const found = refs.get(`refs/heads/${run.integrationBranch}`) ?? null;
    const ownHead = refs.get(`refs/heads/${streamBranchName(this.runId, id)}`) ?? null;
    const isIn = (a: string, b: string): Promise<boolean> =>
      a === b ? Promise.resolve(true) : isAncestor(this.repo, a, b).catch(() => false);
    // Tampered: the branch now holds this stream's own work that Maestro never merged (an older tip
    // Maestro itself set is contained in the journal's tip, and is not tampering).
    if (
      found !== null &&
      found !== expected &&
      ownHead !== null &&
      (await isIn(found, ownHead)) &&
      !(await isIn(found, expected))
    ) {
      const message = `the agent moved ${run.integrationBranch} to its own commit ${found.slice(0, 12)}; it is put back where Maestro left it and the stream's work is not merged`;
      this.emit({ type: 'safety-finding', streamId: id, code: 'tampered-ref', message });
      failure = { code: 'tampered-ref', message };
    }
    if (refsBefore !== null) {
      const after = this.#userRefs(refs);
      const changed = [
        ...[...after].filter(([ref, sha]) => refsBefore.get(ref) !== sha).map(([ref]) => ref),
        ...[...refsBefore.keys()].filter((ref) => !after.has(ref)),
      ].sort();
      if (changed.length > 0)
        this.emit({
          type: 'safety-finding',
          streamId: id,
          code: 'refs-changed',
          message: `refs of your repository created, moved or deleted while the agent ran: ${changed.join(', ')}`,
          paths: changed,
        });
    }
    const escaped = await this.#checkoutEscapes();
    if (escaped.length > 0) {
      const message = `the agent changed your checkout outside its worktree: ${escaped.join(', ')}`;
      this.emit({ type: 'safety-finding', streamId: id, code: 'escaped-worktree', message, paths: escaped });
      if (this.options.ownership === 'fail') failure ??= { code: 'escaped-worktree', message };
    }
    return failure;
  }

  /**
   * Whether an agent's "done" holds: it changed at least one file it owns (`no-changes`), and every
   * file its phase says it creates exists (`missing-files`). A phase that produces nothing (no files,
   * or a `Produces: nothing` line) is not checked. Null when it holds.
   */
  async #unverifiedDone(
    stream: Stream,
    sha: string,
    changed: readonly string[],
    outside: readonly string[],
    /** The changed paths that were deletions, when known. */
    deleted?: readonly string[],
  ): Promise<{ code: 'no-changes' | 'missing-files'; message: string } | null> {
    const phase = this.analysis.plan.phases.find((p) => p.id === stream.phaseId);
    if (
      stream.files.length === 0 ||
      /^\s*(?:\*\*)?produces(?:\*\*)?\s*:\s*nothing\b/im.test(phase?.body ?? '')
    )
      return null;
    // With `--ownership warn` the user accepts work outside the owned files as the stream's own.
    const ownChanges =
      this.options.ownership === 'warn' ? changed : changed.filter((f) => !outside.includes(f));
    if (ownChanges.length === 0)
      return {
        code: 'no-changes',
        message: `the agent reported done but changed none of its files (${stream.files.map((f) => f.path).join(', ')})`,
      };
    const creates = stream.files.filter((f) => f.action === 'create' && !f.glob && !f.path.endsWith('/'));
    if (creates.length === 0) return null;
    // A file the attempt added or changed (and did not delete) is there; only the others need a look.
    const changedSet = new Set(changed);
    const gone = new Set(deleted ?? []);
    const toCheck = creates
      .map((f) => f.path)
      .filter((p) => deleted === undefined || !changedSet.has(p) || gone.has(p));
    const tree =
      toCheck.length === 0
        ? new Set<string>()
        : new Set(
            (await git(this.repo, ['ls-tree', '-r', '--name-only', '-z', sha, '--', ...toCheck]))
              .split('\0')
              .filter(Boolean),
          );
    const missing = toCheck.filter((p) => !tree.has(p));
    return missing.length === 0
      ? null
      : {
          code: 'missing-files',
          message: `the agent reported done but did not create: ${missing.join(', ')}`,
        };
  }

  /** Prepares the branch and worktree, runs the agent, commits and checks ownership. True when committed. */
  async #runAgentAttempt(stream: Stream): Promise<boolean | 'retry'> {
    const id = stream.id;
    const st = this.#run.streams[id];
    if (!st) return false;
    const branch = streamBranchName(this.runId, id);
    // Start from the last validated commit, not the tip: while another stream's gate runs, the tip holds
    // work that may yet be rejected and reset away, and a branch built on it would bring it back. With
    // `--speculate`, a stream whose dependency is in a batch still being gated starts from the tip
    // (the merge queue discards its work if that gate fails).
    const speculative =
      this.options.speculate === true &&
      [...stream.dependsOn, ...stream.implicitDependsOn].some((d) => this.#queue.isUnderTest(d));
    const tip = speculative ? await this.#queue.tip() : this.#run.greenSha;
    // A merge conflict handed back: the last green commit is merged into the stream's branch in its
    // worktree, leaving the markers, and the agent resolves them (its changes count from that commit).
    let handBack: { onto: string; conflicts: ConflictSide[] } | null = null;
    if (st.resolveConflict === true && st.commitSha !== null) {
      const onto = this.#run.greenSha;
      const conflicts = await conflictSides(this.repo, st.commitSha, onto);
      if (conflicts === null) {
        // What it conflicted with changed again meanwhile: its commit merges as it is, without the agent.
        this.emit({
          type: 'note',
          message: `${id}: its commit now merges cleanly with ${onto.slice(0, 12)}; merging it without running the agent`,
        });
        this.emit({
          type: 'stream-committed',
          streamId: id,
          sha: st.commitSha,
          changedFiles: [...st.changedFiles],
        });
        return true;
      }
      // The branch holds the commit that conflicted (put back if something moved it).
      await setBranch(this.repo, branch, st.commitSha);
      handBack = { onto, conflicts };
    }
    // A retry continues the stream's branch when its start was journaled and the branch still exists.
    const continuesBranch =
      handBack !== null ||
      (st.startSha !== null &&
        st.attempts > 0 &&
        (await resolveCommit(this.repo, `refs/heads/${branch}`)) !== null);
    const startSha = handBack?.onto ?? (continuesBranch && st.startSha !== null ? st.startSha : tip);
    const attempt = st.attempts + 1;
    const dir = this.paths.streamDir(id);
    const reportFile = path.join(dir, 'report.md');
    // A retry after a failed gate continues the agent's own session (Claude Code `--resume`) with just the
    // failure text; a retry after a conflict starts over (`startSha` was cleared) with the full prompt.
    const resumeSessionId =
      this.options.agent === 'claude' &&
      st.retryContext !== null &&
      continuesBranch &&
      typeof st.sessionId === 'string'
        ? st.sessionId
        : undefined;
    const writePrompt = async (): Promise<string> => {
      await mkdir(dir, { recursive: true });
      await rm(reportFile, { force: true });
      const reportFileHint = 'the file named in $MAESTRO_REPORT_FILE';
      const text =
        handBack !== null
          ? assembleConflictPrompt({
              streamId: id,
              title: stream.title,
              files: stream.files.map((f) => f.path),
              conflicts: handBack.conflicts,
              resumed: resumeSessionId !== undefined,
              reportFileHint,
            })
          : resumeSessionId !== undefined && st.retryContext !== null
            ? assembleRetryPrompt(st.retryContext, reportFileHint)
            : assemblePrompt({
                analysis: this.analysis,
                stream,
                validationCommands: gateCommands(this.analysis, this.options, stream),
                dependencyReports: await this.#dependencyReports(stream),
                retryContext: st.retryContext,
                reportFileHint,
              });
      await writeFile(path.join(dir, 'prompt.md'), text);
      await writeFile(path.join(dir, `prompt-${String(attempt)}.md`), text);
      return text;
    };
    const promptFile = path.join(dir, 'prompt.md');
    const role = this.analysis.roles[stream.role];
    // Lockfiles go with their manifests (`npm install --save x` rewrites both).
    const ownedPaths = [
      ...stream.files.map((f) => f.path),
      ...(stream.impliedFiles ?? []).map((f) => f.path),
    ];
    // The prompt files are written while git prepares the worktree (often queued behind other streams').
    // The user's refs before the agent runs (compared when it ends), read while the worktree is
    // prepared: the task waits for it, and the executor starts the agent only once it has the task.
    const refsBefore = this.#refsBeforeStart()
      .then((all) => this.#userRefs(all))
      .catch(() => null);
    const task = Promise.all([writePrompt(), refsBefore]).then(([prompt]): AgentTask => ({
      runId: this.runId,
      streamId: id,
      streamTitle: stream.title,
      role: stream.role,
      roleInstructions: role?.instructions ?? '',
      model: stream.model,
      files: stream.files.map((f) => f.path),
      prompt,
      promptFile,
      reportFile,
      // The executor runs the agent in a worktree of its choosing (a recycled slot under this root).
      cwd: this.paths.worktrees,
      validationCommands: gateCommands(this.analysis, this.options, stream),
      ...(this.options.streamBudgetUsd === undefined ? {} : { budgetUsd: this.options.streamBudgetUsd }),
      ...(resumeSessionId === undefined ? {} : { resumeSessionId }),
      ...(resumeSessionId === undefined || st.sessionUsage == null ? {} : { resumedUsage: st.sessionUsage }),
      // Writes outside them are refused as they happen where the backend can (Claude's PreToolUse hook).
      ...(this.options.ownership === 'fail' ? { ownedPaths } : {}),
      env: {},
    }));
    let outputs = 0;
    const onActivity = (activity: AgentActivity) => {
      if (activity.kind === 'output') {
        outputs += 1;
        if (outputs <= maxOutputEventsPerAttempt)
          this.emit({ type: 'agent-output', streamId: id, text: activity.text.slice(0, 2000) });
      } else if (activity.kind === 'usage') {
        this.#liveCost.set(id, activity.usage.costUsd);
        this.emit({ type: 'agent-live-usage', streamId: id, usage: activity.usage });
        this.#checkBudget();
      } else {
        this.emit({ type: 'agent-activity', streamId: id, ...activityText(activity) });
      }
    };
    // Set when the agent ends: false when its work is discarded because the run is stopping.
    // `aftermath`: what the agent did outside its worktree, checked from the moment it ends, while its
    // work is committed.
    const ended: { kept: boolean; aftermath: Promise<{ code: string; message: string } | null> | null } = {
      kept: true,
      aftermath: null,
    };
    const onAgentEnded = (outcome: AgentOutcome, durationMs: number): boolean => {
      this.#liveCost.delete(id);
      this.#lastAttempt.set(id, { agentMs: durationMs, costUsd: outcome.usage.costUsd });
      this.emit({
        type: 'agent-finished',
        streamId: id,
        ok: outcome.ok,
        code: outcome.ok ? 'ok' : outcome.code,
        message: outcome.ok ? '' : outcome.message,
        durationMs,
        ...(outcome.sessionId === undefined ? {} : { sessionId: outcome.sessionId }),
      });
      if (outcome.usage.costSource !== 'none' || outcome.usage.inputTokens + outcome.usage.outputTokens > 0) {
        this.emit({
          type: 'agent-usage',
          streamId: id,
          usage: outcome.usage,
          ...this.#usageTotals(id, outcome.usage),
        });
        this.#checkBudget();
      }
      // Work an agent finished before the budget stopped the run is kept (committed, merged on resume).
      const keepFinishedWork = outcome.ok && !this.#interrupted && this.#stopReason === 'budget-exceeded';
      ended.kept = !this.#agents.signal.aborted || keepFinishedWork;
      if (ended.kept) {
        ended.aftermath = refsBefore.then((refs) => this.#agentAftermath(id, outcome, refs));
        ended.aftermath.catch(() => undefined); // awaited below
      }
      return ended.kept;
    };
    const result = await this.hooks.executor.run(
      {
        repo: this.repo,
        streamId: id,
        attempt,
        branch,
        worktreeRoot: this.paths.worktrees,
        setup: await this.#attemptSetup(),
        startSha,
        continueBranch: continuesBranch,
        ...(handBack === null ? {} : { mergeFrom: handBack.onto }),
        priority: this.#urgency.get(id) ?? 0,
        task,
        logFile: path.join(dir, 'agent.log'),
        timeoutMs: this.options.timeoutMs,
        stallMs: this.options.stallMs,
        commitMessage: `maestro(${id}): ${stream.title}`,
        identity: await this.#commitIdentity(),
        ownedPaths,
      },
      this.#agents.signal,
      {
        onStarted: (where) => {
          // The first agents' worktrees are made: the integration worktree's turn (see checkOutIntegration).
          void this.#queue.ready();
          this.emit({
            type: 'stream-started',
            streamId: id,
            attempt,
            branch,
            startSha,
            worktree: where?.worktree ?? this.paths.worktrees,
            ...(handBack === null
              ? {}
              : { resolving: { onto: handBack.onto, paths: handBack.conflicts.map((c) => c.path) } }),
            ...(where === undefined ? {} : { port: where.port }),
          });
        },
        onSetupStarted: (commands, worktree) => {
          this.emit({
            type: 'setup-started',
            streamId: id,
            worktree,
            commands: [...commands],
          });
        },
        onSetupEnded: (setup) => {
          this.emit({
            type: 'setup-finished',
            streamId: id,
            ok: setup.ok,
            durationMs: setup.durationMs,
            ...(setup.ok
              ? {}
              : { command: setup.command, exitCode: setup.exitCode, output: failureExcerpt(setup.output) }),
          });
        },
        onActivity,
        onAgentEnded,
      },
    );
    // `--redis`: what the queue cost this attempt, journaled as it happens (the report and resume read it).
    if (result.queue !== undefined)
      this.emit({ type: 'queue-attempt', streamId: id, attempt, ...result.queue });
    if (result.kind === 'setup-failed') {
      if (this.#stopping()) {
        this.emit({ type: 'stream-interrupted', streamId: id, reason: 'run interrupted during setup' });
        return false;
      }
      // Not the agent's fault, and it would fail the same way again: no retry.
      const { command, exitCode, output } = result.setup;
      this.#onStreamFailed(
        id,
        'setup',
        `setup \`${command}\` exited ${String(exitCode)} in its worktree (the agent did not run):\n${failureExcerpt(output)}`,
        { command, exitCode, output: failureExcerpt(output) },
      );
      return false;
    }
    if (!ended.kept) {
      this.emit({
        type: 'stream-interrupted',
        streamId: id,
        reason: this.#interrupted
          ? 'run interrupted'
          : this.#reviewAborted
            ? 'run aborted in review'
            : 'budget reached',
      });
      return false;
    }
    if (result.staleLock !== undefined)
      this.emit({
        type: 'safety-finding',
        streamId: id,
        code: 'stale-lock',
        message: `the agent left ${result.staleLock} behind; no process of the attempt was alive, so Maestro removed it`,
      });
    const unsafe = await (ended.aftermath ??
      refsBefore.then((refs) => this.#agentAftermath(id, result.outcome, refs)));
    if (result.kind === 'not-committed') {
      const { outcome } = result;
      if (!outcome.ok) this.#onStreamFailed(id, outcome.code, outcome.message);
      else if (unsafe !== null) this.#onStreamFailed(id, unsafe.code, unsafe.message);
      return false;
    }
    await writeFile(
      path.join(dir, reportNameFor(this.analysis, stream)),
      `${result.outcome.report.trim()}\n`,
    );
    if (result.isNew) this.#queue.noteNewCommit(result.sha);
    this.emit({
      type: 'stream-committed',
      streamId: id,
      sha: result.sha,
      changedFiles: [...result.changedFiles],
    });
    const outside = result.outOfScope;
    if (outside.length > 0) {
      this.emit({
        type: 'ownership-violation',
        streamId: id,
        paths: [...outside],
        mode: this.options.ownership,
      });
      if (this.options.ownership === 'fail') {
        this.#onStreamFailed(id, 'out-of-scope', `changed files it does not own: ${outside.join(', ')}`);
        return false;
      }
    }
    if (unsafe !== null) {
      this.#onStreamFailed(id, unsafe.code, unsafe.message);
      return false;
    }
    if (handBack !== null && (await this.#markersLeft(id, result.sha))) return false;
    const unverified = await this.#unverifiedDone(
      stream,
      result.sha,
      result.changedFiles,
      outside,
      result.deletedFiles,
    );
    if (unverified !== null && this.options.ownership === 'warn') {
      // `--ownership warn`: the stream's file list is advisory, so an unfulfilled one only warns.
      this.emit({ type: 'note', message: `${id}: ${unverified.code}: ${unverified.message}` });
    } else if (unverified !== null) {
      const now = this.#run.streams[id];
      if ((now?.verifyRetries ?? 0) < this.options.retries) {
        this.emit({
          type: 'stream-retry',
          streamId: id,
          attempt: (now?.attempts ?? attempt) + 1,
          cause: 'verify',
          reason: `${unverified.code}: ${unverified.message}`,
          context: `Your previous attempt ended as done, but ${unverified.message.replace(/^the agent reported done but /, '')} (${unverified.code}). Do the task now: write the files it asks for.`,
          fresh: false,
        });
        return 'retry';
      }
      this.#onStreamFailed(id, unverified.code, unverified.message);
      return false;
    }
    return true;
  }

  /**
   * After a conflict hand-back: true (and the stream failed) when a file that was in conflict still
   * holds a conflict marker in the stream's commit `sha`.
   */
  async #markersLeft(id: string, sha: string): Promise<boolean> {
    const paths = this.#run.streams[id]?.resolving?.paths ?? [];
    const left = await pathsWithConflictMarkers(this.repo, sha, paths);
    if (left.length === 0) return false;
    this.#onStreamFailed(id, 'conflict-markers', `conflict markers left in: ${left.join(', ')}`);
    return true;
  }

  /** The wave of `id` and the wave's and run's usage including `usage` (not yet applied to the state). */
  #usageTotals(id: string, usage: Usage): { wave?: number; waveUsage?: Usage; runUsage: Usage } {
    const streams = this.#run.streams;
    let runUsage = usage;
    for (const s of Object.values(streams)) if (s.usage !== null) runUsage = addUsage(runUsage, s.usage);
    const wave = this.analysis.waves.findIndex((ids) => ids.includes(id));
    if (wave < 0) return { runUsage };
    let waveUsage = usage;
    for (const other of this.analysis.waves[wave] ?? []) {
      const u = streams[other]?.usage;
      if (u != null) waveUsage = addUsage(waveUsage, u);
    }
    return { wave, waveUsage, runUsage };
  }

  async #dependencyReports(stream: Stream): Promise<DependencyReport[]> {
    const reports: DependencyReport[] = [];
    for (const depId of [...stream.dependsOn, ...stream.implicitDependsOn]) {
      const dep = this.#streams.get(depId);
      if (!dep) continue;
      const reportName = reportNameFor(this.analysis, dep);
      let text = '';
      try {
        text = await readFile(path.join(this.paths.streamDir(depId), reportName), 'utf8');
      } catch {
        // The dependency wrote no report.
      }
      reports.push({ streamId: depId, title: dep.title, reportName, text });
    }
    return reports;
  }

  /** True once agents are being stopped (Ctrl-C or budget); a method so checks after awaits are not narrowed away. */
  #stopping(): boolean {
    return this.#agents.signal.aborted;
  }

  #checkBudget(): void {
    const budget = this.options.budgetUsd;
    if (budget === undefined || this.#stopReason === 'budget-exceeded') return;
    let live = 0;
    for (const c of this.#liveCost.values()) live += c;
    const spent = this.#run.costUsd + live;
    // At the budget, the next agent would exceed it: stop as soon as it is reached.
    if (spent < budget) return;
    this.#stopReason = 'budget-exceeded';
    this.emit({ type: 'budget-exceeded', costUsd: spent, budgetUsd: budget });
    this.#agents.abort('budget');
  }
}
