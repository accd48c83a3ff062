/**
 * After `kill -9` of Maestro its agents live on in their own process groups. On resume (and abort)
 * we find them by their working directory under the run's worktrees (Linux `/proc/<pid>/cwd`)
 * and kill their groups. Best effort: elsewhere this finds nothing.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** Pids of processes whose cwd is `dir` or below it. */
export function processesUnder(dir: string): number[] {
  const root = path.resolve(dir) + path.sep;
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (`${cwd}${path.sep}`.startsWith(root)) found.push(pid);
    } catch {
      // Gone, or not ours to inspect.
    }
  }
  return found;
}

/** Kills (SIGKILL) every process, and its group, working under `dir`. Returns how many were found. */
export function killProcessesUnder(dir: string): number {
  const pids = processesUnder(dir);
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Not a group leader, or already gone.
      }
    }
  }
  return pids.length;
}
