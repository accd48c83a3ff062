import { Option, type Command } from '@commander-js/extra-typings';
import path from 'node:path';
import { backendNames, defaultBackendName } from '../../agents/registry.js';
import { loadConfig } from '../../config/load.js';
import { findRepoRoot } from '../../analyze/repo-files.js';
import type { Analysis } from '../../analyze/types.js';
import { RunError, startRun, type RunResult } from '../../run/engine.js';
import { EventBus } from '../../run/events.js';
import { LocalExecutor } from '../../run/executor.js';
import { newRunId } from '../../run/journal.js';
import { landRun } from '../../run/land.js';
import { jsonReporter, lineReporter } from '../../run/reporters.js';
import { formatSummary } from '../../run/summary.js';
import { scheduleModes, type RunOptions, type ScheduleMode } from '../../run/types.js';
import { CliError, ExitCode, parsePositiveInt } from '../errors.js';
import { loadAnalysis, planErrors, type LoadAnalysisOptions } from '../load-analysis.js';
import { openQueue, queueSettings, redisUrlEnv, savedQueueOptions } from '../queue-run.js';
import { createRunBackend, modelChoices, resolveRunOptions } from '../run-options.js';
import { runSetupFor, setupSummaryLines } from '../setup-options.js';
import { describeSetup } from '../../run/setup-detect.js';
import { missingSetupTools } from '../../run/setup.js';
import { outputModeFor, startProgress } from '../progress.js';

/** Parses a positive number of minutes (fractions allowed) into milliseconds. */
export function parseMinutes(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new CliError(`${flag} expects a positive number of minutes, got "${value}"`);
    return Math.round(n * 60_000);
  };
}

function parseNonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new CliError(`${flag} expects a whole number ≥ 0, got "${value}"`);
    return n;
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
const parseUsd = parseUsdFor('--budget-usd');

const collect = (value: string, previous: string[]): string[] => [...previous, value];

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

/** Reads, parses and analyses a plan; plan errors end the command with exit 1. */
async function analysePlanFile(
  planPath: string,
  repo: string,
  choices: Omit<LoadAnalysisOptions, 'repo'>,
): Promise<Analysis> {
  const analysis = await loadAnalysis(planPath, { repo, ...choices });
  const errors = planErrors(analysis);
  if (errors.length > 0) {
    const lines = errors.map(
      (d) => `${d.file ?? planPath}${d.line === undefined ? '' : `:${String(d.line)}`}: ${d.message}`,
    );
    throw new CliError(
      `the plan has errors; fix them before running:\n${lines.join('\n')}`,
      ExitCode.failure,
    );
  }
  if (analysis.streams.length === 0)
    throw new CliError(
      `${planPath} has no phases to run; add \`## Phase 1: Title\` sections (\`maestro init\` writes an example plan)`,
      ExitCode.failure,
    );
  return analysis;
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

/** A bus with the reporter the flags ask for: JSON lines on stdout, or one plain line per event. */
export function reporterBus(json: boolean): EventBus {
  const bus = new EventBus();
  const write = (line: string) => process.stdout.write(line);
  bus.subscribe(json ? jsonReporter(write) : lineReporter(write));
  return bus;
}

/** Prints the summary and maps the run's end to an exit code. */
export async function finishRun(result: RunResult, json: boolean, land: boolean): Promise<number> {
  const state = result.state;
  const order = Object.keys(state.streams);
  const summary = formatSummary(state, order, {
    analysis: result.analysis,
    reportFile: result.reportFile,
    ...(result.options.budgetUsd === undefined ? {} : { budgetUsd: result.options.budgetUsd }),
    ...(result.options.streamBudgetUsd === undefined
      ? {}
      : { streamBudgetUsd: result.options.streamBudgetUsd }),
  });
  (json ? process.stderr : process.stdout).write(`\n${summary}`);
  if (land && state.status === 'completed') {
    const landed = await landRun(state.repo, state);
    const out = json ? process.stderr : process.stdout;
    if (landed.landed) out.write(`Landed: ${landed.branch} fast-forwarded to ${landed.sha.slice(0, 10)}\n`);
    else
      out.write(`Not landed: ${landed.reason}${landed.command === null ? '' : `; run: ${landed.command}`}\n`);
  }
  switch (state.status) {
    case 'completed':
      return ExitCode.ok;
    case 'interrupted':
      return ExitCode.interrupted;
    case 'failed':
    case 'stopped':
    case 'budget-exceeded':
    case 'aborted':
    case 'running':
      return ExitCode.failure;
  }
}

/** Converts the engine's expected failures into CLI errors. */
export function asCliError(error: unknown): unknown {
  if (error instanceof RunError)
    return new CliError(error.message, error.code === 'locked' ? ExitCode.failure : ExitCode.usage);
  return error;
}

function describeSchedule(analysis: Analysis, mode: ScheduleMode, maxParallel: number): string {
  const lines = [
    `Plan: ${analysis.plan.title} — ${String(analysis.streams.length)} streams, schedule ${mode}, up to ${String(maxParallel)} at a time`,
  ];
  analysis.waves.forEach((wave, i) => {
    const names = wave.map((id) => {
      const s = analysis.streams.find((x) => x.id === id);
      return s ? `${id} ${s.title} [${s.role}]` : id;
    });
    lines.push(`  wave ${String(i + 1)}: ${names.join(' · ')}`);
  });
  if (analysis.criticalPath.length > 0) lines.push(`  critical path: ${analysis.criticalPath.join(' → ')}`);
  return `${lines.join('\n')}\n`;
}

async function ask(message: string): Promise<boolean> {
  // Loaded only when a question is shown: `--yes` runs never load the prompt library.
  const { confirm, isCancel } = await import('@clack/prompts');
  const answer = await confirm({ message });
  return !isCancel(answer) && answer;
}

/** `maestro run PLAN`: the execution engine. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'Run a plan: parallel agents in git worktrees, merged in dependency order behind validation gates',
    )
    .argument('<plan>', 'the Markdown plan')
    .option('--repo <dir>', 'repository to work in (default: the one containing the current directory)')
    .addOption(
      new Option('--agent <name>', 'agent backend (default: claude if on PATH)').choices(backendNames),
    )
    .option('--agent-command <cmd>', 'for --agent command: shell command run per stream in its worktree')
    .option(
      '--max-parallel <n>',
      'most agents at once (default: the plan’s, else 10)',
      parsePositiveInt('--max-parallel'),
    )
    .addOption(
      new Option('--schedule <mode>', 'how streams are started').choices(scheduleModes).default('dag'),
    )
    .option(
      '--validate <cmd>',
      'extra validation command run after each merge, or each wave with --schedule waves (repeatable)',
      collect,
      [] as string[],
    )
    .addOption(
      new Option('--on-failure <what>', 'after a stream fails')
        .choices(['continue', 'stop'] as const)
        .default('continue' as const),
    )
    .option('--retries <n>', 'retries after a failed validation gate', parseNonNegativeInt('--retries'), 1)
    .option('--base <ref>', 'commit or branch the run starts from', 'HEAD')
    .option('-y, --yes', 'start without asking for approval')
    .option('--land', 'fast-forward the base branch to the result when it has not moved')
    .addOption(
      new Option('--timeout <min>', 'wall-clock limit per agent, in minutes (fractions allowed)')
        .argParser(parseMinutes('--timeout'))
        .default(60 * 60_000, '60'),
    )
    .addOption(
      new Option('--stall-timeout <min>', 'stop an agent that prints nothing for this many minutes')
        .argParser(parseMinutes('--stall-timeout'))
        .default(10 * 60_000, '10'),
    )
    .addOption(
      new Option('--ownership <mode>', 'out-of-scope edits fail the stream or only warn')
        .choices(['fail', 'warn'] as const)
        .default('fail' as const),
    )
    .option('--json', 'events as JSON lines on stdout (summary on stderr)')
    .option(
      '--review',
      'before each merge, show the diff stat and ask: approve, skip or abort (needs a terminal)',
    )
    .option('--no-live', 'plain progress lines even on a terminal (the live view is the default on a TTY)')
    .option('--no-color', 'no colours: plain progress lines instead of the live view (also NO_COLOR=1)')
    .option(
      '--budget-usd <usd>',
      'stop starting and running agents once the run has cost this much',
      parseUsd,
    )
    .option(
      '--stream-budget-usd <usd>',
      'stop an agent once its stream has cost this much (Claude Code --max-budget-usd)',
      parseUsdFor('--stream-budget-usd'),
    )
    .option('--model <model>', 'model for every stream (default: per role; see maestro.config models)')
    .option('--max-turns <n>', 'turn limit per agent run (Claude Code)', parsePositiveInt('--max-turns'))
    .option('--agent-path <file>', 'path of the agent CLI executable (default: looked up on PATH)')
    .option(
      '--setup <cmd>',
      'command run in each worktree before its agent or first gate (repeatable; default: detected from the lockfile)',
      collect,
      [] as string[],
    )
    .option(
      '--teardown <cmd>',
      'command run in a worktree before `maestro clean` removes it (repeatable)',
      collect,
      [] as string[],
    )
    .option('--skip-baseline', 'do not first run the validation commands on the base commit')
    .option(
      '--mcp-config <file|json>',
      'MCP server config passed through to Claude Code (repeatable)',
      collect,
      [] as string[],
    )
    .option(
      '--redis <url>',
      'run the agents on `maestro worker`s through this Redis (redis://[:password@]host:port, rediss:// for TLS; or MAESTRO_REDIS_URL)',
    )
    .option(
      '--remote <name>',
      'with --redis: the git remote workers fetch from and push to (default: origin)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ maestro run plan.md                                  # claude agents, asks before starting
  $ maestro run plan.md --agent codex --max-parallel 4 --yes
  $ maestro run plan.md --agent command --agent-command './my-agent.sh' --yes
  $ maestro run plan.md --schedule waves --validate 'npm test' --retries 2
  $ maestro run plan.md --json --yes > events.jsonl     # for CI
  $ maestro run plan.md --yes --review                   # approve, skip or abort each merge
  $ maestro run plan.md --yes --redis redis://10.0.0.5:6379 --remote origin   # on maestro workers
  $ maestro run plan.md --setup 'npm ci' --validate 'npm test' --yes
  $ maestro run plan.md --setup 'uv sync' --teardown 'docker compose down' --yes

Each worktree is set up before its agent starts: --setup, else maestro.config's setup, else the plan's,
else the lockfile's install (package-lock.json → npm ci, uv.lock → uv sync, …; setup: [] turns it off).
Ignored files named in .worktreeinclude (.env) are copied in first. Each agent gets its own
MAESTRO_PORT. The validation commands first run once on the base commit (--skip-baseline skips it).

On a terminal, progress is a live view (one line per running agent); in CI, in pipes, or with
--no-live, --no-color or NO_COLOR=1, one plain line per event.

The user's checkout is never touched: work happens on maestro/<run-id> in worktrees under
$XDG_CACHE_HOME/maestro/ (default ~/.cache/maestro/); journals and reports stay in .maestro/runs/.
Ctrl-C stops agents and keeps the run resumable (maestro resume); a second Ctrl-C exits at once.`,
    )
    .action(async (planArg, flags, command) => {
      const repo = await resolveRepo(flags.repo, planArg);
      const config = (await loadConfig(repo))?.config ?? {};
      const agent = flags.agent ?? config.agent ?? defaultBackendName();
      if (agent === null) {
        throw new CliError(
          'no agent CLI (claude, codex, gemini) found on PATH; pass --agent claude|codex|gemini|command|demo',
        );
      }
      const redisUrl = flags.redis ?? process.env[redisUrlEnv] ?? config.redis;
      if (flags.remote !== undefined && redisUrl === undefined)
        throw new CliError('--remote is for runs on workers: use it with --redis URL');
      // With --redis the workers run the agents with their own --agent-command; this machine needs none.
      if (
        agent === 'command' &&
        redisUrl === undefined &&
        (flags.agentCommand ?? config.agentCommand) === undefined
      )
        throw new CliError('--agent command needs --agent-command "CMD"');
      const queue =
        redisUrl === undefined
          ? null
          : await queueSettings(repo, redisUrl, flags.remote ?? config.remote ?? 'origin');
      if (flags.review === true && (flags.json === true || !(process.stdin.isTTY && process.stdout.isTTY))) {
        throw new CliError(
          '--review asks before each merge and needs an interactive terminal (and no --json); run it in a terminal, or drop --review',
        );
      }
      if (flags.yes !== true && !(process.stdin.isTTY && process.stdout.isTTY)) {
        throw new CliError('no terminal to ask for approval; pass --yes to start without asking');
      }
      const analysis = await analysePlanFile(path.resolve(planArg), repo, {
        maxParallel: flags.maxParallel ?? config.maxParallel,
        ...modelChoices(agent, flags, config),
      });
      const setup = await runSetupFor(repo, analysis, flags.setup, {
        teardown: flags.teardown,
        config,
        base: flags.base,
      });
      const resolved: RunOptions = resolveRunOptions({
        agent,
        flags,
        given: (name) => command.getOptionValueSource(name) === 'cli',
        config,
        planMaxParallel: analysis.maxParallel,
        setup,
      });
      const missing = missingSetupTools(setup);
      if (missing.length > 0)
        throw new CliError(
          `${describeSetup(setup)}, but ${missing.join(', ')} is not on PATH; install it, or set the setup yourself (--setup CMD, or setup: [] in maestro.config.json to turn it off)`,
        );
      const options: RunOptions =
        queue === null ? resolved : { ...resolved, redis: savedQueueOptions(queue) };
      // On workers the agents are theirs: nothing to find on this machine.
      const backend = queue === null ? await backendFor(options) : null;
      const json = flags.json === true;
      (json ? process.stderr : process.stdout).write(
        describeSchedule(analysis, options.schedule, options.maxParallel) +
          (await setupSummaryLines(setup, repo)).map((l) => `  ${l}\n`).join(''),
      );
      if (flags.yes !== true && options.schedule !== 'waves') {
        const first = analysis.waves[0]?.length ?? 0;
        const ok = await ask(
          `Ready to spawn ${String(analysis.streams.length)} ${agent} agents (${String(Math.min(first, options.maxParallel))} at first, up to ${String(options.maxParallel)} at a time)?`,
        );
        if (!ok) throw new CliError('not started', ExitCode.ok);
      }
      const interrupt = interruptOnSignals();
      const progress = startProgress(outputModeFor(flags), analysis);
      const runId = newRunId();
      const opened =
        queue === null
          ? null
          : await openQueue(queue, repo, runId, agent, (m) => process.stderr.write(`maestro: ${m}\n`));
      try {
        const result = await startRun(
          repo,
          analysis,
          options,
          {
            executor: opened?.executor ?? new LocalExecutor(backend ?? (await backendFor(options))),
            bus: progress.bus,
            signal: interrupt.signal,
            ...(flags.yes === true
              ? {}
              : {
                  approveWave: (wave: number, ids: readonly string[]) =>
                    progress.whilePaused(() =>
                      ask(`Ready to spawn ${String(ids.length)} agents in wave ${String(wave + 1)}?`),
                    ),
                }),
            ...(flags.review === true
              ? {
                  reviewMerge: (review) =>
                    progress.whilePaused(async () => (await import('../review.js')).askReview(review)),
                }
              : {}),
          },
          runId,
        );
        progress.stop();
        process.exitCode = await finishRun(result, json, options.land);
      } catch (error) {
        throw asCliError(error);
      } finally {
        progress.stop();
        interrupt.dispose();
        await opened?.client.close();
      }
    });
}
