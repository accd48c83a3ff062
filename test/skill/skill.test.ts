import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const exec = promisify(execFile);

async function read(rel: string): Promise<string> {
  return readFile(new URL(rel, root), 'utf8');
}

function frontMatter(text: string): Record<string, unknown> {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (match?.[1] === undefined) throw new Error('no front matter');
  return parse(match[1]) as Record<string, unknown>;
}

describe('skill/SKILL.md', () => {
  it('has the front matter Claude Code uses to pick and permit it', async () => {
    const meta = frontMatter(await read('skill/SKILL.md'));
    expect(meta['name']).toBe('maestro');
    expect(meta['description']).toMatch(/implement this plan/i);
    expect(meta['description']).toMatch(/in parallel/i);
    expect(String(meta['allowed-tools']).split(/,\s*/)).toEqual([
      'Bash(maestro:*)',
      'Bash(plan-maestro:*)',
      'Read',
    ]);
  });

  it('never suggests installing from the npm registry, where the package is not yet', async () => {
    const body = await read('skill/SKILL.md');
    expect(body).not.toMatch(/npx plan-maestro|npm install -g plan-maestro/);
    expect(body).toContain('npm install -g .');
  });

  it('walks through analyse, approval, run, progress and report, and says when not to use it', async () => {
    const body = await read('skill/SKILL.md');
    for (const command of [
      'maestro analyze PLAN --json',
      '--yes --json',
      'maestro status --json',
      'maestro report --format md',
    ]) {
      expect(body).toContain(command);
    }
    expect(body).toMatch(/## When not to use this/);
    expect(body).toMatch(/approval/i);
  });

  it("names the estimate's keys as analyze --json spells them", async () => {
    const line = (await read('skill/SKILL.md')).split('\n').find((l) => l.includes('**estimate**')) ?? '';
    const named = [...line.matchAll(/`(\w+)`/g)].map((m) => m[1]).filter((k) => k !== 'estimate');
    const cli = new URL('dist/cli.js', root).pathname;
    const plan = new URL('examples/small-plan.md', root).pathname;
    const { stdout } = await exec(process.execPath, [cli, 'analyze', plan, '--json']);
    const estimate = (JSON.parse(stdout) as { estimate: Record<string, unknown> & { minutes: object } })
      .estimate;
    const keys = [...Object.keys(estimate), ...Object.keys(estimate.minutes)];
    expect(named).toEqual([
      'costUsd',
      'inputTokens',
      'outputTokens',
      'minutes',
      'dynamic',
      'waves',
      'sequential',
    ]);
    for (const key of named) expect(keys, key).toContain(key);
  });
});

describe('Claude Code plugin layout', () => {
  it('has a kebab-case manifest with metadata', async () => {
    const manifest = JSON.parse(await read('.claude-plugin/plugin.json')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: 'plan-maestro', license: 'MIT' });
    expect(manifest['name']).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    const pkg = JSON.parse(await read('package.json')) as { version: string };
    expect(manifest['version']).toBe(pkg.version);
    expect(manifest['keywords']).toEqual(expect.arrayContaining([expect.any(String)]));
  });

  it('ships the skill byte for byte and one agent per role file', async () => {
    expect(await read('skills/maestro/SKILL.md')).toBe(await read('skill/SKILL.md'));
    const roles = (await readdir(new URL('roles/', root))).filter((n) => n.endsWith('.md'));
    const agents = (await readdir(new URL('agents/', root))).filter((n) => n.endsWith('.md'));
    expect(agents.length).toBe(roles.length);
    for (const name of agents) {
      const meta = frontMatter(await read(`agents/${name}`));
      expect(Object.keys(meta).every((k) => ['name', 'description', 'tools', 'model'].includes(k))).toBe(
        true,
      );
      expect(`${String(meta['name'])}.md`).toBe(name);
    }
  });

  it('is in sync with roles/ and skill/ (node scripts/sync-plugin-agents.mjs)', async () => {
    const script = new URL('scripts/sync-plugin-agents.mjs', root).pathname;
    await expect(exec(process.execPath, [script, '--check'])).resolves.toBeDefined();
  });
});
