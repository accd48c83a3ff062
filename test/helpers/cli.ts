/**
 * Runs the built CLI (`dist/cli.js`) as a user would, in a child process; waits for output
 * instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gitIdentityEnv } from './repo.js';

/** The built CLI entry. */
export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running CLI process. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout or stderr matches; rejects if the process exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  readonly exited: Promise<CliResult>;
}

/** Starts `maestro ARGS` in `cwd` with the test git identity. */
export function startCli(
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>> = {},
): CliProcess {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd,
    env: { ...process.env, ...gitIdentityEnv, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    notify();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
    notify();
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      notify();
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
    notify();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out) || pattern.test(err)) {
            cleanup();
            resolve();
          } else if (done) {
            cleanup();
            reject(
              new Error(
                `maestro exited before printing ${String(pattern)}\nstdout:\n${out}\nstderr:\n${err}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${String(pattern)}\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Runs `maestro ARGS` to completion. */
export function runCli(
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>> = {},
): Promise<CliResult> {
  return startCli(args, cwd, env).exited;
}

/** Polls `condition` (every 20 ms) until it holds; for conditions on files, where no output announces them. */
export async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What differs between the stand-in `maestro run` argument lists of the tests. */
export interface CommandRunOptions {
  /** Pass `--no-live` (default true); false leaves the CLI to pick its renderer itself. */
  readonly noLive?: boolean;
  /** Pass `--retries N`. */
  readonly retries?: number;
}

/**
 * `maestro run PLAN --repo REPO --agent command --agent-command CMD --yes`, then `--no-live` (unless
 * `noLive: false`) and `--retries N` (if given): a stand-in agent run.
 */
export function commandRunArgs(
  plan: string,
  repo: string,
  agentCommand: string,
  options: CommandRunOptions = {},
): string[] {
  return [
    'run',
    plan,
    '--repo',
    repo,
    '--agent',
    'command',
    '--agent-command',
    agentCommand,
    '--yes',
    ...(options.noLive === false ? [] : ['--no-live']),
    ...(options.retries === undefined ? [] : ['--retries', String(options.retries)]),
  ];
}
