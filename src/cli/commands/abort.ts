import type { Command } from '@commander-js/extra-typings';
import { setTimeout as delay } from 'node:timers/promises';
import { isRunLive, markAborted, requestAbort } from '../../run/abort.js';
import { loadRun } from '../../run/engine.js';
import { readLockOwner } from '../../run/lock.js';
import { killProcessesUnder } from '../../run/orphans.js';
import { RemoteError } from '../../queue/remote.js';
import { CliError } from '../errors.js';
import { openQueue, savedQueueSettings } from '../queue-run.js';
import { pickRun, resolveRepo } from '../run-support.js';

/** `maestro abort [RUN]`: stop a run for good. */
export function registerAbort(program: Command): void {
  program
    .command('abort')
    .description(
      'Abort a run: stop its agents (if it is running) and mark it aborted; `clean` removes its worktrees',
    )
    .argument('[run]', 'run id (default: the latest run)')
    .option('--repo <dir>', 'repository (default: the one containing the current directory)')
    .option(
      '--redis <url>',
      'for a run on workers: its Redis URL again (needed when it has a password; or MAESTRO_REDIS_URL)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ maestro abort                           # the latest run
  $ maestro abort 20261128-101500-ab12 && maestro clean 20261128-101500-ab12`,
    )
    .action(async (runArg, flags) => {
      const repo = await resolveRepo(flags.repo);
      const runId = await pickRun(repo, runArg);
      const loaded = await loadRun(repo, runId);
      const owner = readLockOwner(repo);
      if (owner?.runId === runId) {
        // The live run ends itself as aborted (it reads the request when it stops), then lets go of the lock.
        requestAbort(repo, runId);
        process.kill(owner.pid, 'SIGINT');
        const deadline = Date.now() + 60_000;
        while (isRunLive(repo, runId)) {
          if (Date.now() > deadline)
            throw new CliError(`run ${runId} (pid ${String(owner.pid)}) did not stop within a minute`, 1);
          await delay(100);
        }
      }
      killProcessesUnder(loaded.paths.worktrees);
      const saved = loaded.options.redis;
      if (saved !== undefined) {
        // The coordinator may be gone (kill -9): take the run's jobs out of the queue and stop its agents on the workers.
        const opened = await openQueue(
          await savedQueueSettings(repo, saved, flags.redis),
          repo,
          runId,
          loaded.options.agent,
          (m) => process.stderr.write(`maestro: ${m}\n`),
        );
        try {
          const cancelled = await opened.client.cancelRunJobs(runId, [loaded.options.agent]);
          if (cancelled > 0)
            process.stdout.write(`cancelled ${String(cancelled)} queued job(s) of run ${runId}\n`);
        } catch (error) {
          if (error instanceof RemoteError)
            throw new CliError(`${error.message}; run \`maestro abort ${runId}\` again`, 1);
          throw error;
        } finally {
          await opened.client.close();
        }
      }
      const before = await markAborted(repo, runId);
      if (before === 'completed') {
        process.stdout.write(`run ${runId} had already completed; nothing to abort\n`);
        return;
      }
      process.stdout.write(
        `run ${runId} aborted; remove its worktrees and branches with: maestro clean ${runId}\n`,
      );
    });
}
