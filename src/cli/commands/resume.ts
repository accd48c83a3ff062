import type { Command } from '@commander-js/extra-typings';
import { loadRun, resumeRun } from '../../run/engine.js';
import { LocalExecutor } from '../../run/executor.js';
import { listRuns } from '../../run/journal.js';
import { CliError } from '../errors.js';
import { openQueue, savedQueueSettings } from '../queue-run.js';
import { outputModeFor, startProgress } from '../progress.js';
import { asCliError, backendFor, finishRun, interruptOnSignals, parseUsdFor, resolveRepo } from './run.js';

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
  throw new CliError(
    `no resumable maestro run in ${repo}; \`maestro status\` shows the latest run, \`maestro run PLAN\` starts a new one`,
  );
}

/** `maestro resume [RUN]`: continue an interrupted or crashed run. */
export function registerResume(program: Command): void {
  program
    .command('resume')
    .description('Resume an interrupted or crashed run: merged streams are kept, half-done work repaired')
    .argument('[run]', 'run id (default: the latest unfinished run)')
    .option('--repo <dir>', 'repository (default: the one containing the current directory)')
    .option('--json', 'events as JSON lines on stdout (summary on stderr)')
    .option(
      '--budget-usd <usd>',
      'a new run budget (e.g. higher, after the budget stopped the run)',
      parseUsdFor('--budget-usd'),
    )
    .option('--stream-budget-usd <usd>', 'a new per-stream budget', parseUsdFor('--stream-budget-usd'))
    .option(
      '--redis <url>',
      'for a run on workers: its Redis URL again (needed when it has a password; or MAESTRO_REDIS_URL)',
    )
    .option('--no-live', 'plain progress lines even on a terminal')
    .option('--no-color', 'no colours: plain progress lines instead of the live view (also NO_COLOR=1)')
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
      let stopProgress: () => void = () => undefined;
      let closeQueue: () => Promise<void> = () => Promise.resolve();
      try {
        const { options, analysis } = await loadRun(repo, runId);
        const json = flags.json === true;
        const progress = startProgress(outputModeFor(flags), analysis);
        stopProgress = progress.stop;
        const overrides = {
          ...(flags.budgetUsd === undefined ? {} : { budgetUsd: flags.budgetUsd }),
          ...(flags.streamBudgetUsd === undefined ? {} : { streamBudgetUsd: flags.streamBudgetUsd }),
        };
        // A run on workers re-attaches to its queue: jobs still queued or running are waited for, not redone.
        const opened =
          options.redis === undefined
            ? null
            : await openQueue(
                await savedQueueSettings(repo, options.redis, flags.redis),
                repo,
                runId,
                options.agent,
                (m) => process.stderr.write(`maestro: ${m}\n`),
              );
        if (opened !== null) closeQueue = () => opened.client.close();
        const result = await resumeRun(
          repo,
          runId,
          {
            executor: opened?.executor ?? new LocalExecutor(await backendFor(options)),
            bus: progress.bus,
            signal: interrupt.signal,
          },
          overrides,
        );
        progress.stop();
        process.exitCode = await finishRun(result, json, options.land);
      } catch (error) {
        throw asCliError(error);
      } finally {
        stopProgress();
        interrupt.dispose();
        await closeQueue();
      }
    });
}
