/**
 * Validation gates: shell commands (the plan's and `--validate`) run with `sh -c` in the integration
 * worktree. Each runs in its own process group so a timeout or Ctrl-C kills everything it started.
 */
import { spawn } from 'node:child_process';

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

/** Runs one command; resolves with exit code and the tail of its combined output. */
export function runShell(
  command: string,
  cwd: string,
  options: {
    timeoutMs: number;
    signal?: AbortSignal;
    env?: Readonly<Record<string, string>>;
    /** Every chunk of combined output as it arrives (e.g. appended to a stream's log). */
    onOutput?: (chunk: string) => void;
  },
): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let output = '';
    const add = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      options.onOutput?.(text);
      output += text;
      if (output.length > maxOutput * 2) output = output.slice(-maxOutput);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const kill = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      output += `\n[maestro] validation command timed out after ${String(options.timeoutMs)} ms\n`;
      kill();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, output: `${output}\n${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      resolve({ exitCode: code, output: output.length > maxOutput ? output.slice(-maxOutput) : output });
    });
  });
}

/** Runs the commands in order and stops at the first failure. */
export async function runValidation(
  commands: readonly string[],
  cwd: string,
  options: { timeoutMs: number; signal?: AbortSignal; env?: Readonly<Record<string, string>> },
): Promise<ValidationResult> {
  for (const command of commands) {
    const r = await runShell(command, cwd, options);
    if (r.exitCode !== 0) return { ok: false, command, exitCode: r.exitCode, output: r.output };
  }
  return { ok: true };
}
