/** Shared fixtures for agent tests: temp dirs, tasks, and process-liveness checks. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentTask } from '../../src/agents/types.js';

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
