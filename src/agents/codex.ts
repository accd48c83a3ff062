/**
 * The Codex backend: `codex exec --json -C <real worktree path> -m MODEL -s workspace-write
 * -c approval_policy="never" -` with the prompt on stdin. Facts relied on (Codex 0.169.0, agent-protocols.md):
 * `-C` through a symlink makes every sandboxed write fail while exiting 0, so the path is resolved first;
 * offline it never fails but prints `{"type":"error","message":"Reconnecting..."}` forever (the stall timeout
 * catches it); `turn.failed` means the turn failed; usage comes from `turn.completed` and carries no cost.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { maestroEnv } from './command.js';
import { arr, clip, num, obj, JsonLineReader, str, type JsonObject } from './json.js';
import {
  endedWithoutResult,
  budgetFailure,
  crashFailure,
  failed,
  formatDuration,
  lastLines,
  spawnFailure,
  stoppedFailure,
  succeeded,
} from './outcome.js';
import { pricedUsage, type Pricer, type TokenCounts } from './pricing.js';
import type {
  AgentActivity,
  AgentBackend,
  AgentOutcome,
  AgentTask,
  OutputParser,
  ProcessExit,
  SpawnSpec,
  Usage,
} from './types.js';

/** Codex-specific settings. */
export interface CodexOptions {
  readonly executable?: string;
  readonly extraArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** `-s`: `workspace-write` (default; needs bubblewrap on Linux) or `danger-full-access` where no sandbox is available. */
  readonly sandbox?: 'read-only' | 'workspace-write' | 'danger-full-access';
  /** Pass `--skip-git-repo-check` (needed outside a git repository). */
  readonly skipGitRepoCheck?: boolean;
  /** Sets CODEX_HOME (otherwise the user's own is used). */
  readonly home?: string;
  readonly pricer?: Pricer;
}

const INSTALL_HINT =
  "Install Codex with `npm install -g @openai/codex` (then `codex login`), or set the path of the codex executable in Maestro's configuration.";

/** The Codex backend. */
export function codexBackend(options: CodexOptions = {}): AgentBackend {
  const executable = options.executable ?? 'codex';
  return {
    name: 'codex',
    spawnSpec: (task) => codexSpawnSpec(task, options, executable),
    createParser: (task) => new CodexParser(task, executable, options.pricer),
  };
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // the runner reports a missing worktree
  }
}

function codexSpawnSpec(task: AgentTask, options: CodexOptions, executable: string): SpawnSpec {
  const cwd = realPath(task.cwd);
  const args = ['exec', '--json', '-C', cwd, '-m', task.model, '-s', options.sandbox ?? 'workspace-write'];
  args.push('-c', 'approval_policy="never"');
  if (options.skipGitRepoCheck === true) args.push('--skip-git-repo-check');
  args.push(...(options.extraArgs ?? []));
  // `-`: read the prompt from stdin, so no prompt is limited by the 128 KiB argument cap.
  args.push('-');
  return {
    command: executable,
    args,
    cwd,
    env: {
      ...task.env,
      ...maestroEnv(task),
      ...options.env,
      ...(options.home === undefined ? {} : { CODEX_HOME: options.home }),
    },
    stdin: task.prompt,
    shell: false,
    // Codex 0.169.0 refuses to start when CODEX_HOME does not exist.
    ...(options.home === undefined ? {} : { makeDirs: [options.home] }),
  };
}

/** Reads `codex exec --json` events. */
export class CodexParser implements OutputParser {
  #threadId: string | undefined;
  #turns: TokenCounts[] = [];
  #completed = false;
  #failure: string | undefined;
  #lastMessage = '';
  #reconnects = 0;
  #reconnectsSinceProgress = 0;
  #lastError: string | undefined;
  readonly #lines = new JsonLineReader('codex');

  constructor(
    private readonly task: AgentTask,
    private readonly executable: string,
    private readonly pricer: Pricer | undefined,
  ) {}

  onStdoutLine(line: string): readonly AgentActivity[] {
    const event = this.#lines.read(line);
    if (event === null) return [];
    if (event === undefined) {
      const message = this.#lines.garbageWarning(line);
      return message === undefined ? [] : [{ kind: 'warning', message }];
    }
    const type = str(event, 'type');
    if (type === 'error') {
      // Top-level `error` events are the transport retrying ("Reconnecting... 2/5"), not progress.
      const message = str(event, 'message') ?? 'error';
      this.#lastError = message;
      this.#reconnects++;
      this.#reconnectsSinceProgress++;
      return [{ kind: 'retry', attempt: this.#reconnects, message: clip(message) }];
    }
    this.#reconnectsSinceProgress = 0;
    switch (type) {
      case 'thread.started':
        this.#threadId = str(event, 'thread_id') ?? this.#threadId;
        return [];
      case 'turn.completed': {
        this.#completed = true;
        this.#turns.push(codexTokens(obj(event, 'usage')));
        return [{ kind: 'usage', usage: this.#usage() }];
      }
      case 'turn.failed':
        this.#failure = str(obj(event, 'error'), 'message') ?? 'turn failed';
        return [{ kind: 'warning', message: `codex turn failed: ${clip(this.#failure)}` }];
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        return this.#onItem(type, obj(event, 'item'));
      default:
        return [];
    }
  }

  onStderrLine(line: string): readonly AgentActivity[] {
    return line.trim() === '' ? [] : [{ kind: 'output', text: clip(line) }];
  }

  #onItem(type: string, item: JsonObject | undefined): readonly AgentActivity[] {
    switch (str(item, 'type')) {
      case 'command_execution':
        return type === 'item.started'
          ? [{ kind: 'command', command: clip(str(item, 'command') ?? '') }]
          : [];
      case 'file_change': {
        if (type !== 'item.completed') return [];
        const activities: AgentActivity[] = [];
        const failedChange = str(item, 'status') === 'failed';
        for (const change of arr(item, 'changes')) {
          const path = str(change, 'path');
          if (path === undefined) continue;
          const rel = isAbsolute(path) ? relative(realPath(this.task.cwd), path) : path;
          activities.push(
            failedChange
              ? { kind: 'warning', message: `codex could not write ${rel}` }
              : { kind: 'edit', path: rel },
          );
        }
        return activities;
      }
      case 'agent_message': {
        if (type !== 'item.completed') return [];
        const text = str(item, 'text') ?? '';
        if (text.trim() !== '') this.#lastMessage = text;
        return text.trim() === '' ? [] : [{ kind: 'output', text: clip(text) }];
      }
      case 'error':
        // e.g. "Model metadata for gpt-5 not found": harmless.
        return type === 'item.completed'
          ? [{ kind: 'warning', message: clip(str(item, 'message') ?? 'error') }]
          : [];
      default:
        return [];
    }
  }

  #usage(): Usage {
    return pricedUsage(
      this.pricer,
      this.#turns.map((t) => ({ ...t, model: this.task.model })),
    );
  }

  finish(exit: ProcessExit): AgentOutcome {
    const usage = this.#usage();
    const sessionId = this.#threadId;
    const early = spawnFailure(exit, this.executable, INSTALL_HINT, usage);
    if (early !== undefined) return early;
    if (exit.stoppedBy === 'stall' && this.#reconnectsSinceProgress > 0) {
      const limit = exit.stopLimitMs === undefined ? '' : ` for ${formatDuration(exit.stopLimitMs)}`;
      return failed(
        'network',
        `Codex could not reach the model API: it kept reconnecting (${this.#reconnectsSinceProgress} attempts, last: "${clip(this.#lastError ?? '', 200)}") with no progress${limit}, so Maestro stopped it. Check the network and the provider settings.`,
        usage,
        sessionId,
      );
    }
    const overBudget = budgetFailure(this.task, exit, usage, sessionId);
    if (overBudget !== undefined) return overBudget;
    const stopped = stoppedFailure(exit, usage, sessionId);
    if (stopped !== undefined) return stopped;
    if (this.#failure !== undefined) return classifyCodexFailure(this.#failure, usage, sessionId);
    const crashed = crashFailure(exit, usage, sessionId);
    if (crashed !== undefined) return crashed;
    const stderr = lastLines(exit.stderrTail, 8);
    if (this.#completed && exit.exitCode === 0) {
      const report = exit.reportFileText?.trim() ?? '';
      return succeeded(report !== '' ? report : this.#lastMessage.trim(), usage, sessionId);
    }
    if (/not logged in|login|OPENAI_API_KEY|401|unauthori[sz]ed/i.test(stderr))
      return failed(
        'not-logged-in',
        `Codex has no usable credentials: run \`codex login\` or set OPENAI_API_KEY (${clip(stderr, 300)})`,
        usage,
        sessionId,
      );
    return endedWithoutResult(
      { cli: 'Codex', missing: 'completing its turn' },
      exit.exitCode,
      this.#lines,
      stderr === '' ? '' : `:\n${stderr}`,
      usage,
      sessionId,
    );
  }
}

/** `turn.failed` messages → outcome codes. */
function classifyCodexFailure(message: string, usage: Usage, sessionId: string | undefined): AgentOutcome {
  if (/401|unauthori[sz]ed|api key|not logged in/i.test(message))
    return failed(
      'not-logged-in',
      `Codex's credentials were rejected: ${message}. Run \`codex login\` or set OPENAI_API_KEY.`,
      usage,
      sessionId,
    );
  if (/stream disconnected|error sending request|connection|timed out|reconnect/i.test(message))
    return failed('network', `Codex lost the model API: ${message}`, usage, sessionId);
  return failed('api-error', `Codex's turn failed: ${message}`, usage, sessionId);
}

/** `turn.completed.usage` → token counts; `input_tokens` includes the cached ones. */
export function codexTokens(usage: JsonObject | undefined): TokenCounts {
  const input = num(usage, 'input_tokens') ?? 0;
  const cached = num(usage, 'cached_input_tokens') ?? 0;
  return {
    inputTokens: Math.max(0, input - cached),
    outputTokens: num(usage, 'output_tokens') ?? 0,
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
  };
}
