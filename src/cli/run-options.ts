/**
 * How `maestro run` settles its options: command-line flags over `maestro.config.*` over the plan over
 * built-in defaults, and the agent backend those options describe (executable, pricer, Claude settings).
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { PriceTable } from '../analyze/prices.js';
import { loadBuiltinPrices, priceUsage } from '../analyze/prices.js';
import {
  BackendConfigError,
  backendAcceptsModel,
  createBackend,
  defaultModelFor,
  findOnPath,
  isBackendName,
  type BackendOptions,
} from '../agents/registry.js';
import type { AgentBackend } from '../agents/types.js';
import type { MaestroConfig } from '../config/schema.js';
import type { SetupSpec } from '../run/setup-detect.js';
import type { RunOptions, ScheduleMode } from '../run/types.js';
import { shellQuote } from '../util/shell.js';
import { CliError } from './errors.js';
import type { LoadAnalysisOptions } from './load-analysis.js';

/** The `maestro run` flags that the config file can also set (flags with built-in defaults included). */
export interface RunFlags {
  readonly agentCommand?: string | undefined;
  readonly maxParallel?: number | undefined;
  readonly schedule: ScheduleMode;
  readonly validate: readonly string[];
  readonly onFailure: 'continue' | 'stop';
  readonly retries: number;
  readonly base: string;
  readonly land?: boolean | undefined;
  readonly timeout: number;
  readonly stallTimeout: number;
  readonly ownership: 'fail' | 'warn';
  readonly budgetUsd?: number | undefined;
  readonly streamBudgetUsd?: number | undefined;
  readonly model?: string | undefined;
  readonly maxTurns?: number | undefined;
  readonly agentPath?: string | undefined;
  readonly mcpConfig?: readonly string[] | undefined;
  /** `--skip-baseline` (commander's `--no-baseline` style is not used: the flag names the risk). */
  readonly skipBaseline?: boolean | undefined;
  /** `--speculate`: dependants may start from a batch tip whose gate still runs. */
  readonly speculate?: boolean | undefined;
  /** `--max-batch <n>`: most streams merged behind one gate run. */
  readonly maxBatch?: number | undefined;
  /** `--gate-lanes <n>`: gates that may run at once. */
  readonly gateLanes?: number | undefined;
}

/** Whether a flag was given on the command line (commander's value source), rather than left at its default. */
export type FlagGiven = (name: string) => boolean;

/** The analysis options the agent and the config file decide: which model each stream gets. */
export function modelChoices(agent: string, flags: Pick<RunFlags, 'model'>, config: MaestroConfig) {
  const backend = isBackendName(agent) ? agent : undefined;
  const defaultModel = backend === undefined ? undefined : defaultModelFor(backend);
  return {
    model: flags.model,
    roleModels: config.models,
    projectModel: config.model,
    defaultModel,
    ...(backend === undefined ? {} : { acceptsModel: (m: string) => backendAcceptsModel(backend, m) }),
  } satisfies LoadAnalysisOptions;
}

/** The run's options: a flag given on the command line wins, then the config file, then the plan, then defaults. */
export function resolveRunOptions(input: {
  readonly agent: string;
  readonly flags: RunFlags;
  readonly given: FlagGiven;
  readonly config: MaestroConfig;
  /** The plan's (or analysis's) parallelism, used when neither the flag nor the config sets one. */
  readonly planMaxParallel: number;
  /** The settled worktree setup (see `runSetupFor`). */
  readonly setup?: SetupSpec;
}): RunOptions {
  const { agent, flags, given, config } = input;
  const pick = <T>(name: string, flag: T, fromConfig: T | undefined): T =>
    given(name) ? flag : (fromConfig ?? flag);
  const minutes = (m: number | undefined) => (m === undefined ? undefined : Math.round(m * 60_000));
  const agentCommand = flags.agentCommand ?? config.agentCommand;
  const budgetUsd = flags.budgetUsd ?? config.budgets?.runUsd;
  const streamBudgetUsd = flags.streamBudgetUsd ?? config.budgets?.streamUsd;
  return {
    agent,
    ...(agentCommand === undefined ? {} : { agentCommand }),
    maxParallel: flags.maxParallel ?? config.maxParallel ?? input.planMaxParallel,
    schedule: pick('schedule', flags.schedule, config.schedule),
    // Both lists apply: the config's project-wide gates, then the command line's.
    validate: [...new Set([...(config.validate ?? []), ...flags.validate])],
    onFailure: pick('onFailure', flags.onFailure, config.onFailure),
    retries: pick('retries', flags.retries, config.retries),
    base: flags.base,
    land: flags.land === true,
    timeoutMs: pick('timeout', flags.timeout, minutes(config.timeouts?.streamMinutes)),
    stallMs: pick('stallTimeout', flags.stallTimeout, minutes(config.timeouts?.stallMinutes)),
    ownership: pick('ownership', flags.ownership, config.ownership),
    ...(config.env === undefined
      ? {}
      : {
          env: {
            ...(config.env.pass === undefined ? {} : { pass: config.env.pass }),
            ...(config.env.drop === undefined ? {} : { drop: config.env.drop }),
          },
        }),
    ...(budgetUsd === undefined ? {} : { budgetUsd }),
    ...(streamBudgetUsd === undefined ? {} : { streamBudgetUsd }),
    ...(flags.model === undefined ? {} : { model: flags.model }),
    ...(flags.maxTurns === undefined ? {} : { maxTurns: flags.maxTurns }),
    ...(flags.agentPath === undefined ? {} : { agentPath: flags.agentPath }),
    ...(flags.mcpConfig === undefined || flags.mcpConfig.length === 0 ? {} : { mcpConfig: flags.mcpConfig }),
    ...(input.setup === undefined ? {} : { setup: input.setup }),
    baseline: flags.skipBaseline === true ? false : (config.baseline ?? true),
    ...(flags.speculate === true ? { speculate: true } : {}),
    ...(flags.maxBatch === undefined ? {} : { maxBatch: flags.maxBatch }),
    ...(flags.gateLanes === undefined ? {} : { gateLanes: flags.gateLanes }),
  };
}

/** The run options that configure the agent backend (a worker has only these). */
export type BackendChoice = Pick<
  RunOptions,
  'agent' | 'agentCommand' | 'agentPath' | 'maxTurns' | 'mcpConfig'
>;

/** The backend options a run's options describe; `prices` prices Codex and Gemini tokens (they report no cost). */
export function backendOptionsFor(options: BackendChoice, prices: PriceTable): BackendOptions {
  return {
    ...(options.agentCommand === undefined ? {} : { agentCommand: options.agentCommand }),
    ...(options.agentPath === undefined ? {} : { executable: options.agentPath }),
    pricer: (model, tokens) => priceUsage(model, tokens, prices),
    // CLAUDE_CONFIG_DIR, CODEX_HOME and the like are inherited from Maestro's environment unchanged.
    claude: {
      ...(options.maxTurns === undefined ? {} : { maxTurns: options.maxTurns }),
      ...(options.mcpConfig === undefined ? {} : { mcpConfig: options.mcpConfig }),
    },
  };
}

/** Shell words that run what follows them (or nothing to look up), so the next word is the program. */
const shellPrefixes = new Set(['exec', 'command', 'nohup', 'time']);
const shellBuiltins = new Set([
  '.',
  ':',
  'true',
  'false',
  'cd',
  'eval',
  'set',
  'export',
  'echo',
  'printf',
  'test',
  '[',
]);

/** The first shell word of `command` at `from`: its text (unquoted) and where it ends. */
function shellWordAt(command: string, from: number): { word: string; start: number; end: number } | null {
  let start = from;
  while (start < command.length && /\s/.test(command.charAt(start))) start += 1;
  if (start >= command.length) return null;
  const quote = command.charAt(start);
  if (quote === "'" || quote === '"') {
    const close = command.indexOf(quote, start + 1);
    if (close < 0) return null;
    return { word: command.slice(start + 1, close), start, end: close + 1 };
  }
  let end = start;
  while (end < command.length && !/[\s;|&<>()]/.test(command.charAt(end))) end += 1;
  return { word: command.slice(start, end), start, end };
}

/**
 * `--agent-command` as it will run in each stream's worktree: a program given as a relative path
 * (`./my-agent.sh`) is made absolute against `cwd` (where the user ran Maestro), because the command
 * runs in the worktree, where an uncommitted script does not exist. Checks before anything starts that
 * the program exists and is executable; the error says where it looked.
 */
export function resolveAgentCommand(
  command: string,
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  let word = shellWordAt(command, 0);
  while (word !== null && (shellPrefixes.has(word.word) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word.word)))
    word = shellWordAt(command, word.end);
  if (word === null || word.word === '' || shellBuiltins.has(word.word)) return command;
  const program = word.word;
  if (program.includes('/')) {
    const absolute = path.resolve(cwd, program);
    const where =
      absolute === program ? absolute : `${absolute} (${program} from the current directory ${cwd})`;
    if (!isExecutable(absolute))
      throw new CliError(
        `--agent-command: ${statSafe(absolute) ? 'not an executable file' : 'no such file'}: looked at ${where}; ` +
          (statSafe(absolute) ? `make it executable (chmod +x ${program}) ` : 'fix the path ') +
          'or give the command an absolute path',
      );
    if (absolute === program) return command;
    return `${command.slice(0, word.start)}${shellQuote(absolute)}${command.slice(word.end)}`;
  }
  if (findOnPath(program, env) === null)
    throw new CliError(
      `--agent-command: \`${program}\` is not on PATH (looked in: ${
        (env['PATH'] ?? '')
          .split(path.delimiter)
          .filter((d) => d !== '')
          .join(', ') || 'nothing, PATH is empty'
      }); ` + 'install it, or give its path (./my-agent.sh is taken from the current directory)',
    );
  return command;
}

function statSafe(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

const installHints: Readonly<Record<string, string>> = {
  claude: 'install Claude Code with `npm install -g @anthropic-ai/claude-code`',
  codex: 'install Codex with `npm install -g @openai/codex`',
  gemini: 'install the Gemini CLI with `npm install -g @google/gemini-cli`',
};

/** Why no agent could be picked: none of the agent CLIs is on PATH; how to install each, or use the demo. */
export function noAgentMessage(): string {
  return [
    'no agent CLI found on PATH (looked for claude, codex, gemini). Install one:',
    ...Object.entries(installHints).map(([name, hint]) => `  ${name}: ${hint}`),
    'or pass --agent demo (no account needed) or --agent command --agent-command CMD, or --agent-path FILE with --agent NAME',
  ].join('\n');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Fails early, before any worktree exists, when the agent CLI cannot be found. */
function checkExecutable(options: BackendChoice): void {
  const hint = installHints[options.agent];
  if (hint === undefined) return;
  if (options.agentPath !== undefined) {
    if (!isExecutable(options.agentPath))
      throw new CliError(
        `--agent-path ${options.agentPath}: no executable file there; ${hint}, or point --agent-path at the ${options.agent} executable`,
      );
  } else if (findOnPath(options.agent) === null) {
    throw new CliError(
      `the ${options.agent} CLI is not on PATH; ${hint}, or pass --agent-path with the path of its executable`,
    );
  }
}

/** Creates the agent backend a run's options name; a bad combination or a missing CLI is a usage error. */
export async function createRunBackend(options: BackendChoice): Promise<AgentBackend> {
  if (!isBackendName(options.agent))
    throw new CliError(`unknown agent "${options.agent}"; use claude, codex, gemini, command or demo`);
  checkExecutable(options);
  const prices = await loadBuiltinPrices();
  try {
    return createBackend(options.agent, backendOptionsFor(options, prices));
  } catch (error) {
    if (error instanceof BackendConfigError) throw new CliError(error.message);
    throw error;
  }
}
