/**
 * Setup in a worktree: `.worktreeinclude` files copied in, then the setup commands (`/bin/sh -c`,
 * in the worktree) with `MAESTRO_ROOT`, `MAESTRO_WORKTREE`, `MAESTRO_STREAM_ID` and `MAESTRO_PORT`
 * set. Plan text never reaches a command line: what a command needs to know comes through the
 * environment. Expected failures are values; output goes to the stream's log as it arrives.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findOnPath } from '../agents/registry.js';
import { gitRaw, lsFiles, resolveCommit, worktreeGitArgs } from '../git/git.js';
import { resolveSetup, setupInputFiles, type SetupInputs, type SetupSpec } from './setup-detect.js';
import { runShell } from './validate.js';
import { copyIncluded } from './worktree-include.js';

/** Where and for whom a setup runs. */
export interface SetupContext {
  /** The user's checkout (`MAESTRO_ROOT`; `.worktreeinclude` files are copied from there). */
  readonly root: string;
  readonly worktree: string;
  /** The stream the worktree is for, or `integration`. */
  readonly streamId: string;
  readonly port: number;
  /** Output is appended here. */
  readonly logFile: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** `.worktreeinclude` matches, listed once per run (`listIncludedFiles`). */
  readonly included: readonly string[];
}

/** How a setup ended. */
export type SetupResult =
  | { readonly ok: true; readonly durationMs: number; readonly warnings: readonly string[] }
  | {
      readonly ok: false;
      readonly durationMs: number;
      readonly command: string;
      readonly exitCode: number | null;
      /** The tail of the failing command's output. */
      readonly output: string;
    };

/** The environment every setup, teardown and gate command of a worktree sees. */
export function worktreeEnv(
  ctx: Pick<SetupContext, 'root' | 'worktree' | 'streamId' | 'port'>,
): Record<string, string> {
  return {
    MAESTRO_ROOT: ctx.root,
    MAESTRO_WORKTREE: ctx.worktree,
    MAESTRO_STREAM_ID: ctx.streamId,
    MAESTRO_PORT: String(ctx.port),
  };
}

/** Copies `.worktreeinclude` files in, then runs the setup commands in order, stopping at the first failure. */
export async function runSetup(spec: SetupSpec, ctx: SetupContext): Promise<SetupResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const warnings: string[] = [];
  await mkdir(path.dirname(ctx.logFile), { recursive: true });
  if (ctx.included.length > 0) {
    const copied = await copyIncluded(ctx.root, ctx.included, ctx.worktree);
    warnings.push(...skippedWarning(copied.skipped));
  }
  // Appends are chained so chunks land in order without holding the log open.
  let log: Promise<void> = Promise.resolve();
  const write = (text: string) => {
    log = log.then(() => appendFile(ctx.logFile, text)).catch(() => undefined);
  };
  for (const command of spec.commands) {
    write(`[maestro] setup: ${command}\n`);
    const r = await runShell(command, ctx.worktree, {
      timeoutMs: ctx.timeoutMs,
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      env: worktreeEnv(ctx),
      onOutput: write,
    });
    if (r.exitCode !== 0) {
      write(`[maestro] setup failed: \`${command}\` exited ${String(r.exitCode)}\n`);
      await log;
      return { ok: false, durationMs: elapsed(), command, exitCode: r.exitCode, output: r.output };
    }
  }
  await log;
  return { ok: true, durationMs: elapsed(), warnings };
}

/** Runs teardown commands in a worktree about to be removed; best effort, failures are returned as text. */
export async function runTeardown(
  spec: Pick<SetupSpec, 'teardown'>,
  ctx: Pick<SetupContext, 'root' | 'worktree' | 'streamId' | 'port' | 'timeoutMs'>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const command of spec.teardown) {
    const r = await runShell(command, ctx.worktree, { timeoutMs: ctx.timeoutMs, env: worktreeEnv(ctx) });
    if (r.exitCode !== 0)
      problems.push(
        `teardown \`${command}\` exited ${String(r.exitCode)}: ${r.output.trim().split('\n').slice(-3).join(' / ')}`,
      );
  }
  return problems;
}

/**
 * What a setup depends on at commit `sha`: the blob ids of the root's manifests, lockfiles and
 * `.worktreeinclude`. Equal fingerprints mean the setup would install the same things again.
 */
export async function setupFingerprint(repo: string, sha: string): Promise<string> {
  const r = await gitRaw(repo, ['ls-tree', '-z', sha, '--', ...setupInputFiles]);
  return createHash('sha256').update(r.stdout).digest('hex').slice(0, 16);
}

/** Detected tools that are not on PATH, each with the lockfile that asked for it. */
export function missingSetupTools(spec: SetupSpec, env: NodeJS.ProcessEnv = process.env): string[] {
  if (spec.source !== 'detected') return [];
  return spec.tools.flatMap((tool, i) =>
    findOnPath(tool, env) === null ? [`${tool} (for ${spec.detectedFrom[i] ?? 'setup'})`] : [],
  );
}

/** Settles a run's setup, listing the base commit's files for detection when nothing is configured. */
export async function setupForRun(
  repo: string,
  base: string,
  inputs: Omit<SetupInputs, 'trackedPaths'>,
): Promise<SetupSpec> {
  const configured = inputs.flags.length > 0 || inputs.config !== undefined || inputs.plan !== undefined;
  const sha = configured ? null : await resolveCommit(repo, base);
  const trackedPaths = sha === null ? [] : await lsFiles(repo, sha);
  return resolveSetup({ ...inputs, trackedPaths });
}

/** Where a worktree's setup record lives: in its git admin directory, so it goes when the worktree goes. */
async function setupMarker(worktree: string): Promise<string> {
  const args = await worktreeGitArgs(worktree);
  return path.join(args[1] ?? worktree, 'maestro-setup');
}

/**
 * What a setup at commit `sha` depends on: the commands and the commit's setup files. `repo` is the
 * repository or one of its worktrees (`HEAD`: the worktree's checked-out commit).
 */
export async function setupKey(spec: SetupSpec, repo: string, sha = 'HEAD'): Promise<string> {
  const files = await setupFingerprint(repo, sha);
  const commands = createHash('sha256').update(spec.commands.join('\0')).digest('hex').slice(0, 16);
  return `${commands}:${files}`;
}

/** The `setupKey` of a worktree's last successful setup, or null (none, or the worktree is gone). */
export async function recordedSetupKey(worktree: string): Promise<string | null> {
  try {
    const text = (await readFile(await setupMarker(worktree), 'utf8')).trim();
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

/** How `ensureSetup` ended: the setup ran (with its result), or the worktree's setup was already current. */
export type EnsureSetupResult =
  | { readonly ran: false; readonly ok: true; readonly warnings: readonly string[] }
  | ({ readonly ran: true } & SetupResult);

/**
 * Gets a worktree ready: `.worktreeinclude` files copied in every time (cheap, and an agent may have
 * changed them), and the setup commands run only when the worktree's manifests, lockfiles or the
 * commands differ from what its last successful setup ran on (a recycled worktree keeps its ignored
 * dependency directories, so an unchanged install need not run again). `onStarted` is called just
 * before the commands run.
 */
export async function ensureSetup(
  spec: SetupSpec,
  ctx: SetupContext,
  onStarted: () => void = () => undefined,
): Promise<EnsureSetupResult> {
  if (spec.commands.length === 0) {
    const copied = await copyIncluded(ctx.root, ctx.included, ctx.worktree);
    return { ran: false, ok: true, warnings: skippedWarning(copied.skipped) };
  }
  const [marker, key, last] = await Promise.all([
    setupMarker(ctx.worktree),
    setupKey(spec, ctx.worktree),
    recordedSetupKey(ctx.worktree),
  ]);
  if (last === key) {
    const copied = await copyIncluded(ctx.root, ctx.included, ctx.worktree);
    return { ran: false, ok: true, warnings: skippedWarning(copied.skipped) };
  }
  // Forgotten first: a setup cut short must run again, whatever it left behind.
  await rm(marker, { force: true });
  onStarted();
  const result = await runSetup(spec, ctx);
  if (result.ok) await writeFile(marker, `${key}\n`);
  return { ran: true, ...result };
}

/** Marks a worktree's setup as not done (its dependencies were changed by something other than setup). */
export async function forgetSetup(worktree: string): Promise<void> {
  await rm(await setupMarker(worktree), { force: true });
}

function skippedWarning(skipped: readonly string[]): string[] {
  return skipped.length === 0 ? [] : [`.worktreeinclude: not copied: ${skipped.join(', ')}`];
}
