/** Shared fixtures for agent tests: temp dirs, tasks, logged runs, wrapper scripts, and process-liveness checks. */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent, type RunAgentOptions } from '../../src/agents/process.js';
import type { AgentActivity, AgentBackend, AgentOutcome, AgentTask } from '../../src/agents/types.js';
import { binDir, type Sandbox } from '../standins/env.js';
import type { Standin } from '../standins/http.js';

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(
  prefix = 'maestro-agents-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A task in `dir` with sensible defaults. */
export function makeTask(dir: string, overrides: Partial<AgentTask> = {}): AgentTask {
  return {
    runId: 'run-1',
    streamId: 'api',
    streamTitle: 'API layer',
    role: 'backend',
    roleInstructions: 'You are a careful backend engineer.',
    model: 'test-model',
    files: ['src/api.ts'],
    prompt: 'Implement the API layer.\n',
    promptFile: join(dir, '.prompt.md'),
    reportFile: join(dir, '.report.md'),
    cwd: dir,
    validationCommands: [],
    env: {},
    ...overrides,
  };
}

/** Whether a process with this pid exists (zombies excluded where /proc says so). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
}

/** Polls until `check` is true or the deadline passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

/** A task in a stand-in sandbox's worktree, its prompt and report files in the sandbox's run dir. */
export function sandboxTask(sandbox: Sandbox, overrides: Partial<AgentTask> = {}): AgentTask {
  return makeTask(sandbox.worktree, {
    promptFile: join(sandbox.runDir, 'prompt.md'),
    reportFile: join(sandbox.runDir, 'report.md'),
    ...overrides,
  });
}

/** What one agent run gave: its outcome, the activities it reported, and its log (`agent.log` in the run dir). */
export interface LoggedRun {
  readonly outcome: AgentOutcome;
  readonly activities: AgentActivity[];
  readonly log: string;
}

/** A logged run of a real agent CLI in a sandbox, against its model API's stand-in. */
export interface SandboxRun extends LoggedRun {
  readonly sandbox: Sandbox;
  readonly api: Standin & { turns: () => number };
}

/**
 * Runs `backend` on `task` with `limits` (time-outs) and then `overrides`, logging to
 * `runDir/agent.log` and collecting every activity.
 */
export async function runLogged(
  backend: AgentBackend,
  task: AgentTask,
  runDir: string,
  limits: RunAgentOptions,
  overrides: RunAgentOptions = {},
): Promise<LoggedRun> {
  const activities: AgentActivity[] = [];
  const logFile = join(runDir, 'agent.log');
  const outcome = await runAgent(backend, task, {
    ...limits,
    logFile,
    onActivity: (a) => activities.push(a),
    ...overrides,
  });
  return { outcome, activities, log: await readFile(logFile, 'utf8').catch(() => '') };
}

/** `runLogged` in the sandbox's run dir; the result carries the sandbox and the API stand-in too. */
export async function runInSandbox(
  backend: AgentBackend,
  task: AgentTask,
  sandbox: Sandbox,
  api: Standin & { turns: () => number },
  limits: RunAgentOptions,
  overrides: RunAgentOptions = {},
): Promise<SandboxRun> {
  return { ...(await runLogged(backend, task, sandbox.runDir, limits, overrides)), sandbox, api };
}

/** Writes an executable shell script `body` to `file`; returns `file`. */
export async function writeScript(file: string, body: string): Promise<string> {
  await writeFile(file, `#!/bin/sh\n${body}`);
  await chmod(file, 0o755);
  return file;
}

/** A wrapper in `dir` around the real `cli` (in binDir) that prints two lines of garbage first. */
export function noisyWrapper(dir: string, cli: string): Promise<string> {
  return writeScript(
    join(dir, `${cli}-noisy`),
    `echo 'garbage'\necho '{"type":'\nexec ${join(binDir, cli)} "$@"\n`,
  );
}
