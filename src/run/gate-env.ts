/**
 * The integration worktree as the gates see it: set up like a stream worktree (`.worktreeinclude`,
 * the setup commands, run again only when a merge changed the manifests or lockfiles), with its own
 * `MAESTRO_PORT` (slot 0), and put back after every gate, so a gate that rewrites a tracked file
 * (`npm install` touching `package-lock.json`) leaves no trace in the next merge or gate; the change
 * is journaled as a warning. Also the baseline: the run-wide gates once on the base commit.
 */
import path from 'node:path';
import { git, syncWorktree, worktreeGitArgs } from '../git/git.js';
import { portOf } from './ports.js';
import type { SetupSpec } from './setup-detect.js';
import { ensureSetup, worktreeEnv } from './setup.js';
import type { RunEventInput } from './types.js';
import { failureExcerpt, runValidation, type ValidationResult } from './validate.js';
import { listIncludedFiles } from './worktree-include.js';

/** What the integration worktree's environment needs from the run. */
export interface GateEnvHost {
  readonly repo: string;
  readonly worktree: string;
  /** Setup output of the integration worktree goes here. */
  readonly logFile: string;
  readonly spec: SetupSpec | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** The run's port block (null until reserved: then the gate gets no `MAESTRO_PORT`). */
  portBase(): number | null;
  /** Which block of it (0, the default, is the integration worktree's; gate lanes have their own). */
  readonly portSlot?: number;
  emit(input: RunEventInput): void;
}

const noSetup: SetupSpec = { commands: [], source: 'none', detectedFrom: [], tools: [], teardown: [] };

/** Setup, gates and clean-up in the integration worktree (or a gate lane's worktree). */
export class GateEnv {
  #included: Promise<string[]> | null = null;

  constructor(private readonly host: GateEnvHost) {}

  #env(): Record<string, string> {
    const base = this.host.portBase();
    return worktreeEnv({
      root: this.host.repo,
      worktree: this.host.worktree,
      streamId: 'integration',
      port: base === null ? 0 : portOf(base, this.host.portSlot ?? 0),
    });
  }

  /**
   * Runs `commands` in the integration worktree (its files already match the tip): setup first when
   * the tip's setup files differ from the last setup's, a failing setup failing the gate like a
   * command would; afterwards the worktree is put back to the tip.
   */
  async run(commands: readonly string[], stop?: AbortSignal): Promise<ValidationResult> {
    const { host } = this;
    // `stop`: this gate alone is called off (a gate ahead of it in the pipeline failed).
    const signal = stop === undefined ? host.signal : AbortSignal.any([host.signal, stop]);
    const spec = host.spec ?? noSetup;
    this.#included ??= listIncludedFiles(host.repo).catch(() => []);
    const env = this.#env();
    const setup = await ensureSetup(
      spec,
      {
        root: host.repo,
        worktree: host.worktree,
        streamId: 'integration',
        port: Number(env.MAESTRO_PORT),
        logFile: host.logFile,
        timeoutMs: host.timeoutMs,
        signal,
        included: await this.#included,
      },
      () => {
        host.emit({
          type: 'setup-started',
          streamId: null,
          worktree: host.worktree,
          commands: spec.commands,
        });
      },
    );
    if (setup.ran)
      host.emit({
        type: 'setup-finished',
        streamId: null,
        ok: setup.ok,
        durationMs: setup.durationMs,
        ...(setup.ok
          ? {}
          : { command: setup.command, exitCode: setup.exitCode, output: failureExcerpt(setup.output) }),
      });
    if (!setup.ok)
      return {
        ok: false,
        command: `setup: ${setup.command}`,
        exitCode: setup.exitCode,
        output: setup.output,
      };
    await this.#restore('setup');
    const result = await runValidation(commands, host.worktree, {
      timeoutMs: host.timeoutMs,
      signal,
      env,
    });
    await this.#restore(`the gate (${commands.join(' && ')})`);
    return result;
  }

  /** Puts back tracked files a command changed and removes untracked ones; ignored files stay. */
  async #restore(after: string): Promise<void> {
    const at = await worktreeGitArgs(this.host.worktree);
    const status = await git(this.host.worktree, [
      ...at,
      'status',
      '--porcelain',
      '-z',
      '--untracked-files=all',
    ]);
    const paths = status
      .split('\0')
      .filter((entry) => entry.length > 3)
      .map((entry) => entry.slice(3));
    if (paths.length === 0) return;
    this.host.emit({ type: 'worktree-restored', after, paths });
    await syncWorktree(this.host.worktree);
  }
}

/** The run-wide gate commands: `--validate` and the plan's own (a phase's commands need its work). */
export function baselineCommands(validate: readonly string[], plan: readonly string[]): string[] {
  return [...new Set([...validate, ...plan])];
}

/** The message of a failed baseline, with a way forward. */
export function baselineMessage(failure: Extract<ValidationResult, { ok: false }>, sha: string): string {
  return [
    `your validation command fails on the base commit itself (${sha.slice(0, 12)}), before any agent changed anything:`,
    `  \`${failure.command}\` exited ${String(failure.exitCode)}`,
    '',
    failureExcerpt(failure.output)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
    '',
    'Fix it on the base branch (or fix the command: --validate, the plan, maestro.config), or pass --skip-baseline to run anyway.',
  ].join('\n');
}

/** Where the integration worktree's setup output goes. */
export function integrationLogFile(runDir: string): string {
  return path.join(runDir, 'integration.log');
}
