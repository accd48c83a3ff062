/**
 * `maestro abort`: a live run is asked to stop (it records `aborted` itself, as the journal's one
 * writer while it runs); a run with no live process is marked aborted here, under the run lock.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { RunError } from './errors.js';
import { appendToIdleRun, readJournal, runPaths } from './journal.js';
import { acquireLock, readLockOwner } from './lock.js';
import { replay } from './state.js';
import type { RunEvent, RunStatus } from './types.js';

/**
 * Marks the run as to be aborted, so that when its process stops (it is sent SIGINT next) it ends as
 * `aborted` rather than `interrupted`.
 */
export function requestAbort(repo: string, runId: string): void {
  writeFileSync(runPaths(repo, runId).abortRequest, `${String(process.pid)}\n`);
}

/**
 * Records `run-finished: aborted` for a run no process is running. Returns the status the run had
 * (a completed run is left as it is).
 */
export async function markAborted(repo: string, runId: string): Promise<RunStatus> {
  const paths = runPaths(repo, runId);
  const lock = await acquireLock(repo, runId);
  if (!lock.ok)
    throw new RunError(
      'locked',
      `run ${lock.owner.runId} (pid ${String(lock.owner.pid)}) holds the repository`,
    );
  try {
    const state = replay(await readJournal(paths.journal));
    if (state === null) throw new RunError('corrupt', `run ${runId} has no run-started event in its journal`);
    const before = state.status;
    if (before !== 'completed' && before !== 'aborted') {
      const event: RunEvent = { type: 'run-finished', status: 'aborted', time: new Date().toISOString() };
      appendToIdleRun(paths, state, event);
    }
    return before;
  } finally {
    if (existsSync(paths.abortRequest)) rmSync(paths.abortRequest, { force: true });
    lock.release();
  }
}

/** True while a process holds the repository's lock for `runId`. */
export function isRunLive(repo: string, runId: string): boolean {
  return readLockOwner(repo)?.runId === runId;
}
