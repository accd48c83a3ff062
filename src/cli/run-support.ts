/**
 * What `run`, `resume`, `retry`, `status`, `abort` and `clean` share: finding the repository and the
 * run, flag parsers, Ctrl-C handling, and the end of a run (report, summary, `--land`, outcome).
 */
import path from 'node:path';
import { findRepoRoot } from '../analyze/repo-files.js';
import { writeMarkdownReport } from '../report/load.js';
import { loadRun, type RunResult } from '../run/engine.js';
import { listRuns } from '../run/journal.js';
import { landRun } from '../run/land.js';
import { formatSummary } from '../run/summary.js';
import type { RunOptions, RunStatus } from '../run/types.js';
import { CliError, ExitCode } from './errors.js';
import { setOutcome } from './outcome.js';
import { createRunBackend } from './run-options.js';

/** Parses a positive number of minutes (fractions allowed) into milliseconds. */
export function parseMinutes(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new CliError(`${flag} expects a positive number of minutes, got "${value}"`);
    return Math.round(n * 60_000);
  };
}

/** Parses a positive amount of USD for `flag`. */
export function parseUsdFor(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new CliError(`${flag} expects a positive amount, got "${value}"`);
    return n;
  };
}

/** The repository to work in: `--repo`, else the one around `near` (the plan), else the current directory's. */
export async function resolveRepo(repoFlag: string | undefined, near?: string): Promise<string> {
  if (repoFlag === undefined && near !== undefined) {
    const around = await findRepoRoot(path.dirname(path.resolve(near)));
    if (around !== null) return around;
  }
  const dir = path.resolve(repoFlag ?? process.cwd());
  const top = await findRepoRoot(dir);
  if (top === null) throw new CliError(`${dir} is not inside a git repository (use --repo DIR)`);
  return top;
}

/** The run named on the command line, else the latest one. */
export async function pickRun(repo: string, run: string | undefined): Promise<string> {
  if (run !== undefined) return run;
  const runs = await listRuns(repo);
  const latest = runs.at(-1);
  if (latest === undefined)
    throw new CliError(`no maestro runs in ${repo}; start one with \`maestro run PLAN\``);
  return latest;
}

/** The newest run whose status is one of `statuses`, with that status; null when there is none. */
export async function latestRunWith(
  repo: string,
  statuses: readonly RunStatus[],
): Promise<{ readonly runId: string; readonly status: RunStatus; readonly startedAt: string } | null> {
  for (const id of (await listRuns(repo)).reverse()) {
    try {
      const { state } = await loadRun(repo, id);
      if (statuses.includes(state.status))
        return { runId: id, status: state.status, startedAt: state.startedAt };
    } catch {
      // Not a run directory we can read.
    }
  }
  return null;
}

/** Creates the agent backend a run's options name (executable, pricer, Claude settings included). */
export function backendFor(options: RunOptions) {
  return createRunBackend(options);
}

/** Ctrl-C handling for a run: the first stops agents and lets the run write its state; the second exits at once. */
export function interruptOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const handler = () => {
    count += 1;
    if (count === 1) {
      process.stderr.write(
        '\nmaestro: stopping agents and saving state… (press Ctrl-C again to exit at once)\n',
      );
      controller.abort();
    } else {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Writes the run's Markdown report (null when it cannot be written: that must not fail a finished run). */
async function writeReport(result: RunResult): Promise<string | null> {
  try {
    return await writeMarkdownReport(result.paths.dir, { analysis: result.analysis });
  } catch {
    return null;
  }
}

/** The end of `run`, `resume` or `retry`: report, summary, `--land`; the run's status is the command's outcome. */
export async function finishRun(result: RunResult, json: boolean, land: boolean): Promise<void> {
  const state = result.state;
  const reportFile = await writeReport(result);
  const summary = formatSummary(state, Object.keys(state.streams), {
    analysis: result.analysis,
    reportFile,
    landing: land,
    ...(result.options.budgetUsd === undefined ? {} : { budgetUsd: result.options.budgetUsd }),
    ...(result.options.streamBudgetUsd === undefined
      ? {}
      : { streamBudgetUsd: result.options.streamBudgetUsd }),
  });
  const out = json ? process.stderr : process.stdout;
  out.write(`\n${summary}`);
  if (land && state.status === 'completed') {
    const landed = await landRun(state.repo, state);
    if (landed.landed) out.write(`Landed: ${landed.branch} fast-forwarded to ${landed.sha.slice(0, 10)}\n`);
    else
      out.write(`Not landed: ${landed.reason}${landed.command === null ? '' : `; run: ${landed.command}`}\n`);
  }
  setOutcome({ kind: 'run-ended', status: state.status });
}
