/**
 * The agent runner: the one place that spawns agent processes. A backend describes the process
 * (`SpawnSpec`) and reads its output (`OutputParser`); `AgentProcess` owns the child as an explicit
 * state machine — its own process group, bounded output, wall and stall timeouts, abort — and turns
 * whatever happens into a `ProcessExit` for the parser to judge. Expected failures never reject.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { redactor } from '../util/redact.js';
import { reapProcesses, reapedNotice } from '../util/procs.js';
import { agentEnvironment, type EnvPolicy } from './env.js';
import { BoundedTail, LineSplitter } from './lines.js';
import type {
  AgentActivity,
  AgentBackend,
  AgentOutcome,
  AgentTask,
  OutputParser,
  ProcessExit,
  SpawnSpec,
} from './types.js';

/** Limits and hooks for one agent run. */
export interface RunAgentOptions {
  /** Wall-clock limit for the whole run. */
  readonly timeoutMs?: number;
  /** Stop the agent when it makes no progress (no output other than retry notices) for this long. */
  readonly stallMs?: number;
  /** Time between SIGTERM and SIGKILL to the process group (default 5 s). */
  readonly graceMs?: number;
  /** Aborting stops the agent; `signal.reason === 'budget'` records the stop as a budget stop. */
  readonly signal?: AbortSignal;
  /** Progress, as the parser understands it. */
  readonly onActivity?: (activity: AgentActivity) => void;
  /** Raw stdout and stderr are appended here (capped at `maxLogBytes`). */
  readonly logFile?: string;
  /** Longest line handed to the parser (default 4 Mi characters); longer lines are cut. */
  readonly maxLineChars?: number;
  /** Characters of stdout/stderr kept for `ProcessExit` (default 64 Ki each). */
  readonly tailChars?: number;
  /** Log file cap (default 64 MiB). */
  readonly maxLogBytes?: number;
  /**
   * After the agent's main process exits, how long to wait for its output to end (default 2 s): a
   * background process still holding the pipes is then stopped and no longer read.
   */
  readonly eofGraceMs?: number;
  /** The backend's name, for the default environment policy (`runAgent` sets it). */
  readonly agentName?: string;
  /** What the agent inherits from Maestro's environment (the config's `env`). */
  readonly envPolicy?: EnvPolicy;
}

const DEFAULT_GRACE_MS = 5_000;
const DEFAULT_EOF_GRACE_MS = 2_000;
const DEFAULT_MAX_LINE_CHARS = 4 * 1024 * 1024;
const DEFAULT_TAIL_CHARS = 64 * 1024;
const DEFAULT_MAX_LOG_BYTES = 64 * 1024 * 1024;
const MAX_REPORT_BYTES = 1024 * 1024;

/** Runs one agent to completion and returns the backend's verdict. Rejects only on bugs (e.g. a parser throwing). */
export async function runAgent(
  backend: AgentBackend,
  task: AgentTask,
  options: RunAgentOptions = {},
): Promise<AgentOutcome> {
  const spec = backend.spawnSpec(task);
  const parser = backend.createParser(task);
  const agent = new AgentProcess(spec, task, parser, { agentName: backend.name, ...options });
  const exit = await agent.run();
  const outcome = redactor().deep(parser.finish(exit));
  const reaped = exit.reaped ?? [];
  return reaped.length === 0
    ? outcome
    : { ...outcome, notices: [...(outcome.notices ?? []), reapedNotice(reaped)] };
}

type StopReason = NonNullable<ProcessExit['stoppedBy']>;

/**
 * The life of one child:
 * `idle → preparing → running → (stopping →) exited → done`, or `preparing → done` when it cannot start.
 */
type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'preparing' }
  | { readonly kind: 'running'; readonly child: ChildProcess; readonly pid: number }
  | {
      readonly kind: 'stopping';
      readonly child: ChildProcess;
      readonly pid: number;
      readonly reason: StopReason;
    }
  | { readonly kind: 'exited'; readonly child: ChildProcess; readonly pid: number }
  | { readonly kind: 'done' };

/** Owns one agent child process. Use `runAgent` unless you need `stop()` from outside. */
export class AgentProcess {
  #state: State = { kind: 'idle' };
  #stoppedBy: StopReason | null = null;
  #stopLimitMs: number | undefined;
  #exitCode: number | null = null;
  #exitSignal: string | null = null;
  #spawnError: { message: string; code: string } | undefined;
  #bug: unknown;
  #startedAt = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stallTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  readonly #stdoutTail: BoundedTail;
  readonly #stderrTail: BoundedTail;
  #log: WriteStream | undefined;
  #logBytes = 0;
  #logCapped = false;
  #resolveExit: (() => void) | undefined;
  #spawnedPid: number | undefined;
  #reaped: string[] = [];
  /** Per pipe, the output after its last newline, so the log is redacted a whole line at a time. */
  readonly #logPending = { stdout: '', stderr: '' };
  readonly #onAbort = (): void => {
    this.stop(this.options.signal?.reason === 'budget' ? 'budget' : 'abort');
  };

  constructor(
    private readonly spec: SpawnSpec,
    private readonly task: AgentTask,
    private readonly parser: OutputParser,
    private readonly options: RunAgentOptions = {},
  ) {
    const tailChars = options.tailChars ?? DEFAULT_TAIL_CHARS;
    this.#stdoutTail = new BoundedTail(tailChars);
    this.#stderrTail = new BoundedTail(tailChars);
  }

  /** The process group id while the child runs (it leads its own group). */
  get pid(): number | undefined {
    const state = this.#state;
    return state.kind === 'running' || state.kind === 'stopping' || state.kind === 'exited'
      ? state.pid
      : undefined;
  }

  /** Starts the child and resolves when it has exited and its output is fully read. Call once. */
  async run(): Promise<ProcessExit> {
    if (this.#state.kind !== 'idle') throw new Error('AgentProcess.run() called twice');
    this.#state = { kind: 'preparing' };
    this.#startedAt = performance.now();
    const signal = this.options.signal;
    if (signal?.aborted === true) {
      this.#stoppedBy = signal.reason === 'budget' ? 'budget' : 'abort';
      this.#state = { kind: 'done' };
      return this.#exit(null);
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    try {
      const prepareError = await this.#prepare();
      if (prepareError !== undefined) {
        this.#spawnError = prepareError;
        this.#state = { kind: 'done' };
        return this.#exit(null);
      }
      // Aborted while preparing.
      if (this.#stoppedBy !== null) {
        this.#state = { kind: 'done' };
        return this.#exit(null);
      }
      await new Promise<void>((resolve) => {
        this.#resolveExit = resolve;
        this.#spawn();
      });
      // Nothing outlives its agent: what is left in its group or works in its directory is stopped.
      if (this.#spawnedPid !== undefined)
        this.#reaped = await reapProcesses(
          this.#spawnedPid,
          this.spec.cwd ?? this.task.cwd,
          Math.min(this.options.graceMs ?? DEFAULT_GRACE_MS, 2_000),
        );
      const reportFileText = await readBounded(this.task.reportFile);
      // The agent wrote it into Maestro's run directory: it is kept there redacted, like everything else.
      if (reportFileText !== null) {
        const clean = redactor().text(reportFileText);
        if (clean !== reportFileText) await writeFile(this.task.reportFile, clean).catch(() => undefined);
      }
      if (this.#bug !== undefined)
        throw this.#bug instanceof Error ? this.#bug : new Error(`parser bug: ${JSON.stringify(this.#bug)}`);
      return this.#exit(reportFileText);
    } finally {
      signal?.removeEventListener('abort', this.#onAbort);
      this.#clearTimers();
      await this.#closeLog();
    }
  }

  /**
   * Stops the child: SIGTERM to its whole process group, SIGKILL after the grace period.
   * Safe to call at any time and more than once; the first reason wins.
   */
  stop(reason: StopReason): void {
    const state = this.#state;
    switch (state.kind) {
      case 'idle':
      case 'preparing':
        this.#stoppedBy ??= reason;
        return;
      case 'running':
        this.#stoppedBy = reason;
        this.#state = { kind: 'stopping', child: state.child, pid: state.pid, reason };
        this.#signalGroup(state.pid, 'SIGTERM');
        this.#armKillTimer(state.pid);
        return;
      case 'stopping':
      case 'exited':
      case 'done':
        return;
      default:
        unreachable(state);
    }
  }

  async #prepare(): Promise<{ message: string; code: string } | undefined> {
    const cwd = this.spec.cwd ?? this.task.cwd;
    try {
      if (!(await stat(cwd)).isDirectory()) throw new Error('not a directory');
    } catch {
      return { message: `the agent's working directory does not exist: ${cwd}`, code: 'ENOCWD' };
    }
    try {
      for (const dir of this.spec.makeDirs ?? []) await mkdir(dir, { recursive: true });
      for (const file of this.spec.writeFiles ?? []) {
        await mkdir(dirname(file.path), { recursive: true });
        await writeFile(file.path, file.content);
      }
      if (this.options.logFile !== undefined) {
        await mkdir(dirname(this.options.logFile), { recursive: true });
        this.#log = createWriteStream(this.options.logFile, { flags: 'a' });
        this.#writeLog(`--- maestro: ${new Date().toISOString()} ${describeCommand(this.spec)}\n`);
      }
    } catch (error) {
      return { message: `could not prepare the agent's files: ${errorMessage(error)}`, code: 'EPREPARE' };
    }
    return undefined;
  }

  #spawn(): void {
    const { spec } = this;
    // Not the whole environment: other vendors' keys and cloud credentials stay with Maestro (see env.ts).
    const env =
      spec.replaceEnv === true
        ? { ...spec.env }
        : {
            ...agentEnvironment(this.options.agentName ?? 'command', process.env, this.options.envPolicy),
            ...spec.env,
          };
    const [command, args] = spec.shell
      ? ['/bin/sh', ['-c', spec.command, 'sh', ...spec.args]]
      : [spec.command, [...spec.args]];
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: spec.cwd ?? this.task.cwd,
        env,
        // Own process group, so a stop reaches everything the agent started (tests, dev servers, MCP servers).
        detached: true,
        stdio: [spec.stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      this.#failSpawn(error);
      return;
    }
    child.on('error', (error) => {
      // Before a pid exists this is a spawn failure (ENOENT, EACCES); later ones (a failed kill) change nothing.
      if (child.pid === undefined) this.#failSpawn(error);
    });
    if (child.pid === undefined) return; // 'error' follows
    const pid = child.pid;
    this.#spawnedPid = pid;
    this.#state = { kind: 'running', child, pid };
    if (this.#stoppedBy !== null) this.stop(this.#stoppedBy); // aborted while spawning
    this.#armTimers();

    if (spec.stdin !== null && child.stdin !== null) {
      // An agent that exits without reading its stdin gives EPIPE: harmless.
      child.stdin.on('error', () => undefined);
      child.stdin.end(spec.stdin);
    }
    this.#pipe(child, 'stdout');
    this.#pipe(child, 'stderr');
    child.on('exit', (code, signal) => {
      this.#exitCode = code;
      this.#exitSignal = signal;
      this.#onChildExit(child, pid);
    });
    child.on('close', () => {
      this.#state = { kind: 'done' };
      this.#resolveExit?.();
    });
  }

  #pipe(child: ChildProcess, which: 'stdout' | 'stderr'): void {
    const stream = child[which];
    if (stream === null) return;
    const decoder = new StringDecoder('utf8');
    const tail = which === 'stdout' ? this.#stdoutTail : this.#stderrTail;
    const splitter = new LineSplitter(this.options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS, (line) => {
      this.#onLine(which, line);
    });
    stream.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      if (!this.#logLines(which, text, false)) {
        // Let the disk catch up rather than buffering the agent's output in memory.
        stream.pause();
        this.#log?.once('drain', () => stream.resume());
      }
      tail.append(text);
      splitter.push(text);
    });
    stream.on('end', () => {
      const rest = decoder.end();
      this.#logLines(which, rest, true);
      tail.append(rest);
      splitter.push(rest);
      splitter.end();
    });
  }

  #onLine(which: 'stdout' | 'stderr', line: string): void {
    if (this.#bug !== undefined) return;
    let activities: readonly AgentActivity[];
    try {
      activities = which === 'stdout' ? this.parser.onStdoutLine(line) : this.parser.onStderrLine(line);
    } catch (error) {
      // A parser bug: stop the agent and surface the error from run().
      this.#bug = error;
      this.stop('abort');
      return;
    }
    // Retry notices (and their stack traces) are output but not progress: an endless retry loop must still
    // trip the stall timer.
    if (activities.length === 0 || activities.some((a) => !isRetryNoise(a))) this.#stallTimer?.refresh();
    const onActivity = this.options.onActivity;
    // The parser reads the raw line; what leaves the runner (events, views, the journal) is redacted.
    if (onActivity !== undefined) for (const activity of activities) onActivity(redactor().deep(activity));
    // A per-stream budget: stop as soon as reported or priced usage passes it (usage activities are cumulative).
    const budget = this.task.budgetUsd;
    if (budget !== undefined && activities.some((a) => a.kind === 'usage' && a.usage.costUsd > budget))
      this.stop('budget');
  }

  #onChildExit(child: ChildProcess, pid: number): void {
    const state = this.#state;
    this.#clearTimers(/* keepKill */ true);
    if (state.kind === 'running' || state.kind === 'stopping') this.#state = { kind: 'exited', child, pid };
    // The leader is gone. Its output normally ends with it; a background process still holding the
    // pipes (`setsid daemon &` escapes the group) gets a short grace, then is no longer waited for
    // (`run` stops it with everything else the agent left).
    const eofTimer = setTimeout(() => {
      if (this.#state.kind !== 'done') this.#forceClose();
    }, this.options.eofGraceMs ?? DEFAULT_EOF_GRACE_MS);
    this.#timers.add(eofTimer);
  }

  #armTimers(): void {
    const { timeoutMs, stallMs } = this.options;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      const timer = setTimeout(() => {
        this.#stopLimitMs = timeoutMs;
        this.stop('timeout');
      }, timeoutMs);
      this.#timers.add(timer);
    }
    if (stallMs !== undefined && stallMs > 0) {
      this.#stallTimer = setTimeout(() => {
        this.#stopLimitMs = stallMs;
        this.stop('stall');
      }, stallMs);
      this.#timers.add(this.#stallTimer);
    }
  }

  #armKillTimer(pid: number): void {
    if (this.#killTimer !== undefined) return;
    const graceMs = this.options.graceMs ?? DEFAULT_GRACE_MS;
    this.#killTimer = setTimeout(() => {
      this.#signalGroup(pid, 'SIGKILL');
      // If a process outside the group still holds our pipes, stop waiting for them.
      const state = this.#state;
      if (state.kind === 'stopping' || state.kind === 'exited') {
        const closeTimer = setTimeout(() => {
          if (this.#state.kind !== 'done') this.#forceClose();
        }, 1_000);
        this.#timers.add(closeTimer);
      }
    }, graceMs);
    this.#timers.add(this.#killTimer);
  }

  #forceClose(): void {
    const state = this.#state;
    if (state.kind === 'stopping' || state.kind === 'exited') {
      state.child.stdout?.destroy();
      state.child.stderr?.destroy();
    }
    this.#state = { kind: 'done' };
    this.#resolveExit?.();
  }

  /** Signals the whole group; false when nothing is left in it. */
  #signalGroup(pid: number, signal: NodeJS.Signals): boolean {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  }

  #failSpawn(error: unknown): void {
    const code =
      typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
        ? error.code
        : 'ESPAWN';
    this.#spawnError = { message: errorMessage(error), code };
    this.#state = { kind: 'done' };
    this.#resolveExit?.();
  }

  #clearTimers(keepKill = false): void {
    for (const timer of this.#timers) {
      if (keepKill && timer === this.#killTimer) continue;
      clearTimeout(timer);
      this.#timers.delete(timer);
    }
  }

  /** Appends decoded output to the log whole lines at a time, redacted (a secret split across chunks is still found). */
  #logLines(which: 'stdout' | 'stderr', text: string, end: boolean): boolean {
    if (this.#log === undefined) return true;
    const pending = this.#logPending[which] + text;
    const cut = end ? pending.length : pending.lastIndexOf('\n') + 1;
    // A very long line without a newline is written in pieces rather than held without bound.
    const upTo = cut === 0 && pending.length > 64 * 1024 ? pending.length : cut;
    this.#logPending[which] = pending.slice(upTo);
    return upTo === 0 ? true : this.#writeLog(redactor().text(pending.slice(0, upTo)));
  }

  #writeLog(data: string | Buffer): boolean {
    const log = this.#log;
    if (log === undefined || this.#logCapped) return true;
    const max = this.options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
    if (this.#logBytes + data.length > max) {
      this.#logCapped = true;
      return log.write(`\n--- maestro: log truncated after ${this.#logBytes} bytes\n`);
    }
    this.#logBytes += data.length;
    return log.write(data);
  }

  async #closeLog(): Promise<void> {
    const log = this.#log;
    if (log === undefined) return;
    // Output cut off mid-line (pipes closed by force) still reaches the log, redacted.
    for (const which of ['stdout', 'stderr'] as const) this.#logLines(which, '', true);
    this.#log = undefined;
    await new Promise<void>((resolve) => {
      log.end(resolve);
    });
  }

  #exit(reportFileText: string | null): ProcessExit {
    const redact = redactor();
    const exit: {
      -readonly [K in keyof ProcessExit]: ProcessExit[K];
    } = {
      exitCode: this.#exitCode,
      signal: this.#exitSignal,
      stoppedBy: this.#stoppedBy,
      stdoutTail: redact.text(this.#stdoutTail.toString()),
      stderrTail: redact.text(this.#stderrTail.toString()),
      reportFileText: reportFileText === null ? null : redact.text(reportFileText),
      durationMs: Math.round(performance.now() - this.#startedAt),
      reaped: this.#reaped,
    };
    if (this.#spawnError !== undefined) {
      exit.spawnError = this.#spawnError.message;
      exit.spawnErrorCode = this.#spawnError.code;
    }
    if (this.#stopLimitMs !== undefined) exit.stopLimitMs = this.#stopLimitMs;
    return exit;
  }
}

/** Reads at most 1 MiB of a file; null if it does not exist. */
async function readBounded(path: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.alloc(MAX_REPORT_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_REPORT_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

function describeCommand(spec: SpawnSpec): string {
  const clip = (s: string): string => (s.length > 200 ? `${s.slice(0, 200)}…` : s);
  return [spec.shell ? `/bin/sh -c ${clip(spec.command)}` : spec.command, ...spec.args.map(clip)].join(' ');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function unreachable(x: never): never {
  throw new Error(`unexpected state: ${JSON.stringify(x)}`);
}

function isRetryNoise(activity: AgentActivity): boolean {
  return activity.kind === 'retry' || (activity.kind === 'output' && activity.retryDetail === true);
}
