/**
 * The Claude Code backend: `claude -p --output-format stream-json --verbose`, prompt on stdin, in the
 * stream's worktree. Facts relied on (Claude Code 2.1.330, see agent-protocols.md): stream-json needs
 * `--verbose`; success is `result.is_error === false` (an API 400 or "Not logged in" arrives as
 * `subtype:"success"` with `is_error:true`); totals come from `total_cost_usd` and `modelUsage`, never from
 * the partial usage of `assistant` events; an unreachable API shows as endless `system/api_retry` events.
 */
import { randomUUID } from 'node:crypto';
import { basename, dirname, extname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellQuote } from '../util/shell.js';
import { CHECKED_WRITE_TOOLS, type WriteScope } from './claude-hook.js';
import { maestroEnv } from './command.js';
import { arr, bool, clip, isObject, num, obj, JsonLineReader, str, type JsonObject } from './json.js';
import {
  endedWithoutResult,
  crashFailure,
  failed,
  formatDuration,
  lastLines,
  spawnFailure,
  stoppedFailure,
  succeeded,
} from './outcome.js';
import {
  noUsage,
  type AgentActivity,
  type AgentBackend,
  type AgentOutcome,
  type AgentTask,
  type OutputParser,
  type ProcessExit,
  type SpawnSpec,
  type Usage,
} from './types.js';

/** Claude-specific settings (from `maestro.config.*` or flags). */
export interface ClaudeOptions {
  /** Path of the `claude` executable (default: `claude` on PATH). */
  readonly executable?: string;
  readonly extraArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** `--permission-mode` (default `acceptEdits`; `bypassPermissions` is refused as root without IS_SANDBOX=1). */
  readonly permissionMode?: string;
  /** The tool allow-list; default: file tools plus `Bash(<cmd>:*)` for each validation command. */
  readonly allowedTools?: readonly string[];
  /** Added to the default allow-list instead of replacing it. */
  readonly extraAllowedTools?: readonly string[];
  readonly disallowedTools?: readonly string[];
  readonly maxTurns?: number;
  /** `--mcp-config` files or JSON strings, passed through. */
  readonly mcpConfig?: readonly string[];
  readonly strictMcpConfig?: boolean;
  /** Sets CLAUDE_CONFIG_DIR (otherwise the user's own, inherited from the environment, is used). */
  readonly configDir?: string;
  /** Session id for a fresh session; default a random UUID (Claude Code requires a fresh one). */
  readonly newSessionId?: () => string;
}

/** File tools an agent needs to do a stream's work. */
export const DEFAULT_CLAUDE_TOOLS: readonly string[] = [
  'Read',
  'Edit',
  'Write',
  'MultiEdit',
  'Glob',
  'Grep',
  'TodoWrite',
];

const INSTALL_HINT =
  "Install Claude Code with `npm install -g @anthropic-ai/claude-code` (then `claude` once to log in), or set the path of the claude executable in Maestro's configuration.";

/** The allow-list for a task: the defaults, `Bash(<cmd>:*)` per validation command, and any extras. */
export function claudeAllowedTools(task: AgentTask, options: ClaudeOptions = {}): string[] {
  const base = options.allowedTools ?? [
    ...DEFAULT_CLAUDE_TOOLS,
    ...task.validationCommands.map((cmd) => `Bash(${cmd.trim()}:*)`),
  ];
  return [...new Set([...base, ...(options.extraAllowedTools ?? [])])];
}

/** Where the role instructions go for `--append-system-prompt-file`: next to the prompt file. */
export function roleInstructionsFile(task: AgentTask): string {
  const prompt = task.promptFile;
  return join(dirname(prompt), `${basename(prompt, extname(prompt))}.role.md`);
}

/** Maestro's PreToolUse hook script, in `dist/` (from `src/`, `dist/agents/` and the bundle in `dist/bin/`). */
export function claudeHookScript(): string {
  return fileURLToPath(new URL('../../dist/agents/claude-hook.js', import.meta.url));
}

/** Where the hook's settings and scope files go: beside the prompt file, in the run directory, never in the worktree. */
export function claudeHookFiles(task: AgentTask): { settings: string; scope: string } {
  const dir = dirname(task.promptFile);
  return { settings: join(dir, 'claude-settings.json'), scope: join(dir, 'write-scope.json') };
}

/**
 * The files that make Claude Code refuse writes outside the stream's owned files as they happen: a
 * settings file for `--settings` whose PreToolUse hook runs Maestro's own script with the current Node,
 * and the scope file that script reads. Plan text never reaches the hook's command line, only paths Maestro chose.
 */
export function claudeWriteGuard(
  task: AgentTask,
  owned: readonly string[],
  hookScript: string = claudeHookScript(),
): { settingsFile: string; files: { path: string; content: string }[] } {
  const { settings, scope } = claudeHookFiles(task);
  const writeScope: WriteScope = { worktree: task.cwd, owned, alsoAllowed: [task.reportFile] };
  const command = [process.execPath, hookScript, scope].map(shellQuote).join(' ');
  const hooks = {
    hooks: {
      PreToolUse: [
        { matcher: CHECKED_WRITE_TOOLS.join('|'), hooks: [{ type: 'command', command, timeout: 60 }] },
      ],
    },
  };
  return {
    settingsFile: settings,
    files: [
      { path: scope, content: `${JSON.stringify(writeScope, null, 2)}\n` },
      { path: settings, content: `${JSON.stringify(hooks, null, 2)}\n` },
    ],
  };
}

/** The Claude Code backend. */
export function claudeBackend(options: ClaudeOptions = {}): AgentBackend {
  const executable = options.executable ?? 'claude';
  return {
    name: 'claude',
    spawnSpec: (task) => claudeSpawnSpec(task, options, executable),
    createParser: (task) => new ClaudeParser(task, executable),
  };
}

function claudeSpawnSpec(task: AgentTask, options: ClaudeOptions, executable: string): SpawnSpec {
  const args = ['-p', '--output-format', 'stream-json', '--verbose', '--model', task.model];
  const writeFiles: { path: string; content: string }[] = [];
  if (task.roleInstructions.trim() !== '') {
    const file = roleInstructionsFile(task);
    writeFiles.push({ path: file, content: task.roleInstructions });
    args.push('--append-system-prompt-file', file);
  }
  if (task.ownedPaths !== undefined) {
    const guard = claudeWriteGuard(task, task.ownedPaths);
    writeFiles.push(...guard.files);
    args.push('--settings', guard.settingsFile);
  }
  args.push('--permission-mode', options.permissionMode ?? 'acceptEdits');
  args.push('--allowedTools', claudeAllowedTools(task, options).join(','));
  if (options.disallowedTools !== undefined && options.disallowedTools.length > 0)
    args.push('--disallowedTools', options.disallowedTools.join(','));
  if (options.maxTurns !== undefined) args.push('--max-turns', String(options.maxTurns));
  if (task.budgetUsd !== undefined) args.push('--max-budget-usd', String(task.budgetUsd));
  if (task.resumeSessionId !== undefined) args.push('--resume', task.resumeSessionId);
  else args.push('--session-id', (options.newSessionId ?? randomUUID)());
  for (const config of options.mcpConfig ?? []) args.push('--mcp-config', config);
  if (options.strictMcpConfig === true) args.push('--strict-mcp-config');
  args.push(...(options.extraArgs ?? []));
  return {
    command: executable,
    args,
    env: {
      ...task.env,
      ...maestroEnv(task),
      ...options.env,
      ...(options.configDir === undefined ? {} : { CLAUDE_CONFIG_DIR: options.configDir }),
    },
    stdin: task.prompt,
    shell: false,
    writeFiles,
  };
}

const FILE_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit']);
const MAX_WARNINGS = 20;

/** Reads Claude Code's stream-json output. */
export class ClaudeParser implements OutputParser {
  #sessionId: string | undefined;
  #result: JsonObject | undefined;
  #retries = 0;
  #retriesSinceProgress = 0;
  #lastRetryStatus: number | undefined;
  #lastRetryError: string | undefined;
  readonly #lines = new JsonLineReader('claude');
  #warnings = 0;
  #denials: string[] = [];

  constructor(
    private readonly task: AgentTask,
    private readonly executable: string,
  ) {}

  /** The session id seen so far. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  onStdoutLine(line: string): readonly AgentActivity[] {
    const event = this.#lines.read(line);
    if (event === null) return [];
    if (event === undefined) return this.#warn(`unparseable output line from claude: ${clip(line, 120)}`);
    this.#sessionId = str(event, 'session_id') ?? this.#sessionId;
    switch (str(event, 'type')) {
      case 'system':
        return this.#onSystem(event);
      case 'assistant':
        this.#retriesSinceProgress = 0;
        return this.#onAssistant(event);
      case 'result':
        this.#result = event;
        return [
          { kind: 'usage', usage: invocationUsage(claudeUsage(event), this.task.resumedUsage) },
          ...this.#deniedCalls(event),
        ];
      default:
        this.#retriesSinceProgress = 0;
        return [];
    }
  }

  onStderrLine(line: string): readonly AgentActivity[] {
    return line.trim() === '' ? [] : [{ kind: 'output', text: clip(line) }];
  }

  #onSystem(event: JsonObject): readonly AgentActivity[] {
    switch (str(event, 'subtype')) {
      case 'api_retry': {
        this.#retries++;
        this.#retriesSinceProgress++;
        const status = num(event, 'error_status');
        this.#lastRetryStatus = status ?? this.#lastRetryStatus;
        this.#lastRetryError = str(event, 'error') ?? this.#lastRetryError;
        const attempt = num(event, 'attempt') ?? this.#retries;
        return [{ kind: 'retry', attempt, ...(status === undefined ? {} : { status }) }];
      }
      case 'permission_denied': {
        const tool = str(event, 'tool_name') ?? 'a tool';
        this.#denials.push(tool);
        return this.#warn(`claude was denied ${tool}`);
      }
      default:
        return [];
    }
  }

  #onAssistant(event: JsonObject): readonly AgentActivity[] {
    const activities: AgentActivity[] = [];
    for (const block of arr(obj(event, 'message'), 'content')) {
      if (!isObject(block)) continue;
      const type = str(block, 'type');
      if (type === 'text') {
        const text = str(block, 'text') ?? '';
        if (text.trim() !== '') activities.push({ kind: 'output', text: clip(text) });
      } else if (type === 'tool_use') {
        const name = str(block, 'name') ?? '';
        const input = obj(block, 'input');
        const path = str(input, 'file_path') ?? str(input, 'notebook_path');
        if (FILE_TOOLS.has(name) && path !== undefined) {
          activities.push({ kind: 'edit', path: this.#relative(path) });
        } else if (name === 'Bash') {
          activities.push({ kind: 'command', command: clip(str(input, 'command') ?? '') });
        } else {
          activities.push({ kind: 'output', text: `[${name}]` });
        }
      }
    }
    return activities;
  }

  /** A warning per tool call that was refused (by Maestro's write hook or a permission rule). */
  #deniedCalls(result: JsonObject): readonly AgentActivity[] {
    return arr(result, 'permission_denials').flatMap((denial) => {
      const input = obj(denial, 'tool_input');
      const path = str(input, 'file_path') ?? str(input, 'notebook_path');
      const what = path === undefined ? '' : ` ${this.#relative(path)}`;
      return this.#warn(`claude was refused ${str(denial, 'tool_name') ?? 'a tool'}${what}`);
    });
  }

  #relative(path: string): string {
    return isAbsolute(path) && path.startsWith(this.task.cwd) ? relative(this.task.cwd, path) : path;
  }

  #warn(message: string): readonly AgentActivity[] {
    if (this.#warnings >= MAX_WARNINGS) return [];
    this.#warnings++;
    return [{ kind: 'warning', message }];
  }

  finish(exit: ProcessExit): AgentOutcome {
    const result = this.#result;
    const usage =
      result === undefined ? noUsage : invocationUsage(claudeUsage(result), this.task.resumedUsage);
    const sessionId = str(result, 'session_id') ?? this.#sessionId;
    const early = spawnFailure(exit, this.executable, INSTALL_HINT, usage);
    if (early !== undefined) return early;

    if (exit.stoppedBy === 'stall' && this.#retriesSinceProgress > 0) {
      const status = this.#lastRetryStatus === undefined ? '' : `, last HTTP ${this.#lastRetryStatus}`;
      const error = this.#lastRetryError === undefined ? '' : ` (${this.#lastRetryError})`;
      const limit = exit.stopLimitMs === undefined ? '' : ` for ${formatDuration(exit.stopLimitMs)}`;
      return failed(
        'retry-storm',
        `the model API kept failing: Claude Code retried ${this.#retriesSinceProgress} times${status}${error} with no progress${limit}, so Maestro stopped it (stall timeout). Check the network, the API status and your credentials.`,
        usage,
        sessionId,
      );
    }
    const stopped = stoppedFailure(exit, usage, sessionId);
    if (stopped !== undefined) return stopped;

    if (result !== undefined) return this.#fromResult(result, exit, usage, sessionId);

    const crashed = crashFailure(exit, usage, sessionId);
    if (crashed !== undefined) return crashed;
    const stderr = lastLines(exit.stderrTail, 8);
    if (/not logged in|\/login/i.test(exit.stderrTail + exit.stdoutTail))
      return failed(
        'not-logged-in',
        `Claude Code is not logged in: run \`claude\` once and log in (${clip(stderr)})`,
        usage,
        sessionId,
      );
    if (/--verbose/.test(stderr))
      return failed('config', `Claude Code rejected its arguments: ${stderr}`, usage, sessionId);
    return endedWithoutResult(
      { cli: 'Claude Code', missing: 'a final result event' },
      exit.exitCode,
      this.#lines,
      stderr === '' ? '' : `:\n${stderr}`,
      usage,
      sessionId,
    );
  }

  #fromResult(
    result: JsonObject,
    exit: ProcessExit,
    usage: Usage,
    sessionId: string | undefined,
  ): AgentOutcome {
    const subtype = str(result, 'subtype') ?? '';
    const text = str(result, 'result') ?? '';
    const errors = arr(result, 'errors').filter((e): e is string => typeof e === 'string');
    const detail = errors.length > 0 ? errors.join('; ') : clip(text, 500);
    const denials = arr(result, 'permission_denials')
      .map((d) => str(d, 'tool_name'))
      .filter((name): name is string => name !== undefined);
    if (bool(result, 'is_error') === false && subtype === 'success') {
      const report = exit.reportFileText?.trim() ?? '';
      return succeeded(report !== '' ? report : text.trim(), usage, sessionId);
    }
    switch (subtype) {
      case 'error_max_turns':
        return failed('max-turns', `Claude Code reached its turn limit: ${detail}`, usage, sessionId);
      case 'error_max_budget_usd':
        return failed(
          'budget',
          `Claude Code stopped at the stream's budget${this.task.budgetUsd === undefined ? '' : ` ($${this.task.budgetUsd})`} after spending $${usage.costUsd.toFixed(4)}: ${detail}`,
          usage,
          sessionId,
        );
      default:
        break;
    }
    const status = num(result, 'api_error_status');
    if (/not logged in|please run \/login|invalid api key|authentication/i.test(text) || status === 401)
      return failed(
        'not-logged-in',
        `Claude Code is not logged in or its key was rejected: ${detail}. Run \`claude\` once to log in, or set ANTHROPIC_API_KEY.`,
        usage,
        sessionId,
      );
    if (status !== undefined)
      return failed('api-error', `the model API answered HTTP ${status}: ${detail}`, usage, sessionId);
    if (/API Error|api_error|invalid_request/i.test(text))
      return failed('api-error', `the model API failed: ${detail}`, usage, sessionId);
    if (denials.length > 0 || this.#denials.length > 0)
      return failed(
        'permission-denied',
        `Claude Code was denied tools it needed (${[...new Set([...denials, ...this.#denials])].join(', ')}): ${detail}. Allow them in Maestro's Claude configuration (allowedTools).`,
        usage,
        sessionId,
      );
    return failed(
      'exit-nonzero',
      `Claude Code failed (${subtype || 'error'}, exit ${exit.exitCode ?? 'unknown'}): ${detail}`,
      usage,
      sessionId,
    );
  }
}

/**
 * This invocation's share of a resumed session's totals: Claude Code 2.1.330 reports `total_cost_usd`
 * and `modelUsage` for the whole session after `--resume` (its top-level `usage` is this invocation's
 * alone, but leaves out sub-agents), so what the session had reported before is taken off.
 */
export function invocationUsage(total: Usage, before: Usage | undefined): Usage {
  if (before === undefined) return total;
  const less = (a: number, b: number): number => Math.max(0, a - b);
  return {
    inputTokens: less(total.inputTokens, before.inputTokens),
    outputTokens: less(total.outputTokens, before.outputTokens),
    cacheReadTokens: less(total.cacheReadTokens, before.cacheReadTokens),
    cacheWriteTokens: less(total.cacheWriteTokens, before.cacheWriteTokens),
    costUsd: less(total.costUsd, before.costUsd),
    costSource: total.costSource,
  };
}

/** Tokens and cost from a `result` event: `total_cost_usd` and `modelUsage` (they include sub-agents). */
export function claudeUsage(result: JsonObject): Usage {
  const cost = num(result, 'total_cost_usd');
  const models = obj(result, 'modelUsage');
  let inputTokens = 0;
  let outputTokens = 0;
  let cacheReadTokens = 0;
  let cacheWriteTokens = 0;
  if (models !== undefined && Object.keys(models).length > 0) {
    for (const model of Object.values(models)) {
      inputTokens += num(model, 'inputTokens') ?? 0;
      outputTokens += num(model, 'outputTokens') ?? 0;
      cacheReadTokens += num(model, 'cacheReadInputTokens') ?? 0;
      cacheWriteTokens += num(model, 'cacheCreationInputTokens') ?? 0;
    }
  } else {
    const usage = obj(result, 'usage');
    inputTokens = num(usage, 'input_tokens') ?? 0;
    outputTokens = num(usage, 'output_tokens') ?? 0;
    cacheReadTokens = num(usage, 'cache_read_input_tokens') ?? 0;
    cacheWriteTokens = num(usage, 'cache_creation_input_tokens') ?? 0;
  }
  return {
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    costUsd: cost ?? 0,
    costSource: cost === undefined ? 'none' : 'reported',
  };
}
