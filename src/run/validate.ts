/**
 * Validation gates: shell commands (the plan's and `--validate`) run with `sh -c` in the integration
 * worktree, through the same owned-process runner as agents (`AgentProcess`): their own process group,
 * SIGTERM then SIGKILL after a grace period on a timeout or an abort, so Ctrl-C reaches a gate at any
 * moment and nothing it started outlives it.
 */
import path from 'node:path';
import { AgentProcess } from '../agents/process.js';
import { BoundedTail } from '../agents/lines.js';
import type { AgentOutcome, AgentTask, OutputParser, ProcessExit } from '../agents/types.js';

/** The outcome of a gate: passed, or the first failing command with its (bounded) output. */
export type ValidationResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly command: string;
      readonly exitCode: number | null;
      readonly output: string;
    };

const maxOutput = 64 * 1024;
const defaultGraceMs = 5_000;

/** Limits for gate commands. */
export interface GateOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL (default 5 s). */
  readonly graceMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Every line of combined output as it arrives (e.g. appended to a stream's log). */
  readonly onOutput?: (chunk: string) => void;
}

/**
 * Collects a gate's stdout and stderr lines, interleaved as they arrive, into one bounded tail; a
 * gate has no report or usage, so `finish` is never used (the caller reads the exit).
 */
class GateOutput implements OutputParser {
  readonly tail = new BoundedTail(maxOutput);

  constructor(private readonly onOutput: ((chunk: string) => void) | undefined) {}

  onStdoutLine(line: string): [] {
    this.#add(`${line}\n`);
    return [];
  }

  onStderrLine(line: string): [] {
    this.#add(`${line}\n`);
    return [];
  }

  #add(text: string): void {
    this.onOutput?.(text);
    this.tail.append(text);
  }

  finish(exit: ProcessExit): AgentOutcome {
    throw new Error(`GateOutput.finish is not used (exit ${String(exit.exitCode)})`);
  }
}

function userEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  return env;
}

/** Runs one command; resolves with its exit code (null when it was stopped or could not start) and output. */
export async function runShell(
  command: string,
  cwd: string,
  options: GateOptions,
): Promise<{ exitCode: number | null; output: string }> {
  const output = new GateOutput(options.onOutput);
  // AgentProcess runs a task; a gate's is its command and directory (no prompt, no report file).
  const task: AgentTask = {
    runId: '',
    streamId: '',
    streamTitle: 'validation gate',
    role: 'gate',
    roleInstructions: '',
    model: '',
    files: [],
    prompt: '',
    promptFile: '',
    reportFile: path.join(cwd, '.git', 'maestro-gate-has-no-report'),
    cwd,
    validationCommands: [],
    env: {},
  };
  const child = new AgentProcess(
    // The user's own commands keep the user's environment (a setup's `npm ci` may need NPM_TOKEN for a
    // private registry); only agents get the filtered one (`agents/env.ts`).
    {
      command,
      args: [],
      env: { ...userEnvironment(), ...options.env },
      replaceEnv: true,
      stdin: null,
      shell: true,
      cwd,
    },
    task,
    output,
    {
      timeoutMs: options.timeoutMs,
      graceMs: options.graceMs ?? defaultGraceMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      tailChars: 1024,
      maxLogBytes: 0,
    },
  );
  const exit = await child.run();
  let text = output.tail.toString();
  if (exit.stoppedBy === 'timeout')
    text += `\n[maestro] validation command timed out after ${String(options.timeoutMs)} ms\n`;
  if (exit.spawnError !== undefined) text += `\n${exit.spawnError}\n`;
  return { exitCode: exit.stoppedBy === null ? exit.exitCode : null, output: text };
}

/** Lines that name a failure in typical tool output (compilers, test runners, Node's module loader). */
const errorLine =
  /\b(error|errors|cannot|can't|failed|failure|fatal|exception|not found|no such|undefined reference|expected|assert)\b|ERR!|✗|×/i;

/**
 * The lines of a failing command's output worth showing: the first lines that name an error (where a
 * missing module or the first compiler error is), then the tail (the summary), with a marker for what
 * is left out between. The tail alone is often only stack frames.
 */
export function failureExcerpt(output: string, tailLines = 20, headLines = 8): string {
  const lines = output.trimEnd().split('\n');
  const tailStart = Math.max(0, lines.length - tailLines);
  const first = lines.findIndex((l) => errorLine.test(l));
  if (first < 0 || first >= tailStart) return lines.slice(tailStart).join('\n');
  const headEnd = Math.min(first + headLines, tailStart);
  const omitted = tailStart - headEnd;
  return [
    ...lines.slice(first, headEnd),
    ...(omitted > 0 ? [`… (${String(omitted)} more lines) …`] : []),
    ...lines.slice(tailStart),
  ].join('\n');
}

/** Runs the commands in order and stops at the first failure. */
export async function runValidation(
  commands: readonly string[],
  cwd: string,
  options: GateOptions,
): Promise<ValidationResult> {
  for (const command of commands) {
    const r = await runShell(command, cwd, options);
    if (r.exitCode !== 0) return { ok: false, command, exitCode: r.exitCode, output: r.output };
  }
  return { ok: true };
}
