import type { Command } from '@commander-js/extra-typings';
import { loadRun } from '../../run/engine.js';
import { readLockOwner } from '../../run/lock.js';
import { formatSummary } from '../../run/summary.js';
import { outputModeFor } from '../progress.js';
import { watchRun } from '../watch.js';
import { pickRun, resolveRepo } from '../run-support.js';

/** `maestro status [RUN]`: a run's state, replayed from its journal. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show a run’s state: per-stream status, retries, files; whether it is still running')
    .argument('[run]', 'run id (default: the latest run)')
    .option('--repo <dir>', 'repository (default: the one containing the current directory)')
    .option('--json', 'the run state as one JSON document (with --watch: events as JSON lines)')
    .option('-w, --watch', 'follow the run live until it finishes (Ctrl-C stops watching, not the run)')
    .option('--no-live', 'with --watch: plain progress lines even on a terminal')
    .option('--no-color', 'with --watch: plain progress lines, no colours (also NO_COLOR=1)')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro status                          # the latest run
  $ maestro status 20261128-101500-ab12 --json
  $ maestro status --watch                  # the live view of a run started in another terminal`,
    )
    .action(async (runArg, flags) => {
      const repo = await resolveRepo(flags.repo);
      const runId = await pickRun(repo, runArg);
      if (flags.watch === true) {
        await watchRun(repo, runId, outputModeFor(flags));
        return;
      }
      const loaded = await loadRun(repo, runId);
      const owner = readLockOwner(repo);
      const live = owner?.runId === runId;
      const state = loaded.state;
      // A journal that says "running" with no live owner is a crashed run.
      if (state.status === 'running' && !live) state.status = 'interrupted';
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify({ ...state, live }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        formatSummary(
          state,
          loaded.analysis.streams.map((s) => s.id),
        ),
      );
      if (live) process.stdout.write(`Live: running in pid ${String(owner.pid)}\n`);
    });
}
