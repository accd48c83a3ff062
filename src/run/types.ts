/**
 * The run's data model: stream states, run options, run state and the typed events of the journal.
 * All plain JSON so state crosses process (and later machine) boundaries; state is a fold of events.
 */
import type { Usage } from '../agents/types.js';
import type { SetupSpec } from './setup-detect.js';

/**
 * A stream's life: `pending → running → committed → merged`, or `failed` / `skipped`. A pending stream
 * whose dependencies merged is startable; that is the scheduler's judgement, not a stored status.
 * `interrupted` is a running stream stopped by Ctrl-C, a budget stop or a crash: resumable.
 */
export type StreamStatus =
  'pending' | 'running' | 'committed' | 'merged' | 'failed' | 'skipped' | 'interrupted';

/** Raises a type error when a switch over a union misses a case; throws if reached at runtime. */
export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}

/** True when a stream will not change any more in this run. */
export function isTerminal(status: StreamStatus): boolean {
  switch (status) {
    case 'merged':
    case 'failed':
    case 'skipped':
      return true;
    case 'pending':
    case 'running':
    case 'committed':
    case 'interrupted':
      return false;
    default:
      return unreachable(status);
  }
}

/** How streams are started. */
export type ScheduleMode = 'dag' | 'waves' | 'sequential' | 'hybrid';
export const scheduleModes: readonly ScheduleMode[] = ['dag', 'waves', 'sequential', 'hybrid'];

/** The options a run was started with (saved in the run directory, reused by `resume`). */
export interface RunOptions {
  readonly agent: string;
  readonly agentCommand?: string;
  readonly maxParallel: number;
  readonly schedule: ScheduleMode;
  /** Extra validation commands from `--validate`. */
  readonly validate: readonly string[];
  readonly onFailure: 'continue' | 'stop';
  readonly retries: number;
  readonly base: string;
  readonly land: boolean;
  readonly timeoutMs: number;
  readonly stallMs: number;
  readonly ownership: 'fail' | 'warn';
  /** Run budget in USD (`--budget-usd`): no agent starts once it is spent; running ones are stopped. */
  readonly budgetUsd?: number;
  /** Per-stream budget in USD (`--stream-budget-usd`), handed to each agent (Claude's `--max-budget-usd`). */
  readonly streamBudgetUsd?: number;
  /** `--model`, as given (already applied to the analysis's streams; kept for the record). */
  readonly model?: string;
  /** Agent turn limit (`--max-turns`; Claude Code). */
  readonly maxTurns?: number;
  /** Path of the agent CLI executable (`--agent-path`) instead of looking it up on PATH. */
  readonly agentPath?: string;
  /** The config's `env`: what agents inherit beyond the default (see `agents/env.ts`). */
  readonly env?: { readonly pass?: readonly string[]; readonly drop?: readonly string[] };
  /** `--mcp-config` files or JSON strings passed through to Claude Code. */
  readonly mcpConfig?: readonly string[];
  /** Setup and teardown of each worktree (`--setup`, config, plan, or detected); none when absent. */
  readonly setup?: SetupSpec;
  /**
   * True: the run-wide validation commands first run once on the base commit, and a failure there
   * stops the run before any agent starts (the CLI's default; `--skip-baseline` makes it false).
   */
  readonly baseline?: boolean;
  /**
   * `--redis`: attempts run on workers through this Redis, saved without its password (`display` of
   * `src/queue/connection.ts`); `resume` and `abort` need the full URL again when it had one.
   */
  readonly redis?: { readonly url: string; readonly needsPassword: boolean; readonly remote: string };
  /** `--speculate`: dependants may start from a batch tip whose gate still runs (restarted if it fails). */
  readonly speculate?: boolean;
  /** `--max-batch`: most streams merged behind one gate run (default: every one waiting). */
  readonly maxBatch?: number;
  /**
   * `--gate-lanes`: gates that may run at once, each batch on the tip with the batches ahead of it
   * (default 2; 1 runs one gate at a time).
   */
  readonly gateLanes?: number;
}

/** How a run ended (or that it is still going). */
export type RunStatus =
  'running' | 'completed' | 'failed' | 'interrupted' | 'stopped' | 'budget-exceeded' | 'aborted';

/**
 * Why a stream is retried: its gate failed after it merged, its merge conflicted, (`--speculate`)
 * it started from a batch tip whose gate then failed, or (`verify`) the agent said done but changed
 * none of its files or left a file it creates missing.
 */
export type RetryCause = 'gate' | 'conflict' | 'speculation' | 'verify';

/** Why a stream failed; a failed gate adds its command, exit code and an excerpt of its output. */
export interface StreamError {
  readonly code: string;
  readonly message: string;
  readonly command?: string;
  readonly exitCode?: number | null;
  /** The first error lines and the tail of the command's output (see `failureExcerpt`). */
  readonly output?: string;
}

/** A failed validation command, as a failed stream records it. */
export interface GateFailure {
  readonly command: string;
  readonly exitCode: number | null;
  readonly output: string;
}

/** One stream's state, derived from the journal. */
export interface StreamState {
  readonly id: string;
  status: StreamStatus;
  /** Agent runs so far (1 for the first). */
  attempts: number;
  /** Retries after a failed gate or a conflict (`gateRetries + conflictRetries`). */
  retries: number;
  /** Retries after a failed validation gate; `--retries` bounds these. */
  gateRetries: number;
  /** Retries after a merge conflict (at most one per stream). */
  conflictRetries: number;
  /** Retries because the agent's "done" did not hold (`no-changes`, `missing-files`). */
  verifyRetries?: number;
  branch: string | null;
  /** Integration commit the stream's branch was started from. */
  startSha: string | null;
  commitSha: string | null;
  mergeSha: string | null;
  changedFiles: readonly string[];
  startedAt: string | null;
  endedAt: string | null;
  /** Milliseconds spent, summed over attempts. */
  durationMs: number;
  error: StreamError | null;
  warnings: string[];
  usage: Usage | null;
  /** The agent's last session id (Claude Code), so a retry after a failed gate can resume it. */
  sessionId?: string | null;
  /** What that session has spent over all its invocations (a resumed Claude session reports running totals). */
  sessionUsage?: Usage | null;
  /** Why the next attempt runs (failed validation output, conflict), for its prompt. */
  retryContext: string | null;
  /**
   * True when the next attempt hands a merge conflict back to the agent: the last green commit is
   * merged into the stream's branch in its worktree, leaving the conflict markers, and the agent is
   * continued to resolve them (set by a `conflict` retry, cleared by the next commit).
   */
  resolveConflict?: boolean;
  /** The attempt running now resolves a conflict: the green commit merged in, and the paths that conflicted. */
  resolving?: ConflictHandBack | null;
  /** What the agent spent resolving conflicts, summed over its resolution attempts. */
  resolutionUsage?: Usage | null;
  /** What the stream's first, full attempt spent (what a re-run from scratch would cost again). */
  firstAttemptUsage?: Usage | null;
}

/** A conflict handed back to a stream's agent: the green commit merged into its branch, and the paths in conflict. */
export interface ConflictHandBack {
  readonly onto: string;
  readonly paths: readonly string[];
}

/** One gated batch of merges. */
export interface BatchRecord {
  readonly streamIds: readonly string[];
  readonly landed: readonly string[];
  readonly culprits: readonly string[];
  readonly gateRuns: number;
}

/** The whole run's state, derived from the journal (and saved as `state.json`). */
export interface RunState {
  readonly runId: string;
  status: RunStatus;
  repo: string;
  planSource: string;
  baseRef: string;
  baseSha: string;
  /** `refs/heads/x` when the base is a branch (for `--land`), else null. */
  baseBranchRef: string | null;
  integrationBranch: string;
  /** Last integration commit that passed its gates. */
  greenSha: string;
  /**
   * Where Maestro last put the integration branch (the journal's value): every merge is computed
   * against it, and a branch found elsewhere was moved by someone else and is put back.
   */
  tipSha?: string;
  startedAt: string;
  endedAt: string | null;
  streams: Record<string, StreamState>;
  /** Order streams were merged in. */
  mergeOrder: string[];
  costUsd: number;
  notes: string[];
  /** Set when the run budget stopped the run (cleared on resume). */
  budgetStop?: { readonly costUsd: number; readonly budgetUsd: number } | null;
  /** Gated batches (and waves), in order: what landed, what broke the gate, gate runs each took. */
  batches?: readonly BatchRecord[];
  /** `--speculate`: attempts discarded because the batch they started from failed, and what they cost. */
  speculation?: { discarded: number; agentMs: number; costUsd: number };
  /** The run's port block (see the `ports-reserved` event). */
  portBase?: number;
  /** Setup runs so far (stream and integration worktrees) and their total time. */
  setups?: { runs: number; failed: number; durationMs: number };
  /** The validation commands failed on the base commit (the run stopped before any agent started). */
  baselineFailure?: GateFailure | null;
  /** `--redis`: what the run queue cost, summed over the attempts that ran on workers (`queue-attempt`). */
  queue?: QueueTotals;
}

/** What the run queue cost one attempt, in milliseconds (see the `queue-attempt` event). */
export interface QueueCosts {
  /** Publishing the start commit on the remote (the coordinator's push; 0 when already published). */
  readonly publishMs: number;
  /** Adding the job to Redis. */
  readonly enqueueMs: number;
  /** The worker fetching the start commit and checking it out. */
  readonly fetchMs: number;
  /** The worker committing and pushing its commit. */
  readonly pushMs: number;
  /** From the job's completion to its commit fetched into the coordinator's repository. */
  readonly resultMs: number;
}

/** One attempt's job on the run queue: its id, the worker that ran it (once it reported back), its costs. */
export interface QueueAttemptRecord extends QueueCosts {
  readonly jobId: string;
  readonly worker: string | null;
}

/** The run queue's costs summed over attempts. */
export interface QueueTotals extends QueueCosts {
  readonly attempts: number;
}

/** Fields every event carries. */
interface EventBase {
  /** ISO time. */
  readonly time: string;
}

/** Everything that happens in a run, as typed events (the journal's lines; the reporters' input). */
export type RunEvent = EventBase &
  (
    | {
        readonly type: 'run-started';
        readonly runId: string;
        readonly repo: string;
        readonly planSource: string;
        readonly baseRef: string;
        readonly baseSha: string;
        readonly baseBranchRef: string | null;
        readonly integrationBranch: string;
        readonly streamIds: readonly string[];
      }
    | { readonly type: 'run-resumed'; readonly runId: string }
    | {
        /**
         * The run's block of free loopback ports: worktree slot n (0: the integration worktree and its
         * gates; 1…: stream worktrees) gets `MAESTRO_PORT` = base + n × span, and the span above it.
         */
        readonly type: 'ports-reserved';
        readonly base: number;
        readonly span: number;
      }
    | {
        /** Setup commands start in a worktree (a stream's, or the integration worktree's: `streamId` null). */
        readonly type: 'setup-started';
        readonly streamId: string | null;
        readonly worktree: string;
        readonly commands: readonly string[];
      }
    | {
        readonly type: 'setup-finished';
        readonly streamId: string | null;
        readonly ok: boolean;
        readonly durationMs: number;
        /** The failing command, its exit code (null: stopped or timed out) and an excerpt of its output. */
        readonly command?: string;
        readonly exitCode?: number | null;
        readonly output?: string;
      }
    | {
        /**
         * The baseline: the run-wide validation commands on the base commit, before any agent starts.
         * `failed` (with the failing command) stops the run.
         */
        readonly type: 'baseline';
        readonly phase: 'started' | 'passed' | 'failed';
        readonly sha: string;
        readonly commands: readonly string[];
        readonly command?: string;
        readonly exitCode?: number | null;
        readonly output?: string;
      }
    | {
        /** A gate or setup changed files of the integration worktree; they were put back. */
        readonly type: 'worktree-restored';
        readonly after: string;
        readonly paths: readonly string[];
      }
    | { readonly type: 'wave-started'; readonly wave: number; readonly streamIds: readonly string[] }
    | {
        readonly type: 'stream-started';
        readonly streamId: string;
        readonly attempt: number;
        readonly branch: string;
        readonly startSha: string;
        readonly worktree: string;
        /** The attempt resolves a merge conflict (`startSha` is then the green commit merged in). */
        readonly resolving?: ConflictHandBack;
        /** The attempt's `MAESTRO_PORT`, when its executor assigned one. */
        readonly port?: number;
      }
    | { readonly type: 'agent-output'; readonly streamId: string; readonly text: string }
    | {
        /** An agent attempt's final usage, with the running totals of its wave and of the run. */
        readonly type: 'agent-usage';
        readonly streamId: string;
        readonly usage: Usage;
        /** 0-based wave of the stream in the analysis. */
        readonly wave?: number;
        readonly waveUsage?: Usage;
        readonly runUsage?: Usage;
      }
    | {
        /** What an agent is doing now (for live views): editing a file, running a command, retrying, a warning. */
        readonly type: 'agent-activity';
        readonly streamId: string;
        readonly kind: 'edit' | 'command' | 'retry' | 'warning';
        readonly text: string;
      }
    | {
        /** Usage so far in the current attempt, as the agent reports it (live views; `agent-usage` is the total). */
        readonly type: 'agent-live-usage';
        readonly streamId: string;
        readonly usage: Usage;
      }
    | {
        readonly type: 'agent-finished';
        readonly streamId: string;
        readonly ok: boolean;
        readonly code: string;
        readonly message: string;
        readonly durationMs: number;
        /** The agent's session id, when it reports one (resumable by Claude Code). */
        readonly sessionId?: string;
      }
    | {
        readonly type: 'stream-committed';
        readonly streamId: string;
        readonly sha: string;
        readonly changedFiles: readonly string[];
      }
    | {
        readonly type: 'ownership-violation';
        readonly streamId: string;
        readonly paths: readonly string[];
        readonly mode: 'fail' | 'warn';
      }
    | { readonly type: 'merge-conflict'; readonly streamId: string; readonly paths: readonly string[] }
    | {
        readonly type: 'stream-merged';
        readonly streamId: string;
        readonly mergeSha: string;
        readonly streamSha: string;
      }
    | {
        readonly type: 'validation-started';
        /** The stream gated alone, or null for a batch or a wave (`streamIds`). */
        readonly streamId: string | null;
        /** The streams newly on the tip under test. */
        readonly streamIds?: readonly string[];
        readonly commands: readonly string[];
        /** The gate lane it runs in, when not the integration worktree (a pipelined gate). */
        readonly lane?: number;
      }
    | {
        readonly type: 'validation-passed';
        readonly streamId: string | null;
        readonly streamIds?: readonly string[];
        readonly sha: string;
      }
    | {
        readonly type: 'validation-failed';
        readonly streamId: string | null;
        readonly streamIds?: readonly string[];
        readonly command: string;
        readonly exitCode: number | null;
        readonly output: string;
      }
    | { readonly type: 'integration-reset'; readonly sha: string; readonly reason: string }
    | {
        /** A gated batch (or wave) is settled: what landed, what broke the gate, and how many gate runs it took. */
        readonly type: 'batch-gated';
        readonly streamIds: readonly string[];
        readonly landed: readonly string[];
        readonly culprits: readonly string[];
        readonly gateRuns: number;
      }
    | {
        readonly type: 'stream-retry';
        readonly streamId: string;
        readonly attempt: number;
        /** What the retry is for: a failed validation gate or a merge conflict (counted apart in the state). */
        readonly cause: RetryCause;
        readonly reason: string;
        readonly context: string;
        /** `speculation`: the agent time and cost of the discarded attempt. */
        readonly wasted?: { readonly agentMs: number; readonly costUsd: number };
        /** True when the next attempt starts over from the integration tip (a discarded speculation). */
        readonly fresh?: boolean;
        /** `conflict`: the conflict is handed back to the agent (see `StreamState.resolveConflict`). */
        readonly handBack?: boolean;
      }
    | {
        readonly type: 'stream-failed';
        readonly streamId: string;
        readonly code: string;
        readonly message: string;
        /** The failed validation command, when a gate failed the stream. */
        readonly gate?: GateFailure;
      }
    | { readonly type: 'stream-skipped'; readonly streamId: string; readonly reason: string }
    | {
        /** `maestro retry`: a failed (or skipped) stream goes back to pending, to run again from the integration tip. */
        readonly type: 'stream-reset';
        readonly streamId: string;
        readonly reason: string;
      }
    | { readonly type: 'stream-interrupted'; readonly streamId: string; readonly reason: string }
    | { readonly type: 'budget-exceeded'; readonly costUsd: number; readonly budgetUsd: number }
    | ({
        /** `--redis`: an attempt ran on a worker; what the queue cost it beside the agent. */
        readonly type: 'queue-attempt';
        readonly streamId: string;
        readonly attempt: number;
      } & QueueAttemptRecord)
    | { readonly type: 'note'; readonly message: string }
    | {
        /**
         * Something unsafe a stream's agent did, found after it ended: `tampered-ref` (it moved a
         * Maestro ref; put back), `escaped-worktree` (it changed the user's checkout), `refs-changed`
         * (branches or tags of the user's repository created, moved or deleted), `left-processes`,
         * `stale-lock` (an `index.lock` left in its worktree, removed once nothing of the attempt ran).
         */
        readonly type: 'safety-finding';
        readonly streamId: string | null;
        readonly code: 'tampered-ref' | 'escaped-worktree' | 'refs-changed' | 'left-processes' | 'stale-lock';
        readonly message: string;
        readonly paths?: readonly string[];
      }
    | { readonly type: 'run-finished'; readonly status: RunStatus }
  );

/** Distributes `Omit` over the event union (plain `Omit` would collapse it). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event before it is stamped with its time. */
export type RunEventInput = DistributiveOmit<RunEvent, 'time'>;
