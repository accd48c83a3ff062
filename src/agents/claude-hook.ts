/**
 * Maestro's Claude Code PreToolUse hook: denies a file write (Write, Edit, MultiEdit, NotebookEdit)
 * outside the stream's owned files as it happens, with a reason the agent sees. The Claude backend
 * names this script in the settings file it passes with `--settings`, and the scope file (written by
 * Maestro, never plan text on a command line) as its one argument.
 *
 * Facts relied on (Claude Code 2.1.330 hooks): the hook reads one JSON object on stdin
 * (`tool_name`, `tool_input.file_path` or `.notebook_path`, `cwd`); a JSON answer on stdout with
 * `hookSpecificOutput.permissionDecision: "deny"` and exit 0 blocks the call, and the CLI sends the
 * `permissionDecisionReason` back to the model as the tool's error result; exit 2 blocks with stderr as
 * the reason; any other failure lets the call through, so every unexpected error here becomes exit 2.
 */
import { lstatSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { outOfScopePaths } from '../run/ownership.js';

/** What one stream's agent may write: the file Maestro writes for the hook. */
export interface WriteScope {
  /** The stream's worktree (the agent's cwd). */
  readonly worktree: string;
  /** Owned paths and globs, relative to the worktree (the same rule as the check after the run). */
  readonly owned: readonly string[];
  /** Absolute files outside the worktree the agent may write (its completion report). */
  readonly alsoAllowed: readonly string[];
}

/** The tools whose writes the hook checks (the settings matcher names the same ones). */
export const CHECKED_WRITE_TOOLS = ['Write', 'Edit', 'MultiEdit', 'NotebookEdit'] as const;

const MAX_LISTED = 20;

/** Why a tool call must be denied, or null when it may go ahead (the normal permission rules still apply). */
export function deniedWrite(input: unknown, scope: WriteScope): string | null {
  const call = isRecord(input) ? input : {};
  const tool = typeof call['tool_name'] === 'string' ? call['tool_name'] : '';
  if (!(CHECKED_WRITE_TOOLS as readonly string[]).includes(tool)) return null;
  const toolInput = isRecord(call['tool_input']) ? call['tool_input'] : {};
  const raw = toolInput['file_path'] ?? toolInput['notebook_path'];
  if (typeof raw !== 'string' || raw === '')
    return `Maestro: ${tool} names no file, so it cannot be checked against this stream's files.`;
  const base = typeof call['cwd'] === 'string' && isAbsolute(call['cwd']) ? call['cwd'] : scope.worktree;
  const target = realish(isAbsolute(raw) ? raw : resolve(base, raw));
  if (scope.alsoAllowed.some((file) => realish(file) === target)) return null;
  const root = realish(scope.worktree);
  const rel = relative(root, target);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    return `Maestro: ${raw} is outside this stream's worktree (${scope.worktree}). Write only the stream's own files, inside the worktree: ${listed(scope.owned)}.`;
  const posix = rel.split(sep).join('/');
  if (posix === '.git' || posix.startsWith('.git/'))
    return `Maestro: ${posix} is git's own data; Maestro commits the stream's work itself.`;
  if (outOfScopePaths([posix], scope.owned).length > 0)
    return `Maestro: ${posix} is not one of this stream's files, so the write was refused (other streams own the rest of the repository, and parallel work on one file conflicts). This stream owns: ${listed(scope.owned)}. Leave other files as they are, and say in your report what they need.`;
  return null;
}

function listed(owned: readonly string[]): string {
  if (owned.length === 0) return '(no files)';
  const shown = owned.slice(0, MAX_LISTED).join(', ');
  return owned.length > MAX_LISTED ? `${shown} and ${String(owned.length - MAX_LISTED)} more` : shown;
}

/**
 * The real path a write to `p` would reach: symlinks followed on every existing part of the path,
 * including a dangling link at the end (a write through it creates its target).
 */
function realish(p: string, depth = 0): string {
  try {
    return realpathSync(p);
  } catch {
    // Not all there: `p` is a dangling link, or some part of it does not exist yet.
  }
  if (depth < 40) {
    try {
      if (lstatSync(p).isSymbolicLink()) return realish(resolve(dirname(p), readlinkSync(p)), depth + 1);
    } catch {
      // Does not exist at all: resolve its parent.
    }
  }
  const parent = dirname(p);
  return parent === p ? p : join(realish(parent, depth), basename(p));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and checks the scope file Maestro wrote. Throws on anything unexpected (the hook then blocks). */
export function readWriteScope(file: string): WriteScope {
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (
    !isRecord(value) ||
    typeof value['worktree'] !== 'string' ||
    !strings(value['owned']) ||
    !strings(value['alsoAllowed'])
  )
    throw new Error(`${file} is not a write-scope file`);
  return { worktree: value['worktree'], owned: value['owned'], alsoAllowed: value['alsoAllowed'] };
}

async function main(scopeFile: string | undefined): Promise<void> {
  try {
    if (scopeFile === undefined) throw new Error('no scope file argument');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const input: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const reason = deniedWrite(input, readWriteScope(scopeFile));
    if (reason !== null)
      process.stdout.write(
        `${JSON.stringify({
          hookSpecificOutput: {
            hookEventName: 'PreToolUse',
            permissionDecision: 'deny',
            permissionDecisionReason: reason,
          },
        })}\n`,
      );
  } catch (error) {
    // Fail closed: exit 2 blocks the call (any other failure would let it through).
    process.stderr.write(
      `Maestro's write check could not run (${error instanceof Error ? error.message : String(error)}), so the write was blocked.\n`,
    );
    process.exitCode = 2;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await main(process.argv[2]);
}
