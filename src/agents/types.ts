/**
 * The backend contract every agent integration follows (command, demo, claude, codex, gemini).
 * A backend knows how to start one agent for one stream in one worktree and how to read what it says;
 * the run engine (scheduler, git, journal) never depends on a particular CLI.
 */

/** Everything a backend needs to run one stream's agent. */
export interface AgentTask {
  readonly runId: string;
  readonly streamId: string;
  readonly streamTitle: string;
  readonly role: string;
  /** Role instructions (system-prompt material). */
  readonly roleInstructions: string;
  /** Model alias or id for this stream. */
  readonly model: string;
  /** Owned paths/globs. */
  readonly files: readonly string[];
  /** The assembled prompt (also written to `promptFile`). */
  readonly prompt: string;
  readonly promptFile: string;
  /** Where the agent may write its completion report. */
  readonly reportFile: string;
  /** The stream's worktree: the agent's cwd. */
  readonly cwd: string;
  /** Validation commands the agent may run (for tool allow-lists). */
  readonly validationCommands: readonly string[];
  /** Per-stream budget in USD, if any. */
  readonly budgetUsd?: number;
  /** Previous session to resume (retry after a failed gate), if the backend supports it. */
  readonly resumeSessionId?: string;
  /**
   * What the resumed session had reported so far. Claude Code's result totals (`total_cost_usd`,
   * `modelUsage`) count the whole session, earlier invocations included, so this is subtracted.
   */
  readonly resumedUsage?: Usage;
  /** Extra environment for the agent process. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Paths and globs the agent may change (its files and implied lockfiles). When set, a backend that can
   * refuses writes outside them as they happen (Claude Code: a PreToolUse hook); unset with `--ownership warn`.
   */
  readonly ownedPaths?: readonly string[];
}

/** Token usage, as reported by the agent or priced by Maestro. */
export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly costUsd: number;
  /** `reported` when the CLI gave the cost; `priced` when Maestro computed it from its price table. */
  readonly costSource: 'reported' | 'priced' | 'none';
}

/** Something the agent did that progress views show. */
export type AgentActivity =
  /** `retryDetail`: a continuation of a retry notice (its stack trace), which is not progress either. */
  | { readonly kind: 'output'; readonly text: string; readonly retryDetail?: true }
  | { readonly kind: 'edit'; readonly path: string }
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'retry'; readonly attempt: number; readonly status?: number; readonly message?: string }
  | { readonly kind: 'usage'; readonly usage: Usage }
  /** Something odd but not fatal: an unparseable line, a denied tool call. */
  | { readonly kind: 'warning'; readonly message: string };

/**
 * Stable failure codes, so reports and the engine can switch on them:
 * - `exit-nonzero`: the agent exited with a non-zero code for no more specific reason.
 * - `crashed`: the agent died from a signal Maestro did not send.
 * - `timeout` / `stalled` / `killed` / `budget`: Maestro stopped it (wall timeout, no progress, abort, budget).
 * - `retry-storm`: it was stopped for lack of progress while the API kept failing and being retried.
 * - `network`: the model API could not be reached.
 * - `not-logged-in`: no usable credentials.
 * - `api-error`: the model API answered with an error that is not retried (e.g. HTTP 400).
 * - `max-turns`: the agent hit its turn limit.
 * - `permission-denied`: the agent needed a tool it was not allowed to use.
 * - `missing-binary`: the agent executable is not installed (the message says how to install it).
 * - `bad-output`: the output could not be understood (malformed, truncated, no final result).
 * - `config`: the agent CLI rejected its configuration or input.
 * - `tool-failure`: a tool the agent relied on failed fatally.
 * - `remote-unreachable` / `worker-lost` / `cancelled` / `bad-job` / `bad-result`: an attempt run on a
 *   worker (`--redis`, see `src/queue`) could not use the git remote, lost its workers, was cancelled,
 *   was refused by the worker, or came back with a result that does not match its commit.
 */
export type AgentFailureCode =
  | 'exit-nonzero'
  | 'crashed'
  | 'timeout'
  | 'stalled'
  | 'killed'
  | 'budget'
  | 'retry-storm'
  | 'network'
  | 'not-logged-in'
  | 'api-error'
  | 'max-turns'
  | 'permission-denied'
  | 'missing-binary'
  | 'bad-output'
  | 'config'
  | 'tool-failure'
  | 'remote-unreachable'
  | 'worker-lost'
  | 'cancelled'
  | 'bad-job'
  | 'bad-result';

/** Usage of a run that reported nothing. */
export const noUsage: Usage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0,
  costSource: 'none',
};

/** How an agent run ended. Expected failures are values with a stable code and a message. */
export type AgentOutcome =
  | {
      readonly ok: true;
      readonly report: string;
      readonly usage: Usage;
      readonly sessionId?: string;
      /** Things the runner did that the run should report (background processes it stopped). */
      readonly notices?: readonly string[];
    }
  | {
      readonly ok: false;
      readonly code: AgentFailureCode;
      readonly message: string;
      readonly usage: Usage;
      readonly sessionId?: string;
      readonly notices?: readonly string[];
    };

/** How to start the agent process. The engine spawns it (own process group, timeouts, kill). */
export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** Environment additions (merged over Maestro's environment unless `replaceEnv`). */
  readonly env: Readonly<Record<string, string>>;
  readonly replaceEnv?: boolean;
  /** Text written to stdin, or `null` for `/dev/null`. */
  readonly stdin: string | null;
  /** Run `command` through `/bin/sh -c` (only for the user's own `--agent-command`); `args` become `$1…`. */
  readonly shell: boolean;
  /** Working directory; defaults to `task.cwd`. */
  readonly cwd?: string;
  /** Directories the runner creates before spawning (e.g. a private TMPDIR). */
  readonly makeDirs?: readonly string[];
  /** Files the runner writes before spawning (e.g. role instructions for `--append-system-prompt-file`). */
  readonly writeFiles?: readonly { readonly path: string; readonly content: string }[];
}

/** What the process did, handed to the parser when it ends. */
export interface ProcessExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Why the engine stopped it, if it did. */
  readonly stoppedBy: 'timeout' | 'stall' | 'abort' | 'budget' | null;
  /** Last part of stdout and stderr (bounded). */
  readonly stdoutTail: string;
  readonly stderrTail: string;
  /** Contents of `task.reportFile` if the agent wrote it. */
  readonly reportFileText: string | null;
  /** Set when the executable could not be started: the error message and its code (`ENOENT`, `EACCES`…). */
  readonly spawnError?: string;
  readonly spawnErrorCode?: string;
  /** Wall time from spawn to exit. */
  readonly durationMs: number;
  /** The limit that stopped it (the wall timeout or the stall window), for messages. */
  readonly stopLimitMs?: number;
  /** Processes the agent left running (in its group or its worktree), stopped by the runner. */
  readonly reaped?: readonly string[];
}

/**
 * Reads one agent run's output as it arrives and decides the outcome at the end.
 * The runner treats a line as progress (resetting the stall timer) unless every activity it yields is a `retry`
 * (or a retry notice's continuation, `output` with `retryDetail`), so an endless retry loop is caught by the
 * stall timeout even though the agent keeps printing.
 */
export interface OutputParser {
  onStdoutLine(line: string): readonly AgentActivity[];
  onStderrLine(line: string): readonly AgentActivity[];
  finish(exit: ProcessExit): AgentOutcome;
}

/** One agent integration. Pure description: it never spawns anything itself. */
export interface AgentBackend {
  readonly name: string;
  spawnSpec(task: AgentTask): SpawnSpec;
  createParser(task: AgentTask): OutputParser;
}
