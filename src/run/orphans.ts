/**
 * After `kill -9` of Maestro its agents live on in their own process groups. On resume (and abort)
 * we find them by their working directory under the run's worktrees (Linux `/proc/<pid>/cwd`)
 * and kill their groups. Best effort: elsewhere this finds nothing.
 */
import { processesUnder } from '../util/procs.js';

export { processesUnder } from '../util/procs.js';

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
