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
  /** Extra environment for the agent process. */
  readonly env: Readonly<Record<string, string>>;
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
  | { readonly kind: 'output'; readonly text: string }
  | { readonly kind: 'edit'; readonly path: string }
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'retry'; readonly attempt: number; readonly status?: number }
  | { readonly kind: 'usage'; readonly usage: Usage };

/** How an agent run ended. Expected failures are values with a stable code and a message. */
export type AgentOutcome =
  | {
      readonly ok: true;
      readonly report: string;
      readonly usage: Usage;
      readonly sessionId?: string;
    }
  | {
      readonly ok: false;
      /** e.g. `exit-nonzero`, `timeout`, `stalled`, `not-logged-in`, `api-error`, `max-turns`, `budget`, `missing-binary`, `bad-output`, `killed`. */
      readonly code: string;
      readonly message: string;
      readonly usage: Usage;
      readonly sessionId?: string;
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
  /** Run `command` through `/bin/sh -c` (only for the user's own `--agent-command`). */
  readonly shell: boolean;
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
  /** Set when the executable could not be started (ENOENT…). */
  readonly spawnError?: string;
}

/** Reads one agent run's output as it arrives and decides the outcome at the end. */
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
