import { Option, type Command } from '@commander-js/extra-typings';
import path from 'node:path';
import { backendNames, defaultBackendName } from '../../agents/registry.js';
import { loadConfig } from '../../config/load.js';
import type { Analysis } from '../../analyze/types.js';
import { startRun } from '../../run/engine.js';
import { LocalExecutor } from '../../run/executor.js';
import { newRunId } from '../../run/journal.js';
import { scheduleModes, type RunOptions, type ScheduleMode } from '../../run/types.js';
import { CliError, ExitCode, parsePositiveInt } from '../errors.js';
import { loadAnalysis, planErrors, type LoadAnalysisOptions } from '../load-analysis.js';
import { openQueue, queueSettings, redisUrlEnv, savedQueueOptions } from '../queue-run.js';
import { modelChoices, noAgentMessage, resolveAgentCommand, resolveRunOptions } from '../run-options.js';
import { runSetupFor, setupSummaryLines } from '../setup-options.js';
import { describeSetup } from '../../run/setup-detect.js';
import { missingSetupTools } from '../../run/setup.js';
import { outputModeFor, startProgress } from '../progress.js';
import { planTitle } from '../../ui/analysis-summary.js';
import {
  backendFor,
  finishRun,
  interruptOnSignals,
  parseMinutes,
  parseUsdFor,
  resolveRepo,
} from '../run-support.js';

function parseNonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new CliError(`${flag} expects a whole number ≥ 0, got "${value}"`);
    return n;
  };
}

const parseUsd = parseUsdFor('--budget-usd');

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Reads, parses and analyses a plan; plan errors end the command with exit 1. */
async function analysePlanFile(
  planPath: string,
  repo: string,
  choices: Omit<LoadAnalysisOptions, 'repo'>,
): Promise<Analysis> {
  const analysis = await loadAnalysis(planPath, { repo, ...choices });
  const errors = planErrors(analysis);
  if (errors.length > 0) {
    // Diagnostics carry their location (`plan.md:5: …`) in the message already.
    const lines = errors.map((d) => d.message);
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

function describeSchedule(analysis: Analysis, mode: ScheduleMode, maxParallel: number): string {
  const lines = [
    `Plan: ${planTitle(analysis.plan.title)} — ${String(analysis.streams.length)} streams, schedule ${mode}, up to ${String(maxParallel)} at a time`,
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
      new Option(
        '--agent <name>',
        "agent backend (default: the config file's `agent`, else the first of claude, codex, gemini on PATH)",
      ).choices(backendNames),
    )
    .option(
      '--agent-command <cmd>',
      'for --agent command: shell command run per stream in its worktree (a relative program such as ./my-agent.sh is taken from the current directory)',
    )
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
      '--max-batch <n>',
      'most finished streams merged behind one gate run (default: all that are waiting; 1 gates each merge)',
      parsePositiveInt('--max-batch'),
    )
    .option(
      '--gate-lanes <n>',
      'gates that may run at once, each on the tip with the batches ahead of it (default 2; 1 runs one at a time)',
      parsePositiveInt('--gate-lanes'),
    )
    .option(
      '--speculate',
      'let dependants start from a batch whose gate still runs; restarted if it fails (costs agent time)',
    )
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
  $ maestro run plan.md --validate 'npm test' --speculate --yes   # trade agent time for speed

Finished streams queue for the integration branch while a gate runs; the next gate run validates all
of them at once, and a failing batch is bisected to find the stream that broke it (the others land
without running their agents again). --max-parallel counts running agents only.

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
      if (agent === null) throw new CliError(noAgentMessage());
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
      // Checked and made absolute here, before anything starts: the command runs in each stream's worktree.
      const rawAgentCommand = flags.agentCommand ?? config.agentCommand;
      const agentCommand =
        agent === 'command' && redisUrl === undefined && rawAgentCommand !== undefined
          ? resolveAgentCommand(rawAgentCommand)
          : undefined;
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
        flags: agentCommand === undefined ? flags : { ...flags, agentCommand },
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
            executor:
              opened?.executor ??
              new LocalExecutor(backend ?? (await backendFor(options)), undefined, options.env),
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
        await finishRun(result, json, options.land);
      } finally {
        progress.stop();
        interrupt.dispose();
        await opened?.client.close();
      }
    });
}
