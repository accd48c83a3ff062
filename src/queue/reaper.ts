/**
 * The worker's reaper, a process of its own outside the worker's process group: `node reaper.js DIR`.
 * It waits for its stdin to close — the kernel closes it when the worker exits, however it dies, even
 * by SIGKILL — then kills every process still working under DIR (agents the worker could not stop),
 * a few passes so that children started meanwhile go too, and exits.
 */
import { killProcessesUnder } from '../run/orphans.js';

const dir = process.argv[2];
if (dir === undefined || dir === '') {
  process.stderr.write('usage: reaper.js DIR\n');
  process.exit(2);
}

function reap(): void {
  for (let pass = 0; pass < 5; pass++) if (killProcessesUnder(dir ?? '') === 0) break;
  process.exit(0);
}

process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
process.stdin.resume();
