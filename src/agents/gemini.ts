/**
 * The Gemini CLI backend: `gemini -p … -o stream-json -m MODEL --yolo --skip-trust`, prompt on stdin.
 * Facts relied on (Gemini CLI 0.61.0, agent-protocols.md): without `--yolo` the write and shell tools are not
 * offered headless; documented exit codes 41 auth, 42 input, 52 config, 53 turn limit, 54 tool failure,
 * 55 untrusted folder, 130 cancelled; an API error exits with its HTTP status mod 256 (400 → 144);
 * retries print "Attempt N failed. Retrying with backoff…" on stderr; every API error leaves a
 * `gemini-client-error-*.json` in os.tmpdir(), so each run gets its own TMPDIR.
 */
import { dirname, isAbsolute, join, relative } from 'node:path';
import { maestroEnv } from './command.js';
import { clip, num, obj, JsonLineReader, str, type JsonObject } from './json.js';
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
  AgentFailureCode,
  AgentOutcome,
  AgentTask,
  OutputParser,
  ProcessExit,
  SpawnSpec,
  Usage,
} from './types.js';

/** Gemini-specific settings. */
export interface GeminiOptions {
  readonly executable?: string;
  readonly extraArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** `yolo` (default: the only mode that offers write and shell tools headless) or `auto_edit`. */
  readonly approvalMode?: 'yolo' | 'auto_edit';
  /** The private TMPDIR; default `<prompt file's directory>/gemini-tmp`. */
  readonly tmpDir?: string;
  readonly pricer?: Pricer;
}

const INSTALL_HINT =
  "Install the Gemini CLI with `npm install -g @google/gemini-cli` (then `gemini` once to log in), or set the path of the gemini executable in Maestro's configuration.";

/** What `-p` says; the prompt itself arrives on stdin, which the CLI puts before it. */
export const GEMINI_PROMPT_FLAG_TEXT = 'Carry out the task described above.';

/** The Gemini CLI backend. */
export function geminiBackend(options: GeminiOptions = {}): AgentBackend {
  const executable = options.executable ?? 'gemini';
  return {
    name: 'gemini',
    spawnSpec: (task) => geminiSpawnSpec(task, options, executable),
    createParser: (task) => new GeminiParser(task, executable, options.pricer),
  };
}

function geminiSpawnSpec(task: AgentTask, options: GeminiOptions, executable: string): SpawnSpec {
  const tmpDir = options.tmpDir ?? join(dirname(task.promptFile), 'gemini-tmp');
  const args = ['-p', GEMINI_PROMPT_FLAG_TEXT, '-o', 'stream-json', '-m', task.model];
  args.push(...((options.approvalMode ?? 'yolo') === 'yolo' ? ['--yolo'] : ['--approval-mode', 'auto_edit']));
  args.push('--skip-trust', ...(options.extraArgs ?? []));
  return {
    command: executable,
    args,
    env: { ...task.env, ...maestroEnv(task), ...options.env, TMPDIR: tmpDir },
    stdin: task.prompt,
    shell: false,
    makeDirs: [tmpDir],
  };
}

const EXIT_MEANINGS: Readonly<Record<number, readonly [AgentFailureCode, string]>> = {
  41: [
    'not-logged-in',
    'the Gemini CLI could not authenticate: run `gemini` once to log in, or set GEMINI_API_KEY',
  ],
  42: ['config', 'the Gemini CLI rejected its input'],
  52: ['config', 'the Gemini CLI configuration is invalid'],
  53: ['max-turns', 'the Gemini CLI reached its turn limit'],
  54: ['tool-failure', 'a Gemini CLI tool failed fatally'],
  55: [
    'config',
    'the Gemini CLI refused an untrusted folder (Maestro passes --skip-trust; check your settings)',
  ],
  130: ['killed', 'the Gemini CLI was cancelled'],
};

/** HTTP statuses whose `status mod 256` the Gemini CLI uses as its exit code. */
const HTTP_STATUSES = [400, 401, 403, 404, 408, 409, 413, 429, 500, 502, 503, 504];

/** Reads `gemini -o stream-json` events. */
export class GeminiParser implements OutputParser {
  #sessionId: string | undefined;
  #result: JsonObject | undefined;
  #assistantText = '';
  #lastAnswer = '';
  #retries = 0;
  #retriesSinceProgress = 0;
  #inRetryDetail = false;
  #lastRetry: string | undefined;
  #errors: string[] = [];
  readonly #lines = new JsonLineReader('gemini');

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
    this.#retriesSinceProgress = 0;
    switch (str(event, 'type')) {
      case 'init':
        this.#sessionId = str(event, 'session_id') ?? this.#sessionId;
        return [];
      case 'message': {
        if (str(event, 'role') !== 'assistant') return [];
        const content = str(event, 'content') ?? '';
        // Deltas of one answer concatenate; a tool call in between starts a new answer.
        this.#assistantText = event['delta'] === true ? this.#assistantText + content : content;
        if (this.#assistantText.trim() !== '') this.#lastAnswer = this.#assistantText;
        return content.trim() === '' ? [] : [{ kind: 'output', text: clip(content) }];
      }
      case 'tool_use': {
        this.#assistantText = '';
        const name = str(event, 'tool_name') ?? '';
        const params = obj(event, 'parameters');
        const path = str(params, 'file_path') ?? str(params, 'absolute_path');
        if (/write|replace|edit/i.test(name) && path !== undefined)
          return [{ kind: 'edit', path: this.#relative(path) }];
        if (/shell|command/i.test(name))
          return [{ kind: 'command', command: clip(str(params, 'command') ?? '') }];
        return [{ kind: 'output', text: `[${name}]` }];
      }
      case 'tool_result':
        return str(event, 'status') === 'error'
          ? [
              {
                kind: 'warning',
                message: `gemini tool failed: ${clip(str(obj(event, 'error'), 'message') ?? str(event, 'output') ?? '')}`,
              },
            ]
          : [];
      case 'error': {
        const message = str(event, 'message') ?? 'error';
        this.#errors.push(message);
        return [{ kind: 'warning', message: clip(message) }];
      }
      case 'result': {
        this.#result = event;
        return [{ kind: 'usage', usage: this.#usage() }];
      }
      default:
        return [];
    }
  }

  onStderrLine(line: string): readonly AgentActivity[] {
    if (line.trim() === '') return [];
    const retry = /Attempt (\d+) failed/i.exec(line);
    // The CLI prints the error object after each retry notice: indented stack frames and its closing brace.
    if (retry === null && this.#inRetryDetail && /^(\s|\}|\{)/.test(line))
      return [{ kind: 'output', text: clip(line), retryDetail: true }];
    this.#inRetryDetail = retry !== null;
    if (retry !== null) {
      this.#retries++;
      this.#retriesSinceProgress++;
      this.#lastRetry = clip(line, 300);
      const status = /\b([45]\d\d)\b/.exec(line);
      return [
        {
          kind: 'retry',
          attempt: Number(retry[1]),
          message: clip(line),
          ...(status?.[1] === undefined ? {} : { status: Number(status[1]) }),
        },
      ];
    }
    return [{ kind: 'output', text: clip(line) }];
  }

  #relative(path: string): string {
    return isAbsolute(path) && path.startsWith(this.task.cwd) ? relative(this.task.cwd, path) : path;
  }

  #usage(): Usage {
    return pricedUsage(this.pricer, geminiTokens(obj(this.#result, 'stats'), this.task.model));
  }

  finish(exit: ProcessExit): AgentOutcome {
    const usage = this.#usage();
    const sessionId = this.#sessionId;
    const early = spawnFailure(exit, this.executable, INSTALL_HINT, usage);
    if (early !== undefined) return early;
    if (exit.stoppedBy === 'stall' && this.#retriesSinceProgress > 0) {
      const limit = exit.stopLimitMs === undefined ? '' : ` for ${formatDuration(exit.stopLimitMs)}`;
      return failed(
        'retry-storm',
        `the model API kept failing: the Gemini CLI retried ${this.#retriesSinceProgress} times (${this.#retries} in all; last: "${this.#lastRetry ?? ''}") with no progress${limit}, so Maestro stopped it. Check the network, the API status and your key.`,
        usage,
        sessionId,
      );
    }
    const overBudget = budgetFailure(this.task, exit, usage, sessionId);
    if (overBudget !== undefined) return overBudget;
    const stopped = stoppedFailure(exit, usage, sessionId);
    if (stopped !== undefined) return stopped;
    const crashed = crashFailure(exit, usage, sessionId);
    if (crashed !== undefined) return crashed;

    const result = this.#result;
    const stderr = lastLines(exit.stderrTail, 8);
    const resultError = obj(result, 'error');
    const detailParts = [str(resultError, 'message'), ...this.#errors.slice(-2), stderr].filter(
      (p): p is string => p !== undefined && p.trim() !== '',
    );
    const detail = detailParts.length === 0 ? '' : `: ${clip(detailParts.join(' | '), 600)}`;
    if (exit.exitCode === 0 && str(result, 'status') === 'success') {
      const report = exit.reportFileText?.trim() ?? '';
      return succeeded(report !== '' ? report : this.#lastAnswer.trim(), usage, sessionId);
    }
    const code = exit.exitCode;
    if (code !== null && code !== 0) {
      const meaning = EXIT_MEANINGS[code];
      if (meaning !== undefined)
        return failed(meaning[0], `${meaning[1]} (exit ${code})${detail}`, usage, sessionId);
      const http = HTTP_STATUSES.find((status) => status % 256 === code);
      if (http !== undefined) {
        if (http === 401 || http === 403)
          return failed(
            'not-logged-in',
            `the Gemini API rejected the credentials (HTTP ${http})${detail}`,
            usage,
            sessionId,
          );
        return failed(
          'api-error',
          `the Gemini API answered HTTP ${http} (exit ${code})${detail}`,
          usage,
          sessionId,
        );
      }
    }
    if (result !== undefined) {
      return failed(
        'api-error',
        `the Gemini CLI reported an error (exit ${code ?? 'unknown'})${detail}`,
        usage,
        sessionId,
      );
    }
    return endedWithoutResult(
      { cli: 'the Gemini CLI', missing: 'a final result' },
      code,
      this.#lines,
      detail,
      usage,
      sessionId,
    );
  }
}

/**
 * Token counts from `result.stats`, per model when `stats.models` breaks them down (the `auto` model's
 * classifier request is priced at its own model). Gemini's input count includes cached tokens.
 */
export function geminiTokens(
  stats: JsonObject | undefined,
  fallbackModel: string,
): (TokenCounts & { model: string })[] {
  if (stats === undefined) return [];
  const models = obj(stats, 'models');
  const parts: (TokenCounts & { model: string })[] = [];
  if (models !== undefined) {
    for (const [model, s] of Object.entries(models)) {
      const input =
        num(s, 'input_tokens') ?? num(obj(s, 'tokens'), 'input') ?? num(obj(s, 'tokens'), 'prompt');
      const output = num(s, 'output_tokens') ?? num(obj(s, 'tokens'), 'candidates');
      const cached = num(s, 'cached') ?? num(obj(s, 'tokens'), 'cached') ?? 0;
      if (input === undefined && output === undefined) continue;
      parts.push({ model, ...split(input ?? 0, output ?? 0, cached) });
    }
    if (parts.length > 0) return parts;
  }
  const input = num(stats, 'input_tokens') ?? 0;
  const output = num(stats, 'output_tokens') ?? 0;
  const cached = num(stats, 'cached') ?? 0;
  return [{ model: fallbackModel, ...split(input, output, cached) }];
}

function split(input: number, output: number, cached: number): TokenCounts {
  return {
    inputTokens: Math.max(0, input - cached),
    outputTokens: output,
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
  };
}
