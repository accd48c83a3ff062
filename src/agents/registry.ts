/** Picks an agent backend by name; the only place that knows every backend. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { claudeBackend, type ClaudeOptions } from './claude.js';
import { codexBackend, type CodexOptions } from './codex.js';
import { commandBackend } from './command.js';
import { demoBackend } from './demo.js';
import { geminiBackend, type GeminiOptions } from './gemini.js';
import type { Pricer } from './pricing.js';
import type { AgentBackend } from './types.js';

/** The backends `--agent` accepts. */
export const backendNames = ['claude', 'codex', 'gemini', 'command', 'demo'] as const;
export type BackendName = (typeof backendNames)[number];

/** Options for `createBackend`; each backend reads the ones that concern it. */
export interface BackendOptions {
  /** `command`: the user's shell command line (required for `command`). */
  readonly agentCommand?: string;
  /** claude/codex/gemini: path of the CLI executable instead of looking it up on PATH. */
  readonly executable?: string;
  /** claude/codex/gemini: extra arguments appended to the CLI's command line. */
  readonly extraArgs?: readonly string[];
  /** Extra environment for the agent (e.g. `CLAUDE_CONFIG_DIR`, a stand-in API URL). */
  readonly env?: Readonly<Record<string, string>>;
  /** codex/gemini: prices tokens (they report no cost). */
  readonly pricer?: Pricer;
  /** demo: path of the demo agent script (defaults to the one shipped next to this module). */
  readonly demoAgentPath?: string;
  readonly claude?: ClaudeOptions;
  readonly codex?: CodexOptions;
  readonly gemini?: GeminiOptions;
}

/** An unusable backend configuration: an expected failure with a message for the user. */
export class BackendConfigError extends Error {
  override readonly name = 'BackendConfigError';
}

/** The backend called `name`, configured by `options`; throws `BackendConfigError` on a bad combination. */
export function createBackend(name: BackendName, options: BackendOptions = {}): AgentBackend {
  const common = {
    ...(options.executable === undefined ? {} : { executable: options.executable }),
    ...(options.extraArgs === undefined ? {} : { extraArgs: options.extraArgs }),
    ...(options.env === undefined ? {} : { env: options.env }),
  };
  switch (name) {
    case 'command':
      if (options.agentCommand === undefined || options.agentCommand.trim() === '')
        throw new BackendConfigError(
          '--agent command needs --agent-command "CMD" (the command to run per stream)',
        );
      return commandBackend(options.agentCommand);
    case 'demo':
      return demoBackend(options.demoAgentPath === undefined ? {} : { agentPath: options.demoAgentPath });
    case 'claude':
      return claudeBackend({ ...common, ...options.claude });
    case 'codex':
      return codexBackend({
        ...common,
        ...(options.pricer === undefined ? {} : { pricer: options.pricer }),
        ...options.codex,
      });
    case 'gemini':
      return geminiBackend({
        ...common,
        ...(options.pricer === undefined ? {} : { pricer: options.pricer }),
        ...options.gemini,
      });
    default:
      return unreachable(name);
  }
}

/**
 * The model a backend uses when the user, the plan and the role files name none it can use. Claude's is
 * `inherit` (Claude Code's own default, priced as Opus); Codex's is the newest model with the freeform
 * `apply_patch` tool in Codex 0.169.0 (agent-protocols.md); Gemini's is pinned rather than `auto`, which
 * costs an extra classifier request per prompt.
 */
export function defaultModelFor(name: BackendName): string | undefined {
  switch (name) {
    case 'claude':
      return undefined;
    case 'codex':
      return 'gpt-5.5';
    case 'gemini':
      return 'gemini-2.5-pro';
    case 'command':
    case 'demo':
      return undefined;
    default:
      return unreachable(name);
  }
}

type ModelFamily = 'claude' | 'openai' | 'gemini' | 'other';

function modelFamily(model: string): ModelFamily {
  const id = model.trim().toLowerCase();
  if (/^(opus|sonnet|haiku|inherit|default)$/.test(id) || id.startsWith('claude')) return 'claude';
  if (id.startsWith('gemini')) return 'gemini';
  if (/^(gpt|o\d|codex)/.test(id)) return 'openai';
  return 'other';
}

/**
 * Whether a backend can run a model a plan hint or role file names (role files say `model: sonnet`,
 * which means nothing to Codex). Unknown names pass: they may be a provider's new model.
 */
export function backendAcceptsModel(name: BackendName, model: string): boolean {
  const family = modelFamily(model);
  switch (name) {
    case 'claude':
      return family === 'claude' || family === 'other';
    case 'codex':
      return family === 'openai' || family === 'other';
    case 'gemini':
      return family === 'gemini' || family === 'other';
    case 'command':
    case 'demo':
      return true;
    default:
      return unreachable(name);
  }
}

/** Whether `name` is a backend name. */
export function isBackendName(name: string): name is BackendName {
  return (backendNames as readonly string[]).includes(name);
}

/** The default `--agent`: `claude` when it is on PATH, else `codex`, else `gemini`; null when none is installed. */
export function defaultBackendName(env: NodeJS.ProcessEnv = process.env): BackendName | null {
  for (const name of ['claude', 'codex', 'gemini'] as const) if (findOnPath(name, env) !== null) return name;
  return null;
}

/** The full path of an executable found on PATH, or null. */
export function findOnPath(executable: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, executable);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function unreachable(x: never): never {
  throw new Error(`unknown backend: ${String(x)}`);
}
