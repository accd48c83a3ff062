import type { Command } from '@commander-js/extra-typings';
import { loadRun, resumeRun } from '../../run/engine.js';
import { LocalExecutor } from '../../run/executor.js';
import { listRuns } from '../../run/journal.js';
import { CliError } from '../errors.js';
import { asCliError, backendFor, finishRun, interruptOnSignals, reporterBus, resolveRepo } from './run.js';

/** The latest run that can be resumed. */
async function latestResumable(repo: string): Promise<string> {
  const runs = await listRuns(repo);
  for (const id of [...runs].reverse()) {
    try {
      const { state } = await loadRun(repo, id);
      if (state.status !== 'completed' && state.status !== 'aborted') return id;
    } catch {
      // Not a run directory we can read.
    }
  }
  throw new CliError(`no resumable maestro run in ${repo}`);
}

/** `maestro resume [RUN]`: continue an interrupted or crashed run. */
export function registerResume(program: Command): void {
  program
    .command('resume')
    .description('Resume an interrupted or crashed run: merged streams are kept, half-done work repaired')
    .argument('[run]', 'run id (default: the latest unfinished run)')
    .option('--repo <dir>', 'repository (default: the one containing the current directory)')
    .option('--json', 'events as JSON lines on stdout (summary on stderr)')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro resume                          # the latest unfinished run
  $ maestro resume 20261128-101500-ab12 --json`,
    )
    .action(async (runArg, flags) => {
      const repo = await resolveRepo(flags.repo);
      const runId = runArg ?? (await latestResumable(repo));
      const interrupt = interruptOnSignals();
      try {
        const { options } = await loadRun(repo, runId);
        const json = flags.json === true;
        const result = await resumeRun(repo, runId, {
          executor: new LocalExecutor(backendFor(options)),
          bus: reporterBus(json),
          signal: interrupt.signal,
        });
        process.exitCode = await finishRun(result, json, options.land);
      } catch (error) {
        throw asCliError(error);
      } finally {
        interrupt.dispose();
      }
    });
}
