import type { Command, OptionValues } from '@commander-js/extra-typings';
import { loadRun, resumeRun, type ResumeOverrides, type RetryRequest } from '../../run/engine.js';
import { LocalExecutor } from '../../run/executor.js';
import type { RunStatus } from '../../run/types.js';
import { CliError } from '../errors.js';
import { openQueue, savedQueueSettings } from '../queue-run.js';
import { outputModeFor, startProgress, type ProgressFlags } from '../progress.js';
import {
  backendFor,
  finishRun,
  interruptOnSignals,
  latestRunWith,
  parseUsdFor,
  resolveRepo,
} from '../run-support.js';

/** Statuses `resume` continues: stopped part-way (Ctrl-C, a crash, a budget or `--on-failure stop`). */
const resumable: readonly RunStatus[] = ['interrupted', 'running', 'stopped', 'budget-exceeded'];
/** Statuses `retry` takes: runs with failed streams, whether or not they were stopped. */
const retryable: readonly RunStatus[] = ['failed', 'stopped', 'interrupted', 'running', 'budget-exceeded'];

/** Flags `resume` and `retry` share. */
interface ContinueFlags extends ProgressFlags {
  readonly repo?: string;
  readonly budgetUsd?: number;
  readonly streamBudgetUsd?: number;
  readonly redis?: string;
}

/** Resumes (or, with `retry`, retries) `runArg`, else the latest run in one of `statuses`, saying which. */
async function continueRun(
  runArg: string | undefined,
  flags: ContinueFlags,
  statuses: readonly RunStatus[],
  retry: RetryRequest | null,
): Promise<void> {
  const repo = await resolveRepo(flags.repo);
  const verb = retry === null ? 'Resuming' : 'Retrying';
  let runId = runArg;
  if (runId === undefined) {
    const latest = await latestRunWith(repo, statuses);
    if (latest === null)
      throw new CliError(
        retry === null
          ? `no resumable maestro run in ${repo} (none interrupted, stopped or crashed); a failed run's streams run again with \`maestro retry RUN\`, \`maestro status\` shows the latest run`
          : `no maestro run with failed streams in ${repo}; \`maestro status\` shows the latest run`,
      );
    runId = latest.runId;
    // Said up front: with no id the user should see which run this is before agents start.
    (flags.json === true ? process.stderr : process.stdout).write(
      `${verb} run ${runId} (${latest.status}, started ${latest.startedAt}); pass a run id to pick another\n`,
    );
  }
  const { options, analysis, state } = await loadRun(repo, runId);
  if (retry === null && state.status === 'failed')
    throw new CliError(
      `run ${runId} failed; resuming it would only end it as failed again. Fix the cause, then run its failed streams again with: maestro retry ${runId}`,
      1,
    );
  const interrupt = interruptOnSignals();
  const progress = startProgress(outputModeFor(flags), analysis);
  let closeQueue: () => Promise<void> = () => Promise.resolve();
  try {
    const overrides: ResumeOverrides = {
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
        executor: opened?.executor ?? new LocalExecutor(await backendFor(options), undefined, options.env),
        bus: progress.bus,
        signal: interrupt.signal,
      },
      overrides,
      retry,
    );
    progress.stop();
    await finishRun(result, flags.json === true, options.land);
  } finally {
    progress.stop();
    interrupt.dispose();
    await closeQueue();
  }
}

/** Options `resume` and `retry` both take. */
function withContinueOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
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
    .option('--no-color', 'no colours: plain progress lines instead of the live view (also NO_COLOR=1)');
}

/** `maestro resume [RUN]`: continue an interrupted or crashed run. */
export function registerResume(program: Command): void {
  withContinueOptions(
    program
      .command('resume')
      .description('Resume an interrupted or crashed run: merged streams are kept, half-done work repaired')
      .argument('[run]', 'run id (default: the latest interrupted, stopped or crashed run)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ maestro resume                          # the latest interrupted run (it says which)
  $ maestro resume 20261128-101500-ab12 --json

A failed run is not resumed (it would fail again): fix the cause, then \`maestro retry\`.`,
    )
    .action(async (runArg, flags) => {
      await continueRun(runArg, flags, resumable, null);
    });
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `maestro retry [RUN] [--stream ID…]`: run failed streams again on the same integration branch. */
export function registerRetry(program: Command): void {
  withContinueOptions(
    program
      .command('retry')
      .description(
        'Run a run’s failed streams again, and those skipped because of them, on the same integration branch (merged work is kept)',
      )
      .argument('[run]', 'run id (default: the latest run with failed streams)')
      .option(
        '--stream <id>',
        'retry only this failed or skipped stream (repeatable)',
        collect,
        [] as string[],
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ maestro retry                           # every failed stream of the latest failed run
  $ maestro retry 20261128-101500-ab12 --stream s3 --stream s5

Streams that merged stay merged and are not run (or paid for) again; each retried stream starts
over from the integration branch as it is now.`,
    )
    .action(async (runArg, flags) => {
      await continueRun(runArg, flags, retryable, { streamIds: flags.stream });
    });
}
