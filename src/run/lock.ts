/**
 * One run at a time per repository: `<repo>/.maestro/lock` holds the owner's pid and run id,
 * created with O_EXCL. A lock whose pid is gone (kill -9) is stale and taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { maestroDir } from './journal.js';

/** Who holds the lock. */
export interface LockOwner {
  readonly pid: number;
  readonly runId: string;
}

/** Why the lock could not be taken. */
export interface LockBusy {
  readonly ok: false;
  readonly owner: LockOwner;
}

/** A held lock; `release` is safe to call twice. */
export interface RunLock {
  readonly ok: true;
  release(): void;
}

/** The lock file's path. */
export function lockPath(repo: string): string {
  return path.join(maestroDir(repo), 'lock');
}

/** True when a process with this pid exists. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the current lock owner, if the lock exists and its owner is alive. */
export function readLockOwner(repo: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(lockPath(repo), 'utf8')) as LockOwner;
    return isProcessAlive(owner.pid) ? owner : null;
  } catch {
    return null;
  }
}

/** Takes the repository's run lock for `runId`, or reports who holds it. */
export async function acquireLock(repo: string, runId: string): Promise<RunLock | LockBusy> {
  await mkdir(maestroDir(repo), { recursive: true });
  const file = lockPath(repo);
  const content = JSON.stringify({ pid: process.pid, runId } satisfies LockOwner);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, content, { flag: 'wx' });
      let released = false;
      return {
        ok: true,
        release: () => {
          if (released) return;
          released = true;
          try {
            const owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
            if (owner.pid === process.pid) rmSync(file, { force: true });
          } catch {
            // Already gone.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readLockOwner(repo);
      if (owner) return { ok: false, owner };
      // Stale (its process is gone): remove and try once more.
      rmSync(file, { force: true });
    }
  }
  const owner = readLockOwner(repo);
  return { ok: false, owner: owner ?? { pid: 0, runId: 'unknown' } };
}
