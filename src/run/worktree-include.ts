/**
 * `.worktreeinclude` (the convention Claude Code, Codex and Conductor share): gitignore-style
 * patterns naming ignored files of the user's checkout (`.env`, `config/local.yml`) that every
 * worktree needs. They are copied, never linked: nothing an agent does in its worktree may reach
 * the user's files. The copy is a reflink where the file system supports it (COPYFILE_FICLONE falls
 * back to a plain copy elsewhere).
 *
 * Matching is git's own: `git ls-files --others --ignored --exclude-from=.worktreeinclude` lists
 * the untracked files the patterns match, with gitignore semantics exactly, and `git check-ignore`
 * keeps those the repository ignores (an untracked, unignored file would be committed by the agent).
 */
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { gitRaw, gitWithInput } from '../git/git.js';

/** The file name of the include list, at the repository root. */
export const worktreeIncludeFile = '.worktreeinclude';

const splitZ = (text: string): string[] => text.split('\0').filter((s) => s.length > 0);

/** Repository-relative paths of the ignored files `.worktreeinclude` names in the user's checkout. */
export async function listIncludedFiles(repo: string): Promise<string[]> {
  const list = path.join(repo, worktreeIncludeFile);
  try {
    if (!(await stat(list)).isFile()) return [];
  } catch {
    return [];
  }
  const matched = await gitRaw(repo, ['ls-files', '-z', '--others', '--ignored', `--exclude-from=${list}`]);
  const candidates = matched.exitCode === 0 ? splitZ(matched.stdout) : [];
  if (candidates.length === 0) return [];
  // --stdin: the list can be long; check-ignore exits 1 when none of them is ignored.
  const checked = await gitWithInput(repo, ['check-ignore', '-z', '--stdin'], `${candidates.join('\0')}\0`);
  const ignored = checked.exitCode === 0 ? splitZ(checked.stdout) : [];
  const keep = new Set(ignored);
  return candidates.filter((p) => keep.has(p)).sort();
}

/** What `copyIncluded` did. */
export interface IncludeResult {
  readonly copied: number;
  /** Paths left out, with why (a directory symlink, an unreadable file). */
  readonly skipped: readonly string[];
}

/**
 * Copies the listed files from the user's checkout into `worktree`, replacing what is there.
 * Symlinks are copied as the file they point to, never as links back into the user's tree.
 */
export async function copyIncluded(
  repo: string,
  files: readonly string[],
  worktree: string,
): Promise<IncludeResult> {
  let copied = 0;
  const skipped: string[] = [];
  for (const rel of files) {
    const from = path.join(repo, rel);
    const to = path.join(worktree, rel);
    try {
      const info = await lstat(from);
      if (info.isSymbolicLink() && !(await stat(from)).isFile()) {
        skipped.push(`${rel} (a link to a directory)`);
        continue;
      }
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(from, to, constants.COPYFILE_FICLONE);
      copied += 1;
    } catch (error) {
      skipped.push(`${rel} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return { copied, skipped };
}
