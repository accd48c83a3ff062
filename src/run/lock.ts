/**
 * One run at a time per repository. The lock is a numbered file in `<repo>/.maestro/lock.d/`, holding
 * the owner's pid, process start time and run id; the highest generation with a live owner holds it.
 *
 * Taking it over from a dead owner (kill -9) is atomic: every contender tries to create the *next*
 * generation with `link(2)`, which fails with EEXIST for all but one (an exclusive create whose content
 * is complete the moment the name appears, so a reader never sees a half-written owner). The winner
 * then yields to any live owner of a lower generation (a contender that raced in after a release), so
 * exactly one process holds the lock, and every loser can name it.
 */
import { linkSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { maestroDir } from './journal.js';

/** Who holds the lock. */
export interface LockOwner {
  readonly pid: number;
  readonly runId: string;
  /** The owner's start time (Linux `/proc/<pid>/stat` field 22), so a reused pid is not mistaken for it. */
  readonly startTime?: string;
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

/** The lock directory's path. */
export function lockPath(repo: string): string {
  return path.join(maestroDir(repo), 'lock.d');
}

/** Start time of a process (clock ticks since boot), or null where `/proc` is unavailable. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // Fields after `(comm)`: state is field 3, so field 22 (starttime) is index 19.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** True when a process with this pid exists. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the owner's process still runs (and is the same process, not a reused pid). */
function ownerAlive(owner: LockOwner): boolean {
  if (!isProcessAlive(owner.pid)) return false;
  if (owner.startTime === undefined) return true;
  const now = startTimeOf(owner.pid);
  return now === null || now === owner.startTime;
}

function generations(dir: string): number[] {
  try {
    return readdirSync(dir)
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

function readOwner(dir: string, generation: number): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path.join(dir, String(generation)), 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.runId === 'string' ? owner : null;
  } catch {
    return null; // released meanwhile
  }
}

/** The live owner with the lowest generation (the one that holds the lock), if any. */
function liveOwner(dir: string, below = Infinity): LockOwner | null {
  for (const generation of generations(dir)) {
    if (generation >= below) break;
    const owner = readOwner(dir, generation);
    if (owner !== null && owner.pid !== process.pid && ownerAlive(owner)) return owner;
  }
  return null;
}

/** Reads the current lock owner, if the lock is held by a live process. */
export function readLockOwner(repo: string): LockOwner | null {
  const dir = lockPath(repo);
  for (const generation of generations(dir)) {
    const owner = readOwner(dir, generation);
    if (owner !== null && ownerAlive(owner)) return owner;
  }
  return null;
}

/** Takes the repository's run lock for `runId`, or reports who holds it. */
export function acquireLock(repo: string, runId: string): Promise<RunLock | LockBusy> {
  return Promise.resolve(acquireLockSync(repo, runId));
}

function acquireLockSync(repo: string, runId: string): RunLock | LockBusy {
  const dir = lockPath(repo);
  mkdirSync(dir, { recursive: true });
  const startTime = startTimeOf(process.pid);
  const content = JSON.stringify({
    pid: process.pid,
    runId,
    ...(startTime === null ? {} : { startTime }),
  } satisfies LockOwner);
  const tmp = path.join(dir, `.tmp-${String(process.pid)}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(tmp, content);
  try {
    // Each pass either takes a generation, finds the live owner, or sees the lock change hands (retry).
    for (let attempt = 0; attempt < 100; attempt++) {
      const holder = liveOwner(dir);
      if (holder !== null) return { ok: false, owner: holder };
      const next = (generations(dir).at(-1) ?? 0) + 1;
      const mine = path.join(dir, String(next));
      try {
        linkSync(tmp, mine);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // someone else took it
        throw error;
      }
      // A live owner of a lower generation came first (it took the lock after a release we had not seen).
      const earlier = liveOwner(dir, next);
      if (earlier !== null) {
        rmSync(mine, { force: true });
        return { ok: false, owner: earlier };
      }
      // Dead owners' generations go; the next contender starts above ours.
      for (const generation of generations(dir)) {
        if (generation < next) rmSync(path.join(dir, String(generation)), { force: true });
      }
      let released = false;
      return {
        ok: true,
        release: () => {
          if (released) return;
          released = true;
          rmSync(mine, { force: true });
        },
      };
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  // 100 hand-overs during one call: something is deleting lock files as fast as they appear.
  throw new Error(`could not take the run lock in ${dir}: it keeps changing hands`);
}
