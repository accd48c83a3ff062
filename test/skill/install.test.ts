/** `maestro skill install` run as a user would (the built CLI), with HOME pointed at a temp dir. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const skillText = readFile(new URL('../../skill/SKILL.md', import.meta.url), 'utf8');

let home: string;
let repo: string;
let env: Record<string, string>;

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'maestro-skill-home-'));
  repo = await mkdtemp(path.join(tmpdir(), 'maestro-skill-repo-'));
  await mkdir(path.join(repo, '.git'));
  await mkdir(path.join(repo, 'src', 'deep'), { recursive: true });
  // CLAUDE_CONFIG_DIR would redirect user installs; the default case must not see the developer's.
  env = { HOME: home, CLAUDE_CONFIG_DIR: '' };
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(repo, { recursive: true, force: true });
});

describe('maestro skill install', () => {
  it('installs into ~/.claude/skills/maestro by default, then reports it up to date', async () => {
    const target = path.join(home, '.claude', 'skills', 'maestro', 'SKILL.md');
    const first = await runCli(['skill', 'install'], repo, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`Installed ${target}\n`);
    expect(await readFile(target, 'utf8')).toBe(await skillText);

    const again = await runCli(['skill', 'install', '--user'], repo, env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`${target} is already up to date\n`);
  });

  it('installs into the repository root with --project, from a subdirectory', async () => {
    const result = await runCli(['skill', 'install', '--project'], path.join(repo, 'src', 'deep'), env);
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(path.join(repo, '.claude', 'skills', 'maestro', 'SKILL.md'), 'utf8')).toBe(
      await skillText,
    );
  });

  it('refuses to overwrite a changed file without --force', async () => {
    const target = path.join(repo, '.claude', 'skills', 'maestro', 'SKILL.md');
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, 'my own notes\n');

    const refused = await runCli(['skill', 'install', '--project'], repo, env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`maestro: ${target} differs from Maestro's skill`);
    expect(refused.stderr).toContain('--force');
    expect(await readFile(target, 'utf8')).toBe('my own notes\n');

    const forced = await runCli(['skill', 'install', '--project', '--force'], repo, env);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(`Updated ${target}\n`);
    expect(await readFile(target, 'utf8')).toBe(await skillText);
  });

  it('honours CLAUDE_CONFIG_DIR for user installs and rejects --user with --project', async () => {
    const config = path.join(home, 'custom-claude');
    const result = await runCli(['skill', 'install'], repo, { ...env, CLAUDE_CONFIG_DIR: config });
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(path.join(config, 'skills', 'maestro', 'SKILL.md'), 'utf8')).toBe(await skillText);

    const both = await runCli(['skill', 'install', '--user', '--project'], repo, env);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('choose one of --user and --project');
  });
});
