import type { Command } from '@commander-js/extra-typings';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { skillSource } from '../assets.js';
import { CliError, ExitCode } from '../errors.js';

/** Where a skill install goes: the user's Claude Code config, or the current project. */
export type SkillScope = 'user' | 'project';

/** What `installSkill` did. */
export type SkillInstallResult =
  | { readonly kind: 'installed' | 'updated' | 'up-to-date'; readonly file: string }
  | { readonly kind: 'changed'; readonly file: string };

/** The nearest directory at or above `start` with a `.git` entry (a repository or worktree root), else `start`. */
export function projectRoot(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, '.git'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

/**
 * The skill file for a scope. User skills live in Claude Code's config directory: `$CLAUDE_CONFIG_DIR`
 * when set (Claude Code reads its user settings, agents and skills from there), else `~/.claude`.
 */
export function skillTarget(scope: SkillScope, env: NodeJS.ProcessEnv, cwd: string): string {
  const configDir = env['CLAUDE_CONFIG_DIR'];
  const userDir = configDir !== undefined && configDir !== '' ? configDir : path.join(homedir(), '.claude');
  const base = scope === 'user' ? userDir : path.join(projectRoot(cwd), '.claude');
  return path.join(base, 'skills', 'maestro', 'SKILL.md');
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Writes the skill to `target`, leaving a file that differs alone unless `force` (a `changed` result). */
export async function installSkill(
  target: string,
  force: boolean,
  source = skillSource,
): Promise<SkillInstallResult> {
  const text = await readFile(source, 'utf8');
  const current = await readOrNull(target);
  if (current === text) return { kind: 'up-to-date', file: target };
  if (current !== null && !force) return { kind: 'changed', file: target };
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, text);
  return { kind: current === null ? 'installed' : 'updated', file: target };
}

/** `maestro skill install`: puts Maestro's Claude Code skill where Claude Code finds it. */
export function registerSkill(program: Command): void {
  const skill = program
    .command('skill')
    .description('Manage the Claude Code skill that lets Claude run plans with Maestro')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro skill install              # for every project: ~/.claude/skills/maestro/
  $ maestro skill install --project    # for this repository: .claude/skills/maestro/`,
    );
  skill
    .command('install')
    .description(
      'Install the Maestro skill into ~/.claude/skills/maestro/ (--user) or .claude/skills/maestro/ (--project)',
    )
    .option('--user', 'for every project of this user (default; honours $CLAUDE_CONFIG_DIR)')
    .option('--project', 'for the current repository only (commit it to share it with the team)')
    .option('--force', 'overwrite a skill file that was changed locally')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro skill install              # ~/.claude/skills/maestro/SKILL.md
  $ maestro skill install --project    # <repo>/.claude/skills/maestro/SKILL.md
  $ maestro skill install --force      # replace a locally edited copy

Then ask Claude Code to "implement plan.md in parallel". Or install the plugin instead:
  $ claude --plugin-dir <maestro checkout>   # skill and role agents as plugin plan-maestro`,
    )
    .action(async (options) => {
      if (options.user === true && options.project === true) {
        throw new CliError('choose one of --user and --project');
      }
      const scope: SkillScope = options.project === true ? 'project' : 'user';
      const target = skillTarget(scope, process.env, process.cwd());
      let result: SkillInstallResult;
      try {
        result = await installSkill(target, options.force === true);
      } catch (error) {
        throw new CliError(
          `cannot install the skill to ${target}: ${(error as Error).message}`,
          ExitCode.failure,
        );
      }
      switch (result.kind) {
        case 'changed':
          throw new CliError(
            `${result.file} differs from Maestro's skill (edited locally, or another version); pass --force to overwrite it`,
            ExitCode.failure,
          );
        case 'up-to-date':
          process.stdout.write(`${result.file} is already up to date\n`);
          return;
        case 'installed':
        case 'updated':
          process.stdout.write(`${result.kind === 'installed' ? 'Installed' : 'Updated'} ${result.file}\n`);
          return;
      }
    });
}
